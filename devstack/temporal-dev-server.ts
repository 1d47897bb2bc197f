/**
 * A real Temporal server for development and tests: the Temporal CLI's dev server.
 *
 * The CLI is found as $TEMPORAL_CLI, then `temporal` on PATH, then in the project's install place
 * (~/.cache/agentruns/bin, or $AGENTRUNS_CACHE_DIR/bin), and otherwise installed there with
 * `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` (later tags carry replace directives
 * and cannot be installed that way). The server starts on free ports with a SQLite file, is waited
 * for until it answers gRPC, and is stopped with its whole process group.
 *
 * The server runs in its own process group (so that stopping it also stops anything it started),
 * guarded by ./process-group: killed when this process exits, and its pid kept in
 * `$AGENTRUNS_PID_DIR/temporal-dev-server-<pid>.pid` while it runs, for .ci/run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { groupPidFile, guardProcessGroup, killGroup } from './process-group';
import { cacheDir, freePort, onPath } from './tools';

export { freePort } from './tools';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

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
  /** Server dynamic config (`--dynamic-config-value KEY=VALUE`, the value as JSON), e.g. `system.enableActivityEagerExecution: true`. */
  dynamicConfig?: Record<string, string | number | boolean>;
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` and resolves once it answers gRPC. */
/**
 * Starts a dev server. The free ports it picks can be taken by another process (an outbound
 * connection's ephemeral port) before the server binds them; when the caller chose no port, such a
 * start is tried again on fresh ports, up to three times.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const portsChosenHere = options.port === undefined && (options.headless || options.uiPort === undefined);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(options);
    } catch (err) {
      const portTaken = err instanceof Error && /address already in use/.test(err.message);
      if (!portsChosenHere || !portTaken || attempt >= 3) throw err;
    }
  }
}

async function startDevServerOnce(options: DevServerOptions): Promise<DevServer> {
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
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);

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
  const guard = guardProcessGroup('temporal-dev-server', pid);
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
    guard.writeRecord();
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

/** The name of the pid file of the dev server `pid` in $AGENTRUNS_PID_DIR (undefined when that is not set). */
export function devServerPidFile(pid: number): string | undefined {
  return groupPidFile('temporal-dev-server', pid);
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
