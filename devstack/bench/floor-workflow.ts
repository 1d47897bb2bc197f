/**
 * The floor (bench only, bundled on its own — never part of the product's workflow bundle): the
 * shape of an incident up to approval with nothing in it. As many parallel activities as the
 * diagnosis has sources, then one classify and one post, each a plain activity on the same server
 * and worker settings. What the product takes over this is what its own work costs.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { FloorActivities } from './floor-activities';

/** The diagnosis sources of domain/collect-diagnosis.ts: deployment, pods, events, logs, probes, Kafka user, GitOps. */
export const FLOOR_SOURCES = 7;

const { floorSource, floorClassify, floorPost } = proxyActivities<FloorActivities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '5 seconds',
  retry: { maximumAttempts: 3 },
});

export async function floorWorkflow(input: { workflowId: string }): Promise<void> {
  const facts = await Promise.all(Array.from({ length: FLOOR_SOURCES }, (_, i) => floorSource(i)));
  const verdict = await floorClassify(facts);
  await floorPost({ workflowId: input.workflowId, verdict });
}
