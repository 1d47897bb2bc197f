/**
 * The ingress over HTTP, fuzzed: the production process (`ingress/main.ts` as a child process) on
 * the real Temporal dev server, hit with generated hostile requests — Alertmanager bodies that are
 * junk, invalid UTF-8, deeply nested, a webhook with its envelope broken or every routed alert
 * broken; wrong, missing and secret-bearing tokens; odd content types; Slack interactions with every
 * kind of signature mutation; any method and path; raw bytes no HTTP client would send; bodies of
 * tens of MiB streamed past the limit.
 *
 * What must hold: never a 5xx; the process alive at the end (an unhandled rejection or an uncaught
 * exception would have ended it); not one workflow started or signalled by them — counted in
 * Temporal on the ingress's own task queue, against two valid webhooks sent as controls (one start,
 * two signals) — and no decision attempted; no secret they carried in any log line; memory bounded
 * (the peak resident memory of the process is reported).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decisionButtonValue } from '../../domain/slack-message';
import { slackSignature } from '../../ingress/slack-interactions';
import { uniqueTaskQueue } from '../support/temporal';
import { fuzzCount, fuzzParams } from './support/fuzz-runs';
import { send, sendRaw, type HostileAnswer, type HostileRequest } from './support/hostile-http';
import { startIngressChild, type IngressChild } from './support/ingress-child';
import { mutate, mutation } from './support/mutate';
import { leaks, secretFragment } from './support/secret-corpus';
import { alertArb, breakAlert, webhookArb } from './support/webhooks';

const MiB = 1024 * 1024;

let connection: Connection;
let client: Client;
let ingress: IngressChild;
const secretsSent: string[] = [];

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: inject('temporalNamespace') });
  ingress = await startIngressChild({ temporalAddress: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue: uniqueTaskQueue('fuzz-ingress') });
});

afterAll(async () => {
  await ingress?.stop();
  if (ingress) await client.workflow.getHandle(ingress.workflowId).terminate('fuzz cleanup').catch(() => undefined);
  await connection?.close();
});

// ---- the requests --------------------------------------------------------------------------------

const routedLabels = () => ({ alertname: 'TorghutWsNotReady', namespace: ingress.runbook.target.namespace });

/** A valid webhook for the ingress's runbook: it starts (or attaches to) the incident. */
function validWebhook(fingerprint: string): Buffer {
  const [body] = fc.sample(webhookArb(alertArb(routedLabels()).map((a) => [{ ...a, status: 'firing' as const, fingerprint }])), { seed: 7, numRuns: 1 });
  return Buffer.from(JSON.stringify({ ...body, status: 'firing' }));
}

const secretToken = secretFragment.map((f) => {
  secretsSent.push(...f.secrets);
  return f;
});

/** Envelope changes that make any webhook a non-webhook (422), whatever else it holds. */
const envelopeBreakers: ((b: Record<string, unknown>) => void)[] = [
  (b) => (b.version = '3'),
  (b) => (b.version = 4),
  (b) => delete b.receiver,
  (b) => (b.status = 'pending'),
  (b) => (b.groupKey = ''),
  (b) => (b.groupLabels = ['alertname']),
  (b) => (b.commonLabels = { alertname: 1 }),
  (b) => (b.alerts = { 0: {} }),
  (b) => delete b.externalURL,
  (b) => (b.truncatedAlerts = -1),
];

function alertmanagerBody(): fc.Arbitrary<{ kind: string; body: Buffer }> {
  const routed = alertArb(routedLabels());
  const unrouted = alertArb({ namespace: `other-${randomUUID().slice(0, 6)}` });
  return fc.oneof(
    fc.uint8Array({ maxLength: 2000 }).map((b) => ({ kind: 'junk bytes', body: Buffer.from(b) })),
    fc.jsonValue().map((j) => ({ kind: 'JSON, not a webhook', body: Buffer.from(JSON.stringify(j) ?? 'null') })),
    webhookArb(fc.array(routed, { minLength: 1, maxLength: 3 })).map((w) => {
      const text = JSON.stringify(w);
      const at = text.indexOf('"receiver":"') + 12;
      return { kind: 'invalid UTF-8 inside a valid webhook', body: Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(text.slice(at))]) };
    }),
    fc.tuple(fc.integer({ min: 1000, max: 200_000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => {
      const close = open === '[' ? ']' : '}';
      return { kind: `JSON nested ${depth} deep`, body: Buffer.from(`{"version":"4","alerts":[${open.repeat(depth)}1${close.repeat(depth)}]}`) };
    }),
    fc.tuple(webhookArb(fc.array(routed, { minLength: 1, maxLength: 3 })), fc.nat(), fc.array(mutation, { maxLength: 3 })).map(([w, n, ms]) => {
      const broken = mutate(w, ms) as Record<string, unknown>;
      envelopeBreakers[n % envelopeBreakers.length]!(broken);
      return { kind: 'routed alerts in a broken envelope', body: Buffer.from(JSON.stringify(broken)) };
    }),
    fc.tuple(webhookArb(fc.array(routed, { minLength: 1, maxLength: 4 })), fc.array(unrouted, { maxLength: 3 }), fc.nat(), secretToken).map(([w, others, n, secret]) => {
      const alerts = (w.alerts as Parameters<typeof breakAlert>[0][]).map((a, i) => {
        const withSecret = { ...a, annotations: { ...a.annotations, description: `log: ${secret.fragment}` } };
        return breakAlert(withSecret, n + i);
      });
      return { kind: 'every routed alert broken (annotations with secrets), unrouted ones valid', body: Buffer.from(JSON.stringify({ ...w, alerts: [...alerts, ...others] })) };
    }),
    webhookArb(fc.constant([])).map((w) => ({ kind: 'more alerts than are read', body: Buffer.from(JSON.stringify({ ...w, alerts: Array.from({ length: 10_050 }, () => 0) })) })),
  );
}

function alertmanagerRequest(): fc.Arbitrary<HostileRequest> {
  const auth = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(`Bearer ${ingress.alertmanagerToken}`, `bearer ${ingress.alertmanagerToken}  `) },
    fc.constantFrom('', 'Bearer', `Basic ${ingress.alertmanagerToken}`, `Bearer ${ingress.alertmanagerToken}x`, `Bearer ${ingress.alertmanagerToken} extra`),
    secretToken.map((s) => `Bearer ${s.secrets[0]!.replace(/[^\x21-\x7e]/g, '')}`),
  );
  const type = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON') }, fc.constantFrom('', 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', 'multipart/form-data; boundary=x'));
  return fc.tuple(auth, type, alertmanagerBody()).map(([authorization, contentType, { kind, body }]) => ({
    kind: `alertmanager: ${kind}`,
    method: 'POST',
    path: '/alertmanager',
    headers: { ...(authorization ? { authorization } : {}), ...(contentType ? { 'content-type': contentType } : {}) },
    body,
  }));
}

function slackRequest(): fc.Arbitrary<HostileRequest> {
  const now = () => Math.floor(Date.now() / 1000);
  const button = (value: Record<string, unknown> | string) => ({
    type: 'block_actions',
    user: { id: 'U0ALICE01' },
    actions: [{ action_id: 'agentruns_approve', value: typeof value === 'string' ? value : JSON.stringify(value) }],
    response_url: 'http://127.0.0.1:1/response',
  });
  const decision = { workflowId: ingress.workflowId, runId: randomUUID(), decision: 'approve', step: 'restart' };
  /** A decision the ingress would deliver if the request were genuine: only ever sent with a broken signature. */
  const genuine = fc.constant({ kind: 'an approver approving', payload: button(decisionButtonValue(decision as Parameters<typeof decisionButtonValue>[0])) });
  /** Payloads no signature makes a decision. */
  const harmless = fc.oneof(
    fc.jsonValue().map((j) => ({ kind: 'JSON, not an interaction', payload: j })),
    fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => ({ kind: 'a button value mutated', payload: button(JSON.stringify(mutate({ ...decision, decision: 'reject' }, ms))) })),
    fc.string({ maxLength: 60 }).map((v) => ({ kind: 'a button value that is no decision', payload: button(v) })),
    fc.constant({ kind: 'approve button carrying reject', payload: button({ ...decision, decision: 'reject' }) }),
    fc.constant({ kind: 'another interaction type', payload: { type: 'view_submission', user: { id: 'U0ALICE01' } } }),
  );
  const form = (payload: unknown) => Buffer.from(`payload=${encodeURIComponent(JSON.stringify(payload) ?? '')}`);
  const badSignature = fc.constantFrom('none', 'wrong secret', 'stale', 'future', 'body changed after signing', 'another body', 'truncated', 'upper case', 'v1 scheme', 'not a number timestamp');
  const sign = (mode: string, body: Buffer): Record<string, string> => {
    const ts = String(now());
    switch (mode) {
      case 'none':
        return {};
      case 'wrong secret':
        return { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature('not-the-secret', ts, body) };
      case 'stale': {
        const old = String(now() - 301 - (body.length % 3600));
        return { 'x-slack-request-timestamp': old, 'x-slack-signature': slackSignature(ingress.signingSecret, old, body) };
      }
      case 'future': {
        const later = String(now() + 400);
        return { 'x-slack-request-timestamp': later, 'x-slack-signature': slackSignature(ingress.signingSecret, later, body) };
      }
      case 'another body':
        return { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(ingress.signingSecret, ts, Buffer.concat([body, Buffer.from('&x=1')])) };
      case 'truncated':
        return { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(ingress.signingSecret, ts, body).slice(0, 40) };
      case 'upper case':
        return { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(ingress.signingSecret, ts, body).toUpperCase() };
      case 'v1 scheme':
        return { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(ingress.signingSecret, ts, body).replace(/^v0=/, 'v1=') };
      case 'not a number timestamp':
        return { 'x-slack-request-timestamp': `${ts}.5`, 'x-slack-signature': slackSignature(ingress.signingSecret, `${ts}.5`, body) };
      default:
        return { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(ingress.signingSecret, ts, body) };
    }
  };
  const type = fc.oneof({ weight: 5, arbitrary: fc.constant('application/x-www-form-urlencoded') }, fc.constantFrom('application/json', '', 'text/plain'));
  return fc.oneof(
    fc.tuple(genuine, badSignature, type, fc.boolean()).map(([p, mode, contentType, tamper]) => {
      const body = form(p.payload);
      const headers = sign(mode, body);
      // 'body changed after signing': one byte flipped after the signature was made over the original.
      const sent = mode === 'body changed after signing' || tamper ? Buffer.concat([body.subarray(0, -1), Buffer.from(body.at(-1) === 0x44 ? 'E' : 'D')]) : body;
      const final = mode === 'body changed after signing' ? { ...sign('signed', body) } : headers;
      return { kind: `slack: ${p.kind}, signature ${mode}${tamper ? ' + body tampered' : ''}`, method: 'POST', path: '/slack/interactions', headers: { 'content-type': contentType, ...final }, body: sent };
    }),
    fc.tuple(harmless, fc.oneof(badSignature, fc.constant('signed')), type).map(([p, mode, contentType]) => {
      const body = form(p.payload);
      return { kind: `slack: ${p.kind}, signature ${mode}`, method: 'POST', path: '/slack/interactions', headers: { 'content-type': contentType, ...sign(mode, body) }, body };
    }),
    fc.uint8Array({ maxLength: 1000 }).map((b) => {
      const body = Buffer.from(b);
      return { kind: 'slack: junk bytes, signed', method: 'POST', path: '/slack/interactions', headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign('signed', body) }, body };
    }),
  );
}

const otherRequest: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'POST', 'PROPFIND', 'M-SEARCH'),
    fc.oneof(
      fc.constantFrom('/alertmanager', '/slack/interactions', '/healthz', '/readyz', '/metrics', '/', '//alertmanager', '/alertmanager/', '/ALERTMANAGER', '/alertmanager?x=1', '/../etc/passwd', '/%2e%2e/', '/%00', '/metrics#x', '*'),
      fc.webPath().map((p) => p || '/'),
    ),
    fc.dictionary(fc.stringMatching(/^x-[a-z]{1,12}$/), fc.stringMatching(/^[\x20-\x7e]{0,200}$/), { maxKeys: 20 }),
    fc.nat({ max: 40_000 }),
  )
  .map(([method, path, headers, cookie]) => ({
    kind: `${method} ${path}${cookie > 20_000 ? ' with a 20+ KB header' : ''}`,
    method,
    path,
    headers: { ...headers, ...(cookie > 20_000 ? { cookie: 'c'.repeat(cookie) } : {}) },
  }));

const rawBytes: fc.Arbitrary<{ kind: string; bytes: Buffer }> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 3000 }).map((b) => ({ kind: 'raw: random bytes', bytes: Buffer.from(b) })),
  fc.constantFrom(
    { kind: 'raw: smuggling (Content-Length and Transfer-Encoding)', bytes: Buffer.from('POST /alertmanager HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n') },
    { kind: 'raw: bad chunk size', bytes: Buffer.from('POST /alertmanager HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n') },
    { kind: 'raw: HTTP/2 preface', bytes: Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n') },
    { kind: 'raw: header without colon', bytes: Buffer.from('GET /healthz HTTP/1.1\r\nHost x\r\n\r\n') },
    { kind: 'raw: NUL in the request line', bytes: Buffer.from('GET /heal\u0000thz HTTP/1.1\r\nHost: x\r\n\r\n') },
    { kind: 'raw: negative Content-Length', bytes: Buffer.from('POST /alertmanager HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n') },
    { kind: 'raw: two Content-Lengths', bytes: Buffer.from('POST /alertmanager HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\n{}') },
    { kind: 'raw: obs-fold header', bytes: Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n') },
  ),
  fc.tuple(fc.uint8Array({ maxLength: 500 }), fc.constantFrom('GET /healthz', 'POST /alertmanager', 'POST /slack/interactions')).map(([b, line]) => ({
    kind: `raw: ${line} then junk`,
    bytes: Buffer.concat([Buffer.from(`${line} HTTP/1.1\r\n`), Buffer.from(b)]),
  })),
);

// ---- the run ---------------------------------------------------------------------------------------

/** Statuses by request kind, and anything that broke a property, for the report and the assertions. */
const seen = new Map<number | 'no answer', number>();
const problems: string[] = [];

function record(req: { kind: string }, answer: HostileAnswer, allowNoAnswer: boolean): void {
  const key = answer.status ?? 'no answer';
  seen.set(key, (seen.get(key) ?? 0) + 1);
  if (answer.status !== null && answer.status >= 500) problems.push(`${req.kind} → ${answer.status} ${answer.body.slice(0, 300)}`);
  if (answer.status === null && !allowNoAnswer) problems.push(`${req.kind} → no answer (${answer.error ?? ''})`);
  // HEAD answers carry no body.
  if (answer.status !== null && answer.status >= 400 && answer.contentType?.startsWith('application/json') && answer.body !== '') {
    const body = JSON.parse(answer.body) as { error?: unknown };
    if (typeof body.error !== 'string') problems.push(`${req.kind} → ${answer.status} without an error message: ${answer.body.slice(0, 200)}`);
  }
}

describe('the ingress process under hostile HTTP', () => {
  it('never a 5xx, never a crash, nothing started or signalled, no secret logged, memory bounded', async () => {
    // Control: a valid webhook starts the incident (so a hostile request could signal it).
    const first = await send(ingress.url, { kind: 'control', method: 'POST', path: '/alertmanager', headers: { authorization: `Bearer ${ingress.alertmanagerToken}`, 'content-type': 'application/json' }, body: validWebhook('c0ffee0000000001') });
    expect(first.status, first.body).toBe(202);
    expect((JSON.parse(first.body) as { incidents: { attached: boolean }[] }).incidents).toEqual([expect.objectContaining({ attached: false })]);
    const baseline = ingress.memory();

    const count = fuzzCount({ scale: 1, min: 100, max: 50_000 });
    const requests = fc.sample(
      fc.oneof({ weight: 4, arbitrary: alertmanagerRequest() }, { weight: 3, arbitrary: slackRequest() }, { weight: 2, arbitrary: otherRequest }),
      { seed: fuzzParams().seed!, numRuns: count },
    );
    const started = Date.now();
    for (let i = 0; i < requests.length; i += 4) {
      const batch = requests.slice(i, i + 4);
      const answers = await Promise.all(batch.map((r) => send(ingress.url, r)));
      // A header over node's 16 KiB limit is refused by node's parser, which may close first.
      answers.forEach((a, j) => record(batch[j]!, a, batch[j]!.kind.includes('KB header')));
    }
    const raws = fc.sample(rawBytes, { seed: fuzzParams().seed!, numRuns: Math.max(20, Math.round(count / 10)) });
    for (const raw of raws) record(raw, await sendRaw(ingress.url, raw.bytes), true);
    const elapsed = Date.now() - started;

    // Huge bodies, streamed: the ingress reads at most its limit and answers 413.
    const huge: HostileRequest[] = [];
    const hugeCount = fuzzCount({ scale: 0.02, min: 4, max: 100 });
    for (let i = 0; i < hugeCount; i++) {
      const path = i % 2 === 0 ? '/alertmanager' : '/slack/interactions';
      const headers: Record<string, string> = path === '/alertmanager' ? { authorization: `Bearer ${ingress.alertmanagerToken}`, 'content-type': 'application/json' } : { 'content-type': 'application/x-www-form-urlencoded' };
      const chunk = Buffer.alloc(64 * 1024, i % 3 === 0 ? '[' : i % 3 === 1 ? '\u00ff' : 'a');
      huge.push({ kind: `${path}: ${16 + (i % 4) * 16} MiB streamed`, method: 'POST', path, headers, stream: { bytes: (16 + (i % 4) * 16) * MiB, chunk, declareLength: i % 4 === 1 } });
    }
    let hugeBytes = 0;
    for (const req of huge) {
      const answer = await send(ingress.url, req, 60_000);
      hugeBytes += req.stream!.bytes;
      // The server closes a connection whose body it refused unread: the client's next write may
      // meet the reset before it reads the 413 (the ingress's log, below, shows every refusal).
      record(req, answer, true);
      if (answer.status !== null) expect(answer.status, req.kind).toBe(413);
    }
    // One body just under the limit that is all JSON escapes (the largest string the parser builds).
    const escapes = Buffer.from(`{"version":"4","receiver":"${'\\u0000'.repeat(Math.floor((MiB - 100) / 6))}"}`);
    record({ kind: '1 MiB of escapes' }, await send(ingress.url, { kind: 'escapes', method: 'POST', path: '/alertmanager', headers: { authorization: `Bearer ${ingress.alertmanagerToken}`, 'content-type': 'application/json' }, body: escapes }), false);

    // Control: a second valid webhook attaches (a signal we must be able to count).
    const second = await send(ingress.url, { kind: 'control', method: 'POST', path: '/alertmanager', headers: { authorization: `Bearer ${ingress.alertmanagerToken}`, 'content-type': 'application/json' }, body: validWebhook('c0ffee0000000002') });
    expect(second.status, second.body).toBe(202);

    const memory = ingress.memory();
    console.log(
      `[fuzz] ingress: ${requests.length} hostile requests + ${raws.length} raw + ${huge.length} huge bodies (${Math.round(hugeBytes / MiB)} MiB offered) in ${elapsed} ms; ` +
        `statuses ${JSON.stringify(Object.fromEntries([...seen].sort()))}; RSS ${Math.round(baseline.rss / MiB)} MiB after start, peak ${Math.round(memory.peak / MiB)} MiB`,
    );

    expect(problems).toEqual([]);
    // Alive: an unhandled rejection or uncaught exception would have ended the process.
    expect(ingress.alive()).toBe(true);
    expect(ingress.stderr()).not.toMatch(/unhandled|uncaught|FATAL|out of memory/i);
    const logs = ingress.stdout().trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(logs.filter((l) => ['request failed', 'could not send the answer', 'alert routing failed'].includes(l.msg))).toEqual([]);
    // No decision was attempted for any of the Slack requests.
    expect(logs.filter((l) => /^Slack (decision (accepted|refused by|could not)|user is not an approver)/.test(l.msg))).toEqual([]);
    expect(leaks(ingress.stdout() + ingress.stderr(), secretsSent)).toEqual([]);
    // Every huge body was refused as too large (the answer itself may have been lost to the reset).
    const tooLarge = logs.filter((l) => l.msg === 'request rejected' && (l as { reason?: string }).reason === 'too_large');
    expect(tooLarge.length).toBeGreaterThanOrEqual(huge.length);
    // Bounded: the peak grows with the garbage of thousands of requests (V8 collects lazily), never
    // with the bytes offered (hundreds of MiB to GiB of huge bodies).
    expect(memory.peak - baseline.rss).toBeLessThan(256 * MiB);

    // Temporal: exactly the controls' one workflow and two signals on this task queue.
    const listed: string[] = [];
    for await (const w of client.workflow.list({ query: `TaskQueue = "${ingress.taskQueue}"` })) listed.push(w.workflowId);
    expect(listed).toEqual([ingress.workflowId]);
    const history = await client.workflow.getHandle(ingress.workflowId).fetchHistory();
    const types = (history.events ?? []).map((e) => String(e.eventType));
    const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals.map((e) => e.workflowExecutionSignaledEventAttributes!.signalName)).toEqual(['alertFired', 'alertFired']);
    expect(types.filter((t) => /UPDATE/i.test(t))).toEqual([]);
  });
});
