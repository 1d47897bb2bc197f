/**
 * Every parser of outside input, fuzzed: Alertmanager webhooks, Slack interactions and signatures,
 * readiness bodies, log lines (through the classifier's public functions only), runbook YAML,
 * scenario files, decisions and their Slack proofs. Inputs are arbitrary JSON and text, invalid
 * UTF-8, and valid documents mutated a few nodes at a time. Properties: a parser never throws
 * anything but its own validation error, its answer is bounded whatever the input's size, and what
 * it accepts really is valid (a broken alert is never read, a forged signature never verifies).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRunbookConfig } from '../../config/load-runbook';
import { logLineClass as logLineClassBy, procedureIdFor } from '../../domain/classify';
import { decisionRefusal, deciderOf, identityRefusal, stepOf, type DecisionContext } from '../../domain/approval';
import type { DecisionInput } from '../../domain/decision';
import { signDecision, verifyDecisionProof, type ProvenDecision } from '../../domain/decision-proof';
import type { Diagnosis } from '../../domain/diagnosis';
import type { Phase } from '../../domain/incident';
import { parseReadiness as parseReadinessBy } from '../../domain/readiness';
import { classify, classifyDiagnosis, READINESS_ERROR_CLASSES, TORGHUT_READINESS, TORGHUT_WS } from '../support/shipped-rules';
import { parseRunbookConfig, RunbookConfigError, type RunbookConfig } from '../../domain/runbook-config';
import { parseDecisionButtonValue } from '../../domain/slack-message';
import { alertSchema, MAX_ALERTS_READ, parseAlertmanagerPayload, toAlertInfo } from '../../ingress/alertmanager';
import { silentLogger } from '../../ingress/logger';
import { createMetrics } from '../../ingress/metrics';
import { createSlackInteractions, parseInteraction, slackSignature, verifySlackSignature } from '../../ingress/slack-interactions';
import { listScenarios, loadScenario, parseScenario, ScenarioError, SCENARIO_DIR } from '../../sim/scenario';
import { fuzzParams } from './support/fuzz-runs';
import { mutated } from './support/mutate';
import { alertArb, alertBreakers, breakAlert, webhookArb } from './support/webhooks';

/** torghut-ws's classes as its shipped runbook declares them, and the engine's own `healthy` and `unknown`. */
const FAILURE_CLASSES: readonly string[] = [...new Set([...Object.keys(TORGHUT_WS.classes), 'healthy', 'unknown'])];
const procedureFor = (cls: string) => procedureIdFor(TORGHUT_WS, cls);
const logLineClass = (line: string) => logLineClassBy(TORGHUT_WS, line);
const parseReadiness = (code: number | null, text: string | undefined) => parseReadinessBy(code, text, TORGHUT_READINESS);

/** Anything JSON.parse can give, and then some (nested, odd keys, huge numbers). */
const anyJson = fc.jsonValue({ maxDepth: 5 });
/** Bytes that are not necessarily UTF-8. */
const anyBytes = fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b));
/** Text of any code points, lone surrogates included. */
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.lorem());

/** Runs `fn`, and returns what it threw (undefined when it did not). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err;
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'agentruns-fuzz-parsers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---- Alertmanager --------------------------------------------------------------------------------

describe('Alertmanager payloads', () => {
  const valid = webhookArb(fc.array(alertArb(), { maxLength: 4 }));

  it('any JSON value and any mutated webhook: a value, never an exception, and bounded', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, valid.chain((body) => mutated(body))), (body) => {
        const parsed = parseAlertmanagerPayload(body);
        if (!parsed.ok) {
          expect(parsed.issues.length).toBeGreaterThan(0);
          expect(parsed.issues.length).toBeLessThanOrEqual(5);
          return;
        }
        const raw = (body as { alerts: unknown[] }).alerts;
        expect(parsed.payload.alerts.length + parsed.invalid.length).toBe(Math.min(raw.length, MAX_ALERTS_READ));
        for (const invalid of parsed.invalid) expect(invalid.error.length).toBeLessThanOrEqual(300);
        // Whatever was read passes the alert schema on its own, and maps to what the incident records.
        for (const alert of parsed.payload.alerts) {
          expect(alertSchema.safeParse(raw[alert.index]).success).toBe(true);
          expect(() => toAlertInfo(alert)).not.toThrow();
        }
      }),
      fuzzParams({ scale: 3 }),
    );
  });

  it(`an alert broken in any of ${alertBreakers.length} ways is listed as invalid, never read; its neighbours are read`, () => {
    fc.assert(
      fc.property(valid, alertArb(), fc.nat(), fc.nat(), (body, good, breaker, at) => {
        const alerts = body.alerts as unknown[];
        const index = at % (alerts.length + 1);
        alerts.splice(index, 0, breakAlert(good, breaker));
        const parsed = parseAlertmanagerPayload(body);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(parsed.payload.alerts.map((a) => a.index)).not.toContain(index);
        expect(parsed.invalid.map((i) => i.index)).toEqual([index]);
        expect(parsed.payload.alerts).toHaveLength(alerts.length - 1);
      }),
      fuzzParams(),
    );
  });

  it('more alerts than are read: the rest are counted as skipped, the work stays bounded', () => {
    const many = { ...JSON.parse(JSON.stringify(fc.sample(valid, { seed: 1, numRuns: 1 })[0])), alerts: Array.from({ length: MAX_ALERTS_READ + 5 }, () => 'junk') };
    const parsed = parseAlertmanagerPayload(many);
    expect(parsed.ok && parsed.skipped).toBe(5);
    expect(parsed.ok && parsed.invalid.length).toBe(MAX_ALERTS_READ);
  });
});

// ---- Slack ---------------------------------------------------------------------------------------

describe('Slack signatures and interaction payloads', () => {
  const SECRET = 'slack-signing-secret-for-the-fuzz-tests';
  const NOW = 1_790_000_000_000;
  const timestampHeader = fc.oneof(
    fc.integer({ min: -400, max: 400 }).map((skew) => String(Math.floor(NOW / 1000) + skew)),
    fc.string({ maxLength: 20 }),
    fc.constant(undefined),
  );

  it('any timestamp, signature and body: a verdict, never an exception; only the right signature in the window passes', () => {
    fc.assert(
      fc.property(timestampHeader, fc.option(fc.string({ maxLength: 80 }), { nil: undefined }), anyBytes, fc.boolean(), (timestamp, forged, body, signIt) => {
        const signature = signIt && timestamp !== undefined ? slackSignature(SECRET, timestamp, body) : forged;
        const check = verifySlackSignature({ signingSecret: SECRET, timestamp, signature, rawBody: body, nowMs: NOW });
        const inWindow = timestamp !== undefined && /^\d{1,12}$/.test(timestamp) && Math.abs(Math.floor(NOW / 1000) - Number(timestamp)) <= 300;
        const right = timestamp !== undefined && signature === slackSignature(SECRET, timestamp, body);
        expect(check.ok).toBe(inWindow && right);
      }),
      fuzzParams({ scale: 3 }),
    );
  });

  it('a signed request with one byte of body, timestamp or signature changed never verifies', () => {
    fc.assert(
      fc.property(anyBytes.filter((b) => b.length > 0), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom('body', 'signature', 'timestamp'), (body, at, flip, what) => {
        const timestamp = String(Math.floor(NOW / 1000));
        const signature = slackSignature(SECRET, timestamp, body);
        const mutate = (s: string) => {
          const i = at % s.length;
          const other = String.fromCharCode(32 + ((s.charCodeAt(i) - 32 + (flip % 94) + 1) % 95));
          return s.slice(0, i) + (other === s[i] ? '~' : other) + s.slice(i + 1);
        };
        const tampered = Buffer.from(body);
        tampered[at % tampered.length] = (tampered[at % tampered.length]! + flip) % 256;
        const input =
          what === 'body'
            ? { timestamp, signature, rawBody: tampered }
            : what === 'signature'
              ? { timestamp, signature: mutate(signature), rawBody: body }
              : { timestamp: String(Number(timestamp) - 1 - (at % 200)), signature, rawBody: body };
        expect(verifySlackSignature({ signingSecret: SECRET, nowMs: NOW, ...input }).ok).toBe(false);
      }),
      fuzzParams({ scale: 2 }),
    );
  });

  const blockActions = fc.record({
    type: fc.constant('block_actions'),
    user: fc.record({ id: fc.string({ maxLength: 12 }) }),
    actions: fc.array(fc.record({ action_id: fc.constantFrom('agentruns_approve', 'agentruns_reject', 'other'), value: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }) }), { maxLength: 3 }),
    response_url: fc.option(fc.constantFrom('https://hooks.slack.com/actions/T1/1/x', 'javascript:alert(1)', 'ftp://x'), { nil: undefined }),
  });
  const form = fc.oneof(
    anyBytes,
    anyText.map((t) => Buffer.from(t)),
    fc.oneof(anyJson, blockActions, blockActions.chain((p) => mutated(p))).map((p) => Buffer.from(`payload=${encodeURIComponent(JSON.stringify(p) ?? '')}`)),
  );

  it('any form body: parseInteraction answers a kind, never throws, with a bounded message', () => {
    fc.assert(
      fc.property(form, (body) => {
        const parsed = parseInteraction(body);
        expect(['block_actions', 'other', 'invalid']).toContain(parsed.kind);
        if (parsed.kind === 'invalid') expect(parsed.message.length).toBeLessThanOrEqual(600);
      }),
      fuzzParams({ scale: 3 }),
    );
  });

  it('the interactions endpoint: an unsigned request is 401 and schedules no work; a signed one is 200 or 400, work only for block_actions', () => {
    const slack = createSlackInteractions({
      signingSecret: SECRET,
      decisionKey: 'decision-key-of-the-fuzz-tests-0123456789',
      client: {} as Client,
      runbooks: [],
      logger: silentLogger,
      metrics: createMetrics({ processMetrics: false }),
      now: () => NOW,
    });
    fc.assert(
      fc.property(form, fc.boolean(), fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 60 }), { maxKeys: 4 }), (body, signIt, junkHeaders) => {
        const timestamp = String(Math.floor(NOW / 1000));
        const headers = signIt ? { ...junkHeaders, 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(SECRET, timestamp, body) } : junkHeaders;
        const receipt = slack.receive(body, headers);
        if (!signIt) {
          expect(receipt.status).toBe(401);
          expect(receipt.work).toBeUndefined();
          return;
        }
        expect([200, 400]).toContain(receipt.status);
        if (receipt.work) expect(parseInteraction(body).kind).toBe('block_actions');
      }),
      fuzzParams({ scale: 2 }),
    );
  });

  it('button values: any string is a decision only when it is exactly one of ours', () => {
    const ours = fc.record({ workflowId: fc.string({ minLength: 1, maxLength: 40 }), runId: fc.uuid(), decision: fc.constantFrom('approve', 'reject'), step: fc.constantFrom('restart', 'rollback') });
    fc.assert(
      fc.property(fc.oneof(anyText, anyJson.map((j) => JSON.stringify(j)), ours.chain((v) => mutated(v, 2)).map((v) => JSON.stringify(v))), (raw) => {
        const parsed = parseDecisionButtonValue(raw);
        if (!parsed.ok) {
          expect(parsed.reason.length).toBeLessThanOrEqual(400);
          return;
        }
        const value = JSON.parse(raw) as Record<string, unknown>;
        expect(Object.keys(value).every((k) => ['workflowId', 'runId', 'decision', 'step', 'prerequisiteConfirmed'].includes(k))).toBe(true);
        expect(['approve', 'reject']).toContain(parsed.value.decision);
      }),
      fuzzParams({ scale: 2 }),
    );
  });
});

// ---- readiness and logs --------------------------------------------------------------------------

describe('readiness bodies and log lines', () => {
  const documented = {
    status: 'not_ready',
    error_class: 'alpaca_406_second_connection',
    gates: { alpaca_ws: false, kafka: true, trade_updates: true },
  };
  const body = fc.oneof(
    anyText,
    anyJson.map((j) => JSON.stringify(j)),
    mutated(documented).map((j) => JSON.stringify(j) ?? ''),
    anyBytes.map((b) => b.toString('utf8')),
    fc.nat({ max: 3000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  );
  const status = fc.oneof(fc.integer({ min: -1, max: 1000 }), fc.constant(null), fc.double());

  it('any status and body: a reading, never an exception; 2xx/3xx is ready; the raw class is capped', () => {
    fc.assert(
      fc.property(status, fc.option(body, { nil: undefined }), (code, text) => {
        const reading = parseReadiness(code, text);
        expect(['ready', 'not-ready', 'missing', 'malformed']).toContain(reading.kind);
        if (Number.isInteger(code) && (code as number) >= 200 && (code as number) < 400) expect(reading.kind).toBe('ready');
        if (reading.kind === 'not-ready') {
          if (reading.errorClass !== null) expect(READINESS_ERROR_CLASSES).toContain(reading.errorClass);
          expect((reading.rawClass ?? '').length).toBeLessThanOrEqual(81);
        }
        if (reading.kind === 'malformed' || reading.kind === 'missing') expect(reading.reason.length).toBeLessThanOrEqual(600);
      }),
      fuzzParams({ scale: 3 }),
    );
  });

  const logLine = fc.oneof(
    anyText,
    fc.constantFrom(
      '<<< [{"T":"error","code":406,"msg":"connection limit exceeded"}]',
      'org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed',
      'org.apache.kafka.common.errors.TimeoutException: Topic torghut.trades.v1 not present in metadata after 60000 ms.',
      'WebSocketException: Handshake exception, expected status code 101 but was 401',
    ),
    fc.tuple(anyText, anyText).map(([a, b]) => `${a}{"T":"error","code":${a.length % 2 ? 402 : 406},"msg":"${b}"}`),
  );

  it('logLineClass: any line, a class name or null', () => {
    fc.assert(
      fc.property(logLine, (line) => {
        const cls = logLineClass(line);
        expect(cls === null || typeof cls === 'string').toBe(true);
        expect(logLineClass(line)).toBe(cls);
      }),
      fuzzParams({ scale: 3 }),
    );
  });

  it('classify: any readiness answer, log tail and replica count: a documented class, its procedure, bounded evidence', () => {
    fc.assert(
      fc.property(
        fc.option(fc.record({ status, body: fc.option(body, { nil: undefined }) }), { nil: null }),
        fc.array(logLine, { maxLength: 30 }),
        fc.option(fc.integer({ min: -2, max: 50 }), { nil: null }),
        fc.nat({ max: 400 }),
        (readiness, lines, replicas, stretch) => {
          // One line made long: the evidence must still be an excerpt.
          const logLines = lines.map((l, i) => (i === 0 ? `${l}${'x'.repeat(stretch * 50)}` : l));
          const result = classify({ readiness: readiness, logLines, replicas });
          expect(FAILURE_CLASSES).toContain(result.class);
          expect(result.procedure).toBe(procedureFor(result.class));
          for (const e of result.evidence) expect(e.text.length).toBeLessThanOrEqual(1000);
          expect(JSON.stringify(result).length).toBeLessThan(64 * 1024);
        },
      ),
      fuzzParams({ scale: 2 }),
    );
  });

  it('classify: junk where the types promise lines (non-strings in the tail) is no exception', () => {
    fc.assert(
      fc.property(fc.array(fc.anything(), { maxLength: 10 }), (junk) => {
        expect(FAILURE_CLASSES).toContain(classify({ readiness: null, logLines: junk as string[] }).class);
      }),
      fuzzParams(),
    );
  });

  const text = fc.oneof(anyText, fc.constantFrom('', '/readyz', 'torghut-ws-0'));
  const source = <T>(value: fc.Arbitrary<T>) => fc.oneof(value.map((v) => ({ ok: true as const, value: v })), text.map((error) => ({ ok: false as const, error })));
  const diagnosis: fc.Arbitrary<Diagnosis> = fc.record({
    collectedAt: fc.constant('2026-02-09T13:05:00Z'),
    deployment: source(
      fc.record({
        name: text,
        namespace: text,
        generation: fc.nat(),
        observedGeneration: fc.nat(),
        replicas: fc.integer({ min: 0, max: 5 }),
        readyReplicas: fc.nat({ max: 5 }),
        updatedReplicas: fc.nat({ max: 5 }),
        availableReplicas: fc.nat({ max: 5 }),
        templateAnnotations: fc.dictionary(text, text, { maxKeys: 3 }),
        conditions: fc.array(fc.record({ type: text, status: fc.constantFrom('True', 'False', 'Unknown'), reason: fc.option(text, { nil: undefined }), message: fc.option(text, { nil: undefined }) }), { maxLength: 4 }),
      }),
    ),
    pods: source(fc.array(fc.record({ name: text, phase: text, ready: fc.boolean(), restarts: fc.nat(), ignored: fc.option(text, { nil: undefined }) }), { maxLength: 6 })),
    events: source(fc.array(fc.record({ type: fc.constantFrom('Normal', 'Warning'), reason: text, message: text, object: text, count: fc.nat() }), { maxLength: 8 })),
    logs: source(fc.record({ pod: text, container: text, lines: fc.array(logLine, { maxLength: 20 }), truncated: fc.boolean() })),
    probes: source(fc.array(fc.record({ pod: text, path: fc.constantFrom('/readyz', '/healthz', '/readyz?verbose'), status: fc.option(fc.integer({ min: 100, max: 599 }), { nil: null }), body, error: fc.option(text, { nil: undefined }) }), { maxLength: 4 })),
    kafkaCredentials: source(
      fc.record({
        kafkaUser: fc.record({ name: text, found: fc.boolean(), ready: fc.constantFrom('True' as const, 'False' as const, 'Unknown' as const), reason: fc.option(text, { nil: undefined }), message: fc.option(text, { nil: undefined }), secret: fc.option(text, { nil: undefined }) }),
        expectedSecret: fc.option(text, { nil: undefined }),
        missingSecrets: fc.array(fc.record({ secret: text, object: text, reason: text, message: text }), { maxLength: 3 }),
      }),
    ),
    gitops: fc.option(source(fc.record({ ref: text, replicas: fc.option(fc.nat({ max: 5 }), { nil: null }), restartedAt: fc.option(text, { nil: null }), kafkaBootstrap: fc.option(text, { nil: null }), liveKafkaBootstrap: fc.option(text, { nil: null }) })), { nil: undefined }),
    degraded: fc.array(fc.constantFrom('deployment', 'pods', 'events', 'logs', 'probes', 'kafkaCredentials', 'gitops')),
  });

  it('classifyDiagnosis: any diagnosis the activities could return, with hostile strings in every field', () => {
    fc.assert(
      fc.property(diagnosis, fc.integer({ min: 1, max: 3 }), (d, expectedReplicas) => {
        const result = classifyDiagnosis(d, { expectedReplicas, kafkaUser: 'torghut-ws' });
        expect(FAILURE_CLASSES).toContain(result.class);
        expect(result.procedure).toBe(procedureFor(result.class));
        expect(JSON.stringify(result).length).toBeLessThan(64 * 1024);
      }),
      fuzzParams(),
    );
  });
});

// ---- documents: runbook YAML, scenario files -------------------------------------------------------

const SHIPPED_RUNBOOK_TEXT = readFileSync(new URL('../../config/runbooks/torghut-ws.yaml', import.meta.url), 'utf8');
const SHIPPED_RUNBOOK = parseYaml(SHIPPED_RUNBOOK_TEXT) as unknown;

/** Text edits of a document: a span deleted, a span of junk inserted, a line duplicated. */
function textEdits(text: string): fc.Arbitrary<string> {
  const edit = fc.record({ at: fc.nat(), length: fc.nat({ max: 20 }), junk: fc.oneof(anyText, fc.constantFrom(':', '- ', '  ', '\t', '"', '&a', '*a', '!!binary', '{', '[', '\n', '? ', '%YAML 1.1\n', '<<: *a')) });
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) =>
    edits.reduce((t, e) => {
      const at = e.at % (t.length + 1);
      return t.slice(0, at) + e.junk + t.slice(at + e.length);
    }, text),
  );
}

describe('runbook configs', () => {
  it('any document: a RunbookConfig or a RunbookConfigError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, mutated(SHIPPED_RUNBOOK, 3)), (doc) => {
        let config: RunbookConfig | undefined;
        const err = thrown(() => (config = parseRunbookConfig(doc, 'fuzz.yaml')));
        if (err !== undefined) {
          expect(err).toBeInstanceOf(RunbookConfigError);
          expect((err as RunbookConfigError).issues.length).toBeGreaterThan(0);
          return;
        }
        // What is accepted keeps the invariants the workflow relies on.
        expect(config!.target.expectedReplicas).toBeGreaterThanOrEqual(1);
        expect(config!.approvers.length).toBeGreaterThan(0);
      }),
      fuzzParams({ scale: 2 }),
    );
  });

  it('any edit of the shipped YAML file, loaded from disk: a RunbookConfig or a RunbookConfigError', async () => {
    const file = join(tmp, 'runbook.yaml');
    await fc.assert(
      fc.asyncProperty(textEdits(SHIPPED_RUNBOOK_TEXT), async (text) => {
        writeFileSync(file, text);
        const err = await loadRunbookConfig(file).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (err !== undefined) expect(err, (err as Error).message).toBeInstanceOf(RunbookConfigError);
      }),
      fuzzParams({ scale: 0.5, min: 20 }),
    );
  });

  it('YAML bombs and oddities: aliases, deep nesting, huge scalars are refused with a RunbookConfigError', async () => {
    const file = join(tmp, 'bomb.yaml');
    const bombs = [
      `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`,
      `${'- '.repeat(2000)}x\n`,
      `${'['.repeat(5000)}${']'.repeat(5000)}\n`,
      `id: ${'x'.repeat(2_000_000)}\n`,
      '\uFEFF\u0000\u0001id: torghut-ws\n',
      '--- !!js/function "function(){}"\n',
    ];
    for (const bomb of bombs) {
      writeFileSync(file, bomb);
      const err = await loadRunbookConfig(file).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, bomb.slice(0, 40)).toBeInstanceOf(RunbookConfigError);
      expect((err as Error).message.length).toBeLessThan(20_000);
    }
  });
});

describe('scenario files', () => {
  const shipped = listScenarios().then((names) => names.map((n) => ({ name: n, text: readFileSync(join(SCENARIO_DIR, `${n}.yaml`), 'utf8') })));

  it('any mutation of a shipped scenario: a Scenario or a ScenarioError', async () => {
    const scenarios = await shipped;
    fc.assert(
      fc.property(fc.constantFrom(...scenarios).chain((s) => fc.oneof(anyJson, mutated(parseYaml(s.text) as unknown, 3))), (doc) => {
        const err = thrown(() => parseScenario(doc, 'fuzz.yaml'));
        if (err !== undefined) expect(err).toBeInstanceOf(ScenarioError);
      }),
      fuzzParams({ scale: 2 }),
    );
  });

  it('any edit of a shipped scenario file, loaded from disk: a Scenario or a ScenarioError', async () => {
    const scenarios = await shipped;
    const file = join(tmp, 'scenario.yaml');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...scenarios).chain((s) => textEdits(s.text)), async (text) => {
        writeFileSync(file, text);
        const err = await loadScenario(file).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (err !== undefined) expect(err, (err as Error).message).toBeInstanceOf(ScenarioError);
      }),
      fuzzParams({ scale: 0.5, min: 20 }),
    );
  });
});

// ---- decisions -------------------------------------------------------------------------------------

describe('decisions and their Slack proofs', () => {
  const runbook = parseRunbookConfig(SHIPPED_RUNBOOK);
  const phases: Phase[] = ['diagnosing', 'awaiting-approval', 'awaiting-rollback-approval', 'opening-pr', 'verifying', 'closed'];
  const context: fc.Arbitrary<DecisionContext> = fc.record({
    phase: fc.constantFrom(...phases),
    runId: fc.uuid(),
    classification: fc.option(fc.constantFrom(...FAILURE_CLASSES).map((cls) => ({ class: cls, procedure: procedureFor(cls) })), { nil: null }),
    runbook: fc.constant(runbook),
  });
  const decisionLike = (ctx: DecisionContext) =>
    fc.oneof(
      fc.anything(),
      fc.record(
        {
          by: fc.oneof(fc.constantFrom(...runbook.approvers.map((a) => a.id), ' oncall-alice ', 'mallory'), fc.anything()),
          runId: fc.oneof(fc.constant(ctx.runId), fc.uuid(), fc.anything()),
          step: fc.oneof(fc.constantFrom('restart', 'rollback', 'RESTART'), fc.anything()),
          comment: fc.option(anyText, { nil: undefined }),
          prerequisiteConfirmed: fc.oneof(fc.boolean(), fc.anything()),
          emergency: fc.oneof(fc.boolean(), fc.anything()),
        },
        { requiredKeys: [] },
      ),
    );

  it('any input on any channel: a refusal or null, never an exception; null only for an approver, this run, the waiting step', () => {
    fc.assert(
      fc.property(
        context.chain((ctx) => fc.tuple(fc.constant(ctx), decisionLike(ctx), fc.constantFrom('approve' as const, 'reject' as const), fc.constantFrom('temporal' as const, 'slack' as const, 'cli' as const))),
        ([ctx, input, decision, channel]) => {
          const refusal = decisionRefusal(ctx, decision, input as DecisionInput, channel);
          expect(deciderOf(input).length).toBeLessThanOrEqual(200);
          if (refusal !== null) {
            expect(typeof refusal).toBe('string');
            return;
          }
          const i = input as DecisionInput;
          expect(runbook.approvers.map((a) => a.id)).toContain(deciderOf(i));
          expect(i.runId).toBe(ctx.runId);
          expect(i.step).toBe(stepOf(ctx.phase));
          if (decision === 'approve' && i.step === 'restart' && ctx.classification && ['B', 'C'].includes(ctx.classification.procedure ?? '')) expect(i.prerequisiteConfirmed).toBe(true);
          if (decision === 'approve' && i.step === 'restart') expect(i.emergency === true && !runbook.emergency.directRestartEnabled).toBe(false);
          expect(identityRefusal(runbook, deciderOf(i), null, channel)).toBeNull();
        },
      ),
      fuzzParams({ scale: 3 }),
    );
  });

  const KEY = 'decision-key-of-the-fuzz-tests-0123456789abcdef';
  const NOW = Date.parse('2026-02-09T13:05:00Z');
  const proven: fc.Arbitrary<ProvenDecision> = fc.record({
    workflowId: fc.string({ maxLength: 40 }),
    runId: fc.string({ maxLength: 40 }),
    step: fc.constantFrom('restart' as const, 'rollback' as const),
    decision: fc.constantFrom('approve' as const, 'reject' as const),
    by: fc.string({ maxLength: 20 }),
    prerequisiteConfirmed: fc.boolean(),
    emergency: fc.boolean(),
    restartAnyway: fc.boolean(),
    user: fc.string({ maxLength: 20 }),
    issuedAt: fc.integer({ min: -400_000, max: 400_000 }).map((skew) => new Date(NOW + skew).toISOString()),
  });

  it('a proof verifies only for the decision it signed, within five minutes, with the key; any other field or signature fails', () => {
    fc.assert(
      fc.property(proven, fc.constantFrom<keyof ProvenDecision>('workflowId', 'runId', 'step', 'decision', 'by', 'prerequisiteConfirmed', 'emergency', 'restartAnyway', 'user'), fc.oneof(fc.string({ maxLength: 80 }), fc.constant(undefined)), (d, field, forged) => {
        const signature = signDecision(KEY, d);
        const fresh = Math.abs(NOW - Date.parse(d.issuedAt)) <= 5 * 60_000;
        expect(verifyDecisionProof(KEY, d, signature, NOW).ok).toBe(fresh);
        expect(verifyDecisionProof(undefined, d, signature, NOW).ok).toBe(false);
        const other = { ...d, [field]: typeof d[field] === 'boolean' ? !d[field] : `${String(d[field])}x` };
        if (field === 'step') other.step = d.step === 'restart' ? 'rollback' : 'restart';
        if (field === 'decision') other.decision = d.decision === 'approve' ? 'reject' : 'approve';
        expect(verifyDecisionProof(KEY, other, signature, NOW).ok).toBe(false);
        if (forged !== undefined && forged !== signature) expect(verifyDecisionProof(KEY, d, forged, NOW).ok).toBe(false);
        expect(verifyDecisionProof(KEY, { ...d, issuedAt: forged ?? 'not a time' }, signature, NOW).ok).toBe(forged === d.issuedAt && fresh);
      }),
      fuzzParams({ scale: 2 }),
    );
  });
});
