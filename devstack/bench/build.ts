/**
 * The bench's processes as plain JavaScript, the way production runs (`npm run build` ships compiled
 * code; no TypeScript loader at run time): the worker process (./worker-process.ts) and the ingress
 * (ingress/main.ts), each bundled once per bench run by esbuild with their npm packages left
 * external. A process started through tsx carries its loader, its transpile caches and a hooks
 * thread: some 200 MiB of resident memory that a deployed worker does not have, and that would be
 * measured as the product's. The bundles live under node_modules/.cache/ so Node finds the
 * packages from there, and are removed with the bench's other files.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BenchBuild {
  /** The worker process entry (argv[2]: its JSON spec). */
  worker: string;
  /** The production ingress entry (configured by its environment). */
  ingress: string;
  remove(): Promise<void>;
}

export async function buildBenchProcesses(): Promise<BenchBuild> {
  const dir = join(ROOT, 'node_modules', '.cache', 'agentruns-bench', String(process.pid));
  await mkdir(dir, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { 'worker-process': 'devstack/bench/worker-process.ts', ingress: 'ingress/main.ts' },
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
  return {
    worker: join(dir, 'worker-process.mjs'),
    ingress: join(dir, 'ingress.mjs'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
