/**
 * The production build (`npm run build`): plain JavaScript in dist/, so the image runs `node` with
 * no TypeScript tooling at run time.
 *
 * - `dist/agentruns.mjs`: the CLI — `worker`, `serve` and the operator commands — bundled by esbuild
 *   into one ES module for Node 20 (`.mjs`: a module wherever it is copied, package.json or not).
 *   The sources import each other without file extensions (as tsx
 *   and the Bundler resolution of tsconfig.json allow, and Node's own loader does not), so the
 *   bundler resolves them at build time; npm packages stay external, loaded from node_modules. The
 *   demo and the local stack need the simulators and are left out: the built CLI answers them with
 *   "from a source checkout only", and the build fails if a simulator module gets in anyway.
 * - `dist/workflow-bundle.js`: the workflow code bundled once by Temporal's bundler
 *   (`bundleWorkflowCode`, the same call a worker from the sources makes at start). The built worker
 *   finds it next to itself and loads it by path (`workflowBundle: { codePath }`).
 * - `dist/runbooks/`: the shipped runbook, where the built code looks for its default (next to the
 *   code, as config/runbooks/ is next to config/load-runbook.ts).
 *
 * Usage: `tsx scripts/build.ts [--out-dir DIR]` (default dist/).
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { build as esbuild, type Plugin } from 'esbuild';
import { bundleWorkflows } from '../worker/create-worker';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** What the build writes, relative to its output directory (the Dockerfile copies them). */
export const BUILD_OUTPUTS = {
  cli: 'agentruns.mjs',
  workflowBundle: 'workflow-bundle.js',
  runbooks: 'runbooks',
} as const;

/** Source folders that must never reach the built CLI: simulators, the local stack, tests. */
const NOT_SHIPPED = ['sim/', 'devstack/', 'test/'];

const SOURCE_CHECKOUT_ONLY = `
import { CliError, EXIT } from './errors';
const sourceCheckoutOnly = async (): Promise<number> => {
  throw new CliError('runs from a source checkout only (npm run demo): the built CLI leaves the simulators out', EXIT.usage);
};
export const demoCommand = sourceCheckoutOnly;
export const stackCommand = sourceCheckoutOnly;
`;

/** Replaces the CLI's on-demand import of the local stack (demo/stack commands) by a refusal. */
const leaveOutLocalStack: Plugin = {
  name: 'leave-out-local-stack',
  setup(build) {
    build.onResolve({ filter: /^\.\/commands\/stack$/ }, (args) =>
      args.importer === join(ROOT, 'cli/main.ts') ? { path: 'cli/commands/stack', namespace: 'source-checkout-only' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'source-checkout-only' }, () => ({ contents: SOURCE_CHECKOUT_ONLY, loader: 'ts', resolveDir: join(ROOT, 'cli') }));
  },
};

export async function buildAll(outDir: string): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });

  const cli = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: { [BUILD_OUTPUTS.cli.replace(/\.mjs$/, '')]: 'cli/main.ts' },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    // Each command's on-demand import stays a chunk of its own, loading its packages only when it runs.
    // Chunks sit beside the entry, so `new URL('./…', import.meta.url)` means dist/ in every one.
    splitting: true,
    chunkNames: '[name]-[hash]',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [leaveOutLocalStack],
  });
  const leaked = Object.keys(cli.metafile.inputs).filter((input) => NOT_SHIPPED.some((dir) => input.startsWith(dir)));
  if (leaked.length) throw new Error(`the built CLI would include modules that are not shipped: ${leaked.join(', ')}`);

  const workflows = await bundleWorkflows();
  await writeFile(join(outDir, BUILD_OUTPUTS.workflowBundle), workflows.code);

  await cp(join(ROOT, 'config/runbooks'), join(outDir, BUILD_OUTPUTS.runbooks), { recursive: true });

  // Plain `node` loads every module of the build, so Node's own resolver is proven to find every
  // package it imports (tsx forgives what Node refuses, e.g. a directory import): the chunks by
  // import (their top level only defines), the entry by running `--help`.
  const entry = join(outDir, BUILD_OUTPUTS.cli);
  const chunks = Object.keys(cli.metafile.outputs)
    .map((output) => resolve(ROOT, output))
    .filter((output) => output.endsWith('.mjs') && output !== entry);
  const plainNode = { env: { ...process.env, NODE_OPTIONS: '' } };
  const run = promisify(execFile);
  await Promise.all([
    run(process.execPath, ['--input-type=module', '-e', 'for (const f of process.argv.slice(1)) await import(f);', ...chunks.map((c) => pathToFileURL(c).href)], plainNode),
    run(process.execPath, [entry, '--help'], plainNode),
  ]).catch((err: Error & { stderr?: string }) => {
    throw new Error(`the built CLI does not load with plain node: ${err.stderr || err.message}`);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: join(ROOT, 'dist') } }, strict: true });
  const outDir = resolve(values['out-dir']);
  const started = Date.now();
  await buildAll(outDir);
  const shown = relative(process.cwd(), outDir) || '.';
  console.log(`built ${join(shown, BUILD_OUTPUTS.cli)}, ${join(shown, BUILD_OUTPUTS.workflowBundle)} and ${join(shown, BUILD_OUTPUTS.runbooks)}/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
