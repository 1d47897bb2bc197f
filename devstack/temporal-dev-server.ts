/**
 * A real Temporal server for development and tests: the Temporal CLI's dev server.
 *
 * The CLI is found as $TEMPORAL_CLI, then `temporal` on PATH, then in the project's install place
 * (~/.cache/agentruns/bin, or $AGENTRUNS_CACHE_DIR/bin), and otherwise installed there with
 * `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` (later tags carry replace directives
 * and cannot be installed that way). The server starts on free ports with a SQLite file, is waited
 * for until it answers gRPC, and is stopped with its whole process group.
 *
 * The server runs in its own process group (so that stopping it also stops anything it started), which
 * also means nothing stops it when this process goes away. So while it runs: an `exit` hook kills its
 * group (a crash, `process.exit`, an uncaught exception), and so does Ctrl-C / SIGTERM / SIGHUP when
 * nothing else in the process handles that signal. Only SIGKILL of this process escapes both; for
 * that, with $AGENTRUNS_PID_DIR set, the server's pid is kept in
 * `$AGENTRUNS_PID_DIR/temporal-dev-server-<pid>.pid` while it runs, for an outer script (.ci/run) to
 * kill exactly that process group.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants, homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

function cacheDir(): string {
  return process.env.AGENTRUNS_CACHE_DIR ?? join(homedir(), '.cache', 'agentruns');
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The path of a usable Temporal CLI, without installing anything. */
export function findTemporalCli(): string | undefined {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI=${fromEnv} does not exist`);
    return fromEnv;
  }
  const installed = join(cacheDir(), 'bin', 'temporal');
  return onPath('temporal') ?? (existsSync(installed) ? installed : undefined);
}

/** Finds the Temporal CLI or builds it with `go install` into the project's cache directory. */
export function ensureTemporalCli(log: (line: string) => void = (l) => console.error(l)): string {
  const found = findTemporalCli();
  if (found) return found;
  const gobin = join(cacheDir(), 'bin');
  mkdirSync(gobin, { recursive: true });
  const go = onPath('go');
  if (!go) {
    throw new Error(
      'Temporal CLI not found ($TEMPORAL_CLI, PATH, ' + gobin + ') and `go` is not installed to build it. ' +
        'Install Go, or set TEMPORAL_CLI to a temporal binary.',
    );
  }
  const attempts = [[], ['-ldflags=-checklinkname=0']];
  for (const extra of attempts) {
    log(`[agentruns] building the Temporal CLI: go install ${extra.join(' ')} ${TEMPORAL_CLI_MODULE} (takes minutes, once)`);
    const result = spawnSync(go, ['install', ...extra, TEMPORAL_CLI_MODULE], {
      env: { ...process.env, GOBIN: gobin, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const binary = join(gobin, 'temporal');
    if (result.status === 0 && existsSync(binary)) return binary;
    log(`[agentruns] go install exited with ${result.status ?? result.signal}`);
  }
  throw new Error(`could not build the Temporal CLI with: GOBIN=${gobin} go install ${TEMPORAL_CLI_MODULE}`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface DevServerOptions {
  /** SQLite file for persistence; omitted = in memory. */
  dbFile?: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  namespace?: string;
  /** Where the server's own log goes; default: discarded. */
  logFile?: string;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` and resolves once it answers gRPC. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = ensureTemporalCli();
  const port = options.port ?? (await freePort());
  const uiPort = options.headless ? undefined : (options.uiPort ?? (await freePort()));
  const namespace = options.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (uiPort) args.push('--ui-port', String(uiPort));
  else args.push('--headless');
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);

  const child = spawn(cli, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await once(child, 'spawn'); // rejects with the spawn error (ENOENT, EACCES)
  const pid = child.pid!;
  const guard = guardProcessGroup(pid);
  child.once('exit', () => guard.release());

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), 5000);
      if (killGroup(pid, 'SIGTERM')) await exited;
      clearTimeout(timer);
    }
    guard.release();
  };

  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  try {
    guard.writePidFile();
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`temporal server start-dev exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
      }
      try {
        const connection = await Connection.connect({ address, connectTimeout: 1000 });
        await connection.workflowService.getSystemInfo({});
        await connection.close();
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(`Temporal dev server did not answer on ${address}: ${(err as Error).message}\n${output}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, namespace, uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : null, process: child, stop };
}

/** Signals a process group; false when it no longer exists. */
function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The name of the pid file of the dev server `pid` in $AGENTRUNS_PID_DIR (undefined when that is not set). */
export function devServerPidFile(pid: number): string | undefined {
  const dir = process.env.AGENTRUNS_PID_DIR;
  return dir ? join(dir, `temporal-dev-server-${pid}.pid`) : undefined;
}

const TERMINATING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Process groups of the dev servers this process runs. */
const guardedGroups = new Set<number>();

/**
 * Ctrl-C (and SIGTERM, SIGHUP) would end this process without running `exit` hooks. When nothing else
 * listens for the signal, exit the way the default action would (128 + signal number), so that the
 * `exit` hooks stop the servers. When something else does (the CLI's "Ctrl-C stops the stack", the
 * test runner), it is that code's job to stop them; this handler stays out of its way.
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

function guardProcessGroup(pid: number): { writePidFile(): void; release(): void } {
  const pidFile = devServerPidFile(pid);
  let released = false;
  const removePidFile = () => {
    if (pidFile) rmSync(pidFile, { force: true });
  };
  // Synchronous: this is all that runs when the process exits.
  const onExit = () => {
    killGroup(pid, 'SIGKILL');
    try {
      removePidFile();
    } catch {
      /* the process is exiting anyway */
    }
  };
  process.on('exit', onExit);
  if (guardedGroups.size === 0) for (const signal of TERMINATING_SIGNALS) process.on(signal, onTerminatingSignal);
  guardedGroups.add(pid);
  return {
    writePidFile() {
      if (!pidFile) return;
      mkdirSync(dirname(pidFile), { recursive: true });
      writeFileSync(pidFile, `${pid}\n`);
    },
    release() {
      if (released) return;
      released = true;
      process.off('exit', onExit);
      guardedGroups.delete(pid);
      if (guardedGroups.size === 0) for (const signal of TERMINATING_SIGNALS) process.off(signal, onTerminatingSignal);
      removePidFile();
    },
  };
}

let runtimeInstalled = false;
/** Keeps the SDK's own worker logs at `level` for this process (tests, demo, bench); call before any worker. */
export function quietTemporalRuntime(level: LogLevel = 'WARN'): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed in this process: keep that one.
  }
}
