/**
 * The fault matrix, on a real Temporal dev server against the simulated torghut environment: what
 * on-call sees when GitHub rate-limits, fails, conflicts, refuses, hangs or loses an answer, when
 * Argo CD fails a poll or a sync request, loses an answer, never finishes or cannot be reached, when
 * the Kubernetes API hangs, fails, rate-limits, refuses or drops a connection (per resource, during
 * the diagnosis and the verification), when Slack rate-limits, refuses, hangs or loses an answer,
 * when the readiness probe itself is refused, and when the worker dies in the middle of an action.
 *
 * Each test asserts the incident's outcome AND that nothing was done twice, counted from the
 * simulators' own records: branches, PRs, restart commits, merges, Slack messages, Argo CD syncs
 * and rollouts.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../control/incidents';
import type { IncidentState } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { delay, dropAfterWrite, hang } from '../../sim/fault-queue';
import { secondaryRateLimit } from '../../sim/github';
import { apiDrop, apiError, apiHang, apiTooManyRequests } from '../../sim/kube-faults';
import type { RequestRecord } from '../../sim/kube-api';
import { apiMethod, ratelimited, slackError } from '../../sim/slack';
import { startChildWorker } from '../support/child-worker';
import { actions, ONE_OF_EACH, STEP_REPLIES_OF_A_REMEDIATION } from '../support/incident-actions';
import { fastRunbook, incidentHarness, pinned, waitForPhase, withMergeWait, type IncidentHarness } from '../support/incident';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

let ctx: TemporalTestContext;
beforeAll(async () => {
  ctx = await connectTemporal();
});
afterAll(async () => {
  await ctx?.close();
});

type HarnessOptions = Parameters<typeof incidentHarness>[1];

async function withIncident<T>(options: Partial<HarnessOptions>, fn: (h: IncidentHarness) => Promise<T>): Promise<T> {
  const harness = await incidentHarness(ctx, { scenario: 'alpaca-406', adjust: fastRunbook, ...options });
  try {
    return await harness.run(() => fn(harness));
  } finally {
    await harness.close();
  }
}

const result = (handle: WorkflowHandle) => handle.result() as Promise<IncidentState>;

/** Starts the incident and approves the restart once it waits for a decision. */
async function startApproved(h: IncidentHarness): Promise<WorkflowHandle> {
  const handle = await h.start();
  await waitForPhase(handle, ['awaiting-approval']);
  await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice' }));
  return handle;
}

const requestsTo = (h: IncidentHarness, method: string, path: RegExp) => h.env.github.requests.filter((r) => r.method === method && path.test(r.path));

/** The attempt an activity ended on, from the workflow history. */
async function finalAttempt(handle: WorkflowHandle, activityType: string): Promise<number | undefined> {
  const { events } = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  let attempt: number | undefined;
  for (const event of events ?? []) {
    const id = String(event.eventId);
    const s = event.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name) scheduled.set(id, s.activityType.name);
    const started = event.activityTaskStartedEventAttributes;
    if (started && scheduled.get(String(started.scheduledEventId)) === activityType) attempt = started.attempt ?? undefined;
  }
  return attempt;
}

describe('GitHub faults', () => {
  it('GitHub secondary rate limit for a few seconds → waited out, one branch, one PR, remediated', async () => {
    // Real seconds of retry-after here: one wait longer than the heartbeat timeout, then three short ones.
    await withIncident({ clients: { githubRetryAfterBaseValue: 1000 } }, async (h) => {
      h.env.github.failNext(secondaryRateLimit({ method: 'POST', path: /\/pulls$/, retryAfterSeconds: 9 }));
      h.env.github.failNext(secondaryRateLimit({ method: 'POST', path: /\/pulls$/, retryAfterSeconds: 1, times: 3 }));
      const handle = await startApproved(h);
      const final = await result(handle);

      expect(final.outcome, final.error).toBe('remediated');
      const posts = requestsTo(h, 'POST', /\/pulls$/);
      expect(posts.map((r) => r.status)).toEqual([403, 403, 403, 403, 201]);
      // retry-after honoured: 9 s, then 1 s three times.
      expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(9_000);
      expect(posts[4]!.at - posts[0]!.at).toBeGreaterThanOrEqual(12_000);
      // Waited out inside one attempt, heartbeating: the 9 s wait did not trip the 5 s heartbeat timeout.
      expect(await finalAttempt(handle, 'openRestartPullRequest')).toBe(1);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('GitHub answering 500 to every PR request → failed within seconds, the error names the operation, the status and the attempts; no PR, one branch', async () => {
    // Production back-off (a second is a second): the bound is the point.
    await withIncident({ clients: { githubRetryAfterBaseValue: 1000 } }, async (h) => {
      h.env.github.failNext({ method: 'POST', path: /\/pulls$/, status: 500, message: 'Server Error', times: 1000 });
      const handle = await startApproved(h);
      const approvedAt = Date.now();
      const final = await result(handle);

      expect(final.outcome).toBe('failed');
      expect(Date.now() - approvedAt).toBeLessThan(30_000);
      expect(final.error).toMatch(
        /^openRestartPullRequest: GitHub open pull request agentruns\/\S+ → main: HTTP 500: Server Error - https:\/\/docs\.github\.com\/rest \(UpstreamError; attempt 3; retries exhausted\)$/,
      );
      // 3 attempts, each the first request and 2 retries of the client.
      expect(requestsTo(h, 'POST', /\/pulls$/)).toHaveLength(9);
      expect(await actions(h, final)).toEqual({ ...ONE_OF_EACH, pulls: 0, merges: 0, syncs: 0, rollouts: 0 });
    });
  });

  it('GitHub answer lost after the PR was opened → the retry finds it: one PR, remediated', async () => {
    await withIncident({}, async (h) => {
      h.env.github.failNext(dropAfterWrite({ method: 'POST', path: /\/pulls$/ }));
      const final = await result(await startApproved(h));

      expect(final.outcome, final.error).toBe('remediated');
      expect(requestsTo(h, 'POST', /\/pulls$/).map((r) => [r.status, r.fault])).toEqual([
        [201, 'dropped'],
        [422, undefined],
      ]);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('GitHub answer lost after the merge → merged once, remediated', async () => {
    await withIncident({}, async (h) => {
      h.env.github.failNext(dropAfterWrite({ method: 'PUT', path: /\/merge$/ }));
      const final = await result(await startApproved(h));

      expect(final.outcome, final.error).toBe('remediated');
      expect(requestsTo(h, 'PUT', /\/merge$/).map((r) => [r.status, r.fault])).toEqual([
        [200, 'dropped'],
        [405, undefined],
      ]);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('GitHub 409 stale sha on the commit (someone committed on the branch in between) → re-reads the branch head and commits once: remediated', async () => {
    await withIncident({}, async (h) => {
      h.env.github.failNext({ method: 'PUT', path: '/contents/', status: 409, message: 'argocd/applications/torghut/ws/deployment.yaml does not match 0000000' });
      const final = await result(await startApproved(h));

      expect(final.outcome, final.error).toBe('remediated');
      expect(requestsTo(h, 'PUT', /\/contents\//).map((r) => r.status)).toEqual([409, 200]);
      // The retry read the file at the branch head again before writing.
      const branchReads = requestsTo(h, 'GET', /\/contents\//).filter((r) => r.query.includes(`ref=agentruns/${final.workflowId}/`));
      expect(branchReads).toHaveLength(2);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('GitHub 422 on opening the PR → failed at once with the reason, not retried; the branch it created is deleted again', async () => {
    await withIncident({}, async (h) => {
      h.env.github.failNext({ method: 'POST', path: /\/pulls$/, status: 422, message: 'Validation Failed', times: 1000 });
      const final = await result(await startApproved(h));

      expect(final.outcome).toBe('failed');
      expect(final.error).toMatch(
        /^openRestartPullRequest: GitHub open pull request agentruns\/\S+ → main: rejected \(422\): Validation Failed - https:\/\/docs\.github\.com\/rest; branch agentruns\/\S+ deleted \(InputError; attempt 1; not retryable\)$/,
      );
      expect(requestsTo(h, 'POST', /\/pulls$/)).toHaveLength(1);
      expect(requestsTo(h, 'DELETE', /\/git\/refs\/heads\/agentruns\//).map((r) => r.status)).toEqual([204]);
      expect(await actions(h, final)).toEqual({ branches: 0, pulls: 0, restartCommits: 0, merges: 0, slackMessages: 1, slackRepliesTwice: 0, syncs: 0, rollouts: 0 });
    });
  });

  it('GitHub 502 twice on opening the PR, then ok → retried inside the attempt: one PR, remediated', async () => {
    await withIncident({}, async (h) => {
      h.env.github.failNext({ method: 'POST', path: /\/pulls$/, status: 502, message: 'Server Error', times: 2 });
      const handle = await startApproved(h);
      const final = await result(handle);

      expect(final.outcome, final.error).toBe('remediated');
      expect(requestsTo(h, 'POST', /\/pulls$/).map((r) => r.status)).toEqual([502, 502, 201]);
      expect(await finalAttempt(handle, 'openRestartPullRequest')).toBe(1);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('GitHub hangs on opening the PR → the call gives up after its deadline and is retried: one PR, remediated', async () => {
    await withIncident({ clients: { requestTimeoutMs: 2_000 } }, async (h) => {
      h.env.github.failNext(hang({ method: 'POST', path: /\/pulls$/ }));
      const final = await result(await startApproved(h));

      expect(final.outcome, final.error).toBe('remediated');
      const posts = requestsTo(h, 'POST', /\/pulls$/);
      expect(posts.map((r) => r.fault ?? r.status)).toEqual(['hung', 201]);
      expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(2_000);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('GitHub slow (3 s per commit) → remediated, nothing repeated', async () => {
    await withIncident({}, async (h) => {
      h.env.github.failNext(delay(3_000, { method: 'PUT', path: '/contents/' }));
      const final = await result(await startApproved(h));
      expect(final.outcome, final.error).toBe('remediated');
      expect(requestsTo(h, 'PUT', /\/contents\//).map((r) => r.status)).toEqual([200]);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });
});

describe('Argo CD faults', () => {
  it('Argo CD status poll fails once → the retry finds its own sync: one sync, remediated', async () => {
    await withIncident({}, async (h) => {
      h.env.argo.failNext({ method: 'GET', status: 500 });
      const final = await result(await startApproved(h));

      expect(final.outcome, final.error).toBe('remediated');
      expect(final.argoSync).toMatchObject({ operation: 'Succeeded', health: 'Healthy' });
      expect(h.env.argo.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('Argo CD answer to the sync lost → the sync it started is waited for: one sync, remediated', async () => {
    await withIncident({}, async (h) => {
      h.env.argo.failNext(dropAfterWrite({ method: 'POST', path: '/sync' }));
      const final = await result(await startApproved(h));

      expect(final.outcome, final.error).toBe('remediated');
      expect(final.argoSync).toMatchObject({ operation: 'Succeeded', health: 'Healthy' });
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('Argo CD 503 on the sync request → retried after a look: one sync, remediated', async () => {
    await withIncident({}, async (h) => {
      h.env.argo.failNext({ method: 'POST', path: '/sync', status: 503 });
      const final = await result(await startApproved(h));

      expect(final.outcome, final.error).toBe('remediated');
      expect(final.argoSync).toMatchObject({ operation: 'Succeeded', health: 'Healthy' });
      expect(h.env.argo.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('Argo CD sync that never finishes → bounded by syncTimeout, noted; nothing restarted → needs-human, no rollback offered', async () => {
    const slowSync = (r: RunbookConfig): RunbookConfig => ({
      ...fastRunbook(r),
      argo: { enabled: true, application: 'torghut', syncTimeout: '3 seconds' },
      timeouts: { ...fastRunbook(r).timeouts, verification: '4 seconds' },
    });
    await withIncident({ adjust: slowSync }, async (h) => {
      h.env.argo.stallOperations(true);
      const final = await result(await startApproved(h));

      expect(final.outcome).toBe('needs-human');
      expect(final.argoSync?.operation).toBe('Running (timed out)');
      const notes = final.notes.join('\n');
      expect(notes).toMatch(/Argo CD sync of torghut did not finish within 3 seconds \(operation Running, \w+\/\w+\)/);
      expect(notes).toMatch(/nothing restarted: the merged PR #1 is in Git but the Deployment never carried restartedAt=/);
      expect(final.rollback).toBeNull();
      // One sync requested; the activity waited for it instead of requesting another.
      expect(await actions(h, final)).toEqual({ ...ONE_OF_EACH, rollouts: 0 });
    });
  });

  it('Argo CD unreachable after the merge → needs-human: nothing restarted, no rollback offered', async () => {
    await withIncident({ adjust: (r) => ({ ...fastRunbook(r), timeouts: { ...fastRunbook(r).timeouts, verification: '4 seconds' } }) }, async (h) => {
      await h.env.argo.setUnreachable(true);
      const final = await result(await startApproved(h));

      expect(final.outcome).toBe('needs-human');
      const notes = final.notes.join('\n');
      expect(notes).toMatch(/Argo CD sync of torghut failed \(syncArgoApplication: Argo CD (POST|GET) \/api\/v1\/applications\/torghut(\/sync)?: unreachable: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(UpstreamError; attempt 3; retries exhausted\)\)/);
      expect(notes).toMatch(/nothing restarted: the merged PR #1 is in Git but the Deployment never carried restartedAt=\S+ within 4 seconds/);
      expect(notes).not.toMatch(/after the restart/);
      expect(final.verification).toMatchObject({ ok: false, restarted: false });
      expect(final.rollback).toBeNull();
      expect(final.restart?.happenedAt).toBeUndefined();
      expect(await actions(h, final)).toEqual({ ...ONE_OF_EACH, syncs: 0, rollouts: 0 });
    });
  });
});

/** The simulated API server's requests on paths matching `path`. */
const kubeRequests = (h: IncidentHarness, path: RegExp): RequestRecord[] => h.env.kube.requests.filter((r) => r.target === 'api' && path.test(r.path));

/** Diagnoses until the incident asks for approval; the state then. */
async function diagnosed(h: IncidentHarness): Promise<{ handle: WorkflowHandle; state: IncidentState }> {
  const handle = await h.start();
  return { handle, state: await waitForPhase(handle, ['awaiting-approval']) };
}

/** Approves the waiting incident and returns its final state. */
async function approveAndFinish(handle: WorkflowHandle): Promise<IncidentState> {
  await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice' }));
  return result(handle);
}

describe('Kubernetes API faults during the diagnosis', () => {
  const KUBE_TIMEOUT_MS = 1_500;
  const withKubeDeadline = { clients: { requestTimeoutMs: KUBE_TIMEOUT_MS } };

  it('Kubernetes API hangs on a log read → that read gives up at its deadline and is retried: diagnosis in seconds, no connection left open; remediated', async () => {
    await withIncident(withKubeDeadline, async (h) => {
      h.env.kube.failNext(apiHang('pods/log'));
      const { handle, state } = await diagnosed(h);

      expect(state.diagnosis?.degraded).toEqual([]);
      expect(state.classification?.class).toBe('alpaca_406_second_connection');
      const [hung, retried, ...more] = kubeRequests(h, /\/log$/);
      expect(more).toEqual([]);
      expect([hung?.fault, retried?.status]).toEqual(['hung', 200]);
      // Abandoned by the client at its deadline, not at the attempt's 30 s start-to-close timeout.
      // (The sim sees the request after the client's deadline started — by the connection's set-up,
      // hundreds of ms on a loaded machine — so the lower bound only says "not at once".)
      expect(hung!.abandonedAt! - hung!.at).toBeGreaterThanOrEqual(KUBE_TIMEOUT_MS / 2);
      expect(hung!.abandonedAt! - hung!.at).toBeLessThan(KUBE_TIMEOUT_MS + 3_000);
      // One hung call costs its deadline and a retry back-off, not the ~93 s of three attempt timeouts.
      expect(state.timings.diagnosing!.ms).toBeLessThan(15_000);
      expect(h.env.kube.inFlight()).toEqual([]);

      const final = await approveAndFinish(handle);
      expect(final.outcome, final.error).toBe('remediated');
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('Kubernetes API hangs on every log read → logs degraded, the reason naming the read, its deadline and the attempts; nothing left open; remediated on the readiness evidence', async () => {
    await withIncident(withKubeDeadline, async (h) => {
      h.env.kube.failNext(apiHang('pods/log', { times: 1000 }));
      const { handle, state } = await diagnosed(h);

      expect(state.diagnosis?.degraded).toEqual(['logs']);
      const logs = state.diagnosis!.logs;
      expect(logs.ok ? null : logs.error).toMatch(
        /^read log of pod t-\S+\/torghut-ws-\S+: no answer within 1500 ms \(request aborted\) \(UpstreamError; attempt 3; retries exhausted\)$/,
      );
      // One request per attempt, each abandoned by the client; the abandoned attempts sent nothing more.
      const hung = kubeRequests(h, /\/log$/);
      expect(hung.map((r) => r.fault)).toEqual(['hung', 'hung', 'hung']);
      expect(hung.every((r) => r.abandonedAt !== undefined)).toBe(true);
      expect(h.env.kube.inFlight()).toEqual([]);
      expect(state.timings.diagnosing!.ms).toBeLessThan(30_000);

      const final = await approveAndFinish(handle);
      expect(final.outcome, final.error).toBe('remediated');
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it.each([
    { fault: 'events 500 once', inject: () => apiError('events', 500), path: /\/events$/, statuses: [500, 200] },
    { fault: 'a log read 503 once', inject: () => apiError('pods/log', 503), path: /\/log$/, statuses: [503, 200] },
    { fault: 'the pod list dropped once', inject: () => apiDrop('pods', { method: 'GET' }), path: /\/pods$/, statuses: ['dropped'] },
  ])('Kubernetes API $fault → retried within the attempt policy: nothing degraded, no write', async ({ inject, path, statuses }) => {
    await withIncident({}, async (h) => {
      h.env.kube.failNext(inject());
      const { handle, state } = await diagnosed(h);

      expect(state.diagnosis?.degraded).toEqual([]);
      expect(state.classification?.class).toBe('alpaca_406_second_connection');
      const seen = kubeRequests(h, path).map((r) => r.fault ?? r.status);
      expect(seen.slice(0, statuses.length)).toEqual(statuses);
      expect(seen.slice(statuses.length).every((s) => s === 200)).toBe(true);
      expect(h.env.kube.writes()).toEqual([]);
      expect(h.env.github.pulls()).toEqual([]);
      await handle.terminate('test done');
    });
  });

  it('Kubernetes API 429 with Retry-After 2 s on the KafkaUser → waited out for the API server\'s 2 s, then read: nothing degraded', async () => {
    await withIncident({}, async (h) => {
      h.env.kube.failNext(apiTooManyRequests('kafkausers', 2));
      const { handle, state } = await diagnosed(h);

      expect(state.diagnosis?.degraded).toEqual([]);
      const reads = kubeRequests(h, /\/kafkausers\//);
      expect(reads.map((r) => r.status)).toEqual([429, 200]);
      expect(reads[1]!.at - reads[0]!.at).toBeGreaterThanOrEqual(2_000);
      await handle.terminate('test done');
    });
  });

  it('Kubernetes API 403 on events (RBAC tightened) → events degraded as not allowed, asked once and not retried; the incident goes on', async () => {
    await withIncident({}, async (h) => {
      h.env.kube.failNext(apiError('events', 403, { times: 1000 }));
      const { handle, state } = await diagnosed(h);

      expect(state.diagnosis?.degraded).toEqual(['events']);
      const events = state.diagnosis!.events;
      expect(events.ok ? null : events.error).toMatch(/^list events in t-\S+: not allowed \(403\): Forbidden: events is forbidden: .* \(NotAllowedError; attempt 1; not retryable\)$/);
      expect(kubeRequests(h, /\/events$/)).toHaveLength(1);
      expect(state.classification?.class).toBe('alpaca_406_second_connection');
      await handle.terminate('test done');
    });
  });

  it('Kubernetes API 500 on every Deployment read → deployment degraded after 3 attempts, needs-human: not restarting blind', async () => {
    await withIncident({}, async (h) => {
      h.env.kube.failNext(apiError('deployments', 500, { method: 'GET', times: 1000 }));
      const final = await result(await h.start());

      expect(final.outcome).toBe('needs-human');
      expect(final.diagnosis?.degraded).toContain('deployment');
      const deployment = final.diagnosis!.deployment;
      expect(deployment.ok ? null : deployment.error).toMatch(/^read deployment t-\S+\/torghut-ws: HTTP 500: InternalError: Internal error occurred: etcdserver: request timed out \(UpstreamError; attempt 3; retries exhausted\)$/);
      expect(final.notes.join('\n')).toMatch(/the Deployment could not be read/);
      expect(h.env.kube.writes()).toEqual([]);
      const { slackMessages, ...acted } = await actions(h, final);
      expect(acted).toEqual({ branches: 0, pulls: 0, restartCommits: 0, slackRepliesTwice: 0, merges: 0, syncs: 0, rollouts: 0 });
      expect(slackMessages).toBeLessThanOrEqual(1);
    });
  });
});

describe('Kubernetes API faults during the verification', () => {
  const verifyQuickly = (r: RunbookConfig): RunbookConfig => ({ ...withMergeWait(r), timeouts: { ...withMergeWait(r).timeouts, verification: '5 seconds' } });

  async function mergedWith(h: IncidentHarness, fault: () => void): Promise<IncidentState> {
    const handle = await startApproved(h);
    const waiting = await waitForPhase(handle, ['awaiting-merge']);
    fault();
    await h.env.github.mergePullRequest(waiting.pullRequest!.number);
    return result(handle);
  }

  it('Kubernetes API 500 on the Deployment once while verifying → the next look verifies: remediated', async () => {
    await withIncident({ adjust: withMergeWait }, async (h) => {
      const final = await mergedWith(h, () => h.env.kube.failNext(apiError('deployments', 500, { method: 'GET' })));

      expect(final.outcome, final.error).toBe('remediated');
      expect(kubeRequests(h, /\/deployments\//).some((r) => r.status === 500)).toBe(true);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('Kubernetes API hangs on the Deployment while verifying → that look gives up at its deadline, the next verifies: remediated, nothing left open', async () => {
    await withIncident({ adjust: withMergeWait, clients: { requestTimeoutMs: 1_500 } }, async (h) => {
      const final = await mergedWith(h, () => h.env.kube.failNext(apiHang('deployments', { method: 'GET' })));

      expect(final.outcome, final.error).toBe('remediated');
      expect(kubeRequests(h, /\/deployments\//).filter((r) => r.fault === 'hung')).toHaveLength(1);
      expect(h.env.kube.inFlight()).toEqual([]);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('Kubernetes API 403 on the Deployment after the merge (RBAC tightened) → needs-human: the rollout could not be checked, no rollback offered', async () => {
    await withIncident({ adjust: verifyQuickly }, async (h) => {
      const final = await mergedWith(h, () => h.env.kube.failNext(apiError('deployments', 403, { method: 'GET', times: 1000 })));

      expect(final.outcome).toBe('needs-human');
      expect(final.verification).toMatchObject({ ok: false, unchecked: ['rollout'] });
      expect(final.verification?.detail).toMatch(/could not check the rollout .*not allowed \(403\)/);
      expect(final.notes.join('\n')).toMatch(/could not verify the restart/);
      expect(final.rollback).toBeNull();
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });
});

describe('the readiness probe refused', () => {
  it('pods/proxy 403 after a restart that worked → remediated, the state says readiness could not be probed; no rollback offered', async () => {
    await withIncident({ adjust: withMergeWait }, async (h) => {
      const handle = await startApproved(h);
      const waiting = await waitForPhase(handle, ['awaiting-merge']);
      // Someone tightened the worker's RBAC (or a proxy refuses pods/proxy) after the pre-flight.
      h.env.kube.setFault('proxy', 403);
      await h.env.github.mergePullRequest(waiting.pullRequest!.number);
      const final = await result(handle);

      expect(final.outcome, final.error).toBe('remediated');
      expect(final.verification).toMatchObject({ ok: true, restarted: true, unchecked: [expect.stringMatching(/^readiness probe \/readyz \(.*not allowed \(403\)/)] });
      expect(final.verification?.detail).toMatch(/rollout complete and every pod Ready per the kubelet .*could not check readiness ourselves/);
      expect(final.notes.join('\n')).toMatch(/verification could not check: readiness probe \/readyz/);
      expect(final.rollback).toBeNull();
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });
});

describe('Slack faults', () => {
  it('Slack answer lost after the post → one message, updated in place to the outcome, its buttons gone', async () => {
    await withIncident({}, async (h) => {
      h.env.slack.failNext(dropAfterWrite(apiMethod('chat.postMessage')));
      const final = await result(await startApproved(h));

      expect(final.outcome, final.error).toBe('remediated');
      const [message, ...more] = h.env.slack.incidentMessages(final.workflowId, final.runId);
      expect(more).toEqual([]);
      expect(final.slack).toEqual({ channel: message!.channel, ts: message!.ts });
      expect(message!.history.length).toBeGreaterThan(0);
      expect((message!.blocks ?? []).filter((b) => (b as { type?: string }).type === 'actions')).toEqual([]);
      expect(final.notes.filter((n) => n.startsWith('Slack update failed'))).toEqual([]);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('Slack rate limited (Retry-After 1 s) → posted once after the wait, remediated', async () => {
    await withIncident({}, async (h) => {
      h.env.slack.failNext(ratelimited(1, apiMethod('chat.postMessage')));
      const final = await result(await startApproved(h));

      expect(final.outcome, final.error).toBe('remediated');
      // The refused post and the post after the wait; then one reply in its thread per step and the report's at close.
      const posts = h.env.slack.requests.filter((r) => r.path === '/api/chat.postMessage');
      const replies = h.env.slack.incidentReplies(final.workflowId, final.runId);
      expect(replies.map((r) => r.key)).toEqual(STEP_REPLIES_OF_A_REMEDIATION);
      expect(posts).toHaveLength(2 + replies.length);
      expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(1_000);
      expect(final.notes.filter((n) => n.startsWith('Slack update failed'))).toEqual([]);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it.each([
    { error: 'channel_not_found', type: 'NotFoundError' },
    { error: 'invalid_auth', type: 'NotAllowedError' },
  ])('Slack $error → remediated without Slack, the reason noted once', async ({ error, type }) => {
    await withIncident({}, async (h) => {
      h.env.slack.failNext(slackError(error, { path: '/api/', times: 1000 }));
      const final = await result(await startApproved(h));

      expect(final.outcome, final.error).toBe('remediated');
      const noted = final.notes.filter((n) => n.startsWith('Slack update failed'));
      expect(noted).toEqual([expect.stringContaining(`postIncidentMessage: Slack chat.postMessage: ${error}`)]);
      expect(noted[0]).toContain(`(${type}; attempt 1; not retryable)`);
      expect(await actions(h, final)).toEqual({ ...ONE_OF_EACH, slackMessages: 0 });
    });
  });

  it('Slack hangs on the post → the incident carries on after the client deadline, the message posted once', async () => {
    await withIncident({ clients: { requestTimeoutMs: 2_000 } }, async (h) => {
      h.env.slack.failNext(hang(apiMethod('chat.postMessage')));
      const final = await result(await startApproved(h));

      expect(final.outcome, final.error).toBe('remediated');
      // The hung post and the retry; then one reply in its thread per step and the report's at close.
      const replies = h.env.slack.incidentReplies(final.workflowId, final.runId);
      expect(replies.map((r) => r.key)).toEqual(STEP_REPLIES_OF_A_REMEDIATION);
      expect(h.env.slack.requests.filter((r) => r.path === '/api/chat.postMessage')).toHaveLength(2 + replies.length);
      expect(h.env.slack.messages.filter((m) => m.threadTs)).toHaveLength(replies.length);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });
});

describe('a worker lost in the middle of an action', () => {
  /** Runs the incident on a worker in a child process until `when` holds, crashes it, and lets the harness' worker take over. */
  async function crashWhen(h: IncidentHarness, when: () => boolean, arm: () => void) {
    // The child's clients wait long enough on a hung call that only the crash ends it.
    const child = await startChildWorker(h, { requestTimeoutMs: 60_000 });
    try {
      const handle = await h.start();
      await waitForPhase(handle, ['awaiting-approval']);
      arm();
      await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice' }));
      await expect.poll(when, { timeout: 30_000, interval: 50 }).toBe(true);
      await child.crash();
      return { handle };
    } catch (err) {
      await child.crash();
      throw err;
    }
  }

  it('worker killed while GitHub hangs on opening the PR → the next worker is opening it within 10 s: one PR, remediated', async () => {
    const h = await incidentHarness(ctx, { scenario: 'alpaca-406', adjust: fastRunbook });
    try {
      const hungPost = () => requestsTo(h, 'POST', /\/pulls$/).some((r) => r.fault === 'hung');
      const { handle } = await crashWhen(h, hungPost, () => h.env.github.failNext(hang({ method: 'POST', path: /\/pulls$/ })));
      const final = await h.run(async () => {
        const polling = Date.now();
        await expect.poll(() => h.env.github.requests.some((r) => r.at > polling), { timeout: 30_000, interval: 50 }).toBe(true);
        const firstRequest = h.env.github.requests.find((r) => r.at > polling)!.at;
        // The retry of the activity reached GitHub within 10 s of the new worker polling.
        expect(firstRequest - polling).toBeLessThan(10_000);
        const state = await result(handle);
        // And the incident moved on soon after: its next step did not wait out the dead worker's cache.
        expect(Date.parse(state.timings['opening-pr']!.endedAt!) - polling).toBeLessThan(15_000);
        return state;
      });

      expect(final.outcome, final.error).toBe('remediated');
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    } finally {
      await h.close();
    }
  });

  it('worker killed while it waits for the Argo CD sync → the next worker finds that sync, requests none: one sync, remediated', async () => {
    const h = await incidentHarness(ctx, { scenario: 'alpaca-406', adjust: fastRunbook });
    try {
      const polledAfterSync = () => {
        const post = h.env.argo.requests.findIndex((r) => r.method === 'POST');
        return post >= 0 && h.env.argo.requests.slice(post + 1).some((r) => r.method === 'GET');
      };
      // Armed once the sync was requested, so the hang meets a status poll of that sync (the GETs of
      // the ownership check and the look before the sync come first).
      let watcher: NodeJS.Timeout | undefined;
      const armOnSync = () => {
        watcher = setInterval(() => {
          if (!h.env.argo.requests.some((r) => r.method === 'POST')) return;
          clearInterval(watcher);
          h.env.argo.failNext(hang({ method: 'GET' }));
        }, 5);
      };
      const { handle } = await crashWhen(h, polledAfterSync, armOnSync).finally(() => clearInterval(watcher));
      const final = await h.run(async () => {
        const polling = Date.now();
        await expect.poll(() => h.env.argo.requests.some((r) => r.at > polling), { timeout: 30_000, interval: 50 }).toBe(true);
        const firstRequest = h.env.argo.requests.find((r) => r.at > polling)!;
        expect(firstRequest.at - polling).toBeLessThan(10_000);
        // The retry looks before it acts.
        expect(firstRequest.method).toBe('GET');
        const state = await result(handle);
        expect(Date.parse(state.timings.syncing!.endedAt!) - polling).toBeLessThan(15_000);
        return state;
      });

      expect(final.outcome, final.error).toBe('remediated');
      expect(h.env.argo.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    } finally {
      await h.close();
    }
  });
});
