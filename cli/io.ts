/** Reading the CLI's input files and printing its output (human text or --json). */
import { readFile } from 'node:fs/promises';
import { CliError } from './errors';

export async function readInputFile(path: string | undefined, flag: string): Promise<string> {
  if (!path) throw new CliError(`missing ${flag} FILE`);
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`${flag} ${path}: cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export function parseIntegerFlag(value: string | undefined, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new CliError(`${flag} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
