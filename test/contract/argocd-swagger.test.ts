/**
 * The simulated Argo CD held to Argo CD's own API description (assets/swagger.json of the Argo CD
 * repository, 3.6 development line: test/fixtures/contracts/argocd-swagger.json). The production
 * sync activity runs against the simulator, and every answer it reads — the Application after the
 * POST …/sync and on each poll (`v1alpha1Application`), and the gRPC gateway errors
 * (`runtimeError`, Argo CD's documented `default` answer) — is validated strictly: a field the
 * description lacks, or a value of the wrong type, fails. The sync request the activity sends is
 * checked against `applicationApplicationSyncRequest` too. The product calls no other Argo CD
 * operation (not the resource tree), so no other is simulated.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createArgoActivities } from '../../activities/argocd';
import { startArgoSim, type ArgoSim, type ArgoSimOptions } from '../../sim/argocd';
import { ApiContract } from '../support/api-contract';

const SWAGGER = 'test/fixtures/contracts/argocd-swagger.json';
const TOKEN = 'sim-argo-token-for-contracts';
const APP = 'torghut';
const HEAD = '4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2';
const GET_APP = '/api/v1/applications/{name}';
const SYNC = '/api/v1/applications/{name}/sync';

interface Exchange {
  method: string;
  template: string;
  status: number;
  body: unknown;
  request?: unknown;
}

let contract: ApiContract;
let sim: ArgoSim | undefined;

beforeAll(() => {
  contract = ApiContract.fromFile('Argo CD swagger', SWAGGER, (c) => c.ref('runtimeError'));
});

afterEach(async () => {
  vi.restoreAllMocks();
  await sim?.close();
  sim = undefined;
});

/** The operation of Argo CD's description a request path belongs to. */
function templateOf(path: string): string {
  if (/^\/api\/v1\/applications\/[^/]+\/sync$/.test(path)) return SYNC;
  if (/^\/api\/v1\/applications\/[^/]+$/.test(path)) return GET_APP;
  return path;
}

/** Every answer a `fetch` to the simulator receives (the activity uses the global fetch). */
function recordFetch(): Exchange[] {
  const exchanges: Exchange[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const response = await realFetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    const text = await response.clone().text();
    const parse = (raw: string): unknown => {
      try {
        return JSON.parse(raw);
      } catch {
        return raw;
      }
    };
    exchanges.push({
      method: (init?.method ?? 'GET').toUpperCase(),
      template: templateOf(url.pathname),
      status: response.status,
      body: parse(text),
      ...(typeof init?.body === 'string' ? { request: parse(init.body) } : {}),
    });
    return response;
  });
  return exchanges;
}

async function setup(options: Partial<Omit<ArgoSimOptions, 'applications'>> = {}) {
  sim = await startArgoSim({
    token: TOKEN,
    applyDelayMs: 40,
    ...options,
    applications: [
      {
        name: APP,
        source: { repoURL: 'https://github.com/proompteng/lab.git', path: 'argocd/applications/torghut/ws', targetRevision: 'main', directory: { recurse: true } },
        destinationNamespace: 'torghut',
        readDesired: () => Promise.resolve({ manifest: 'kind: Deployment\n', revision: HEAD }),
        apply: () => undefined,
        health: () => 'Healthy',
      },
    ],
  });
  const exchanges = recordFetch();
  const argo = createArgoActivities({ baseUrl: sim.url, token: TOKEN, pollIntervalMs: 15 });
  return { sim, argo, exchanges };
}

const violations = (exchanges: Exchange[]) =>
  exchanges
    .map((e) => contract.checkResponse(e.method, e.template, e.status, e.body))
    .filter((c) => c.errors.length > 0)
    .map((c) => `${c.operation} [${c.against}]: ${c.errors.join('; ')}`);

const raw = (path: string, init: RequestInit = {}) =>
  fetch(`${sim!.url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers } });

describe('simulated Argo CD answers the product consumes conform to Argo CD\'s API description', () => {
  it('a sync picked up late: the POST answer and every poll (previous operation, requested, running, finished) are valid Applications', async () => {
    const { argo, exchanges } = await setup({ pickupDelayMs: 60 });
    const result = await argo.syncArgoApplication({ application: APP, timeoutMs: 10_000 });
    expect(result).toMatchObject({ operation: 'Succeeded', health: 'Healthy', status: 'Synced' });

    expect(exchanges[0]).toMatchObject({ method: 'POST', template: SYNC, status: 200 });
    expect(exchanges.slice(1).every((e) => e.method === 'GET' && e.template === GET_APP && e.status === 200)).toBe(true);
    // The answers went through the states the activity must tell apart.
    const states = exchanges.map((e) => {
      const app = e.body as { operation?: unknown; status?: { operationState?: { phase?: string } } };
      return `${app.operation ? 'requested' : 'idle'}/${app.status?.operationState?.phase ?? 'none'}`;
    });
    expect(states).toContain('requested/Succeeded'); // the previous operation, ours still pending
    expect(states).toContain('requested/Running');
    expect(states.at(-1)).toBe('idle/Succeeded');
    expect(violations(exchanges)).toEqual([]);

    // The request the activity sends is one Argo CD documents.
    const sent = contract.checkRequest('POST', SYNC, exchanges[0]!.request);
    expect(sent).toMatchObject({ documented: true, errors: [] });
  });

  it('an application that never synced, and one after an automated sync, are valid Applications too', async () => {
    const { sim, exchanges } = await setup({ previousSyncAgoMs: null });
    await raw(`/api/v1/applications/${APP}`);
    sim.autoSync(APP);
    await raw(`/api/v1/applications/${APP}`);
    await sim.settled();
    await raw(`/api/v1/applications/${APP}`);
    expect(exchanges.map((e) => e.status)).toEqual([200, 200, 200]);
    expect(violations(exchanges)).toEqual([]);
  });

  it('errors are gRPC gateway runtimeErrors: no token (401), unknown application (404), another operation in progress (400), malformed body (400), an injected 500', async () => {
    const { sim, exchanges } = await setup({ pickupDelayMs: 200 });
    await raw(`/api/v1/applications/${APP}`, { headers: { authorization: '' } });
    await raw('/api/v1/applications/no-such-app');
    await raw(`/api/v1/applications/${APP}/sync`, { method: 'POST', body: '{}' });
    await raw(`/api/v1/applications/${APP}/sync`, { method: 'POST', body: '{}' });
    await raw(`/api/v1/applications/${APP}/sync`, { method: 'POST', body: '{not json' });
    sim.failNext({ method: 'GET', status: 500 });
    await raw(`/api/v1/applications/${APP}`);

    expect(exchanges.map((e) => e.status)).toEqual([401, 404, 200, 400, 400, 500]);
    expect(exchanges[3]!.body).toEqual({ error: 'another operation is already in progress', code: 9, message: 'another operation is already in progress' });
    // Argo CD documents its errors as the `default` answer of each operation.
    const checks = exchanges.map((e) => contract.checkResponse(e.method, e.template, e.status, e.body));
    expect(checks.filter((c) => c.against.endsWith(' default')).length).toBe(5);
    expect(violations(exchanges)).toEqual([]);
  });

  it('the ownership check reads the application\'s sources from a valid Application (spec.source, and spec.sources of a multi-source one)', async () => {
    const { argo, exchanges } = await setup();
    expect(await argo.getArgoApplicationSources(APP)).toEqual([
      { repoURL: 'https://github.com/proompteng/lab.git', path: 'argocd/applications/torghut/ws', targetRevision: 'main', directoryRecurse: true },
    ]);
    expect(exchanges.map((e) => [e.method, e.template, e.status])).toEqual([['GET', GET_APP, 200]]);
    const app = exchanges[0]!.body as Record<string, unknown> & { spec: Record<string, unknown> };
    expect(violations(exchanges)).toEqual([]);
    const { source, ...rest } = app.spec;
    const multi = { ...app, spec: { ...rest, sources: [source, { repoURL: 'https://charts.example.com', chart: 'kafka', targetRevision: '1.2.3' }] } };
    expect(contract.checkResponse('GET', GET_APP, 200, multi).errors).toEqual([]);
    expect(contract.checkResponse('GET', GET_APP, 200, { ...app, spec: { ...app.spec, source: { repoURL: 1 } } }).errors.join()).toMatch(/repoURL: must be string/);
  });

  it('the check fails an Application with a field Argo CD does not send, or a value of the wrong type', async () => {
    const { exchanges } = await setup();
    await raw(`/api/v1/applications/${APP}`);
    const app = exchanges[0]!.body as Record<string, unknown> & { status: Record<string, unknown> };
    expect(contract.checkResponse('GET', GET_APP, 200, app).errors).toEqual([]);
    expect(contract.checkResponse('GET', GET_APP, 200, { ...app, kind: 'Application' }).errors).toEqual(['(body): field "kind" is not in the description']);
    expect(contract.checkResponse('GET', GET_APP, 200, { ...app, status: { ...app.status, health: 'Healthy' } }).errors.join()).toMatch(/\/status\/health: must be object/);
    expect(contract.checkResponse('GET', GET_APP, 404, { error: 'x', code: '5', message: 'x' }).errors.join()).toMatch(/\/code: must be integer/);
  });
});
