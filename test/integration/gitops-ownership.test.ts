/**
 * The Argo CD ownership check before the restart PR, on a real Temporal dev server against the
 * simulated torghut environment: a runbook whose repository or path is not what the Argo CD
 * application reads, or a Deployment another application manages, ends as needs-human with both
 * sides in the state — no branch, no PR; the right one is remediated as before.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../control/incidents';
import type { IncidentState } from '../../domain/incident';
import type { ArgoSimSource } from '../../sim/argocd';
import { loadScenario } from '../../sim/scenario';
import { fastRunbook, incidentHarness, pinned, waitForPhase, type IncidentHarness } from '../support/incident';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

let ctx: TemporalTestContext;
beforeAll(async () => {
  ctx = await connectTemporal();
});
afterAll(async () => {
  await ctx?.close();
});

const LAB = 'https://github.com/proompteng/lab.git';

/** Starts a 406 incident, approves the restart, and returns its final state and what GitHub holds. */
async function approvedIncident(options: Partial<Parameters<typeof incidentHarness>[1]>) {
  const h: IncidentHarness = await incidentHarness(ctx, { adjust: fastRunbook, ...options, scenario: options.scenario ?? 'alpaca-406' });
  try {
    return await h.run(async () => {
      const handle: WorkflowHandle = await h.start();
      await waitForPhase(handle, ['awaiting-approval']);
      await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice' }));
      const final = (await handle.result()) as IncidentState;
      return {
        final,
        branches: await h.env.github.branches(`agentruns/${final.workflowId}/`),
        pulls: h.env.github.pulls(),
        syncs: h.env.argo.syncCount('torghut'),
        rollouts: h.env.kube.snapshot().rollouts,
      };
    });
  } finally {
    await h.close();
  }
}

function expectNothingWritten(seen: Awaited<ReturnType<typeof approvedIncident>>) {
  expect(seen.final.outcome).toBe('needs-human');
  expect(seen.final.pullRequest).toBeNull();
  expect(seen.final.restart).toBeNull();
  expect(seen.branches).toEqual([]);
  expect(seen.pulls).toEqual([]);
  expect(seen.syncs).toBe(0);
  expect(seen.rollouts).toBe(0);
  expect(seen.final.notes.join('\n')).toMatch(/not opening a restart PR that Argo CD would never apply/);
}

describe('the restart PR only where Argo CD applies it', () => {
  it('the Argo CD application reads another repository → needs-human, both repositories in the evidence, no branch, no PR', async () => {
    const sources: ArgoSimSource[] = [{ repoURL: 'https://github.com/proompteng/infra.git', path: 'argocd/applications/torghut/ws', targetRevision: 'main' }];
    const seen = await approvedIncident({ argoSources: sources });
    expectNothingWritten(seen);
    expect(seen.final.argoOwnership).toMatchObject({
      checked: true,
      ok: false,
      application: 'torghut',
      change: { repository: 'proompteng/lab', path: 'argocd/applications/torghut/ws/deployment.yaml', branch: 'main' },
      sources,
      mismatches: ['Argo CD application torghut reads https://github.com/proompteng/infra.git, but the PR would change proompteng/lab'],
    });
  });

  it('the application reads another path of the repository → needs-human, both paths in the evidence, no branch, no PR', async () => {
    const seen = await approvedIncident({ argoSources: [{ repoURL: LAB, path: 'argocd/applications/torghut-ta', targetRevision: 'main' }] });
    expectNothingWritten(seen);
    expect(seen.final.argoOwnership?.mismatches).toEqual([
      'Argo CD application torghut reads proompteng/lab at argocd/applications/torghut-ta, which does not contain argocd/applications/torghut/ws/deployment.yaml',
    ]);
  });

  it('the live Deployment is managed by another Argo CD application → needs-human, both applications in the evidence, no branch, no PR', async () => {
    const scenario = await loadScenario('alpaca-406');
    scenario.deployment.argoTracking = { application: 'torghut-ta', by: 'annotation' };
    const seen = await approvedIncident({ scenario });
    expectNothingWritten(seen);
    const { final } = seen;
    const namespace = final.target!.namespace;
    expect(final.argoOwnership?.live).toEqual({
      trackingId: `torghut-ta:apps/Deployment:${namespace}/torghut-ws`,
      instanceLabel: null,
      managedBy: 'torghut-ta',
      by: 'tracking-id',
    });
    expect(final.argoOwnership?.mismatches).toEqual([
      `the live Deployment ${namespace}/torghut-ws is managed by Argo CD application torghut-ta (tracking-id), not by the runbook's torghut`,
    ]);
  });

  it('the application reads the repository and path, the Deployment is its own (instance label) → remediated as before', async () => {
    const scenario = await loadScenario('alpaca-406');
    scenario.deployment.argoTracking = { application: 'torghut', by: 'label' };
    // A parent path, as an app-of-apps directory with recurse reads it, in a multi-source application.
    const sources: ArgoSimSource[] = [
      { repoURL: 'https://charts.example.com/kafka.git', path: 'charts/kafka', targetRevision: '1.2.3' },
      { repoURL: 'git@github.com:proompteng/lab.git', path: 'argocd/applications/torghut', targetRevision: 'HEAD', directory: { recurse: true } },
    ];
    const seen = await approvedIncident({ scenario, argoSources: sources });
    expect(seen.final.outcome, seen.final.error).toBe('remediated');
    expect(seen.final.argoOwnership).toMatchObject({ checked: true, ok: true, mismatches: [], live: { managedBy: 'torghut', by: 'instance-label' } });
    expect(seen.final.notes).toContain(
      `Argo CD application torghut manages ${seen.final.target!.namespace}/torghut-ws (instance-label) and reads proompteng/lab argocd/applications/torghut/ws/deployment.yaml on main`,
    );
    expect(seen.pulls).toHaveLength(1);
    expect(seen.syncs).toBe(1);
  });

  it('Argo CD disabled in the runbook → the check is skipped and says so; remediated through the merge alone', async () => {
    const seen = await approvedIncident({
      adjust: (r) => ({ ...fastRunbook(r), argo: { enabled: false, application: 'torghut', syncTimeout: '30 seconds' } }),
      // What Argo CD reads does not matter when the runbook does not use it.
      argoSources: [{ repoURL: 'https://github.com/proompteng/infra.git', path: 'elsewhere' }],
    });
    expect(seen.final.outcome, seen.final.error).toBe('remediated');
    expect(seen.final.argoOwnership).toMatchObject({ checked: false, summary: expect.stringMatching(/^Argo CD ownership not checked: Argo CD is disabled in runbook t-/) });
    expect(seen.final.notes.some((n) => n.startsWith('Argo CD ownership not checked: Argo CD is disabled'))).toBe(true);
    expect(seen.pulls).toHaveLength(1);
    expect(seen.syncs).toBe(0);
  });
});
