/**
 * Nothing is left running when something fails. (a) A process that started a Temporal dev server and
 * then exits — process.exit, an uncaught exception, Ctrl-C — takes the server (its own process group)
 * with it, and the pid file it kept in $AGENTRUNS_PID_DIR for .ci/run is gone; `stop()` removes both
 * the exit hook and the pid file. (b) `startServices` failing at its last step (the ingress port is
 * taken) shuts its worker down and closes both connections: no worker of it polls the task queue,
 * which a second `startServices` on that queue proves is observable. (c) `agentruns serve
 * --with-worker` without ALERTMANAGER_TOKEN exits with the error instead of hanging on its worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { openIncident } from '../../control/incidents';
import { startServices, type Services } from '../../devstack/local-stack';
import { startSimEnvironment, type SimEnvironment } from '../../devstack/sim-environment';
import { devServerPidFile, startDevServer } from '../../devstack/temporal-dev-server';
import { REPO_ROOT, runCli } from '../support/cli';
import { uniqueRunbook } from '../support/incident';
import { connectTemporal, uniqueTaskQueue, type TemporalTestContext } from '../support/temporal';

const CHILD = fileURLToPath(new URL('../fixtures/dev-server-child.ts', import.meta.url));

/** Alive and not a zombie: a killed orphan may wait for a reaper that never comes in a container. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Whatever a failed test leaves behind, by process group (the dev servers lead their own).
const serverPids = new Set<number>();
const pidDirs: string[] = [];
afterAll(() => {
  for (const pid of serverPids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone, as it should be */
    }
  }
  for (const dir of pidDirs) rmSync(dir, { recursive: true, force: true });
});

function pidDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentruns-pids-'));
  pidDirs.push(dir);
  return dir;
}

describe('a dev server does not outlive the process that started it', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  it.each([
    { how: 'exit', expected: { code: 1, signal: null } },
    { how: 'throw', expected: { code: 1, signal: null } },
    { how: 'signal', expected: { code: 130, signal: null } },
  ])('the parent ends by $how after the start: the server and its pid file are gone', async ({ how, expected }) => {
    const dir = pidDir();
    const started = spawn(process.execPath, ['--import', 'tsx', CHILD, how], {
      cwd: REPO_ROOT,
      env: { ...process.env, AGENTRUNS_PID_DIR: dir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child = started;
    let stdout = '';
    let stderr = '';
    started.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    started.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      started.once('exit', (code, signal) => resolve({ code, signal })),
    );

    await eventually(() => stdout.includes('\n') || started.exitCode !== null, 90_000, `the child to start a dev server (stderr: ${stderr})`);
    const { pid } = JSON.parse(stdout.split('\n')[0]!) as { pid: number };
    serverPids.add(pid);

    // While the parent runs: the pid file names the server, which runs.
    expect(readdirSync(dir)).toEqual([`temporal-dev-server-${pid}.pid`]);
    expect(readFileSync(join(dir, `temporal-dev-server-${pid}.pid`), 'utf8').trim()).toBe(String(pid));
    expect(isRunning(pid)).toBe(true);

    if (how === 'signal') started.kill('SIGINT');
    else started.stdin.write('go\n');
    expect(await exited, stderr).toEqual(expected);

    await eventually(() => !isRunning(pid), 5_000, `dev server ${pid} to be gone after its parent ended by ${how}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stop() removes the exit hook and the pid file', async () => {
    const dir = pidDir();
    const before = process.env.AGENTRUNS_PID_DIR;
    const exitHooks = process.listenerCount('exit');
    process.env.AGENTRUNS_PID_DIR = dir;
    try {
      const server = await startDevServer({ headless: true });
      const pid = server.process.pid!;
      serverPids.add(pid);
      expect(readdirSync(dir)).toEqual([`temporal-dev-server-${pid}.pid`]);
      expect(devServerPidFile(pid)).toBe(join(dir, `temporal-dev-server-${pid}.pid`));
      expect(process.listenerCount('exit')).toBe(exitHooks + 1);

      await server.stop();
      expect(isRunning(pid)).toBe(false);
      expect(readdirSync(dir)).toEqual([]);
      expect(process.listenerCount('exit')).toBe(exitHooks);
    } finally {
      if (before === undefined) delete process.env.AGENTRUNS_PID_DIR;
      else process.env.AGENTRUNS_PID_DIR = before;
    }
  });
});

describe('startServices failing after its worker started', () => {
  let ctx: TemporalTestContext;
  let env: SimEnvironment;
  let blocker: Server;
  let services: Services | undefined;
  let handle: WorkflowHandle | undefined;

  beforeAll(async () => {
    ctx = await connectTemporal();
    env = await startSimEnvironment({ scenario: 'alpaca-406', adjustRunbook: (r) => uniqueRunbook(r) });
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await services?.stop();
    await handle?.terminate('test over').catch(() => undefined);
    await new Promise((resolve) => blocker?.close(resolve));
    await env?.close();
    await ctx?.close();
  });

  async function workflowTaskStarted(h: WorkflowHandle): Promise<boolean> {
    const history = await h.fetchHistory();
    return (history.events ?? []).some((event) => event.workflowTaskStartedEventAttributes);
  }

  it('shuts its worker down and closes its connections when the ingress port is taken', async () => {
    const taskQueue = uniqueTaskQueue('cleanup');
    const options = {
      address: inject('temporalAddress'),
      namespace: inject('temporalNamespace'),
      taskQueue,
      env,
      workflowBundle: { code: inject('workflowBundleCode') },
    };
    const created = vi.spyOn(Worker, 'create');
    const nativeClosed = vi.spyOn(NativeConnection.prototype, 'close');
    const clientClosed = vi.spyOn(Connection.prototype, 'close');

    const takenPort = (blocker.address() as AddressInfo).port;
    await expect(startServices({ ...options, ingressPort: takenPort })).rejects.toThrow(/EADDRINUSE/);

    // The worker it created (and ran) is stopped, and both connections were closed.
    expect(created).toHaveBeenCalledTimes(1);
    const worker = await (created.mock.results[0]!.value as Promise<Worker>);
    expect(worker.getState()).toBe('STOPPED');
    expect(nativeClosed).toHaveBeenCalledTimes(1);
    expect(clientClosed).toHaveBeenCalledTimes(1);

    // Nobody polls the task queue: a workflow task put there stays unstarted…
    const opened = await openIncident({ client: ctx.client, taskQueue }, env.runbook, { source: 'cli', by: 'oncall-alice' });
    handle = ctx.client.workflow.getHandle(opened.workflowId, opened.runId);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await workflowTaskStarted(handle)).toBe(false);

    // …until services that did start poll it (so the check above can see a leftover worker).
    services = await startServices({ ...options, ingressPort: 0 });
    const probe = handle;
    await eventually(() => workflowTaskStarted(probe), 20_000, 'the new worker to pick up the first workflow task of the incident');
  });
});

describe('agentruns serve --with-worker', () => {
  it('exits with the ingress error (no ALERTMANAGER_TOKEN) instead of hanging on its running worker', async () => {
    const result = await runCli(['serve', '--with-worker'], {
      env: {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: inject('temporalNamespace'),
        TEMPORAL_TASK_QUEUE: uniqueTaskQueue('serve'),
        INGRESS_PORT: '0',
      },
      timeoutMs: 90_000,
    });
    expect(result.stdout, 'the worker had started').toMatch(/worker polling/);
    expect(result.stderr).toMatch(/ALERTMANAGER_TOKEN is not set/);
    expect(result.code).toBe(1);
  });
});
