/**
 * The ingress as production runs it — `ingress/main.ts`, its own Node process — against the suite's
 * real Temporal dev server, with a runbook of its own (unique target, so its own workflow ID) and its
 * own task queue, on which no worker polls: whatever the ingress starts or signals stays in Temporal
 * to be counted. Its stdout (JSON log lines) and stderr are kept for the secret scan; its peak
 * resident memory is the kernel's high-water mark (`VmHWM` in /proc/<pid>/status).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { incidentWorkflowId } from '../../../domain/incident';
import type { RunbookConfig, RunbookConfigInput } from '../../../domain/runbook-config';
import { parseRunbookConfig } from '../../../domain/runbook-config';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../../ingress/main.ts', import.meta.url));

export interface IngressChild {
  url: string;
  pid: number;
  runbook: RunbookConfig;
  workflowId: string;
  taskQueue: string;
  alertmanagerToken: string;
  signingSecret: string;
  /** Every line the process wrote to stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** True while the process runs. */
  alive(): boolean;
  /** Resident memory now and at its peak, in bytes (Linux /proc). */
  memory(): { rss: number; peak: number };
  /** SIGTERM, then the exit code (SIGKILL after 15 s). */
  stop(): Promise<number | null>;
}

function statusField(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]) * 1024;
}

export async function startIngressChild(options: {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  runbook?: (base: RunbookConfigInput) => RunbookConfigInput;
  env?: Record<string, string>;
}): Promise<IngressChild> {
  const dir = mkdtempSync(join(tmpdir(), 'agentruns-fuzz-ingress-'));
  const name = `fz-${randomUUID().slice(0, 10)}`;
  const base: RunbookConfigInput = {
    id: name,
    target: {
      namespace: name,
      deployment: 'torghut-ws',
      container: 'torghut-ws',
      podSelector: 'app=torghut-ws',
      health: { port: 8080, livenessPath: '/healthz', readinessPath: '/readyz' },
    },
    gitops: { owner: 'proompteng', repo: 'lab', deploymentPath: 'argocd/applications/torghut/ws/deployment.yaml' },
    approvers: [{ id: 'oncall-alice', slackUserId: 'U0ALICE01' }, { id: 'oncall-bob' }],
    alerts: [{ labels: { alertname: 'TorghutWsNotReady', namespace: name } }],
    slack: { channel: '#torghut-oncall' },
  };
  const input = options.runbook ? options.runbook(base) : base;
  const runbook = parseRunbookConfig(input);
  const runbookPath = join(dir, 'runbook.yaml');
  writeFileSync(runbookPath, stringify(input));
  const alertmanagerToken = `am-${randomUUID()}`;
  const signingSecret = `slack-${randomUUID()}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_NAMESPACE: options.namespace,
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    AGENTRUNS_RUNBOOK: runbookPath,
    ALERTMANAGER_TOKEN: alertmanagerToken,
    SLACK_SIGNING_SECRET: signingSecret,
    AGENTRUNS_DECISION_KEY: `decision-${randomUUID()}`,
    INGRESS_HOST: '127.0.0.1',
    INGRESS_PORT: '0',
    ...options.env,
  };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ingress did not listen within 60 s\nstdout: ${out}\nstderr: ${err}`)), 60_000);
    const look = () => {
      for (const line of out.split('\n')) {
        if (!line.includes('"ingress listening"')) continue;
        const parsed = JSON.parse(line) as { url?: string };
        if (parsed.url) {
          clearTimeout(timer);
          child.stdout!.off('data', look);
          resolve(parsed.url);
          return;
        }
      }
    };
    child.stdout!.on('data', look);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the ingress exited (${code ?? signal}) before listening\nstdout: ${out}\nstderr: ${err}`));
    });
  }).catch((e: unknown) => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  const pid = child.pid!;
  return {
    url,
    pid,
    runbook,
    workflowId: incidentWorkflowId(runbook.target),
    taskQueue: options.taskQueue,
    alertmanagerToken,
    signingSecret,
    stdout: () => out,
    stderr: () => err,
    alive: () => child.exitCode === null && child.signalCode === null,
    memory: () => ({ rss: statusField(pid, 'VmRSS'), peak: statusField(pid, 'VmHWM') }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(timer);
        rmSync(dir, { recursive: true, force: true });
        return code;
      }
      rmSync(dir, { recursive: true, force: true });
      return child.exitCode;
    },
  };
}
