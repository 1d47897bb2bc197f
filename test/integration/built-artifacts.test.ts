/**
 * The production build, run the way the image runs it. `npm run build` writes dist/ (in a
 * temporary build stage /app that sees the whole dependency tree, as after `npm ci`); the runtime
 * stage of deploy/Dockerfile is then laid out in a temporary /app exactly as its COPY lines say —
 * the production packages only (the tree `npm ci --omit=dev` installs: no tsx, no esbuild, no
 * TypeScript) and the build's dist/ — and its ENTRYPOINT is started with plain `node`, an empty
 * NODE_OPTIONS and no node_modules/.bin on PATH, so nothing could compile TypeScript.
 *
 * `worker` and `serve` run as child processes on the suite's real Temporal dev server, against the
 * simulated torghut environment of this process (Kubernetes API through a kubeconfig file, GitHub,
 * Argo CD, Slack), with the runbook in a directory as the ConfigMap mounts it. An Alertmanager
 * webhook to the built ingress opens the incident, an approval through the `decide` Update lets the
 * built worker restart torghut-ws the GitOps way, and the worker reports it ran the prebuilt
 * workflow bundle. The children are stopped at the end (SIGTERM, then SIGKILL), on failure too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decide } from '../../control/incidents';
import { torghutAlertPayload } from '../../devstack/demo-alert';
import { startSimEnvironment, type SimEnvironment } from '../../devstack/sim-environment';
import { freePort } from '../../devstack/temporal-dev-server';
import type { IncidentState } from '../../domain/incident';
import { settingsSchema } from '../../runtime/settings';
import { writeKubeconfig } from '../../sim/kube-api';
import { REPO_ROOT } from '../support/cli';
import { copiesOf, dockerStages, execForm, workdirOf } from '../support/dockerfile';
import { decisionFor, uniqueRunbook, waitForPhase } from '../support/incident';
import { connectTemporal, uniqueTaskQueue, type TemporalTestContext } from '../support/temporal';

const ALERTMANAGER_TOKEN = 'built-artifacts-alertmanager-token-0123456789';

let dir: string;
/** The image's /app: what the runtime stage of deploy/Dockerfile holds. */
let app: string;
/** The image's ENTRYPOINT after `node`. */
let entry: string[];
let ctx: TemporalTestContext;
let env: SimEnvironment;
let worker: BuiltProcess | undefined;
let ingress: BuiltProcess | undefined;
let ingressUrl: string;

/** The top-level packages of the production tree (`npm ls --omit=dev`: what `npm ci --omit=dev` installs). */
function productionPackages(): string[] {
  const listed = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const modules = join(REPO_ROOT, 'node_modules');
  const packages = listed.stdout
    .split('\n')
    .map((path) => relative(modules, path.trim()))
    .filter((rel) => rel && !rel.startsWith('..') && /^(@[^/]+\/)?[^/@]+$/.test(rel));
  if (packages.length === 0) throw new Error(`npm ls --omit=dev listed no packages: ${listed.stderr}`);
  return packages;
}

/** Lays out the runtime stage's COPY lines in `app`, from the repository and the build stage's /app. */
function stageRuntimeImage(buildStageApp: string): void {
  const stages = dockerStages();
  const runtime = stages.at(-1)!;
  expect(workdirOf(runtime)).toBe('/app');
  for (const copy of copiesOf(runtime)) {
    for (const source of copy.sources) {
      const dest = join(app, copy.dest.endsWith('/') ? join(copy.dest, source.split('/').at(-1)!) : copy.dest);
      mkdirSync(dirname(dest), { recursive: true });
      if (copy.from === undefined) cpSync(join(REPO_ROOT, source), dest, { recursive: true });
      else if (copy.from === 'deps' && source === '/app/node_modules') {
        for (const pkg of productionPackages()) {
          mkdirSync(dirname(join(dest, pkg)), { recursive: true });
          symlinkSync(join(REPO_ROOT, 'node_modules', pkg), join(dest, pkg), 'dir');
        }
      } else if (copy.from === 'build') {
        // The build stage's WORKDIR is /app; the build of this test wrote to buildStageApp.
        cpSync(join(buildStageApp, relative('/app', source)), dest, { recursive: true });
      } else throw new Error(`the runtime stage copies ${source} from ${copy.from}, which this test does not know how to lay out`);
    }
  }
  const [node, ...rest] = execForm(runtime, 'ENTRYPOINT') ?? [];
  expect(node).toBe('node');
  entry = rest;
}

/** The environment of a built process: no settings of this one, no TypeScript loader, no npm binaries. */
function builtEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(settingsSchema.shape)) delete base[key];
  delete base.NODE_PATH;
  const path = (base.PATH ?? '')
    .split(delimiter)
    .filter((p) => !p.includes('node_modules'))
    .join(delimiter);
  return { ...base, PATH: path, NODE_OPTIONS: '', ...settings };
}

interface BuiltProcess {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `node <entrypoint> <args>` in the image's /app, in its own process group, with a kill-on-exit guard. */
async function startBuilt(args: string[], settings: Record<string, string>): Promise<BuiltProcess> {
  const child = spawn(process.execPath, [...entry, ...args], { cwd: app, env: builtEnv(settings), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(child, 'exit');
  await once(child, 'spawn');
  const pid = child.pid!;
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      /* already gone */
    }
  };
  const onExit = () => kill('SIGKILL');
  process.on('exit', onExit);
  // For .ci/run's safety net when this process is killed outright.
  const pidFile = process.env.AGENTRUNS_PID_DIR ? join(process.env.AGENTRUNS_PID_DIR, `built-${args[0]}-${pid}.pid`) : undefined;
  if (pidFile) writeFileSync(pidFile, `${pid}\n`);
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => output,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (!running()) throw new Error(`agentruns ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`agentruns ${args.join(' ')}: no ${pattern} within ${timeoutMs} ms:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (running()) {
        kill('SIGTERM');
        const timer = setTimeout(() => kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      kill('SIGKILL'); // anything the process left in its group
      process.off('exit', onExit);
      if (pidFile) rmSync(pidFile, { force: true });
    },
  };
}

/** `node <entrypoint> <args>` to completion. */
async function runBuilt(args: string[], settings: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...entry, ...args], { cwd: app, env: builtEnv(settings), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  // Lower-case: a mixed-case mkdtemp suffix looks like a token to the log redaction, which would mask the paths asserted below.
  dir = join(tmpdir(), `agentruns-built-${randomUUID()}`);
  mkdirSync(dir);
  app = join(dir, 'app');
  const buildStageApp = join(dir, 'build');
  mkdirSync(buildStageApp);
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(buildStageApp, 'node_modules'), 'dir');
  const started = Date.now();
  const build = spawnSync('npm', ['run', '--silent', 'build', '--', '--out-dir', join(buildStageApp, 'dist')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  if (build.status !== 0) throw new Error(`npm run build failed (${build.status ?? build.signal}):\n${build.stdout}\n${build.stderr}`);
  console.log(`npm run build: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  stageRuntimeImage(buildStageApp);

  ctx = await connectTemporal();
  env = await startSimEnvironment({
    scenario: 'alpaca-406-two-replicas',
    adjustRunbook: (r) => uniqueRunbook(r, (u) => ({ ...u, gitops: { ...u.gitops, merge: 'auto' } })),
  });
  const kubeconfig = await writeKubeconfig(env.kube, join(dir, 'kube'));
  // A directory of runbooks, as the ConfigMap of deploy/kubernetes is mounted.
  const runbooks = join(dir, 'runbooks');
  mkdirSync(runbooks);
  writeFileSync(join(runbooks, `${env.runbook.id}.json`), JSON.stringify(env.runbook));

  const ingressPort = await freePort();
  ingressUrl = `http://127.0.0.1:${ingressPort}`;
  const common = {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    TEMPORAL_TASK_QUEUE: uniqueTaskQueue('built'),
    AGENTRUNS_RUNBOOK: runbooks,
    AGENTRUNS_DECISION_KEY: env.decisionKey,
  };
  [worker, ingress] = await Promise.all([
    startBuilt(['worker'], {
      ...common,
      KUBECONFIG: kubeconfig,
      GITHUB_API_URL: env.github.url,
      GITHUB_TOKEN: env.tokens.github,
      ARGOCD_SERVER: env.argo.url,
      ARGOCD_AUTH_TOKEN: env.tokens.argo,
      SLACK_API_URL: env.slack.apiUrl,
      SLACK_BOT_TOKEN: env.tokens.slack,
    }),
    startBuilt(['serve'], { ...common, ALERTMANAGER_TOKEN, INGRESS_HOST: '127.0.0.1', INGRESS_PORT: String(ingressPort) }),
  ]);
  await Promise.all([worker.waitFor(/"worker polling"/), ingress.waitFor(/"ingress listening"/)]);
});

afterAll(async () => {
  await Promise.allSettled([worker?.stop(), ingress?.stop()]);
  await env?.close();
  await ctx?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the built worker and ingress (deploy/Dockerfile\'s runtime stage, plain node)', () => {
  it('the built CLI holds no simulators and finds the shipped runbook next to it', async () => {
    const demo = await runBuilt(['demo']);
    expect(demo.code).toBe(2);
    expect(demo.stderr).toContain('runs from a source checkout only');

    const kubeconfig = join(dir, 'kube', 'kubeconfig');
    const diagnose = await runBuilt(['diagnose', '--kubeconfig', kubeconfig, '--json']);
    expect(diagnose.code, diagnose.stderr).toBe(0);
    expect((JSON.parse(diagnose.stdout) as { runbook: string }).runbook).toBe('torghut-ws');
  });

  it('an Alertmanager webhook to the built ingress, approved through decide → the built worker restarts torghut-ws: remediated, one PR', async () => {
    const response = await fetch(`${ingressUrl}/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERTMANAGER_TOKEN}` },
      body: JSON.stringify(torghutAlertPayload({ namespace: env.runbook.target.namespace })),
    });
    expect(response.status).toBe(202);
    const { incidents } = (await response.json()) as { incidents: Array<{ workflowId: string }> };
    const workflowId = incidents[0]!.workflowId;
    const handle = ctx.client.workflow.getHandle(workflowId);

    const waiting = await waitForPhase(handle, ['awaiting-approval']);
    expect(waiting.classification?.class).toBe('alpaca_406_second_connection');
    const decision = await decide(ctx.client, workflowId, 'approve', decisionFor(waiting, 'oncall-alice'));
    expect(decision).toMatchObject({ by: 'oncall-alice', channel: 'cli' });

    const final = (await handle.result()) as IncidentState;
    expect(final.outcome, `${final.error ?? ''}\n--- worker ---\n${worker!.output().slice(-4000)}`).toBe('remediated');
    expect(env.github.pulls()).toHaveLength(1);
    expect(env.github.pulls()[0]!.merged).toBe(true);
    expect(env.kube.snapshot()).toMatchObject({ replicas: 1 });

    // The workflow code was the build's bundle, loaded by path: nothing was bundled at start.
    expect(worker!.output()).toContain(`"workflowBundle":"prebuilt ${join(app, 'dist', 'workflow-bundle.js')}"`);
    expect(worker!.output()).not.toContain('bundled from the sources');
  });
});
