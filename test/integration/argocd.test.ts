/**
 * The Argo CD sync activity called directly against the simulated Argo CD API (no Temporal needed):
 * an unpinned sync, the previous operation that must not be taken for ours, an automated sync already
 * running that is waited for, and the API's refusals mapped to named failures with redacted messages.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, createArgoActivities } from '../../activities/argocd';
import { startArgoSim, type ArgoSim, type ArgoSimOptions } from '../../sim/argocd';
import { failureOf } from '../support/failures';

const TOKEN = 'sim-argo-token-0123456789';
const APP = 'torghut';
const HEAD = '4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2';

let sim: ArgoSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** A simulated application whose desired state is one manifest at HEAD; every apply is recorded. */
function application() {
  const applied: Array<{ manifest: string; at: number }> = [];
  return {
    applied,
    spec: {
      name: APP,
      readDesired: () => Promise.resolve({ manifest: `kind: Deployment # at ${HEAD}\n`, revision: HEAD }),
      apply: (manifest: string) => void applied.push({ manifest, at: Date.now() }),
      health: () => 'Healthy' as const,
    },
  };
}

async function setup(options: Partial<Omit<ArgoSimOptions, 'applications'>> & { clientToken?: string } = {}) {
  const app = application();
  const { clientToken, ...simOptions } = options;
  sim = await startArgoSim({ token: TOKEN, applications: [app.spec], applyDelayMs: 50, ...simOptions });
  const argo = createArgoActivities({ baseUrl: sim.url, token: clientToken ?? TOKEN, pollIntervalMs: 20 });
  return { sim, argo, applied: app.applied };
}

describe('syncArgoApplication', () => {
  it('syncs the tracked head without pinning a revision and returns our finished operation', async () => {
    const { sim, argo, applied } = await setup();
    const requestedAt = Date.now();

    // The workflow still passes the merge SHA: it must not reach Argo CD.
    const result = await argo.syncArgoApplication({ application: APP, revision: 'a'.repeat(40), timeoutMs: 10_000 });

    expect(result).toMatchObject({ application: APP, status: 'Synced', health: 'Healthy', operation: 'Succeeded', revision: HEAD });
    expect(result.adopted).toBeUndefined();
    expect(Date.parse(result.operationStartedAt!)).toBeGreaterThanOrEqual(requestedAt - CLOCK_SKEW_MS);
    expect(sim.syncRequests).toEqual([{ application: APP, body: { name: APP, prune: false } }]);
    expect(sim.syncCount(APP)).toBe(1);
    expect(applied).toHaveLength(1);
    expect(sim.operationState(APP)).toMatchObject({ phase: 'Succeeded', syncResult: { revision: HEAD }, operation: { initiatedBy: { username: 'agentruns' } } });
  });

  it('the previous (finished, healthy) operation still shown after the POST is not taken for ours', async () => {
    const { sim, argo, applied } = await setup({ pickupDelayMs: 400 });
    const previous = sim.operationState(APP)!;
    expect(previous).toMatchObject({ phase: 'Succeeded' });
    expect(Date.parse(previous.startedAt)).toBeLessThan(Date.now() - 30 * 60_000);

    const result = await argo.syncArgoApplication({ application: APP, timeoutMs: 10_000 });

    // It returned only once the new operation had run: the manifest was applied before the answer.
    expect(applied).toHaveLength(1);
    expect(result).toMatchObject({ operation: 'Succeeded', health: 'Healthy', revision: HEAD });
    expect(result.operationStartedAt).not.toBe(previous.startedAt);
    // Several GETs saw the old Succeeded state while the controller had not picked the sync up yet.
    const earlyReads = sim.requests.filter((r) => r.method === 'GET' && r.at < applied[0]!.at);
    expect(earlyReads.length).toBeGreaterThan(2);
  });

  it('a previous operation within the clock-skew window is not ours either while our sync is still pending', async () => {
    const { argo, applied } = await setup({ pickupDelayMs: 400, previousSyncAgoMs: 1000 });
    const result = await argo.syncArgoApplication({ application: APP, timeoutMs: 10_000 });
    expect(applied).toHaveLength(1);
    expect(result).toMatchObject({ operation: 'Succeeded', health: 'Healthy' });
  });

  it('our sync not picked up before the timeout → "Pending (timed out)", never the old operation\'s Succeeded', async () => {
    const { argo, applied } = await setup({ pickupDelayMs: 800 });
    const result = await argo.syncArgoApplication({ application: APP, timeoutMs: 200 });
    expect(result.operation).toBe('Pending (timed out)');
    expect(result.operationStartedAt).toBeUndefined();
    expect(applied).toHaveLength(0);
  });

  it('an automated sync already in progress (400 FailedPrecondition) is waited for and accepted, not failed', async () => {
    let offsetMs = 0;
    const { sim, argo, applied } = await setup({ applyDelayMs: 400, now: () => new Date(Date.now() + offsetMs) });
    // Argo CD's automated sync noticed the merge a minute ago (by its clock) and is still running.
    offsetMs = -60_000;
    sim.autoSync(APP);
    offsetMs = 0;
    const autoStartedAt = sim.operationState(APP)!.startedAt;
    const requestedAt = Date.now();

    const result = await argo.syncArgoApplication({ application: APP, timeoutMs: 10_000 });

    expect(result).toMatchObject({ operation: 'Succeeded', health: 'Healthy', status: 'Synced', revision: HEAD, adopted: true, operationStartedAt: autoStartedAt });
    expect(Date.parse(autoStartedAt)).toBeLessThan(requestedAt - CLOCK_SKEW_MS);
    expect(applied).toHaveLength(1);
    // Our POST was refused (nothing recorded as a sync we started) and no second operation ran.
    expect(sim.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(sim.syncRequests).toEqual([]);
    expect(sim.syncCount(APP)).toBe(0);
    expect(sim.operationState(APP)).toMatchObject({ operation: { initiatedBy: { automated: true } }, phase: 'Succeeded' });
  });

  it('the sim refuses a second sync while one is in progress, the way Argo CD does', async () => {
    const { sim } = await setup({ applyDelayMs: 300 });
    sim.autoSync(APP);
    const res = await fetch(`${sim.url}/api/v1/applications/${APP}/sync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: APP }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'another operation is already in progress', code: 9, message: 'another operation is already in progress' });
  });
});

describe('Argo CD refusals become named failures', () => {
  it('a wrong token → 401 → non-retryable NotAllowedError, the token not in the message', async () => {
    const { sim, argo } = await setup({ clientToken: 'wrong-argo-token-9876543210' });
    const failure = await failureOf(argo.syncArgoApplication({ application: APP, timeoutMs: 1000 }));
    expect(failure.type).toBe('NotAllowedError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('401');
    expect(failure.message).toContain('no session information');
    expect(failure.message).not.toContain('wrong-argo-token');
    expect(sim.syncCount(APP)).toBe(0);
  });

  it('an unknown application → 404 → non-retryable NotFoundError', async () => {
    const { argo } = await setup();
    const failure = await failureOf(argo.syncArgoApplication({ application: 'no-such-app', timeoutMs: 1000 }));
    expect(failure.type).toBe('NotFoundError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('applications.argoproj.io "no-such-app" not found');
  });

  it('a token in an error body is redacted before it appears in the message (POST JSON body, GET text body)', async () => {
    const { sim, argo } = await setup();
    const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZ2VudHJ1bnMiLCJpYXQiOjE3MDB9.c2lnbmF0dXJlMTIzNDU2Nzg5MA';
    const message = `rpc error: upstream rejected request with Bearer ${jwt}`;
    sim.failNext({ method: 'POST', path: '/sync', status: 500, body: { error: message, code: 13, message } });
    const post = await failureOf(argo.syncArgoApplication({ application: APP, timeoutMs: 1000 }));
    expect(post.type).toBe('UpstreamError');
    expect(post.nonRetryable).toBe(false);
    expect(post.message).toContain('upstream rejected request with Bearer [REDACTED]');
    expect(post.message).not.toContain(jwt);
    expect(post.message).not.toContain('eyJ');

    const opaque = 'abc123def.ghi456jkl.mno789pqr';
    sim.failNext({ method: 'GET', status: 502, body: `<html>bad gateway; Authorization: Bearer ${opaque}; retry with Bearer ${opaque}</html>` });
    const get = await failureOf(argo.syncArgoApplication({ application: APP, timeoutMs: 1000 }));
    expect(get.type).toBe('UpstreamError');
    expect(get.message).toContain('[REDACTED]');
    expect(get.message).not.toContain(opaque);
    expect(JSON.stringify(get.cause?.message ?? '')).not.toContain(opaque);
  });

  it('no Argo CD configuration on the worker → NotAllowedError', async () => {
    const failure = await failureOf(createArgoActivities(undefined).syncArgoApplication({ application: APP, timeoutMs: 1000 }));
    expect(failure.type).toBe('NotAllowedError');
  });
});
