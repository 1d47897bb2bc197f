/** Errors the CLI reports as one clear line and a documented exit code (see README: exit codes). */
export const EXIT = {
  ok: 0,
  /** The command failed: unreachable server, refused decision, not found. */
  failure: 1,
  /** Bad usage or bad input (flags, files): nothing was done. */
  usage: 2,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
