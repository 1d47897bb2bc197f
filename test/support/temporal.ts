/**
 * Test access to the one real Temporal dev server of the run (see temporal-global-setup.ts): a
 * client, and a worker per test on its own task queue, running the pre-bundled workflow code.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { Activities } from '../../activities';
import { quietTemporalRuntime } from '../../devstack/temporal-dev-server';
import { createIncidentWorker } from '../../worker/create-worker';


export interface TemporalTestContext {
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  namespace: string;
  uiUrl: string;
  close(): Promise<void>;
}

export async function connectTemporal(): Promise<TemporalTestContext> {
  quietTemporalRuntime('ERROR');
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace });
  return {
    client,
    connection,
    nativeConnection,
    namespace,
    uiUrl: inject('temporalUiUrl'),
    close: async () => {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * A worker on its own task queue with the given activities; run it with `worker.runUntil(...)`.
 * `shutdownGraceTime` shortens the production grace for tests that roll workers.
 */
export async function createTestWorker(
  ctx: TemporalTestContext,
  taskQueue: string,
  activities: Activities,
  options: { shutdownGraceTime?: string } = {},
): Promise<Worker> {
  return createIncidentWorker({
    connection: ctx.nativeConnection,
    namespace: ctx.namespace,
    taskQueue,
    activities,
    workflowBundle: { code: inject('workflowBundleCode') },
    ...(options.shutdownGraceTime ? { shutdownGraceTime: options.shutdownGraceTime } : {}),
  });
}
