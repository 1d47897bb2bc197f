/**
 * The bench's own child processes (the ingress, the worker processes): the tail of what they said on
 * stderr, a kill, and a graceful stop — SIGTERM, then SIGKILL if the process has not exited within
 * 15 s.
 */
import type { ChildProcess } from 'node:child_process';

export interface BenchChild {
  /** The last 4,000 characters of its stderr. */
  stderr(): string;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export function benchChild(child: ChildProcess): BenchChild {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return {
    stderr: () => stderr,
    kill,
    async stop() {
      const timer = setTimeout(() => void kill(), 15_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Node's flags for a V8 CPU profile written to the directory `$name` names when set (e.g. BENCH_PROFILE_WORKER). */
export function cpuProfileFlags(name: string): string[] {
  const dir = process.env[name];
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}
