/**
 * The alert storm as a load test (issue 9 §4, the bench's measurement 6): 2,000 Alertmanager
 * webhook posts in 10 s for 20 targets, re-sends of five fingerprints per target, open loop, to the
 * production ingress and worker in their own processes (devstack/bench/stack.ts) on a dev server of
 * their own. What must hold, whatever the machine's speed: every post answered 202 (no 5xx, no reset
 * connection), exactly one incident per target, and every post counted on its target's incident
 * (`alertCounts.firing`). How fast is printed, not asserted (`npm run bench` measures it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBenchStack, TASK_QUEUE, type BenchStack } from '../../devstack/bench/stack';
import { BENCH_SECRETS } from '../../devstack/bench/ingress-process';
import { alertStorm } from '../../devstack/bench/storm';
import { figure } from '../../devstack/bench/stats';
import { incidentWorkflowId, type IncidentState } from '../../domain/incident';
import { statusQuery } from '../../workflows/messages';

const TARGETS = 20;
const POSTS = 2_000;
const SECONDS = 10;

let stack: BenchStack;
beforeAll(async () => {
  stack = await startBenchStack({ targets: TARGETS, callDelayMs: 0 });
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

describe('an alert storm', () => {
  it(`${POSTS} posts in ${SECONDS} s for ${TARGETS} targets: all 202, one incident per target, every post counted on it`, { timeout: 300_000 }, async () => {
    const namespaces = stack.fleet.runbooks.slice(0, TARGETS).map((r) => r.target.namespace);
    const storm = await alertStorm({ url: stack.ingress.url, token: BENCH_SECRETS.alertmanagerToken, namespaces, posts: POSTS, seconds: SECONDS });
    const latency = figure(storm.latenciesMs);
    console.log(`[storm] ${Math.round((storm.posts / storm.wallMs) * 1000)} req/s held; latency p50 ${latency.p50} p95 ${latency.p95} max ${latency.max} ms; statuses ${JSON.stringify(storm.statuses)}`);

    expect(storm.errors, storm.errors.slice(0, 3).join('; ')).toEqual([]);
    expect(storm.statuses).toEqual({ 202: POSTS });

    const runs = new Map<string, number>();
    for await (const w of stack.client.workflow.list({ query: `TaskQueue = "${TASK_QUEUE}"` })) runs.set(w.workflowId, (runs.get(w.workflowId) ?? 0) + 1);
    const expected = stack.fleet.runbooks.slice(0, TARGETS).map((r) => incidentWorkflowId(r.target));
    expect([...runs.keys()].sort()).toEqual([...expected].sort());
    expect([...runs.values()].every((n) => n === 1)).toBe(true);

    // Re-sends answered at once ride on later calls, and the workflow may still be taking the last
    // signals when the last answer came back: up to a minute on a loaded machine.
    for (const runbook of stack.fleet.runbooks.slice(0, TARGETS)) {
      const handle = stack.client.workflow.getHandle(incidentWorkflowId(runbook.target));
      const wanted = storm.perTarget[runbook.target.namespace];
      let state: IncidentState = await handle.query(statusQuery);
      for (let i = 0; i < 300 && state.alertCounts.firing !== wanted; i++) {
        await new Promise((r) => setTimeout(r, 200));
        state = await handle.query(statusQuery);
      }
      expect(state.alertCounts.firing, runbook.target.namespace).toBe(wanted);
    }
    await Promise.all(expected.map((id) => stack.client.workflow.getHandle(id).terminate('storm test over').catch(() => undefined)));
  });
});
