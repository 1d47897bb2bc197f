/**
 * A worker that a test can crash: the incident's worker in a child process (test/fixtures/worker-child.ts),
 * on the harness' task queue, with the same production activities against the same simulators,
 * killed with SIGKILL. The harness' own in-process worker is then the replacement.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import type { SimClientOptions } from '../../devstack/sim-environment';
import type { ChildWorkerSpec } from '../fixtures/worker-child';
import type { IncidentHarness } from './incident';

const CHILD = fileURLToPath(new URL('../fixtures/worker-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildWorker {
  pid: number;
  /** SIGKILL, and resolves once the process is gone. */
  crash(): Promise<void>;
}

/** Starts the incident's worker in a child process; resolves once it polls. */
export async function startChildWorker(harness: IncidentHarness, clients: SimClientOptions = {}): Promise<ChildWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'agentruns-child-worker-'));
  const bundlePath = join(dir, 'workflows.js');
  writeFileSync(bundlePath, inject('workflowBundleCode'));
  const spec: ChildWorkerSpec = {
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
    taskQueue: harness.taskQueue,
    bundlePath,
    endpoints: harness.env.endpoints,
    activities: { runbooks: [harness.runbook], decisionKey: harness.env.decisionKey, clients },
  };
  const specPath = join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec), { mode: 0o600 });

  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, specPath], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const pid = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`the child worker did not start within 60 s: ${stderr}`)), 60_000);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { pid: number }).pid);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the child worker exited (${code ?? signal}) before polling: ${stderr}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    cleanup();
    throw err;
  });
  return {
    pid,
    async crash() {
      child.kill('SIGKILL');
      await exited;
      cleanup();
    },
  };
}
