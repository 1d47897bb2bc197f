/**
 * Running the real `agentruns` binary (`node bin/agentruns.js …`) as a user does: a child process with
 * a bounded run time, its stdout, stderr and exit code captured. The child's environment starts from
 * this process's minus every setting the CLI reads (runtime/settings.ts), so a developer's
 * GITHUB_TOKEN or TEMPORAL_ADDRESS never leaks into a test; each test passes the ones it means.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { settingsSchema } from '../../runtime/settings';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_BIN = fileURLToPath(new URL('../../bin/agentruns.js', import.meta.url));

export interface CliResult {
  args: string[];
  /** The exit code; null only when the process was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to the cleaned environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Killed (SIGKILL) and reported as an error after this long. Default 60 s: tsx compiles on a cold cache. */
  timeoutMs?: number;
}

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(settingsSchema.shape)) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: REPO_ROOT,
      env: childEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agentruns ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ args, code, signal, stdout, stderr });
    });
  });
}

/** stdout parsed as JSON; a parse failure names the command and shows what it printed. */
export function jsonOf<T = unknown>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`agentruns ${result.args.join(' ')} (exit ${result.code}) did not print JSON\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
}

/** One line describing a run, for assertion messages. */
export function describeRun(result: CliResult): string {
  return `agentruns ${result.args.join(' ')} → exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}

/**
 * Runs the command until `done` holds for its result (then returns it), or throws after `timeoutMs`
 * with the last result: for state that changes behind the CLI (workflow phase, visibility store).
 */
export async function pollCli(args: string[], done: (result: CliResult) => boolean, options: CliOptions & { pollTimeoutMs?: number; intervalMs?: number } = {}): Promise<CliResult> {
  const deadline = Date.now() + (options.pollTimeoutMs ?? 45_000);
  let last: CliResult | undefined;
  while (Date.now() < deadline) {
    last = await runCli(args, options);
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 300));
  }
  throw new Error(`condition not met before the deadline; last run: ${last ? describeRun(last) : '(none)'}`);
}
