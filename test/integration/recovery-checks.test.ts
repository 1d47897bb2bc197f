/**
 * "Pod becomes Ready, and status topic resumes" (the runbook's verification), with a real Prometheus
 * (Debian's package) scraping a small exporter of the forwarder's status-topic counter: after the
 * rollout and readiness 200, the new pods must stay Ready without restarts for
 * `verification.stableFor`, and the runbook's PromQL expression must hold before the outcome is
 * `remediated`. A check that fails says which, with its evidence, and the rollback offer follows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../control/incidents';
import type { IncidentState } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { statusQuery } from '../../workflows/messages';
import { incidentHarness, pinned, waitForPhase, type IncidentHarness } from '../support/incident';
import { startPrometheus, startStatusExporter, type Prometheus, type StatusExporter } from '../support/prometheus';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

let ctx: TemporalTestContext;
let prometheus: Prometheus;
let exporter: StatusExporter;
beforeAll(async () => {
  ctx = await connectTemporal();
  exporter = await startStatusExporter();
  prometheus = await startPrometheus([{ job: 'torghut-ws', address: exporter.address }]);
  await prometheus.scraped('torghut-ws');
}, 60_000);
afterAll(async () => {
  await prometheus?.stop();
  await exporter?.close();
  await ctx?.close();
});

const STATUS_QUERY = 'rate(torghut_ws_status_messages_total{topic="torghut.status.v1"}[5s]) > 0';

const checked = (verification: Partial<RunbookConfig['verification']>) => (r: RunbookConfig): RunbookConfig => ({
  ...r,
  gitops: { ...r.gitops, merge: 'auto' },
  verification: { ...r.verification, ...verification },
});

const statusCheck = (timeout: string) => ({ query: STATUS_QUERY, description: 'status topic messages per second', timeout });

async function approvedIncident(h: IncidentHarness) {
  const handle = await h.start();
  await waitForPhase(handle, ['awaiting-approval']);
  await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice' }));
  return handle;
}

describe('verification as the runbook says', () => {
  it('the pods stay Ready for the window and the status topic resumes → remediated, both checks recorded with their evidence', async () => {
    exporter.publishing = false;
    const h = await incidentHarness(ctx, { scenario: 'alpaca-406', prometheusUrl: prometheus.url, adjust: checked({ stableFor: '3 seconds', prometheus: statusCheck('30 seconds') }) });
    try {
      await h.run(async () => {
        const handle = await approvedIncident(h);
        await waitForPhase(handle, ['verifying']);
        // The restarted forwarder publishes again.
        exporter.publishing = true;
        const final = (await handle.result()) as IncidentState;
        expect(final.outcome, final.notes.join('; ')).toBe('remediated');
        const checks = final.verification!.checks!;
        expect(checks.map((c) => [c.name, c.result])).toEqual([
          ['stability', 'passed'],
          ['status', 'passed'],
        ]);
        expect(checks[0]!.what).toBe('the new pods Ready, without a container restart, for 3 seconds');
        expect(checks[0]!.detail).toMatch(/^torghut-ws-\S+ Ready, 0 restarts$/);
        expect(checks[1]!.what).toBe(`status topic messages per second (${STATUS_QUERY})`);
        // rate() drops the metric name: the series is named by its labels.
        expect(checks[1]!.detail).toMatch(/^\{.*topic="torghut.status.v1".*\} [0-9.]+$/);
        // The stability window really was waited for.
        expect(Date.parse(checks[0]!.checkedAt) - Date.parse(final.timings.verifying!.startedAt)).toBeGreaterThanOrEqual(3_000);
      });
    } finally {
      await h.close();
    }
  });

  it('the status topic stays silent → verification-failed on the status check with what Prometheus said; the rollback is offered', async () => {
    exporter.publishing = false;
    await silent(prometheus, STATUS_QUERY);
    const h = await incidentHarness(ctx, { scenario: 'alpaca-406', prometheusUrl: prometheus.url, adjust: checked({ stableFor: 'off', prometheus: statusCheck('4 seconds') }) });
    try {
      await h.run(async () => {
        const handle = await approvedIncident(h);
        const offered = await waitForPhase(handle, ['awaiting-rollback-approval'], 90_000);
        expect(offered.verification).toMatchObject({ ok: false, failedCheck: 'status' });
        expect(offered.verification!.detail).toBe(
          `status check failed: status topic messages per second (${STATUS_QUERY}): did not hold within 4 seconds: no sample (the expression does not hold, or nothing is scraped)`,
        );
        expect(offered.rollback).toMatchObject({ offered: true });
        await decide(ctx.client, handle.workflowId, 'reject', await pinned(handle, { by: 'oncall-alice' }));
        const final = (await handle.result()) as IncidentState;
        expect(final.outcome).toBe('verification-failed');
        expect(final.verification?.failedCheck).toBe('status');
      });
    } finally {
      await h.close();
    }
  });

  it('the new pod relapses and restarts inside the window → verification-failed on the stability check, naming the pod', async () => {
    const h = await incidentHarness(ctx, { scenario: 'flapping', adjust: checked({ stableFor: '20 seconds' }) });
    try {
      await h.run(async () => {
        const handle = await approvedIncident(h);
        const verifying = await waitForPhase(handle, ['verifying']);
        // The kubelet keeps probing readiness: the cure lasts two answers, then the 406 is back.
        const stop = Date.now() + 30_000;
        let state: IncidentState = verifying;
        while (Date.now() < stop && state.phase === 'verifying') {
          await probeReadiness(h);
          await new Promise((r) => setTimeout(r, 300));
          state = await handle.query(statusQuery);
        }
        const offered = await waitForPhase(handle, ['awaiting-rollback-approval'], 60_000);
        expect(offered.verification).toMatchObject({ ok: false, failedCheck: 'stability' });
        expect(offered.verification!.detail).toMatch(
          /^stability check failed: the new pods Ready, without a container restart, for 20 seconds: pod torghut-ws-\S+ restarted a container \(0 → 1 restarts\)$/,
        );
      });
    } finally {
      await h.close();
    }
  });

  it("a runbook's status check with no Prometheus configured → remediated, the check recorded as one that could not be made", async () => {
    const h = await incidentHarness(ctx, { scenario: 'alpaca-406', adjust: checked({ stableFor: 'off', prometheus: statusCheck('5 seconds') }) });
    try {
      await h.run(async () => {
        const final = (await (await approvedIncident(h)).result()) as IncidentState;
        expect(final.outcome).toBe('remediated');
        expect(final.verification!.checks).toEqual([expect.objectContaining({ name: 'status', result: 'unchecked', detail: 'status check (PROMETHEUS_URL is not set on the worker)' })]);
        expect(final.notes).toContain('verification could not check: status check (PROMETHEUS_URL is not set on the worker)');
      });
    } finally {
      await h.close();
    }
  });
});

/** Waits until the expression no longer holds (the rate of an earlier test's messages has run out of its window). */
async function silent(server: Prometheus, query: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = (await (await fetch(`${server.url}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as { data: { result: unknown[] } };
    if (answer.data.result.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${query} still holds`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One readiness probe of every current pod through the API server's pods/proxy, as the kubelet probes. */
async function probeReadiness(h: IncidentHarness): Promise<void> {
  const { namespace } = h.runbook.target;
  for (const pod of h.env.kube.snapshot().pods) {
    await fetch(`${h.env.kube.url}/api/v1/namespaces/${namespace}/pods/${pod.name}:${h.runbook.target.health.port}/proxy${h.runbook.target.health.readinessPath}`, {
      headers: { authorization: `Bearer ${h.env.kube.token}` },
    }).then((r) => r.text());
  }
}
