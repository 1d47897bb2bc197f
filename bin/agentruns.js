#!/usr/bin/env node
// The `agentruns` command. In a development checkout (tsx, a development dependency, installed) it
// runs the TypeScript sources through tsx's loader, so the CLI, the demo and the tests always run
// the code as it is now — never a stale build. In a production install (`npm ci --omit=dev`, no
// tsx) it runs the CLI `npm run build` compiled into dist/, with plain node.
import { existsSync } from 'node:fs';

const source = new URL('../cli/main.ts', import.meta.url);
const built = new URL('../dist/agentruns.mjs', import.meta.url);

async function tsxLoader() {
  if (!existsSync(source)) return undefined;
  try {
    return await import('tsx/esm/api');
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

const tsx = await tsxLoader();
if (tsx) {
  tsx.register();
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  console.error('agentruns: no built CLI (dist/agentruns.mjs) and no tsx to run the sources: run `npm run build`, or `npm ci` for a development install');
  process.exitCode = 2;
}
