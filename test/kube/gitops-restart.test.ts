/**
 * The GitOps restart end to end on the real Kubernetes control plane and a real Temporal dev
 * server: a 406 incident is diagnosed by the worker's ServiceAccount (shipped RBAC), approved; the
 * PR bumping restartedAt is merged; the simulated Argo CD server-side applies the merged
 * deployment.yaml to the real API server; the real Deployment controller rolls out a new
 * ReplicaSet; the test kubelet terminates the old pod and makes the new one Ready; verification
 * reads the real status — and ignores the Evicted pod of the old ReplicaSet that a real cluster
 * keeps listing under the same labels.
 */
import { randomUUID } from 'node:crypto';
import { AppsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesActivities } from '../../activities/kubernetes';
import { decide, openIncident } from '../../control/incidents';
import { startRealClusterEnvironment } from '../../devstack/real-cluster/gitops-environment';
import type { IncidentState } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { statusQuery } from '../../workflows/messages';
import { closeSeeded, eventually, seeded, workerKubeConfig } from '../support/kube';
import { connectTemporal, createTestWorker, uniqueTaskQueue, type TemporalTestContext } from '../support/temporal';

let ctx: TemporalTestContext;
beforeAll(async () => {
  ctx = await connectTemporal();
});
afterAll(async () => {
  await closeSeeded();
  await ctx?.close();
});

const restartRunbook = (r: RunbookConfig): RunbookConfig => ({
  ...r,
  id: `k-${randomUUID().slice(0, 12)}`,
  gitops: { ...r.gitops, merge: 'auto', mergePollInterval: '200ms' },
  timeouts: { ...r.timeouts, approval: '2 minutes', verification: '90 seconds' },
  argo: { enabled: true, application: 'torghut', syncTimeout: '90 seconds' },
  // The new pod's stability watched on the real pods the controller made: a short window here.
  verification: { ...r.verification, stableFor: '5 seconds' },
});

describe('GitOps restart of torghut-ws on the real control plane', () => {
  it('406 → approve → PR merged → Argo CD applies to the real API server → new ReplicaSet Ready → remediated', async () => {
    const s = await seeded('alpaca-406');
    // A pod of the broken ReplicaSet was evicted earlier; its replacement is the one failing now.
    const [evicted] = await createKubernetesActivities(s.admin).listPods(s.target);
    await s.kubelet.evict(evicted!.name);
    await s.kubelet.settled();

    const env = await startRealClusterEnvironment({
      runbook: restartRunbook(s.runbook),
      argoKubeConfig: s.admin,
      workerKubeConfig: await workerKubeConfig(s.admin, s.namespace),
    });
    try {
      const taskQueue = uniqueTaskQueue('kube');
      const worker = await createTestWorker(ctx, taskQueue, env.activities);
      const final = await worker.runUntil(async () => {
        const opened = await openIncident({ client: ctx.client, taskQueue }, env.runbook, {
          source: 'alertmanager',
          alert: { alertname: 'TorghutWsNotReady', labels: { alertname: 'TorghutWsNotReady', namespace: s.namespace } },
        });
        const handle = ctx.client.workflow.getHandle(opened.workflowId, opened.runId);
        const waiting = await eventually('the incident to wait for approval', async () => {
          const state = await handle.query(statusQuery).catch(() => undefined);
          return state?.phase === 'awaiting-approval' ? state : undefined;
        }, 60_000, 250);
        expect(waiting.classification?.class).toBe('alpaca_406_second_connection');
        expect(waiting.diagnosis?.degraded).toEqual([]);
        const pods = waiting.diagnosis?.pods.ok ? waiting.diagnosis.pods.value : [];
        expect(pods.map((p) => p.ignored)).toEqual([undefined, 'Failed (Evicted)']);
        expect(waiting.diagnosis?.logs.ok && waiting.diagnosis.logs.value.pod).toBe(pods[0]!.name);

        await decide(ctx.client, handle.workflowId, 'approve', { by: 'oncall-alice', runId: waiting.runId, step: 'restart', comment: 'stale Alpaca session: restart' });
        return (await handle.result()) as IncidentState;
      });

      expect(final.outcome).toBe('remediated');
      expect(final.pullRequest).toMatchObject({ merged: true });
      expect(final.verification).toMatchObject({
        ok: true,
        detail: expect.stringMatching(/^rollout complete and \/readyz 200 on every new pod: 1 pod of ReplicaSet torghut-ws-\w+; 1 old or finished pod ignored$/),
      });
      // The new pod stayed Ready without a restart for the window (the Evicted one of the old ReplicaSet left out).
      expect(final.verification?.checks).toEqual([
        expect.objectContaining({ name: 'stability', result: 'passed', detail: expect.stringMatching(/^torghut-ws-\w+-\w+ Ready, 0 restarts$/) }),
      ]);

      // Argo CD applied the merged manifest: the live Deployment carries the PR's restartedAt, rolled by the real controller.
      expect(env.applied).toHaveLength(1);
      const restartedAt = env.applied[0]!.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];
      expect(restartedAt).not.toBe('2026-01-01T09:14:00Z');
      const apps = s.admin.makeApiClient(AppsV1Api);
      const live = await apps.readNamespacedDeployment({ name: 'torghut-ws', namespace: s.namespace });
      expect(live.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBe(restartedAt);
      expect(live.metadata?.managedFields?.map((f) => f.manager)).toContain('argocd-controller');
      const sets = (await apps.listNamespacedReplicaSet({ namespace: s.namespace })).items;
      expect(sets.map((rs) => [rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], rs.status?.readyReplicas ?? 0]).sort()).toEqual([['1', 0], ['2', 1]]);
    } finally {
      await env.close();
    }
  });
});
