/**
 * Starts one real Temporal dev server (Temporal CLI, SQLite file) for the integration tests and
 * bundles the workflow code once. If the CLI cannot be found or built the suite fails loudly: a
 * test of workflow behaviour never runs against a mock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startDevServer, type DevServer } from '../../devstack/temporal-dev-server';
import { bundleWorkflows } from '../../worker/create-worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    temporalUiUrl: string;
    workflowBundleCode: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'agentruns-temporal-'));
  const teardown = async (server?: DevServer) => {
    try {
      await server?.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  let server: DevServer | undefined;
  try {
    server = await startDevServer({ dbFile: join(dir, 'temporal.sqlite') });
    const bundle = await bundleWorkflows();
    project.provide('temporalAddress', server.address);
    project.provide('temporalNamespace', server.namespace);
    project.provide('temporalUiUrl', server.uiUrl ?? '');
    project.provide('workflowBundleCode', bundle.code);
  } catch (err) {
    // Vitest runs no teardown when the setup fails: stop what was started here and now.
    await teardown(server).catch(() => undefined);
    throw err;
  }
  const started = server;
  return () => teardown(started);
}
