/**
 * A real server binary for a test (Alertmanager, Prometheus): found on the machine or a loud error
 * with the install hint (never a skip), started in its own process group on loopback, waited for
 * until its readiness URL answers, and stopped with its group — by `stop()`, or by an `exit` hook
 * should the test process die first. With $AGENTRUNS_PID_DIR set its pid is kept there while it
 * runs, for .ci/run to kill.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Daemon {
  version: string;
  /** Its output so far (for failure messages). */
  log: () => string;
  stop: () => Promise<void>;
}

export function findBinary(name: string, candidates: string[], installHint: string): { path: string; version: string } {
  for (const path of candidates) {
    const run = spawnSync(path, ['--version'], { encoding: 'utf8' });
    if (run.status === 0) return { path, version: `${run.stdout}${run.stderr}`.split('\n')[0]!.trim() };
  }
  throw new Error(`${name} not found (looked for ${candidates.join(', ')}): ${installHint}`);
}

export async function startDaemon(options: {
  name: string;
  binary: { path: string; version: string };
  args: string[];
  /** Answers 2xx once the server is ready. */
  readyUrl: string;
  /** Removed at stop (the server's config and storage). */
  dir: string;
  readyTimeoutMs?: number;
}): Promise<Daemon> {
  const { name } = options;
  const child = spawn(options.binary.path, options.args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await once(child, 'spawn');
  const pid = child.pid!;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false;
    }
  };
  const pidFile = process.env.AGENTRUNS_PID_DIR ? join(process.env.AGENTRUNS_PID_DIR, `${name.toLowerCase()}-${pid}.pid`) : undefined;
  const onExit = () => {
    killGroup('SIGKILL');
    if (pidFile) rmSync(pidFile, { force: true });
  };
  process.on('exit', onExit);
  if (pidFile) {
    mkdirSync(process.env.AGENTRUNS_PID_DIR!, { recursive: true });
    writeFileSync(pidFile, `${pid}\n`);
  }

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => killGroup('SIGKILL'), 5000);
      if (killGroup('SIGTERM')) await exited;
      clearTimeout(timer);
    }
    process.off('exit', onExit);
    if (pidFile) rmSync(pidFile, { force: true });
    rmSync(options.dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
      const ready = await fetch(options.readyUrl).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`${name} did not become ready on ${options.readyUrl}:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { version: options.binary.version, log: () => output, stop };
}
