/**
 * Keeping what the dev tooling starts from outliving it. Each long-running helper (Temporal dev
 * server, etcd, kube-apiserver, kube-controller-manager, the pod network's server) runs in its own
 * process group, which also means nothing stops it when this process goes away. So while it runs:
 * an `exit` hook kills its group (a crash, `process.exit`, an uncaught exception), and so does
 * Ctrl-C / SIGTERM / SIGHUP when nothing else in the process handles that signal. Only SIGKILL of
 * this process escapes both; for that, with $AGENTRUNS_PID_DIR set, the group's pid is kept in
 * `$AGENTRUNS_PID_DIR/<label>-<pid>.pid` while it runs, for an outer script (.ci/run) to kill
 * exactly that process group. Other leftovers (a network namespace) are registered the same way
 * with `guardCleanup`, their record file named by the caller.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';

/** Signals a process group; false when it no longer exists. */
export function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** `$AGENTRUNS_PID_DIR/<file>`, or undefined when that is not set. */
export function pidDirFile(file: string): string | undefined {
  const dir = process.env.AGENTRUNS_PID_DIR;
  return dir ? join(dir, file) : undefined;
}

const TERMINATING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Cleanups registered by this process and not yet released. */
let guarded = 0;

/**
 * Ctrl-C (and SIGTERM, SIGHUP) would end this process without running `exit` hooks. When nothing else
 * listens for the signal, exit the way the default action would (128 + signal number), so that the
 * `exit` hooks run. When something else does (the CLI's "Ctrl-C stops the stack", the test runner),
 * it is that code's job to stop what it started; this handler stays out of its way.
 */
const SIGNAL_GUARD = Symbol.for('agentruns.devServerSignalGuard');
const onTerminatingSignal = Object.assign(
  (signal: NodeJS.Signals): void => {
    const others = process.listeners(signal).filter((listener) => !(SIGNAL_GUARD in listener));
    if (others.length > 0) return;
    process.exit(128 + (constants.signals[signal] ?? 0));
  },
  { [SIGNAL_GUARD]: true },
);

export interface Guard {
  /** Writes the record file into $AGENTRUNS_PID_DIR (when set). */
  writeRecord(): void;
  /** Forgets the cleanup (it ran, or is no longer needed) and removes the record file. */
  release(): void;
}

/**
 * Runs `cleanup` (synchronously: it is all that runs when the process exits) on exit unless released.
 * `record` is the content of `$AGENTRUNS_PID_DIR/<recordFile>`, written by `writeRecord()`.
 */
export function guardCleanup(recordFile: string, record: string, cleanup: () => void): Guard {
  const file = pidDirFile(recordFile);
  let released = false;
  const removeRecord = () => {
    if (file) rmSync(file, { force: true });
  };
  const onExit = () => {
    try {
      cleanup();
      removeRecord();
    } catch {
      /* the process is exiting anyway */
    }
  };
  process.on('exit', onExit);
  if (guarded === 0) for (const signal of TERMINATING_SIGNALS) process.on(signal, onTerminatingSignal);
  guarded += 1;
  return {
    writeRecord() {
      if (!file) return;
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, record);
    },
    release() {
      if (released) return;
      released = true;
      process.off('exit', onExit);
      guarded -= 1;
      if (guarded === 0) for (const signal of TERMINATING_SIGNALS) process.off(signal, onTerminatingSignal);
      removeRecord();
    },
  };
}

/** The pid file of process group `pid` started under `label` (undefined without $AGENTRUNS_PID_DIR). */
export function groupPidFile(label: string, pid: number): string | undefined {
  return pidDirFile(`${label}-${pid}.pid`);
}

/** Kills process group `pid` with SIGKILL when this process exits, until released. */
export function guardProcessGroup(label: string, pid: number): Guard {
  return guardCleanup(`${label}-${pid}.pid`, `${pid}\n`, () => void killGroup(pid, 'SIGKILL'));
}

export interface GroupProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last few KiB of what it wrote to stdout and stderr. */
  output(): string;
  running(): boolean;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once it exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns `command` as the leader of its own process group, guarded as above (record file
 * `<label>-<pid>.pid`); its output is kept (the tail) and, with `logFile`, appended there. Rejects when it cannot be spawned at all (ENOENT, EACCES).
 */
export async function spawnGroup(
  label: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: 'ignore' | 'pipe'; keepBytes?: number; logFile?: string } = {},
): Promise<GroupProcess> {
  const child = spawn(command, args, {
    detached: true,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  const keepBytes = options.keepBytes ?? 16_000;
  let output = '';
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-keepBytes);
    log?.write(chunk);
  };
  child.once('exit', () => log?.end());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await once(child, 'spawn');
  const pid = child.pid!;
  const guard = guardProcessGroup(label, pid);
  guard.writeRecord();
  void exited.then(() => guard.release());
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    pid,
    child,
    output: () => output,
    running,
    async stop(graceMs = 5000) {
      if (running()) {
        const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
        if (killGroup(pid, 'SIGTERM')) await exited;
        clearTimeout(timer);
      }
      // The leader is gone; anything it left in its group goes too.
      killGroup(pid, 'SIGKILL');
      guard.release();
    },
  };
}
