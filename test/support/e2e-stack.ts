/**
 * The production worker and ingress in this process (devstack/local-stack.ts `startServices`) on
 * the suite's real Temporal dev server, in front of a simulated environment running `scenario` with
 * the demo's runbook (merge on approval) made unique to the test.
 */
import { inject } from 'vitest';
import { demoRunbook, startServices, type Services } from '../../devstack/local-stack';
import { startSimEnvironment, type SimEnvironment } from '../../devstack/sim-environment';
import { uniqueRunbook } from './incident';
import { connectTemporal, uniqueTaskQueue, type TemporalTestContext } from './temporal';

export interface E2eStack {
  ctx: TemporalTestContext;
  env: SimEnvironment;
  services: Services;
  close(): Promise<void>;
}

export async function startE2eStack(scenario: string, taskQueuePrefix = 'e2e'): Promise<E2eStack> {
  const ctx = await connectTemporal();
  const env = await startSimEnvironment({ scenario, adjustRunbook: (r) => uniqueRunbook(demoRunbook(r)) });
  const services = await startServices({
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
    taskQueue: uniqueTaskQueue(taskQueuePrefix),
    temporalUiUrl: inject('temporalUiUrl') || undefined,
    env,
    workflowBundle: { code: inject('workflowBundleCode') },
  }).catch(async (err: unknown) => {
    await env.close();
    await ctx.close();
    throw err;
  });
  return {
    ctx,
    env,
    services,
    async close() {
      await services.stop();
      await env.close();
      await ctx.close();
    },
  };
}
