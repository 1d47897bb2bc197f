/**
 * The ingress against the REAL Temporal dev server of the run (test/support/temporal-global-setup.ts)
 * and the simulated Slack. No worker runs: a started incident stays pending on its own task queue,
 * which is enough to see what the ingress did — how many workflows exist, and which signals their
 * histories hold. Every test has its own runbook id (so its own workflow ID) and task queue, and
 * terminates what it started.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, WorkflowNotFoundError } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSlackActivities, createSlackClient } from '../../activities/slack';
import { DecisionRefusedError } from '../../control/incidents';
import type { DecisionInput, DecisionRecord } from '../../domain/decision';
import { verifyDecisionProof } from '../../domain/decision-proof';
import { incidentWorkflowId, openingState, type IncidentState } from '../../domain/incident';
import { parseRunbookConfig, type RunbookConfig } from '../../domain/runbook-config';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID } from '../../domain/slack-message';
import { createLogger } from '../../ingress/logger';
import { countIncidentsInTemporal, createMetrics, type IngressMetrics } from '../../ingress/metrics';
import { createIngress, type Ingress } from '../../ingress/server';
import type { DecideFn, SlackNotifier } from '../../ingress/slack-interactions';
import { blockActionsPayload, buttonValue, signedInteraction, startSlackSim, type SlackSim } from '../../sim/slack';

const ALERTMANAGER_TOKEN = 'am-webhook-token-0123456789abcdef';
const SIGNING_SECRET = 'slack-signing-secret-for-ingress-tests';
const DECISION_KEY = 'decision-key-shared-by-ingress-and-worker-000';
const BOT_TOKEN = 'xoxb-1111-2222-ingresstestbottoken';
const ALICE = 'U0ALICE01';
const STRANGER = 'U0STRANGER9';

let connection: Connection;
let client: Client;
let slackSim: SlackSim;
const ingresses: Ingress[] = [];
const workflowIds = new Set<string>();

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: inject('temporalNamespace') });
  slackSim = await startSlackSim({ token: BOT_TOKEN });
});

afterEach(async () => {
  await Promise.all(ingresses.splice(0).map((i) => i.stop()));
  for (const id of workflowIds) {
    await client.workflow
      .getHandle(id)
      .terminate('ingress test cleanup')
      .catch(() => undefined);
  }
  workflowIds.clear();
});

afterAll(async () => {
  await slackSim?.close();
  await connection?.close();
});

// ---- fixtures -------------------------------------------------------------------------------------

/** A runbook of its own Deployment (incident IDs derive from the target), routed by the torghut alert. */
function makeRunbook(): RunbookConfig {
  const id = `ing-${randomUUID().slice(0, 8)}`;
  return parseRunbookConfig({
    id,
    target: {
      namespace: 'torghut',
      deployment: id,
      container: 'torghut-ws',
      podSelector: 'app=torghut-ws',
      health: { port: 8080, livenessPath: '/healthz', readinessPath: '/readyz' },
    },
    gitops: { owner: 'proompteng', repo: 'lab', deploymentPath: 'argocd/applications/torghut/ws/deployment.yaml' },
    approvers: [{ id: 'oncall-alice', slackUserId: ALICE }, { id: 'oncall-bob' }],
    alerts: [{ labels: { alertname: 'TorghutWsNotReady', namespace: 'torghut' } }],
    slack: { channel: '#torghut-oncall' },
  });
}

const workflowIdOf = (runbook: RunbookConfig) => {
  const id = incidentWorkflowId(runbook.target);
  workflowIds.add(id);
  return id;
};

function alert(status: 'firing' | 'resolved', labels: Record<string, string> = {}, fingerprint = 'f1a2b3c4d5e6') {
  return {
    status,
    labels: { alertname: 'TorghutWsNotReady', namespace: 'torghut', severity: 'page', ...labels },
    annotations: { summary: 'torghut-ws /readyz 503 for 5 minutes' },
    startsAt: '2026-03-01T10:15:30.123456789Z',
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-03-01T10:45:30Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=probe_success',
    fingerprint,
  };
}

function webhook(alerts: ReturnType<typeof alert>[], status: 'firing' | 'resolved' = 'firing') {
  return {
    receiver: 'agentruns',
    status,
    alerts,
    groupLabels: { alertname: 'TorghutWsNotReady' },
    commonLabels: { alertname: 'TorghutWsNotReady', namespace: 'torghut' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}:{alertname="TorghutWsNotReady"}',
    truncatedAlerts: 0,
  };
}

interface Started {
  url: string;
  ingress: Ingress;
  metrics: IngressMetrics;
  logs: string[];
  taskQueue: string;
  post: (body: unknown, init?: { headers?: Record<string, string>; raw?: string; path?: string; method?: string }) => Promise<Response>;
  click: (payload: unknown, timestampSeconds?: number) => Promise<Response>;
}

async function startIngress(options: {
  runbooks: RunbookConfig[];
  client?: Client;
  decide?: DecideFn;
  slack?: SlackNotifier;
  signingSecret?: string | null;
  limit?: number;
  temporalTimeoutMs?: number;
  countIncidents?: boolean;
}): Promise<Started> {
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', stream: { write: (line: string) => logs.push(line) > 0 } });
  const metrics = createMetrics({
    processMetrics: false,
    countIncidents: options.countIncidents ? countIncidentsInTemporal(options.client ?? client) : undefined,
  });
  const taskQueue = `ingress-${randomUUID().slice(0, 8)}`;
  const ingress = createIngress({
    client: options.client ?? client,
    taskQueue,
    runbooks: options.runbooks,
    settings: {
      ALERTMANAGER_TOKEN,
      SLACK_SIGNING_SECRET: options.signingSecret === null ? undefined : (options.signingSecret ?? SIGNING_SECRET),
      AGENTRUNS_DECISION_KEY: DECISION_KEY,
      INGRESS_BODY_LIMIT_BYTES: options.limit ?? 64 * 1024,
    },
    logger,
    metrics,
    slack: options.slack,
    decide: options.decide,
    temporalTimeoutMs: options.temporalTimeoutMs,
    readinessTimeoutMs: 1_000,
  });
  const url = await ingress.start({ port: 0, host: '127.0.0.1' });
  ingresses.push(ingress);
  return {
    url,
    ingress,
    metrics,
    logs,
    taskQueue,
    post: (body, init = {}) =>
      fetch(`${url}${init.path ?? '/alertmanager'}`, {
        method: init.method ?? 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERTMANAGER_TOKEN}`, ...init.headers },
        body: init.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
      }),
    click: (payload, timestampSeconds) => {
      const signed = signedInteraction({ signingSecret: SIGNING_SECRET, payload, timestampSeconds });
      return fetch(`${url}/slack/interactions`, { method: 'POST', headers: signed.headers, body: signed.body });
    },
  };
}

type CounterName =
  | 'alertsReceived'
  | 'incidentsStarted'
  | 'incidentsAttached'
  | 'alertsResolved'
  | 'alertsIgnored'
  | 'alertsInvalid'
  | 'alertsRejected'
  | 'slackRejected'
  | 'approvals';

async function counter(metrics: IngressMetrics, name: CounterName, labels: Record<string, string>): Promise<number> {
  const { values } = (await metrics[name].get()) as { values: { labels: Record<string, string | number | undefined>; value: number }[] };
  return values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)).reduce((n, v) => n + v.value, 0);
}

async function expectNotStarted(workflowId: string): Promise<void> {
  await expect(client.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
}

/** The signals in the workflow's history, in order, with their decoded first argument. */
async function signals(workflowId: string): Promise<{ name: string; arg: Record<string, unknown> }[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((a): a is NonNullable<typeof a> => !!a)
    .map((a) => ({
      name: a.signalName ?? '',
      arg: defaultPayloadConverter.fromPayload(a.input!.payloads![0]!),
    }));
}

/** How many deliveries the signals stand for (a coalesced signal carries its `repeats`). */
function deliveriesIn(sent: Array<{ arg: Record<string, unknown> }>): number {
  return sent.reduce((n, s) => n + (typeof s.arg.repeats === 'number' ? s.arg.repeats : 1), 0);
}

/** Polls `probe` until it returns a value (10 s at most). */
async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function executionsOf(workflowId: string, expected: number): Promise<number> {
  // Visibility is eventually consistent: wait until it has caught up with `expected`, then count.
  const deadline = Date.now() + 10_000;
  for (;;) {
    let n = 0;
    for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) n++;
    if (n >= expected || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A TCP proxy to `target` ("host:port"); close() stops it and cuts the connections it carries. */
async function startTcpProxy(target: string): Promise<{ address: string; close: () => Promise<void> }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closed: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      })),
  };
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

// ---- Alertmanager webhook ---------------------------------------------------------------------------

describe('Alertmanager webhook: bad requests are refused in a fixed order and start nothing', () => {
  const cases: {
    name: string;
    status: number;
    reason: string;
    init: (body: string) => { headers?: Record<string, string>; raw?: string; path?: string; method?: string };
    error: RegExp;
  }[] = [
    { name: 'wrong path → 404', status: 404, reason: 'not_found', init: (raw) => ({ raw, path: '/alertmanagr' }), error: /^no such endpoint: \/alertmanagr$/ },
    { name: 'GET instead of POST → 405 with Allow', status: 405, reason: 'method_not_allowed', init: () => ({ method: 'GET' }), error: /^method GET not allowed on \/alertmanager; use POST$/ },
    { name: 'text/plain → 415', status: 415, reason: 'unsupported_media_type', init: (raw) => ({ raw, headers: { 'content-type': 'text/plain' } }), error: /content type must be application\/json \(got "text\/plain"\)/ },
    { name: 'no bearer token → 401', status: 401, reason: 'unauthenticated', init: (raw) => ({ raw, headers: { authorization: '' } }), error: /^missing bearer token/ },
    { name: 'Basic instead of Bearer → 401', status: 401, reason: 'unauthenticated', init: (raw) => ({ raw, headers: { authorization: 'Basic YWxlcnQ6bWFuYWdlcg==' } }), error: /^missing bearer token/ },
    { name: 'wrong token → 403', status: 403, reason: 'forbidden', init: (raw) => ({ raw, headers: { authorization: 'Bearer not-the-token' } }), error: /^the bearer token is not valid/ },
    { name: 'token with a different length → 403', status: 403, reason: 'forbidden', init: (raw) => ({ raw, headers: { authorization: `Bearer ${ALERTMANAGER_TOKEN}x` } }), error: /^the bearer token is not valid/ },
    { name: 'body over INGRESS_BODY_LIMIT_BYTES → 413', status: 413, reason: 'too_large', init: (raw) => ({ raw: raw + ' '.repeat(5_000) }), error: /^request body exceeds the limit of 4096 bytes$/ },
    { name: 'bad JSON → 400 naming the parse problem', status: 400, reason: 'bad_json', init: (raw) => ({ raw: raw.slice(0, -1) }), error: /^request body is not valid JSON: .*(JSON|end)/i },
    { name: 'not an Alertmanager envelope (version 3) → 422 naming the field', status: 422, reason: 'invalid_payload', init: (raw) => ({ raw: raw.replace('"version":"4"', '"version":"3"') }), error: /^not an Alertmanager webhook payload \(version 4\): version: / },
    { name: 'alerts not an array → 422', status: 422, reason: 'invalid_payload', init: (raw) => ({ raw: raw.replace('"alerts":[', '"alerts":{"0":[').replace('],"groupLabels"', ']},"groupLabels"') }), error: /^not an Alertmanager webhook payload \(version 4\): alerts: / },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const runbook = makeRunbook();
      const { post, metrics } = await startIngress({ runbooks: [runbook], limit: 4096 });
      const raw = JSON.stringify(webhook([alert('firing')]));
      const res = await post(undefined, c.init(raw));
      expect(res.status).toBe(c.status);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await res.json()) as { error: string };
      expect(body.error).toMatch(c.error);
      if (c.status === 405) expect(res.headers.get('allow')).toBe('POST');
      if (c.status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await counter(metrics, 'alertsRejected', { reason: c.reason })).toBe(1);
      expect(await counter(metrics, 'alertsReceived', {})).toBe(0);
      await expectNotStarted(workflowIdOf(runbook));
    });
  }

  it('a body growing past the limit without Content-Length is cut off with 413', async () => {
    const runbook = makeRunbook();
    const { url } = await startIngress({ runbooks: [runbook], limit: 4096 });
    const chunk = new TextEncoder().encode(' '.repeat(64 * 1024));
    const chunks = 1024; // 64 MiB offered: far more than socket buffers hold
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < chunks) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${url}/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERTMANAGER_TOKEN}` },
      body: stream,
      duplex: 'half',
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'request body exceeds the limit of 4096 bytes' });
    // The server stopped reading at the limit: the client could not push the whole body.
    expect(sent).toBeLessThan(chunks);
    await expectNotStarted(workflowIdOf(runbook));
  });

  it('checks run in order: a wrong method beats a wrong content type, content type beats auth, auth beats size and JSON', async () => {
    const runbook = makeRunbook();
    const { post } = await startIngress({ runbooks: [runbook], limit: 4096 });
    const noAuth = { authorization: '' };
    expect((await post(undefined, { method: 'PUT', raw: 'x', headers: { 'content-type': 'text/plain', ...noAuth } })).status).toBe(405);
    expect((await post(undefined, { raw: 'x', headers: { 'content-type': 'text/plain', ...noAuth } })).status).toBe(415);
    expect((await post(undefined, { raw: ' '.repeat(10_000), headers: noAuth })).status).toBe(401);
    expect((await post(undefined, { raw: '{', headers: { authorization: 'Bearer wrong' } })).status).toBe(403);
    expect((await post(undefined, { raw: `{${' '.repeat(10_000)}` })).status).toBe(413);
    expect((await post(undefined, { raw: '{"version": "4"' })).status).toBe(400);
    await expectNotStarted(workflowIdOf(runbook));
  });

  it('the token is never written to the logs, even when a wrong one is sent', async () => {
    const { post, logs } = await startIngress({ runbooks: [makeRunbook()] });
    await post(webhook([alert('firing')]), { headers: { authorization: 'Bearer wrong-token-ABCdef123456' } });
    await post(undefined, { raw: '{"token": "body-secret-ABCdef123456"', headers: {} });
    const text = logs.join('');
    expect(logs.length).toBeGreaterThan(0);
    expect(text).not.toContain(ALERTMANAGER_TOKEN);
    expect(text).not.toContain('wrong-token-ABCdef123456');
    expect(text).not.toContain('body-secret-ABCdef123456');
    for (const line of logs) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});

describe('structured logs', () => {
  it('mask secret-named fields whole and redact secrets inside any string; one JSON object per line', () => {
    const lines: string[] = [];
    const logger = createLogger({ stream: { write: (line: string) => lines.push(line) > 0 }, base: { service: 'agentruns-ingress' } });
    logger.child({ requestId: 'r1' }).warn('refused Authorization: Bearer abcdEFGH12345678', {
      authorization: 'Bearer abcdEFGH12345678',
      headers: { 'x-slack-signature': 'v0=deadbeef', cookie: 'session=1' },
      detail: 'slack token xoxb-1111-2222-abcdefghijkl in a message',
      err: new Error('password=hunter2 rejected'),
      level: 'not-a-level',
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({
      level: 'warn',
      msg: 'refused Authorization: Bearer [REDACTED]',
      service: 'agentruns-ingress',
      requestId: 'r1',
      authorization: '[REDACTED]',
      headers: { 'x-slack-signature': '[REDACTED]', cookie: '[REDACTED]' },
      detail: 'slack token [REDACTED] in a message',
      err: { name: 'Error', message: 'password=[REDACTED] rejected' },
    });
    expect(lines[0]).not.toMatch(/abcdEFGH12345678|deadbeef|hunter2|abcdefghijkl/);
  });
});

describe('Alertmanager webhook: alerts become incidents', () => {
  it('a firing TorghutWsNotReady starts the incident with the alert as its first alertFired signal → 202', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { post, metrics, taskQueue } = await startIngress({ runbooks: [runbook] });
    const res = await post(webhook([alert('firing')]));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      incidents: [{ workflowId, runbook: runbook.id, attached: false, alerts: 1, fingerprints: ['f1a2b3c4d5e6'] }],
      ignored: [],
      resolved: [],
      invalid: [],
    });
    const description = await client.workflow.getHandle(workflowId).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.type).toBe('incidentWorkflow');
    expect(description.taskQueue).toBe(taskQueue);
    const got = await signals(workflowId);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ name: 'alertFired', arg: { alertname: 'TorghutWsNotReady', fingerprint: 'f1a2b3c4d5e6' } });
    expect(await counter(metrics, 'incidentsStarted', { runbook: runbook.id })).toBe(1);
  });

  it('Alertmanager re-sending the same group gives ONE incident: later posts attach to it', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { post, metrics } = await startIngress({ runbooks: [runbook] });
    const body = webhook([alert('firing')]);
    const first = (await (await post(body)).json()) as { incidents: { attached: boolean }[] };
    const second = (await (await post(body)).json()) as { incidents: { attached: boolean }[] };
    const third = (await (await post(body)).json()) as { incidents: { attached: boolean }[] };
    expect([first, second, third].map((b) => b.incidents[0]!.attached)).toEqual([false, true, true]);
    expect(await executionsOf(workflowId, 1)).toBe(1);
    // Re-sent moments after its delivery, the alert is answered at once and counted on the next call.
    expect([second, third].every((b) => (b.incidents[0] as { deferred?: boolean }).deferred === true)).toBe(true);
    const sent = await eventually(async () => {
      const got = await signals(workflowId);
      return deliveriesIn(got) === 3 ? got : undefined;
    });
    expect(sent.every((s) => s.name === 'alertFired')).toBe(true);
    expect(await counter(metrics, 'incidentsStarted', {})).toBe(1);
    expect(await counter(metrics, 'incidentsAttached', {})).toBe(2);
  });

  it('concurrent re-sends still give one incident (signal-with-start is atomic)', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { post } = await startIngress({ runbooks: [runbook] });
    const answers = await Promise.all(Array.from({ length: 4 }, () => post(webhook([alert('firing')]))));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);
    expect(await executionsOf(workflowId, 1)).toBe(1);
    // The ingress coalesces the target's calls (ingress/coalesce.ts): the re-sends that arrived while
    // the first call was in flight ride on one signal that says how many deliveries it stands for.
    const sent = await signals(workflowId);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.length).toBeLessThan(4);
    expect(sent.reduce((n, s) => n + (typeof s.arg.repeats === 'number' ? s.arg.repeats : 1), 0)).toBe(4);
  });

  it('concurrent alerts of one target with different fingerprints ride on one call: an alertsFired signal listing each with its repeats, every post counted', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { post } = await startIngress({ runbooks: [runbook] });
    const fingerprints = ['aaaa0001', 'bbbb0002', 'cccc0003'];
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => post(webhook([alert('firing', {}, fingerprints[i % 3])]))));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(202));
    expect(await executionsOf(workflowId, 1)).toBe(1);
    const sent = await signals(workflowId);
    // Fewer calls than posts, at most one in flight per target.
    expect(sent.length).toBeLessThan(12);
    const carried = sent.flatMap((s) => (s.name === 'alertsFired' ? (s.arg as unknown as Array<Record<string, unknown>>) : [s.arg]));
    expect(sent.some((s) => s.name === 'alertsFired')).toBe(true);
    expect(carried.reduce((n, a) => n + (typeof a.repeats === 'number' ? a.repeats : 1), 0)).toBe(12);
    expect(new Set(carried.map((a) => a.fingerprint))).toEqual(new Set(fingerprints));
  });

  it('an alert no runbook matches is acknowledged (202) and ignored with the reason; nothing starts', async () => {
    const runbook = makeRunbook();
    const { post, metrics } = await startIngress({ runbooks: [runbook] });
    const res = await post(webhook([alert('firing', { namespace: 'staging' }, 'feedbeef')]));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      incidents: [],
      ignored: [
        {
          index: 0,
          fingerprint: 'feedbeef',
          alertname: 'TorghutWsNotReady',
          reason: `no runbook matches alert TorghutWsNotReady: ${runbook.id} needs namespace="torghut" (got "staging")`,
        },
      ],
      resolved: [],
      invalid: [],
    });
    expect(await counter(metrics, 'alertsIgnored', { reason: 'no_matching_runbook' })).toBe(1);
    await expectNotStarted(workflowIdOf(runbook));
  });

  it('a group with a matching and an unknown alert starts one incident and ignores the other', async () => {
    const runbook = makeRunbook();
    const { post } = await startIngress({ runbooks: [runbook] });
    const body = (await (await post(webhook([alert('firing', { alertname: 'DiskFull' }, 'aaa'), alert('firing', {}, 'bbb')]))).json()) as {
      incidents: { fingerprints: string[] }[];
      ignored: { fingerprint: string }[];
    };
    expect(body.incidents.map((i) => i.fingerprints)).toEqual([['bbb']]);
    expect(body.ignored.map((i) => i.fingerprint)).toEqual(['aaa']);
    expect(await signals(workflowIdOf(runbook))).toHaveLength(1);
  });

  it('a resolved alert signals alertResolved to the open incident', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { post, metrics } = await startIngress({ runbooks: [runbook] });
    await post(webhook([alert('firing')]));
    const res = await post(webhook([alert('resolved')], 'resolved'));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      incidents: [],
      ignored: [],
      resolved: [{ workflowId, runbook: runbook.id, alerts: 1, fingerprints: ['f1a2b3c4d5e6'], signalled: true }],
      invalid: [],
    });
    const got = await signals(workflowId);
    expect(got.map((s) => s.name)).toEqual(['alertFired', 'alertResolved']);
    expect(got[1]!.arg).toMatchObject({ fingerprint: 'f1a2b3c4d5e6', alertname: 'TorghutWsNotReady' });
    expect(await counter(metrics, 'alertsResolved', { signalled: 'true' })).toBe(1);
  });

  it('a resolved alert with no open incident starts nothing', async () => {
    const runbook = makeRunbook();
    const { post } = await startIngress({ runbooks: [runbook] });
    const res = await post(webhook([alert('resolved')], 'resolved'));
    expect(res.status).toBe(202);
    expect(((await res.json()) as { resolved: { signalled: boolean; reason: string }[] }).resolved[0]).toMatchObject({
      signalled: false,
      reason: 'no open incident for this target',
    });
    await expectNotStarted(workflowIdOf(runbook));
  });
});

describe('Alertmanager webhook: a group is accepted whole, each alert on its own (issue 7 §9)', () => {
  it('one bad alert in the group → 202: the torghut alert starts its incident, the bad one is listed as invalid and counted', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { post, metrics } = await startIngress({ runbooks: [runbook] });
    const bad = { ...alert('firing', { alertname: 'DiskFull' }, 'bad0001'), startsAt: 'yesterday' };
    const res = await post(webhook([bad, alert('firing')]));
    expect(res.status).toBe(202);
    const body = (await res.json()) as { incidents: { workflowId: string; fingerprints: string[] }[]; invalid: { index: number; fingerprint?: string; error: string }[] };
    expect(body.incidents).toMatchObject([{ workflowId, fingerprints: ['f1a2b3c4d5e6'] }]);
    expect(body.invalid).toEqual([{ index: 0, fingerprint: 'bad0001', error: expect.stringMatching(/^startsAt: /) as unknown }]);
    expect(await signals(workflowId)).toHaveLength(1);
    expect(await counter(metrics, 'alertsInvalid', { reason: 'invalid_alert' })).toBe(1);
    expect(await counter(metrics, 'alertsRejected', {})).toBe(0);
  });

  it('a group of 1,500 alerts (more than the old 1,000 cap) → 202: the torghut alert at the end starts its incident', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { post, metrics } = await startIngress({ runbooks: [runbook], limit: 2 * 1024 * 1024 });
    const others = Array.from({ length: 1_499 }, (_, i) => alert('firing', { alertname: 'NodeDiskPressure', namespace: 'infra', node: `n${i}` }, `n${i}`));
    const res = await post(webhook([...others, alert('firing')]));
    expect(res.status).toBe(202);
    const body = (await res.json()) as { incidents: { workflowId: string; fingerprints: string[] }[]; ignored: unknown[]; omitted: Record<string, number> };
    expect(body.incidents).toMatchObject([{ workflowId, fingerprints: ['f1a2b3c4d5e6'] }]);
    // The answer lists the first 100 ignored alerts and counts the rest.
    expect(body.ignored).toHaveLength(100);
    expect(body.omitted).toEqual({ ignored: 1_399 });
    expect(await counter(metrics, 'alertsIgnored', { reason: 'no_matching_runbook' })).toBe(1_499);
    expect(await signals(workflowId)).toHaveLength(1);
  });

  it('three alerts of the same target (one per pod) → one open/attach: one alertFired signal carrying the first, all three in the answer', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { post, metrics } = await startIngress({ runbooks: [runbook] });
    const pods = ['p1', 'p2', 'p3'].map((pod) => alert('firing', { pod }, `fp-${pod}`));
    const first = (await (await post(webhook(pods))).json()) as { incidents: unknown[] };
    expect(first.incidents).toEqual([{ workflowId, runbook: runbook.id, attached: false, alerts: 3, fingerprints: ['fp-p1', 'fp-p2', 'fp-p3'] }]);
    const again = (await (await post(webhook(pods))).json()) as { incidents: { attached: boolean }[] };
    expect(again.incidents).toMatchObject([{ attached: true, alerts: 3, deferred: true }]);
    // The re-send was answered at once (delivered moments ago); its signal follows on the next call.
    const got = await eventually(async () => {
      const sent = await signals(workflowId);
      return sent.length >= 2 ? sent : undefined;
    });
    expect(got.map((s) => [s.name, s.arg.fingerprint])).toEqual([
      ['alertFired', 'fp-p1'],
      ['alertFired', 'fp-p1'],
    ]);
    expect(await counter(metrics, 'incidentsStarted', { runbook: runbook.id })).toBe(3);
    expect(await counter(metrics, 'incidentsAttached', { runbook: runbook.id })).toBe(3);
  });

  it('a resolved alert beside a firing one of the same target does not resolve the incident', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { post } = await startIngress({ runbooks: [runbook] });
    const res = await post(webhook([alert('resolved', { pod: 'old' }, 'fp-old'), alert('firing', { pod: 'new' }, 'fp-new')]));
    const body = (await res.json()) as { resolved: unknown[] };
    expect(body.resolved).toEqual([
      { workflowId, runbook: runbook.id, alerts: 1, fingerprints: ['fp-old'], signalled: false, reason: 'another alert of this target is firing in the same request' },
    ]);
    expect((await signals(workflowId)).map((s) => s.name)).toEqual(['alertFired']);
  });

  it('a group of only invalid and unknown alerts → 202 without a single Temporal call (works with Temporal down)', async () => {
    const deadConnection = Connection.lazy({ address: `127.0.0.1:${await closedPort()}` });
    try {
      const { post, metrics, ingress } = await startIngress({ runbooks: [makeRunbook()], client: new Client({ connection: deadConnection }) });
      const res = await post(webhook([{ ...alert('firing'), status: 'pending' as 'firing' }, alert('firing', { alertname: 'DiskFull' }, 'd1')]));
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ incidents: [], invalid: [{ index: 0 }], ignored: [{ index: 1, fingerprint: 'd1' }] });
      expect(await counter(metrics, 'alertsInvalid', {})).toBe(1);
      await ingress.stop();
    } finally {
      await deadConnection.close();
    }
  });
});

describe('Temporal unreachable', () => {
  it('the webhook answers 503 with Retry-After so Alertmanager retries, fast; /readyz is 503, /healthz 200', async () => {
    const deadConnection = Connection.lazy({ address: `127.0.0.1:${await closedPort()}` });
    const deadClient = new Client({ connection: deadConnection, namespace: 'default' });
    try {
      const runbook = makeRunbook();
      // The default budget (1.5 s); the connection check answers first, as nothing has succeeded yet.
      const { post, url, metrics, ingress } = await startIngress({ runbooks: [runbook], client: deadClient });
      const startedAt = Date.now();
      const res = await post(webhook([alert('firing')]));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('10');
      expect(await res.json()).toEqual({ error: 'Temporal is unreachable; the alert was not recorded, retry later' });
      // A loose bound only (the machine is shared); the measured time is in the change's report.
      expect(Date.now() - startedAt).toBeLessThan(5_000);
      expect(await counter(metrics, 'alertsRejected', { reason: 'temporal_unavailable' })).toBe(1);
      // Bad input is still a 4xx, never a 5xx, whatever the state of Temporal.
      expect((await post(undefined, { raw: '{' })).status).toBe(400);
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // The SDK may still be retrying the answered request's calls until their deadline; the
      // connection is closed only after they stopped, as the service's shutdown does.
      await ingress.stop();
    } finally {
      await deadConnection.close();
    }
  });
});

describe('Temporal goes away between two requests', () => {
  it('right after a success the connection check is skipped, and the 1.5 s request budget answers 503 (the calls are aborted)', async () => {
    const proxy = await startTcpProxy(inject('temporalAddress'));
    const proxied = Connection.lazy({ address: proxy.address });
    try {
      const runbook = makeRunbook();
      workflowIdOf(runbook);
      const { post, metrics, ingress } = await startIngress({ runbooks: [runbook], client: new Client({ connection: proxied, namespace: inject('temporalNamespace') }) });
      expect((await post(webhook([alert('firing')]))).status).toBe(202);
      await proxy.close();
      const startedAt = Date.now();
      // Another alert (a re-send of the first would be answered at once: it is on the incident already).
      const res = await post(webhook([alert('firing', {}, 'a1b2c3d4e5f6')]));
      expect(res.status).toBe(503);
      // A lower bound (a slow machine cannot make it fail): the 0.5 s connection check did not
      // answer this one, the budget did; the upper bound is loose, as above.
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_400);
      expect(Date.now() - startedAt).toBeLessThan(5_000);
      expect(await counter(metrics, 'alertsRejected', { reason: 'temporal_unavailable' })).toBe(1);
      await ingress.stop();
    } finally {
      await proxy.close();
      await proxied.close();
    }
  });
});

describe('re-sends moments after a delivery', () => {
  it('are answered at once (deferred) and every one is counted on the incident by the next call', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { post } = await startIngress({ runbooks: [runbook] });
    expect((await post(webhook([alert('firing')]))).status).toBe(202);
    const answers = await Promise.all(Array.from({ length: 10 }, async () => (await post(webhook([alert('firing')]))).json() as Promise<{ incidents: Array<{ deferred?: boolean; attached: boolean }> }>));
    expect(answers.map((a) => [a.incidents[0]!.attached, a.incidents[0]!.deferred])).toEqual(Array(10).fill([true, true]));
    // Every delivery is on the incident's history: the signals' repeats add up to the posts.
    const sent = await eventually(async () => {
      const got = await signals(workflowId);
      return deliveriesIn(got) === 11 ? got : undefined;
    });
    expect(sent.length).toBeLessThan(11);
    expect(await executionsOf(workflowId, 1)).toBe(1);
  });
});

describe('service endpoints', () => {
  it('/healthz and /readyz are 200 with Temporal up; other methods get 405', async () => {
    const { url } = await startIngress({ runbooks: [makeRunbook()] });
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', temporal: 'reachable' });
    const post = await fetch(`${url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('/metrics exposes the counters and the latency histogram in the Prometheus text format', async () => {
    const runbook = makeRunbook();
    workflowIdOf(runbook);
    const { url, post } = await startIngress({ runbooks: [runbook] });
    await post(webhook([alert('firing'), alert('firing', { alertname: 'Other' }, 'x1')]));
    await post(undefined, { headers: { authorization: 'Bearer nope' }, raw: '{}' });
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain(`agentruns_alerts_started_total{runbook="${runbook.id}"} 1`);
    expect(text).toContain('agentruns_alerts_received_total{status="firing"} 2');
    expect(text).toContain('agentruns_alerts_ignored_total{reason="no_matching_runbook"} 1');
    expect(text).toContain('agentruns_alerts_rejected_total{reason="forbidden"} 1');
    expect(text).toMatch(/agentruns_http_request_duration_seconds_bucket\{le="[^"]+",route="\/alertmanager",method="POST",status="202"\} 1/);
  });

  it('/metrics counts open incidents and closed ones by outcome from Temporal visibility', async () => {
    const runbook = makeRunbook();
    workflowIdOf(runbook);
    const { url, post } = await startIngress({ runbooks: [runbook], countIncidents: true });
    await post(webhook([alert('firing')]));
    await executionsOf(workflowIdOf(runbook), 1);
    const text = await (await fetch(`${url}/metrics`)).text();
    const open = /^agentruns_incidents\{state="open"\} (\d+)$/m.exec(text);
    expect(Number(open?.[1])).toBeGreaterThanOrEqual(1);
    for (const outcome of ['remediated', 'expired', 'needs-human']) expect(text).toMatch(new RegExp(`^agentruns_incidents\\{state="${outcome}"\\} \\d+$`, 'm'));
  });
});

describe('graceful shutdown', () => {
  it('stop() refuses new connections but finishes the request in flight', async () => {
    const runbook = makeRunbook();
    workflowIdOf(runbook);
    const { url, ingress } = await startIngress({ runbooks: [runbook] });
    const body = JSON.stringify(webhook([alert('firing')]));
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${url}/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERTMANAGER_TOKEN}`, 'content-length': Buffer.byteLength(body) },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 20));
      setTimeout(() => req.end(body.slice(20)), 300);
    });
    await new Promise((r) => setTimeout(r, 100));
    const stopped = ingress.stop();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    const result = await answer;
    expect(result.status).toBe(202);
    expect(JSON.parse(result.body)).toMatchObject({ incidents: [{ attached: false }] });
    await stopped;
    expect(ingress.server.listening).toBe(false);
  });
});

// ---- Slack interactions ---------------------------------------------------------------------------

function recordingDecide(answer: (workflowId: string, decision: 'approve' | 'reject', input: DecisionInput) => DecisionRecord | Promise<DecisionRecord>) {
  const calls: { workflowId: string; decision: 'approve' | 'reject'; input: DecisionInput }[] = [];
  const decide: DecideFn = async (_client, workflowId, decision, input) => {
    calls.push({ workflowId, decision, input });
    return answer(workflowId, decision, input);
  };
  return { calls, decide };
}

const accepted = (decision: 'approve' | 'reject', input: Pick<DecisionInput, 'by'> & Partial<DecisionInput>): DecisionRecord => ({
  decision,
  by: input.by,
  step: input.step ?? 'restart',
  ...(input.comment ? { comment: input.comment } : {}),
  prerequisiteConfirmed: input.prerequisiteConfirmed === true,
  emergency: false,
  restartAnyway: false,
  channel: 'slack',
  identity: 'agentruns-ingress',
  at: '2026-03-01T10:20:00.000Z',
});

/** The run the test buttons belong to (a run ID is a UUID). */
const RUN = randomUUID();

const click = (workflowId: string, user: string, decision: 'approve' | 'reject', responseUrl?: string, extra: Record<string, unknown> = {}) =>
  blockActionsPayload({
    userId: user,
    actionId: decision === 'approve' ? APPROVE_ACTION_ID : REJECT_ACTION_ID,
    value: JSON.stringify({ workflowId, runId: RUN, step: 'restart', decision, ...extra }),
    responseUrl,
  });

describe('Slack interactions', () => {
  it('a replayed click (timestamp older than 5 minutes) → 401 and nothing happens', async () => {
    const runbook = makeRunbook();
    const { decide, calls } = recordingDecide((_w, d, i) => accepted(d, i));
    const { click: send, metrics } = await startIngress({ runbooks: [runbook], decide });
    const res = await send(click(workflowIdOf(runbook), ALICE, 'approve'), Math.floor(Date.now() / 1000) - 6 * 60);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'X-Slack-Request-Timestamp is outside the 5-minute window (replayed or clock skew)' });
    expect(calls).toHaveLength(0);
    expect(await counter(metrics, 'slackRejected', { reason: 'stale_timestamp' })).toBe(1);
  });

  it('a forged signature → 401 and nothing happens', async () => {
    const runbook = makeRunbook();
    const { decide, calls } = recordingDecide((_w, d, i) => accepted(d, i));
    const { url, metrics } = await startIngress({ runbooks: [runbook], decide });
    const forged = signedInteraction({ signingSecret: 'guessed-secret', payload: click(workflowIdOf(runbook), ALICE, 'approve') });
    const res = await fetch(`${url}/slack/interactions`, { method: 'POST', headers: forged.headers, body: forged.body });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'X-Slack-Signature does not match the request body' });
    // A body altered after signing fails the same way.
    const genuine = signedInteraction({ signingSecret: SIGNING_SECRET, payload: click(workflowIdOf(runbook), STRANGER, 'reject') });
    const tampered = genuine.body.replace(STRANGER, ALICE);
    expect((await fetch(`${url}/slack/interactions`, { method: 'POST', headers: genuine.headers, body: tampered })).status).toBe(401);
    expect(calls).toHaveLength(0);
    expect(await counter(metrics, 'slackRejected', { reason: 'bad_signature' })).toBe(2);
  });

  it('unsigned, JSON-typed or unconfigured requests are refused before anything is parsed', async () => {
    const runbook = makeRunbook();
    const { url } = await startIngress({ runbooks: [runbook] });
    const payload = click(workflowIdOf(runbook), ALICE, 'approve');
    const unsigned = await fetch(`${url}/slack/interactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    });
    expect(unsigned.status).toBe(401);
    const json = await fetch(`${url}/slack/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    const off = await startIngress({ runbooks: [runbook], signingSecret: null });
    const res = await off.click(payload);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'Slack interactions are not enabled (SLACK_SIGNING_SECRET is not set)' });
  });

  it('a signed body that is not an interaction → 400 naming the problem', async () => {
    const { url } = await startIngress({ runbooks: [makeRunbook()] });
    const body = 'payload=%7Bnot-json';
    const ts = String(Math.floor(Date.now() / 1000));
    const { slackSignature } = await import('../../ingress/slack-interactions');
    const res = await fetch(`${url}/slack/interactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SIGNING_SECRET, ts, body) },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^"payload" is not valid JSON/);
  });

  it('a Slack user who is no approver gets an ephemeral refusal, and the refusal is recorded in the incident', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { decide, calls } = recordingDecide((_w, d, i) => accepted(d, i));
    const started = await startIngress({ runbooks: [runbook], decide });
    expect((await started.post(webhook([alert('firing')]))).status).toBe(202);
    const responseUrl = slackSim.newResponseUrl();
    const res = await started.click(click(workflowId, STRANGER, 'approve', responseUrl));
    expect(res.status).toBe(200);
    await started.ingress.settled();

    expect(calls).toHaveLength(0);
    const id = responseUrl.split('/').pop();
    const response = slackSim.responses.find((r) => r.id === id);
    expect(response?.body).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: `:no_entry: <@${STRANGER}>, you are not an approver of runbook *${runbook.id}*, so your approve was refused and recorded in the incident.`,
    });
    // Recorded as a refusal only: no approve signal reached the incident.
    const sent = await signals(workflowId);
    expect(sent.find((s) => s.name === 'approve')).toBeUndefined();
    expect(sent.find((s) => s.name === 'decisionRefused')?.arg).toEqual({
      by: `slack:${STRANGER}`,
      decision: 'approve',
      channel: 'slack',
      reason: `Slack user ${STRANGER} is not an approver of runbook ${runbook.id}`,
    });
    expect(await counter(started.metrics, 'approvals', { channel: 'slack', decision: 'approve', result: 'unauthorised' })).toBe(1);
    expect(started.logs.some((l) => l.includes('Slack user is not an approver'))).toBe(true);
  });

  it('without a response_url the refusal goes out through chat.postEphemeral', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const slack = createSlackActivities({ client: createSlackClient({ token: BOT_TOKEN, apiUrl: slackSim.apiUrl }), channel: '#torghut-oncall' });
    const started = await startIngress({ runbooks: [runbook], slack });
    await started.post(webhook([alert('firing')]));
    expect((await started.click(click(workflowId, STRANGER, 'reject'))).status).toBe(200);
    await started.ingress.settled();
    const ephemeral = slackSim.ephemerals.find((e) => e.user === STRANGER && e.text?.includes(runbook.id));
    expect(ephemeral).toMatchObject({ channel: 'C0TORGHUT1', user: STRANGER });
    expect((await signals(workflowId)).map((s) => s.name)).toEqual(['alertFired', 'decisionRefused']);
  });

  it('an approver’s click is acknowledged at once and sent through decide as that approver (channel slack)', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { decide, calls } = recordingDecide((_w, d, i) => accepted(d, i));
    const started = await startIngress({ runbooks: [runbook], decide });
    const responseUrl = slackSim.newResponseUrl();
    const res = await started.click(click(workflowId, ALICE, 'approve', responseUrl, { prerequisiteConfirmed: true }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    await started.ingress.settled();
    expect(calls).toEqual([
      {
        workflowId,
        decision: 'approve',
        input: {
          by: 'oncall-alice',
          runId: RUN,
          step: 'restart',
          comment: `clicked in Slack by ${ALICE}`,
          prerequisiteConfirmed: true,
          slack: { user: ALICE, issuedAt: expect.any(String) as string, signature: expect.stringMatching(/^[0-9a-f]{64}$/) as string },
        },
      },
    ]);
    // The proof is the ingress's: it verifies under the key the worker holds, for exactly this decision.
    const proof = calls[0]!.input.slack!;
    const fields = { workflowId, runId: RUN, step: 'restart' as const, decision: 'approve' as const, by: 'oncall-alice', prerequisiteConfirmed: true, emergency: false, restartAnyway: false, user: ALICE, issuedAt: proof.issuedAt };
    expect(verifyDecisionProof(DECISION_KEY, fields, proof.signature, Date.now())).toEqual({ ok: true });
    expect(verifyDecisionProof(DECISION_KEY, { ...fields, by: 'oncall-bob' }, proof.signature, Date.now()).ok).toBe(false);
    expect(verifyDecisionProof('another-key-of-at-least-32-characters', fields, proof.signature, Date.now()).ok).toBe(false);
    const id = responseUrl.split('/').pop();
    expect(slackSim.responses.find((r) => r.id === id)?.body).toMatchObject({
      response_type: 'ephemeral',
      text: `:white_check_mark: Approved: \`${workflowId}\`, recorded as *oncall-alice* at 2026-03-01T10:20:00.000Z.`,
    });
    expect(await counter(started.metrics, 'approvals', { channel: 'slack', decision: 'approve', result: 'accepted' })).toBe(1);
  });

  it('Slack’s 3 seconds hold even when the workflow is slow to answer: ack first, "waiting" notice, then the result', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    // The workflow does not answer until the test lets it: the ack must not wait for it.
    let release!: () => void;
    const answered = new Promise<void>((resolve) => (release = resolve));
    const { decide } = recordingDecide(async (_w, d, i) => {
      await answered;
      return accepted(d, i);
    });
    const started = await startIngress({ runbooks: [runbook], decide });
    const responseUrl = slackSim.newResponseUrl();
    const id = responseUrl.split('/').pop();
    const res = await started.click(click(workflowId, ALICE, 'reject', responseUrl));
    expect(res.status).toBe(200);
    // Still no answer from the workflow: the user is told the decision is on its way.
    await slackSim.waitFor(() => slackSim.responses.find((r) => r.id === id), 10_000);
    release();
    await started.ingress.settled();
    const texts = slackSim.responses.filter((r) => r.id === id).map((r) => (r.body as { text: string }).text);
    expect(texts).toEqual([
      `:hourglass: Your reject of \`${workflowId}\` was sent as *oncall-alice*; waiting for the incident to confirm it…`,
      `:no_entry_sign: Rejected: \`${workflowId}\`, recorded as *oncall-alice* at 2026-03-01T10:20:00.000Z.`,
    ]);
  });

  it('the workflow refusing an approver (validator) is shown to them ephemerally', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { decide } = recordingDecide(() => {
      throw new DecisionRefusedError('procedure B needs the human prerequisite confirmed first (prerequisiteConfirmed: true)');
    });
    const started = await startIngress({ runbooks: [runbook], decide });
    const responseUrl = slackSim.newResponseUrl();
    await started.click(click(workflowId, ALICE, 'approve', responseUrl));
    await started.ingress.settled();
    const id = responseUrl.split('/').pop();
    expect((slackSim.responses.find((r) => r.id === id)?.body as { text: string }).text).toBe(
      ':no_entry: Your approve was refused: procedure B needs the human prerequisite confirmed first (prerequisiteConfirmed: true)',
    );
    expect(await counter(started.metrics, 'approvals', { result: 'refused' })).toBe(1);
  });

  it('with the real decide Update, a click on an incident that is not open is refused (no incident)', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const started = await startIngress({ runbooks: [runbook] });
    const responseUrl = slackSim.newResponseUrl();
    await started.click(click(workflowId, ALICE, 'approve', responseUrl));
    await started.ingress.settled();
    const id = responseUrl.split('/').pop();
    expect((slackSim.responses.find((r) => r.id === id)?.body as { text: string }).text).toBe(
      `:no_entry: Your approve was refused: no open incident ${workflowId} (run ${RUN})`,
    );
    await expectNotStarted(workflowId);
  });

  it('a button whose value does not match its action, or names an unknown incident, sends nothing', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const { decide, calls } = recordingDecide((_w, d, i) => accepted(d, i));
    const started = await startIngress({ runbooks: [runbook], decide });
    const mismatched = blockActionsPayload({
      userId: ALICE,
      actionId: REJECT_ACTION_ID,
      value: JSON.stringify({ workflowId, runId: RUN, step: 'restart', decision: 'approve' }),
      responseUrl: slackSim.newResponseUrl(),
    });
    const unknown = click('agentruns-other-runbook-ns', ALICE, 'approve', slackSim.newResponseUrl());
    expect((await started.click(mismatched)).status).toBe(200);
    expect((await started.click(unknown)).status).toBe(200);
    await started.ingress.settled();
    expect(calls).toHaveLength(0);
    const texts = slackSim.responses.slice(-2).map((r) => (r.body as { text: string }).text);
    expect(texts[0]).toContain('This button is not a valid AgentRuns decision');
    expect(texts[1]).toContain('is not an incident of any runbook this service handles');
  });
});

// ---- Slack activities, and the round trip through the simulator ---------------------------------------

describe('Slack activities against the simulated Slack Web API', () => {
  const state = (workflowId: string, over: Partial<IncidentState> = {}): IncidentState => ({
    ...openingState({
      workflowId,
      runId: 'run-0001',
      runbookId: 'torghut-ws',
      trigger: { source: 'alertmanager' },
      startedAt: '2026-03-01T10:16:00.000Z',
    }),
    target: { namespace: 'torghut', deployment: 'torghut-ws' },
    phase: 'awaiting-approval' as const,
    classification: {
      class: 'alpaca_406_second_connection' as const,
      procedure: 'A' as const,
      action: 'restart via GitOps',
      basis: 'readiness' as const,
      conflict: false,
      evidence: [{ source: 'logs' as const, text: 'Authorization: Bearer xoxb-9999-8888-leakedtoken in a log line' }],
      notes: [],
    },
    ...over,
  });

  it('posts the incident message, a click on its Reject button reaches decide, and the update removes the buttons', async () => {
    const runbook = makeRunbook();
    const workflowId = workflowIdOf(runbook);
    const slack = createSlackActivities({
      client: createSlackClient({ token: BOT_TOKEN, apiUrl: slackSim.apiUrl }),
      channel: '#torghut-oncall',
      temporalUiUrl: 'http://127.0.0.1:8233',
    });
    const ref = await slack.postIncidentMessage(state(workflowId));
    expect(ref).toEqual({ channel: 'C0TORGHUT1', ts: expect.stringMatching(/^\d+\.\d{6}$/) as string });
    const message = slackSim.messages.find((m) => m.ts === ref!.ts)!;
    expect(JSON.stringify(message.blocks)).not.toContain('leakedtoken');
    // The metadata names the incident's run: a retried post finds this message instead of posting twice.
    expect(message.metadata).toEqual({ event_type: 'agentruns_incident', event_payload: { workflowId, runId: 'run-0001', runbookId: 'torghut-ws' } });
    expect(await slack.postIncidentMessage(state(workflowId))).toEqual(ref);
    expect(slackSim.messages.filter((m) => m.metadata !== undefined && JSON.stringify(m.metadata).includes(workflowId))).toHaveLength(1);

    const { decide, calls } = recordingDecide((_w, d, i) => accepted(d, i));
    const started = await startIngress({ runbooks: [runbook], decide });
    const value = buttonValue(message, REJECT_ACTION_ID)!;
    const payload = blockActionsPayload({ userId: ALICE, actionId: REJECT_ACTION_ID, value, responseUrl: slackSim.newResponseUrl(), messageTs: ref!.ts });
    expect((await started.click(payload)).status).toBe(200);
    await started.ingress.settled();
    expect(calls.map((c) => [c.workflowId, c.decision, c.input.by])).toEqual([[workflowId, 'reject', 'oncall-alice']]);

    const decided = state(workflowId, {
      phase: 'closed',
      outcome: 'rejected',
      decision: accepted('reject', { by: 'oncall-alice' }),
    });
    expect(await slack.updateIncidentMessage({ channel: ref!.channel, ts: ref!.ts, state: decided })).toEqual(ref);
    expect(message.history).toHaveLength(1);
    expect(buttonValue(message, APPROVE_ACTION_ID)).toBeUndefined();
    expect(JSON.stringify(message.blocks)).toContain('Rejected by *oncall-alice* via slack');
  });

  it('Slack errors become named failures: bad token → NotAllowedError, unknown channel or message → NotFoundError (non-retryable)', async () => {
    const badToken = createSlackActivities({ client: createSlackClient({ token: 'xoxb-wrong-token-000', apiUrl: slackSim.apiUrl }), channel: '#torghut-oncall' });
    const err = await badToken.postIncidentMessage(state('wf-x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'NotAllowedError', nonRetryable: true });
    expect((err as Error).message).toContain('invalid_auth');

    const good = createSlackActivities({ client: createSlackClient({ token: BOT_TOKEN, apiUrl: slackSim.apiUrl }), channel: '#nowhere' });
    await expect(good.postIncidentMessage(state('wf-x'))).rejects.toMatchObject({ type: 'NotFoundError', nonRetryable: true });
    await expect(good.updateIncidentMessage({ channel: 'C0TORGHUT1', ts: '1.000001', state: state('wf-x') })).rejects.toMatchObject({
      type: 'NotFoundError',
      message: 'Slack chat.update: message_not_found',
    });
  });

  it('an unreachable Slack is a retryable failure', async () => {
    const down = createSlackActivities({ client: createSlackClient({ token: BOT_TOKEN, apiUrl: `http://127.0.0.1:${await closedPort()}/api/` }), channel: '#torghut-oncall' });
    await expect(down.postIncidentMessage(state('wf-x'))).rejects.toMatchObject({ type: 'UpstreamError', nonRetryable: false });
  });

  it('without a Slack client or channel every activity is a no-op returning null', async () => {
    const none = createSlackActivities({});
    expect(await none.postIncidentMessage(state('wf-x'))).toBeNull();
    expect(await none.updateIncidentMessage({ channel: 'C1', ts: '1.1', state: state('wf-x') })).toBeNull();
    expect(await none.postEphemeral({ channel: 'C1', user: ALICE, text: 'x' })).toBeNull();
    const noChannel = createSlackActivities({ client: createSlackClient({ token: BOT_TOKEN, apiUrl: slackSim.apiUrl }) });
    expect(await noChannel.postIncidentMessage(state('wf-x'))).toBeNull();
  });
});
