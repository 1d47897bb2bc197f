/**
 * Starting and stopping the bench's worker processes (./worker-process.ts, bundled by ./build.ts), and the two workflow
 * bundles it loads: the product's (worker/create-worker.ts, as production bundles it) and the
 * floor's (./floor-workflow.ts), each bundled once per bench run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { RunbookConfig } from '../../domain/runbook-config';
import { bundleWorkflows } from '../../worker/create-worker';
import type { SimEndpoints } from '../sim-environment';
import { benchChild, cpuProfileFlags } from './child';

const FLOOR_WORKFLOW = fileURLToPath(new URL('./floor-workflow.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BenchWorkerSpec {
  address: string;
  namespace: string;
  taskQueue: string;
  floorTaskQueue: string;
  floorChannel: string;
  bundlePath: string;
  floorBundlePath: string;
  endpoints: SimEndpoints;
  runbooks: RunbookConfig[];
  decisionKey: string;
  callDelayMs: number;
  sequentialDiagnostics: boolean;
  /** What this process runs: the product's incident worker, or the floor's. */
  role: 'product' | 'floor';
}

export interface Bundles {
  dir: string;
  product: string;
  floor: string;
  remove(): void;
}

const silent = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };

export async function writeBundles(): Promise<Bundles> {
  const dir = mkdtempSync(join(tmpdir(), 'agentruns-bench-'));
  const product = join(dir, 'workflows.js');
  const floor = join(dir, 'floor-workflow.js');
  writeFileSync(product, (await bundleWorkflows()).code);
  writeFileSync(floor, (await bundleWorkflowCode({ workflowsPath: FLOOR_WORKFLOW, logger: silent })).code);
  return { dir, product, floor, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface BenchWorker {
  pid: number;
  stop(): Promise<void>;
}

/** Starts the bundled worker process (`entry`, from ./build.ts) for `spec`. */
export async function startBenchWorker(spec: BenchWorkerSpec, dir: string, entry: string): Promise<BenchWorker> {
  const specPath = join(dir, `worker-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.json`);
  writeFileSync(specPath, JSON.stringify(spec), { mode: 0o600 });
  // BENCH_PROFILE_WORKER=DIR: a V8 CPU profile of the worker process, written to DIR when it stops.
  // BENCH_WORKER_NODE_ARGS: Node flags of the worker processes (e.g. --max-old-space-size=256), as a deployment would set them.
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...cpuProfileFlags('BENCH_PROFILE_WORKER'), ...nodeArgs, entry, specPath], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const worker = benchChild(child);
  try {
    const pid = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error(`the bench worker did not start within 90 s: ${worker.stderr()}`)), 90_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('\n')) {
          clearTimeout(timer);
          resolve((JSON.parse(stdout.split('\n')[0]!) as { pid: number }).pid);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the bench worker exited (${code ?? signal}) before polling: ${worker.stderr()}`));
      });
    });
    return { pid, stop: () => worker.stop() };
  } catch (err) {
    await worker.kill();
    throw err;
  }
}
