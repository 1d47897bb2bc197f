/**
 * A second service, written as data only: config/runbooks/quote-api.yaml (a Redis-backed HTTP API:
 * its own Deployment, readiness body, classes, signatures and procedures) and its scenarios
 * (sim/scenarios/quote-api-*.yaml), diagnosed and remediated on a real Temporal dev server by the
 * same worker code as torghut-ws. Nothing in TypeScript knows quote-api.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunbookConfig } from '../../config/load-runbook';
import { decide, DecisionRefusedError } from '../../control/incidents';
import type { IncidentState } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { incidentHarness, pinned, waitForPhase, type IncidentHarness } from '../support/incident';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

let ctx: TemporalTestContext;
let quoteApi: RunbookConfig;
beforeAll(async () => {
  ctx = await connectTemporal();
  quoteApi = await loadRunbookConfig(new URL('../../config/runbooks/quote-api.yaml', import.meta.url).pathname);
});
afterAll(async () => {
  await ctx?.close();
});

const fast = (r: RunbookConfig): RunbookConfig => ({
  ...r,
  gitops: { ...r.gitops, mergePollInterval: '200ms' },
  timeouts: { ...r.timeouts, approval: '1 minute', verification: '20 seconds' },
  argo: { enabled: true, application: r.argo?.application ?? 'pricing-quote-api', syncTimeout: '30 seconds' },
});

async function withQuoteApi<T>(scenario: string, fn: (h: IncidentHarness, handle: WorkflowHandle) => Promise<T>): Promise<T> {
  const harness = await incidentHarness(ctx, { scenario, runbook: quoteApi, adjust: fast });
  try {
    return await harness.run(async () => fn(harness, await harness.start({ alertname: 'QuoteApiNotReady' })));
  } finally {
    await harness.close();
  }
}

const result = (handle: WorkflowHandle) => handle.result() as Promise<IncidentState>;

describe('quote-api: a second runbook, no TypeScript of its own', () => {
  it('Redis READONLY after a failover → procedure P1 → approve → PR bumps restartedAt in its own manifest → Argo CD syncs pricing-quote-api → remediated', async () => {
    await withQuoteApi('quote-api-redis-readonly', async (h, handle) => {
      const waiting = await waitForPhase(handle, ['awaiting-approval']);
      expect(waiting.classification).toMatchObject({ class: 'redis_readonly', procedure: 'P1', basis: 'readiness+logs', conflict: false });
      expect(waiting.classification?.action).toMatch(/^Restart quote-api via GitOps: after a Redis failover/);
      expect(waiting.classification?.evidence).toContainEqual({ source: 'readyz', text: expect.stringMatching(/^\/health\/ready HTTP 503: .*"kind":"redis_readonly"/) as string });
      expect(waiting.classification?.evidence.some((e) => e.source === 'logs' && e.text.includes('"code":"READONLY"'))).toBe(true);
      // The readiness probe went to the runbook's own path and port on each pod.
      const probes = waiting.diagnosis?.probes.ok ? waiting.diagnosis.probes.value : [];
      expect(probes.map((p) => p.path).sort()).toEqual(['/health/live', '/health/live', '/health/ready', '/health/ready']);
      expect(waiting.prerequisite).toBeNull();

      const podsBefore = h.env.kube.snapshot().pods.map((p) => p.name);
      await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'pricing-oncall', comment: 'failover at 13:58, restart' }));
      const merging = await waitForPhase(handle, ['awaiting-merge']);
      const diff = await h.env.github.diff(merging.pullRequest!.number);
      expect(diff).toContain('apps/pricing/quote-api/deployment.yaml');
      const changed = diff.split('\n').filter((l) => /^[+-](?![+-])/.test(l));
      expect(changed).toEqual([
        expect.stringMatching(/^-\s+kubectl\.kubernetes\.io\/restartedAt: "2026-01-20T08:00:00Z"$/),
        expect.stringMatching(/^\+\s+kubectl\.kubernetes\.io\/restartedAt: "\d{4}-\d\d-\d\dT[\d:.]+Z"$/),
      ]);
      expect(h.env.github.pulls()[0]!.body).toContain('redis_readonly');
      await h.env.github.mergePullRequest(merging.pullRequest!.number);

      const final = await result(handle);
      expect(final.outcome).toBe('remediated');
      expect(final.argoSync).toMatchObject({ application: 'pricing-quote-api', status: 'Synced', health: 'Healthy' });
      expect(final.verification?.ok).toBe(true);
      const after = h.env.kube.snapshot();
      expect(after.replicas).toBe(2);
      expect(after.pods).toHaveLength(2);
      expect(after.pods.every((p) => p.ready)).toBe(true);
      expect(after.pods.map((p) => p.name)).not.toEqual(expect.arrayContaining(podsBefore));
      expect(h.env.argo.syncCount('pricing-quote-api')).toBe(1);
    });
  });

  it('Redis OOM → procedure P3 forbids the restart → needs-human, nothing written', async () => {
    await withQuoteApi('quote-api-redis-oom', async (h, handle) => {
      const final = await result(handle);
      expect(final.outcome).toBe('needs-human');
      expect(final.classification).toMatchObject({ class: 'redis_oom', procedure: 'P3' });
      expect(final.notes.join('\n')).toContain('procedure P3 of runbook');
      expect(final.notes.join('\n')).toContain('allows no automated restart for redis_oom');
      expect(h.env.github.writes()).toEqual([]);
      expect(h.env.kube.writes()).toEqual([]);
    });
  });

  it('WRONGPASS in plain-text logs, readiness naming no kind → procedure P2: an approval without the prerequisite is refused, with it the restart goes ahead', async () => {
    await withQuoteApi('quote-api-redis-auth', async (h, handle) => {
      const waiting = await waitForPhase(handle, ['awaiting-approval']);
      expect(waiting.classification).toMatchObject({ class: 'redis_auth', procedure: 'P2', basis: 'logs' });
      expect(waiting.classification?.notes).toContain('/health/ready gates failing: redis (the Redis connection pool)');
      expect(waiting.prerequisite).toBe('the Redis ACL password in the quote-api-redis SealedSecret matches the Redis user again and Argo CD synced it');

      const refused = decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'pricing-oncall' }));
      await expect(refused).rejects.toThrow(DecisionRefusedError);
      await expect(refused).rejects.toThrow(/procedure P2 needs the human prerequisite confirmed first/);

      await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'pricing-oncall', prerequisiteConfirmed: true }));
      const merging = await waitForPhase(handle, ['awaiting-merge']);
      await h.env.github.mergePullRequest(merging.pullRequest!.number);
      const final = await result(handle);
      expect(final.outcome).toBe('remediated');
      expect(final.decision).toMatchObject({ by: 'pricing-oncall', prerequisiteConfirmed: true });
    });
  });
});
