/**
 * The production ingress (ingress/main.ts) in a process of its own, configured as a deployment
 * would be — settings from the environment, the fleet's runbooks from a directory — so the bench
 * measures the shipped service, and its memory apart from the worker's. Its log goes nowhere.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunbookConfig } from '../../domain/runbook-config';
import { freePort } from '../temporal-dev-server';
import { benchChild, cpuProfileFlags } from './child';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const BENCH_SECRETS = {
  alertmanagerToken: 'bench-alertmanager-token-0123456789',
  slackSigningSecret: 'bench-slack-signing-secret-0123456789',
};

export interface IngressProcess {
  pid: number;
  url: string;
  stop(): Promise<void>;
}

export async function startIngressProcess(options: {
  /** The bundled ingress (./build.ts). */
  entry: string;
  dir: string;
  address: string;
  namespace: string;
  taskQueue: string;
  runbooks: RunbookConfig[];
  decisionKey: string;
  slack: { apiUrl: string; token: string };
}): Promise<IngressProcess> {
  const runbookDir = join(options.dir, `runbooks-${Date.now()}`);
  mkdirSync(runbookDir, { recursive: true });
  for (const runbook of options.runbooks) writeFileSync(join(runbookDir, `${runbook.id}.json`), JSON.stringify(runbook));
  const port = await freePort();
  // BENCH_PROFILE_INGRESS=DIR: a V8 CPU profile of the ingress, written to DIR when it stops.
  const child = spawn(process.execPath, [...cpuProfileFlags('BENCH_PROFILE_INGRESS'), options.entry], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: options.address,
      TEMPORAL_NAMESPACE: options.namespace,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      AGENTRUNS_RUNBOOK: runbookDir,
      ALERTMANAGER_TOKEN: BENCH_SECRETS.alertmanagerToken,
      SLACK_SIGNING_SECRET: BENCH_SECRETS.slackSigningSecret,
      SLACK_BOT_TOKEN: options.slack.token,
      SLACK_API_URL: options.slack.apiUrl,
      AGENTRUNS_DECISION_KEY: options.decisionKey,
      INGRESS_HOST: '127.0.0.1',
      INGRESS_PORT: String(port),
    },
  });
  const ingress = benchChild(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the ingress exited (${child.exitCode}) before answering: ${ingress.stderr()}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await ingress.kill();
      throw new Error(`the ingress did not become ready within 90 s: ${ingress.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { pid: child.pid!, url, stop: () => ingress.stop() };
}
