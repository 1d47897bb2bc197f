import { describe, expect, it } from 'vitest';
import { EVIDENCE_LIMITS, LOG_CLASS_PRECEDENCE, classify, classifyDiagnosis, type FailureClass } from '../support/shipped-rules';
import type { Classification, ClassifierInput } from '../../domain/classification';
import type { DeploymentFacts, Diagnosis, KafkaCredentials, KafkaUserFacts, MissingSecret, PodFacts, ProbeResult } from '../../domain/diagnosis';

// ---------------------------------------------------------------------------------------------------
// What torghut-ws really prints, per class, in the three shapes the classifier must read.
// ---------------------------------------------------------------------------------------------------

const jsonLine = (level: string, message: string, stack?: string) =>
  JSON.stringify({
    '@timestamp': '2026-02-08T10:00:01.337Z',
    level,
    logger_name: 'ai.proompteng.dorvud.ws.ForwarderApp',
    thread_name: 'DefaultDispatcher-worker-3',
    message,
    ...(stack === undefined ? {} : { stack_trace: stack }),
  });

const frame = (code: number, msg: string) => `[{"T":"error","code":${code},"msg":"${msg}"}]`;

type FailureOnly = Exclude<FailureClass, 'healthy' | 'unknown'>;
type LogShape = 'plain' | 'json' | 'stack trace';

const LOGS: Record<FailureOnly, Record<LogShape, string[]>> = {
  alpaca_406_second_connection: {
    plain: [
      '2026-02-08T10:00:00.981Z INFO  AlpacaWsClient - connected to wss://stream.data.alpaca.markets/v2/sip',
      `2026-02-08T10:00:01.002Z ERROR AlpacaWsClient - received ${frame(406, 'connection limit exceeded')}`,
    ],
    json: [jsonLine('ERROR', `alpaca stream error ${frame(406, 'connection limit exceeded')}`)],
    'stack trace': [
      'Exception in thread "main" ai.proompteng.dorvud.ws.AlpacaStreamException: alpaca error code=406 msg=connection limit exceeded',
      '\tat ai.proompteng.dorvud.ws.AlpacaWsClient.awaitAuth(AlpacaWsClient.kt:142)',
      '\tat ai.proompteng.dorvud.ws.ForwarderApp$run$1.invokeSuspend(ForwarderApp.kt:77)',
      '\t... 6 more',
    ],
  },
  alpaca_auth: {
    plain: [`2026-02-08T10:00:01.002Z ERROR AlpacaWsClient - received ${frame(402, 'auth failed')}`],
    json: [jsonLine('ERROR', `alpaca auth rejected: ${frame(401, 'not authenticated')}`)],
    'stack trace': [
      'io.ktor.client.plugins.websocket.WebSocketException: Handshake exception, expected status code 101 but was 401',
      '\tat io.ktor.client.plugins.websocket.WebSockets$Plugin$install$2.invokeSuspend(WebSockets.kt:210)',
      '\tat kotlin.coroutines.jvm.internal.BaseContinuationImpl.resumeWith(ContinuationImpl.kt:33)',
    ],
  },
  kafka_auth: {
    plain: [
      '[Producer clientId=torghut-ws-1] Connection to node -1 (kafka-kafka-bootstrap.kafka/10.96.12.7:9092) failed authentication due to: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
    ],
    json: [
      jsonLine(
        'ERROR',
        'kafka producer failed',
        'org.apache.kafka.common.errors.TopicAuthorizationException: Not authorized to access topics: [torghut.trades.v1]\n\tat org.apache.kafka.clients.producer.KafkaProducer.doSend(KafkaProducer.java:1075)',
      ),
    ],
    'stack trace': [
      'ERROR ForwarderApp - producer closed',
      'org.apache.kafka.common.KafkaException: Failed to construct kafka producer',
      '\tat org.apache.kafka.clients.producer.KafkaProducer.<init>(KafkaProducer.java:465)',
      'Caused by: org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
      '\t... 12 common frames omitted',
    ],
  },
  kafka_metadata: {
    plain: ['2026-02-08T10:00:31.112Z ERROR KafkaSink - org.apache.kafka.common.errors.TimeoutException: Topic torghut.trades.v1 not present in metadata after 60000 ms.'],
    json: [jsonLine('WARN', '[Producer clientId=torghut-ws-1] Bootstrap broker kafka-kafka-bootstrap.kafka:9092 (id: -1 rack: null) disconnected')],
    'stack trace': [
      'java.util.concurrent.ExecutionException: org.apache.kafka.common.KafkaException: send failed',
      '\tat org.apache.kafka.clients.producer.internals.FutureRecordMetadata.valueOrError(FutureRecordMetadata.java:97)',
      'Caused by: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.',
    ],
  },
  kafka_produce: {
    plain: [
      '2026-02-08T10:02:00.001Z ERROR KafkaSink - org.apache.kafka.common.errors.TimeoutException: Expiring 12 record(s) for torghut.trades.v1-0:120000 ms has passed since batch creation',
    ],
    json: [
      jsonLine(
        'ERROR',
        'send failed',
        'org.apache.kafka.common.errors.RecordTooLargeException: The message is 1048688 bytes when serialized which is larger than 1048576, which is the value of the max.request.size configuration.',
      ),
    ],
    'stack trace': [
      'org.apache.kafka.common.KafkaException: Producer send failed',
      'Caused by: org.apache.kafka.common.errors.NotEnoughReplicasException: Messages are rejected since there are fewer in-sync replicas than required.',
      '\tat org.apache.kafka.clients.producer.internals.Sender.completeBatch(Sender.java:652)',
    ],
  },
};

const FAILURES = Object.keys(LOGS) as FailureOnly[];
const SHAPES: LogShape[] = ['plain', 'json', 'stack trace'];
const PROCEDURE: Record<FailureOnly, 'A' | 'B' | 'C'> = {
  alpaca_406_second_connection: 'A',
  alpaca_auth: 'B',
  kafka_auth: 'C',
  kafka_metadata: 'C',
  kafka_produce: 'C',
};

const readyz503 = (errorClass: string | null, gates: Record<string, boolean> = {}) => ({
  status: 503,
  body: JSON.stringify({ status: 'not_ready', ...(errorClass ? { error_class: errorClass } : {}), gates }),
});
const GATES: Record<FailureOnly, Record<string, boolean>> = {
  alpaca_406_second_connection: { alpaca_ws: false, kafka: true, trade_updates: true },
  alpaca_auth: { alpaca_ws: false, kafka: true, trade_updates: false },
  kafka_auth: { alpaca_ws: true, kafka: false, trade_updates: true },
  kafka_metadata: { alpaca_ws: true, kafka: false, trade_updates: true },
  kafka_produce: { alpaca_ws: true, kafka: false, trade_updates: true },
};
const readyz200 = { status: 200, body: '{"status":"ok","gates":{"alpaca_ws":true,"kafka":true,"trade_updates":true}}' };
const NOISE = [
  '2026-02-08T09:59:58.000Z INFO  ForwarderApp - starting torghut-ws 1.14.2',
  '2026-02-08T09:59:59.000Z INFO  KafkaSink - producer torghut-ws-1 ready, topics=[torghut.trades.v1, torghut.quotes.v1]',
];

const logText = (result: Classification) => result.evidence.filter((e) => e.source === 'logs').map((e) => e.text);

// ---------------------------------------------------------------------------------------------------

describe('readiness body alone (no logs)', () => {
  it.each(FAILURES)('/readyz 503 error_class=%s → that class and its procedure', (cls) => {
    const result = classify({ readiness: readyz503(cls, GATES[cls]), logLines: [] });
    expect(result).toMatchObject({ class: cls, procedure: PROCEDURE[cls], basis: 'readiness', conflict: false });
    expect(result.evidence[0]).toEqual({ source: 'readyz', text: expect.stringContaining(`"error_class":"${cls}"`) as string });
  });

  it('/readyz 503 error_class=unknown and quiet logs → unknown, a human investigates', () => {
    const result = classify({ readiness: readyz503('unknown', { alpaca_ws: true, kafka: true, trade_updates: false }), logLines: NOISE });
    expect(result).toMatchObject({ class: 'unknown', procedure: null, basis: 'readiness', conflict: false });
    expect(result.action).toMatch(/human/);
    expect(result.notes.join('\n')).toContain('trade_updates (the trade-updates stream)');
  });

  it('/readyz 200 and quiet logs → healthy, no action', () => {
    const result = classify({ readiness: readyz200, logLines: NOISE });
    expect(result).toEqual({ class: 'healthy', procedure: null, action: 'no action', basis: 'readiness', conflict: false, evidence: [expect.objectContaining({ source: 'readyz' })], notes: [] });
  });

  it('the gates contradicting the class are called out (kafka_auth while gates.kafka is true)', () => {
    const result = classify({ readiness: readyz503('kafka_auth', { alpaca_ws: false, kafka: true }), logLines: [] });
    expect(result.class).toBe('kafka_auth');
    expect(result.notes.join('\n')).toMatch(/gates .* do not point at kafka_auth/);
  });
});

describe('logs alone (no /readyz answer)', () => {
  const cases = FAILURES.flatMap((cls) => SHAPES.map((shape) => [cls, shape] as const));
  it.each(cases)('%s from %s logs', (cls, shape) => {
    const result = classify({ readiness: null, logLines: [...NOISE, ...LOGS[cls][shape]] });
    expect(result).toMatchObject({ class: cls, procedure: PROCEDURE[cls], basis: 'logs', conflict: false });
    const lines = logText(result);
    expect(lines.length).toBeGreaterThan(0);
    // Stack frames are never evidence; the exception line is.
    for (const line of lines) expect(line).not.toMatch(/^\s*at /);
  });

  it('quiet logs and no readiness → unknown (never healthy without a Ready probe)', () => {
    expect(classify({ readiness: null, logLines: NOISE })).toMatchObject({ class: 'unknown', basis: 'none', procedure: null });
  });

  it('an Alpaca 409 insufficient subscription is unknown, with a note', () => {
    const result = classify({ logLines: [`AlpacaWsClient - ${frame(409, 'insufficient subscription')}`] });
    expect(result.class).toBe('unknown');
    expect(result.basis).toBe('logs');
    expect(result.notes.join('\n')).toMatch(/409 \(insufficient subscription\).*a human investigates/);
  });

  it.each([
    [400, 'invalid syntax'],
    [405, 'symbol limit exceeded'],
    [407, 'slow client'],
    [410, 'invalid subscribe action'],
    [500, 'internal error'],
  ])('Alpaca %i %s alone is unknown', (code, msg) => {
    expect(classify({ logLines: [frame(code, msg)] }).class).toBe('unknown');
  });

  it('Alpaca 404 auth timeout is an auth failure (procedure B)', () => {
    expect(classify({ logLines: [`AlpacaWsClient ${frame(404, 'auth timeout')}`] })).toMatchObject({ class: 'alpaca_auth', procedure: 'B' });
  });

  it('HTTP 403 Forbidden on the WebSocket upgrade is an Alpaca auth failure', () => {
    const result = classify({ logLines: ["java.net.ProtocolException: Expected HTTP 101 response but was '403 Forbidden'"] });
    expect(result).toMatchObject({ class: 'alpaca_auth', procedure: 'B' });
  });

  it('a bare HTTP 403 on the Alpaca stream connection is an auth failure, not "already authenticated"', () => {
    const result = classify({ logLines: ['ERROR AlpacaWsClient - connect to wss://stream.data.alpaca.markets/v2/sip failed: HTTP 403'] });
    expect(result).toMatchObject({ class: 'alpaca_auth', procedure: 'B' });
  });

  it('an Alpaca error frame escaped inside a JSON message is recognised', () => {
    const line = JSON.stringify({ level: 'ERROR', message: JSON.stringify([{ T: 'error', code: 406, msg: 'connection limit exceeded' }]) });
    expect(classify({ logLines: [line] }).class).toBe('alpaca_406_second_connection');
  });

  it('kubectl logs --timestamps prefix before a JSON line', () => {
    const line = `2026-02-08T10:00:01.337000000Z ${jsonLine('ERROR', 'kafka', 'org.apache.kafka.common.errors.ClusterAuthorizationException: Cluster authorization failed.')}`;
    expect(classify({ logLines: [line] }).class).toBe('kafka_auth');
  });

  it('Kafka bootstrap that does not resolve is a metadata problem', () => {
    const line = "WARN NetworkClient - Couldn't resolve server kafka-kafka-bootstrap.kafak:9092 from bootstrap.servers as DNS resolution failed for kafka-kafka-bootstrap.kafak";
    expect(classify({ logLines: [line] }).class).toBe('kafka_metadata');
  });

  it('a failed Alpaca subscription send is not mistaken for a Kafka produce failure', () => {
    expect(classify({ logLines: ['WARN AlpacaWsClient - failed to send subscribe message, socket closed'] }).class).toBe('unknown');
  });
});

describe('readiness and logs disagree: readiness wins, conflict flagged', () => {
  const pairs: Array<[FailureOnly, FailureOnly]> = [
    ['alpaca_406_second_connection', 'kafka_produce'],
    ['alpaca_auth', 'alpaca_406_second_connection'],
    ['kafka_auth', 'kafka_metadata'],
    ['kafka_metadata', 'alpaca_auth'],
    ['kafka_produce', 'kafka_auth'],
  ];
  it.each(pairs)('/readyz says %s, logs say %s', (said, logged) => {
    const result = classify({ readiness: readyz503(said, GATES[said]), logLines: LOGS[logged].plain });
    expect(result).toMatchObject({ class: said, procedure: PROCEDURE[said], basis: 'readiness', conflict: true });
    const conflictNote = result.notes.find((n) => n.startsWith('conflict:'));
    expect(conflictNote).toContain(said);
    expect(conflictNote).toContain(logged);
    // The contrary log lines are still shown.
    expect(logText(result).length).toBeGreaterThan(0);
  });

  it('/readyz 200 while the logs still show a 406 → healthy, conflict flagged (recovered or flapping)', () => {
    const result = classify({ readiness: readyz200, logLines: LOGS.alpaca_406_second_connection.plain });
    expect(result).toMatchObject({ class: 'healthy', procedure: null, action: 'no action', conflict: true });
    expect(result.notes.join('\n')).toMatch(/recovered or be flapping/);
  });

  it('logs that show the same class confirm it (readiness+logs, no conflict)', () => {
    const result = classify({ readiness: readyz503('kafka_auth', GATES.kafka_auth), logLines: LOGS.kafka_auth.json });
    expect(result).toMatchObject({ class: 'kafka_auth', basis: 'readiness+logs', conflict: false });
  });

  it('logs that show the readiness class among others confirm it and mention the rest', () => {
    const result = classify({
      readiness: readyz503('kafka_produce', GATES.kafka_produce),
      logLines: [...LOGS.kafka_produce.plain, ...LOGS.kafka_metadata.plain],
    });
    expect(result).toMatchObject({ class: 'kafka_produce', basis: 'readiness+logs', conflict: false });
    expect(result.notes.join('\n')).toContain('also show kafka_metadata');
  });
});

describe('readiness unusable: the logs decide', () => {
  const logs = LOGS.kafka_metadata['stack trace'];
  it.each([
    ['pod unreachable', { status: null }],
    ['503 with an empty body', { status: 503, body: '' }],
    ['502 HTML page from a proxy', { status: 502, body: '<html>Bad Gateway</html>' }],
    ['body with wrong types', { status: 503, body: '{"error_class":42}' }],
  ])('%s → class from logs, with a note', (_what, readiness) => {
    const result = classify({ readiness, logLines: logs });
    expect(result).toMatchObject({ class: 'kafka_metadata', basis: 'logs', conflict: false });
    expect(result.notes.join('\n')).toMatch(/falling back to logs/);
    expect(result.evidence[0]?.source).toBe('readyz');
  });

  it('error_class unknown → logs fill in', () => {
    const result = classify({ readiness: readyz503('unknown'), logLines: LOGS.alpaca_auth.plain });
    expect(result).toMatchObject({ class: 'alpaca_auth', basis: 'logs', conflict: false });
  });

  it('an undocumented error_class is read as unknown, named in a note, and the logs fill in', () => {
    const result = classify({ readiness: readyz503('alpaca_rate_limited'), logLines: LOGS.alpaca_406_second_connection.json });
    expect(result.class).toBe('alpaca_406_second_connection');
    expect(result.notes.join('\n')).toContain('"alpaca_rate_limited" is not a documented class');
  });

  it('503 with no error_class but gates → logs decide, gates hint kept', () => {
    const result = classify({ readiness: readyz503(null, { alpaca_ws: true, kafka: false }), logLines: LOGS.kafka_produce.json });
    expect(result.class).toBe('kafka_produce');
    expect(result.notes.join('\n')).toContain('kafka (Kafka)');
  });

  it('unreachable and quiet logs → unknown', () => {
    expect(classify({ readiness: { status: null }, logLines: NOISE })).toMatchObject({ class: 'unknown', basis: 'none' });
  });
});

describe('Alpaca 403 "already authenticated" is not an outage', () => {
  const already = `AlpacaWsClient - ${frame(403, 'already authenticated')}`;

  it('with /readyz 200 → healthy, no conflict, a note explains', () => {
    const result = classify({ readiness: readyz200, logLines: [already] });
    expect(result).toMatchObject({ class: 'healthy', conflict: false });
    expect(result.notes.join('\n')).toMatch(/403 "already authenticated".*not an outage/);
  });

  it('alone, with no readiness → unknown, not alpaca_auth', () => {
    expect(classify({ logLines: [already] }).class).toBe('unknown');
  });

  it('next to a 406 → the 406 decides', () => {
    expect(classify({ logLines: [already, ...LOGS.alpaca_406_second_connection.plain] }).class).toBe('alpaca_406_second_connection');
  });

  it('an other Alpaca code next to a Kafka failure → the Kafka class', () => {
    expect(classify({ logLines: [frame(409, 'insufficient subscription'), ...LOGS.kafka_produce.plain] }).class).toBe('kafka_produce');
  });
});

describe('several classes in the logs: documented precedence', () => {
  it('the precedence is auth > metadata > produce > 406 > unknown', () => {
    expect(LOG_CLASS_PRECEDENCE).toEqual(['alpaca_auth', 'kafka_auth', 'kafka_metadata', 'kafka_produce', 'alpaca_406_second_connection', 'unknown']);
  });

  it.each<[FailureOnly[], FailureOnly]>([
    [['alpaca_406_second_connection', 'kafka_produce'], 'kafka_produce'],
    [['kafka_auth', 'alpaca_auth'], 'alpaca_auth'],
    [['kafka_produce', 'kafka_metadata', 'kafka_auth'], 'kafka_auth'],
    [['kafka_produce', 'kafka_metadata'], 'kafka_metadata'],
    [['alpaca_406_second_connection', 'alpaca_auth'], 'alpaca_auth'],
  ])('logs show %j → %s, and a note says why', (classes, expected) => {
    const result = classify({ logLines: classes.flatMap((c) => LOGS[c].plain) });
    expect(result.class).toBe(expected);
    expect(result.conflict).toBe(false);
    expect(result.notes.join('\n')).toMatch(/several failure classes .* by precedence/);
    // Every class seen keeps at least one line of evidence.
    expect(logText(result)).toHaveLength(classes.length);
  });

  it('406 together with Kafka failures → note that procedure A waits for Kafka (runbook A.2)', () => {
    const result = classify({ logLines: [...LOGS.alpaca_406_second_connection.plain, ...LOGS.kafka_metadata.plain] });
    expect(result.class).toBe('kafka_metadata');
    expect(result.notes.join('\n')).toContain('procedure A (restart) applies only once Kafka is confirmed healthy');
  });
});

describe('replicas and the 406', () => {
  it('406 with replicas=2 → procedure A, the second replica called out as the cause', () => {
    const result = classify({ readiness: readyz503('alpaca_406_second_connection', GATES.alpaca_406_second_connection), logLines: LOGS.alpaca_406_second_connection.plain, replicas: 2, target: { deployment: 'torghut-ws' } });
    expect(result.class).toBe('alpaca_406_second_connection');
    expect(result.evidence).toContainEqual({ source: 'deployment', text: 'replicas=2 (expected 1): a second replica causes Alpaca 406' });
    expect(result.action).toBe('Restart torghut-ws via GitOps: bump kubectl.kubernetes.io/restartedAt in deployment.yaml (reset replicas to 1)');
    expect(result.notes.join('\n')).toContain('likely cause of the 406');
  });

  it('406 with replicas=1 → a stale socket from a previous pod is the likely cause', () => {
    const result = classify({ logLines: LOGS.alpaca_406_second_connection.json, replicas: 1 });
    expect(result.evidence.some((e) => e.source === 'deployment')).toBe(false);
    expect(result.notes.join('\n')).toContain('stale socket');
  });

  it('replicas=2 during a Kafka incident is still flagged, as a note', () => {
    const result = classify({ readiness: readyz503('kafka_auth'), logLines: [], replicas: 2 });
    expect(result.class).toBe('kafka_auth');
    expect(result.notes.join('\n')).toContain('replicas=2 (expected 1)');
  });

  it('a runbook that expects 2 replicas does not flag 2', () => {
    const result = classify({ logLines: LOGS.alpaca_406_second_connection.plain, replicas: 2, expectedReplicas: 2 });
    expect(result.notes.join('\n')).not.toMatch(/replicas=2 \(expected/);
    expect(result.evidence.some((e) => e.source === 'deployment')).toBe(false);
  });
});

describe('actions name the runbook step', () => {
  it.each<[FailureClass, RegExp]>([
    ['alpaca_406_second_connection', /^Restart torghut-ws via GitOps: bump kubectl\.kubernetes\.io\/restartedAt/],
    ['alpaca_auth', /^A human rotates Alpaca credentials through SealedSecrets, then restart torghut-ws/],
    ['kafka_auth', /^A human fixes Kafka auth\/ACL \(check KafkaUser torghut-ws and KAFKA_BOOTSTRAP\), then restart/],
    ['kafka_metadata', /KAFKA_BOOTSTRAP/],
    ['kafka_produce', /then restart torghut-ws/],
  ])('%s', (cls, action) => {
    const result = classify({ readiness: readyz503(cls), logLines: [], target: { deployment: 'torghut-ws', kafkaUser: 'torghut-ws' } });
    expect(result.action).toMatch(action);
  });
});

describe('evidence stays small and readable', () => {
  it('at most 10 log lines, each at most 500 characters', () => {
    const lines = Array.from({ length: 60 }, (_, i) => `ERROR KafkaSink - Expiring ${i + 1} record(s) for torghut.trades.v${i}-0:120000 ms has passed since batch creation ${'x'.repeat(700)}`);
    const result = classify({ logLines: lines });
    expect(logText(result)).toHaveLength(EVIDENCE_LIMITS.logLines);
    for (const e of result.evidence) expect(e.text.length).toBeLessThanOrEqual(EVIDENCE_LIMITS.lineChars);
    for (const n of result.notes) expect(n.length).toBeLessThanOrEqual(EVIDENCE_LIMITS.noteChars);
  });

  it('a very long JSON line is cut around the signature, not at the start', () => {
    const line = jsonLine('ERROR', `${'padding '.repeat(200)} received ${frame(406, 'connection limit exceeded')}`);
    const [text] = logText(classify({ logLines: [line] }));
    expect(text!.length).toBeLessThanOrEqual(500);
    expect(text).toContain('connection limit exceeded');
  });

  it('the same error repeated every few seconds collapses into one line with a count', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `2026-02-08T10:00:${String(i).padStart(2, '0')}.000Z ERROR AlpacaWsClient - received ${frame(406, 'connection limit exceeded')}`);
    const texts = logText(classify({ logLines: lines }));
    expect(texts).toHaveLength(1);
    expect(texts[0]).toMatch(/^2026-02-08T10:00:39\.000Z .* \[×40\]$/);
  });

  it('with many lines of one class the conflicting class still shows', () => {
    const many = Array.from({ length: 30 }, (_, i) => `Expiring ${i} record(s) for torghut.trades.v1-${i}: ${i} ms has passed`);
    const result = classify({ readiness: readyz503('kafka_produce'), logLines: [...many, ...LOGS.kafka_auth.plain] });
    expect(logText(result).some((t) => t.includes('failed authentication'))).toBe(true);
  });

  it('is deterministic', () => {
    const input: ClassifierInput = { readiness: readyz503('unknown'), logLines: [...LOGS.kafka_auth['stack trace'], ...LOGS.alpaca_406_second_connection.json], replicas: 2 };
    expect(classify(input)).toEqual(classify(input));
  });
});

describe('secrets never reach the classification', () => {
  const ALPACA_KEY_ID = 'PKZ3Q9T2M8L4R7W1X5V6';
  const ALPACA_SECRET = 'q8Zr2LmN4pX7vT1wK9sB3dF6gH0jY5uE8cA2nQ4r';
  const SASL_PASSWORD = 's3cr3t-Kafka-pa55';
  const TOKEN = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';

  it('log lines that carry the Alpaca auth frame, a JAAS config and a token next to the failure', () => {
    const logLines = [
      `DEBUG AlpacaWsClient - send {"action":"auth","key":"${ALPACA_KEY_ID}","secret":"${ALPACA_SECRET}"} then ${frame(406, 'connection limit exceeded')}`,
      jsonLine('ERROR', `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="torghut-ws" password="${SASL_PASSWORD}"; failed authentication due to: invalid credentials with SASL mechanism SCRAM-SHA-512`),
      `ERROR Handshake exception, expected status code 101 but was 401 (APCA-API-SECRET-KEY: ${ALPACA_SECRET}, Authorization: Bearer ${TOKEN})`,
    ];
    const result = classify({
      readiness: { status: 503, body: JSON.stringify({ error_class: 'alpaca_auth', debug: { secret: ALPACA_SECRET, key: ALPACA_KEY_ID } }) },
      logLines,
      extraEvidence: [{ source: 'events', text: `Warning Failed pod/torghut-ws-abc: token=${TOKEN}` }],
      extraNotes: [`probes unavailable: GET https://agentruns:${SASL_PASSWORD}@apiserver/readyz failed`],
    });
    const json = JSON.stringify(result);
    for (const secret of [ALPACA_KEY_ID, ALPACA_SECRET, SASL_PASSWORD, TOKEN]) expect(json).not.toContain(secret);
    // …while the evidence is still useful.
    expect(result.class).toBe('alpaca_auth');
    expect(json).toContain('connection limit exceeded');
    expect(json).toContain('SCRAM-SHA-512');
    expect(result.evidence.map((e) => e.text).join('\n')).toContain('username=\\"torghut-ws\\" password=\\"[REDACTED]\\"');
  });

  it('an undocumented error_class carrying a token is redacted in the note', () => {
    const result = classify({ readiness: readyz503(TOKEN), logLines: [] });
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });
});

// ---------------------------------------------------------------------------------------------------
// classifyDiagnosis
// ---------------------------------------------------------------------------------------------------

const pod = (name: string, ready: boolean, restarts = 0): PodFacts => ({ name, phase: 'Running', ready, restarts });
const probe = (podName: string, status: number | null, body = '', path = '/readyz', error?: string): ProbeResult => ({
  pod: podName,
  path,
  status,
  body,
  ...(error === undefined ? {} : { error }),
});

const deploymentFacts = (): DeploymentFacts => ({
  name: 'torghut-ws',
  namespace: 'torghut',
  generation: 7,
  observedGeneration: 7,
  replicas: 1,
  readyReplicas: 0,
  updatedReplicas: 1,
  availableReplicas: 0,
  templateAnnotations: { 'kubectl.kubernetes.io/restartedAt': '2026-02-01T08:00:00Z' },
  conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }],
});

const READY: KafkaUserFacts = { name: 'torghut-ws', found: true, ready: 'True', secret: 'torghut-ws', username: 'torghut-ws' };
const NOT_READY: KafkaUserFacts = {
  name: 'torghut-ws',
  found: true,
  ready: 'False',
  reason: 'InvalidResourceException',
  message: 'Secret torghut-ws-password with requested user password does not exist.',
  username: 'torghut-ws',
};
const credentials = (kafkaUser: KafkaUserFacts = READY, missingSecrets: MissingSecret[] = []): KafkaCredentials => ({
  kafkaUser,
  expectedSecret: 'torghut-ws',
  missingSecrets,
});

function diagnosisOf(overrides: Partial<Diagnosis> = {}): Diagnosis {
  return {
    collectedAt: '2026-02-08T10:05:00Z',
    deployment: { ok: true, value: deploymentFacts() },
    pods: { ok: true, value: [pod('torghut-ws-7d9f8b6c5d-x2x9z', false, 3)] },
    events: {
      ok: true,
      value: [
        { type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503', object: 'Pod/torghut-ws-7d9f8b6c5d-x2x9z', count: 42 },
        { type: 'Normal', reason: 'Pulled', message: 'Container image already present', object: 'Pod/torghut-ws-7d9f8b6c5d-x2x9z', count: 1 },
      ],
    },
    logs: { ok: true, value: { pod: 'torghut-ws-7d9f8b6c5d-x2x9z', container: 'ws', lines: [...NOISE, ...LOGS.kafka_auth.plain], truncated: false } },
    probes: {
      ok: true,
      value: [
        probe('torghut-ws-7d9f8b6c5d-x2x9z', 200, 'ok', '/healthz'),
        probe('torghut-ws-7d9f8b6c5d-x2x9z', 503, readyz503('kafka_auth', GATES.kafka_auth).body),
      ],
    },
    kafkaCredentials: { ok: true, value: credentials() },
    gitops: {
      ok: true,
      value: { ref: 'main', replicas: 1, restartedAt: '2026-02-01T08:00:00Z', kafkaBootstrap: 'kafka-kafka-bootstrap.kafka:9092', liveKafkaBootstrap: 'kafka-kafka-bootstrap.kafka:9092' },
    },
    degraded: [],
    ...overrides,
  };
}

describe('classifyDiagnosis: from a read-only diagnosis', () => {
  it('Kafka SASL failure with the KafkaUser Ready → procedure C, the KafkaUser and its Secret in evidence', () => {
    const result = classifyDiagnosis(diagnosisOf(), { expectedReplicas: 1, kafkaUser: 'torghut-ws' });
    expect(result).toMatchObject({ class: 'kafka_auth', procedure: 'C', basis: 'readiness+logs', conflict: false });
    expect(result.action).toBe('A human fixes Kafka auth/ACL (check KafkaUser torghut-ws and KAFKA_BOOTSTRAP), then restart torghut-ws via GitOps');
    expect(result.evidence).toContainEqual({ source: 'kafkaUser', text: 'KafkaUser torghut-ws Ready (Secret torghut-ws, username torghut-ws)' });
    expect(result.notes.join('\n')).not.toMatch(/KafkaUser|Secret/);
    expect(result.evidence).toContainEqual({ source: 'events', text: expect.stringContaining('Readiness probe failed') as string });
    expect(result.evidence).toContainEqual({ source: 'deployment', text: expect.stringContaining('Deployment torghut/torghut-ws: replicas=1 ready=0') as string });
    expect(result.evidence.some((e) => e.text.includes('Pulled'))).toBe(false);
  });

  it('Kafka SASL failure with the KafkaUser NotReady → Strimzi\'s reason in evidence, a human fixes it before any restart', () => {
    const result = classifyDiagnosis(diagnosisOf({ kafkaCredentials: { ok: true, value: credentials(NOT_READY) } }), { expectedReplicas: 1, kafkaUser: 'torghut-ws' });
    expect(result).toMatchObject({ class: 'kafka_auth', procedure: 'C' });
    expect(result.evidence).toContainEqual({
      source: 'kafkaUser',
      text: 'KafkaUser torghut-ws not Ready (InvalidResourceException: Secret torghut-ws-password with requested user password does not exist.)',
    });
    expect(result.notes).toContain('KafkaUser torghut-ws is not Ready: a human fixes what Strimzi reports before any restart');
  });

  it('KafkaUser deleted → evidence and a note that a human restores it, so Strimzi recreates the Secret', () => {
    const result = classifyDiagnosis(diagnosisOf({ kafkaCredentials: { ok: true, value: credentials({ name: 'torghut-ws', found: false, ready: 'Unknown' }) } }), { expectedReplicas: 1 });
    expect(result.class).toBe('kafka_auth');
    expect(result.evidence).toContainEqual({ source: 'kafkaUser', text: 'KafkaUser torghut-ws not found: Strimzi manages no Kafka credentials for the forwarder' });
    expect(result.notes).toContain('KafkaUser torghut-ws does not exist: a human restores it (Strimzi then creates Secret torghut-ws) before any restart');
  });

  it('KafkaUser Ready but its Secret is not the one the forwarder reads → a mismatch a human aligns', () => {
    const result = classifyDiagnosis(diagnosisOf({ kafkaCredentials: { ok: true, value: credentials({ ...READY, secret: 'torghut-ws-v2' }) } }), { expectedReplicas: 1 });
    expect(result.evidence).toContainEqual({
      source: 'kafkaUser',
      text: 'KafkaUser torghut-ws Ready, but its credentials are in Secret torghut-ws-v2, not Secret torghut-ws as the runbook expects',
    });
    expect(result.notes.join('\n')).toContain('a human aligns them before any restart');
  });

  it('a restarted pod stuck in CreateContainerConfigError and the kubelet\'s event name the missing Secret', () => {
    const stuck = 'torghut-ws-5c7d9f8b6d-k4k2m';
    const failed = { type: 'Warning', reason: 'Failed', message: 'Error: secret "torghut-ws" not found', object: `Pod/${stuck}`, count: 12 };
    const result = classifyDiagnosis(
      diagnosisOf({
        kafkaCredentials: {
          ok: true,
          value: credentials(NOT_READY, [{ secret: 'torghut-ws', object: `Pod/${stuck}`, container: 'torghut-ws', reason: 'CreateContainerConfigError', message: 'secret "torghut-ws" not found' }]),
        },
        events: { ok: true, value: [failed] },
      }),
      { expectedReplicas: 1 },
    );
    expect(result.class).toBe('kafka_auth');
    expect(result.evidence).toContainEqual({ source: 'pods', text: `Pod/${stuck} container torghut-ws waiting (CreateContainerConfigError): secret "torghut-ws" not found` });
    // The event is evidence once, although it is both a Warning event and a missing-Secret report.
    expect(result.evidence.filter((e) => e.text.includes('Error: secret "torghut-ws" not found'))).toEqual([
      { source: 'events', text: `Warning Failed Pod/${stuck}: Error: secret "torghut-ws" not found [×12]` },
    ]);
    expect(result.notes).toContain('the kubelet reports Secret torghut-ws not found: a human fixes KafkaUser torghut-ws so that Strimzi recreates it, before any restart');
  });

  it('a FailedMount event naming the Secret is a problem even while the KafkaUser says Ready', () => {
    const mount = {
      type: 'Warning',
      reason: 'FailedMount',
      message: 'MountVolume.SetUp failed for volume "kafka-credentials" : secret "torghut-ws" not found',
      object: 'Pod/torghut-ws-7d9f8b6c5d-x2x9z',
      count: 3,
    };
    const result = classifyDiagnosis(diagnosisOf({ events: { ok: true, value: [mount] } }), { expectedReplicas: 1 });
    expect(result.evidence).toContainEqual({ source: 'kafkaUser', text: 'KafkaUser torghut-ws Ready (Secret torghut-ws, username torghut-ws)' });
    expect(result.evidence).toContainEqual({ source: 'events', text: expect.stringContaining('FailedMount Pod/torghut-ws-7d9f8b6c5d-x2x9z') as string });
    expect(result.notes.join('\n')).toContain('the kubelet reports Secret torghut-ws not found');
  });

  it('a KafkaUser that is not Ready is not pinned on an Alpaca 406', () => {
    const result = classifyDiagnosis(
      diagnosisOf({
        kafkaCredentials: { ok: true, value: credentials(NOT_READY) },
        probes: { ok: true, value: [probe('torghut-ws-7d9f8b6c5d-x2x9z', 503, readyz503('alpaca_406_second_connection').body)] },
      }),
      { expectedReplicas: 1 },
    );
    expect(result.class).toBe('alpaca_406_second_connection');
    expect(result.evidence.some((e) => e.source === 'kafkaUser')).toBe(false);
  });

  it('Kafka credentials unavailable (Strimzi not installed) → a note; the classification stands', () => {
    const error = 'the API server does not serve kafkausers.kafka.strimzi.io/v1beta2: is Strimzi installed?';
    const result = classifyDiagnosis(diagnosisOf({ kafkaCredentials: { ok: false, error }, degraded: ['kafkaCredentials'] }), { expectedReplicas: 1, kafkaUser: 'torghut-ws' });
    expect(result).toMatchObject({ class: 'kafka_auth', procedure: 'C' });
    expect(result.notes).toContain(`kafkaCredentials unavailable: ${error}`);
    expect(result.evidence.some((e) => e.source === 'kafkaUser')).toBe(false);
  });

  it('406 during a rollout with two pods: readiness from the pod that is not Ready, replicas=2 called out', () => {
    const d = diagnosisOf({
      deployment: { ok: true, value: { ...deploymentFacts(), replicas: 2 } },
      pods: { ok: true, value: [pod('torghut-ws-old-aaaaa', true), pod('torghut-ws-new-bbbbb', false)] },
      probes: { ok: true, value: [probe('torghut-ws-old-aaaaa', 200, '{"status":"ok"}'), probe('torghut-ws-new-bbbbb', 503, readyz503('alpaca_406_second_connection').body)] },
      logs: { ok: true, value: { pod: 'torghut-ws-new-bbbbb', container: 'ws', lines: LOGS.alpaca_406_second_connection.plain, truncated: false } },
      gitops: { ok: true, value: { ref: 'main', replicas: 1, restartedAt: null, kafkaBootstrap: null, liveKafkaBootstrap: null } },
    });
    const result = classifyDiagnosis(d, { expectedReplicas: 1 });
    expect(result).toMatchObject({ class: 'alpaca_406_second_connection', procedure: 'A', basis: 'readiness+logs' });
    expect(result.evidence).toContainEqual({ source: 'deployment', text: 'replicas=2 (expected 1): a second replica causes Alpaca 406' });
    expect(result.evidence).toContainEqual({ source: 'gitops', text: 'drift: GitOps deployment.yaml has replicas=1, the live Deployment has replicas=2' });
    expect(result.notes.join('\n')).toContain('readiness taken from pod torghut-ws-new-bbbbb (2 pods)');
    expect(result.notes.join('\n')).toContain('2 pods found (expected 1)');
  });

  it('KAFKA_BOOTSTRAP drifted from GitOps during a metadata failure → drift evidence', () => {
    const result = classifyDiagnosis(
      diagnosisOf({
        probes: { ok: true, value: [probe('torghut-ws-7d9f8b6c5d-x2x9z', 503, readyz503('kafka_metadata').body)] },
        logs: { ok: true, value: { pod: 'torghut-ws-7d9f8b6c5d-x2x9z', container: 'ws', lines: LOGS.kafka_metadata.json, truncated: false } },
        gitops: { ok: true, value: { ref: 'main', replicas: 2, restartedAt: null, kafkaBootstrap: 'kafka-kafka-bootstrap.kafka:9092', liveKafkaBootstrap: 'kafka-bootstrap.kafka-old:9092' } },
      }),
      { expectedReplicas: 1, kafkaUser: 'torghut-ws' },
    );
    expect(result.class).toBe('kafka_metadata');
    expect(result.evidence).toContainEqual({
      source: 'gitops',
      text: 'drift: GitOps configmap.yaml has KAFKA_BOOTSTRAP=kafka-kafka-bootstrap.kafka:9092, the live ConfigMap has kafka-bootstrap.kafka-old:9092',
    });
    expect(result.notes.join('\n')).toContain('GitOps deployment.yaml has replicas=2 (expected 1)');
  });

  it('degraded sources are notes, and the classification still stands on what remains', () => {
    const result = classifyDiagnosis(
      diagnosisOf({
        events: { ok: false, error: 'events is forbidden: User "system:serviceaccount:agentruns:worker" cannot list resource "events"' },
        gitops: { ok: false, error: 'GitHub 502 Bad Gateway' },
        degraded: ['events', 'gitops'],
      }),
      { expectedReplicas: 1 },
    );
    expect(result.class).toBe('kafka_auth');
    expect(result.notes).toContain('events unavailable: events is forbidden: User "system:serviceaccount:agentruns:worker" cannot list resource "events"');
    expect(result.notes).toContain('gitops unavailable: GitHub 502 Bad Gateway');
  });

  it('logs unavailable and readiness unknown → unknown, both gaps noted', () => {
    const result = classifyDiagnosis(
      diagnosisOf({
        logs: { ok: false, error: 'container "ws" in pod is waiting to start: CrashLoopBackOff' },
        probes: { ok: true, value: [probe('torghut-ws-7d9f8b6c5d-x2x9z', 503, readyz503('unknown').body)] },
        degraded: ['logs'],
      }),
      { expectedReplicas: 1 },
    );
    expect(result.class).toBe('unknown');
    expect(result.notes.join('\n')).toContain('logs unavailable: container "ws" in pod is waiting to start: CrashLoopBackOff');
    // A KafkaUser that is not Ready would be reported for unknown too; here it is Ready, so no line.
    expect(result.evidence.some((e) => e.source === 'kafkaUser')).toBe(false);
  });

  it('probe unreachable with an error → the error is a note and the logs decide', () => {
    const result = classifyDiagnosis(
      diagnosisOf({ probes: { ok: true, value: [probe('torghut-ws-7d9f8b6c5d-x2x9z', null, '', '/readyz', 'connect ECONNREFUSED 10.244.1.17:8080')] } }),
      { expectedReplicas: 1 },
    );
    expect(result).toMatchObject({ class: 'kafka_auth', basis: 'logs' });
    expect(result.notes.join('\n')).toContain('/readyz probe of pod torghut-ws-7d9f8b6c5d-x2x9z failed: connect ECONNREFUSED');
  });

  it('probes unavailable but every pod Ready → healthy on the kubelet\'s word (basis probes)', () => {
    const result = classifyDiagnosis(
      diagnosisOf({
        pods: { ok: true, value: [pod('torghut-ws-7d9f8b6c5d-x2x9z', true)] },
        probes: { ok: false, error: 'pods/proxy is forbidden' },
        logs: { ok: true, value: { pod: 'torghut-ws-7d9f8b6c5d-x2x9z', container: 'ws', lines: NOISE, truncated: false } },
        degraded: ['probes'],
      }),
      { expectedReplicas: 1 },
    );
    expect(result).toMatchObject({ class: 'healthy', basis: 'probes', action: 'no action' });
    expect(result.notes.join('\n')).toContain('probes unavailable: pods/proxy is forbidden');
  });

  it('no pods at all → unknown with a note', () => {
    const result = classifyDiagnosis(diagnosisOf({ pods: { ok: true, value: [] }, probes: { ok: true, value: [] } }), { expectedReplicas: 1 });
    expect(result).toMatchObject({ class: 'unknown', procedure: null });
    expect(result.notes[0]).toMatch(/no pods found/);
  });

  it('a degraded-source error that quotes a credential is redacted', () => {
    const result = classifyDiagnosis(
      diagnosisOf({ gitops: { ok: false, error: 'GET https://x-access-token:ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/org/repo failed' }, degraded: ['gitops'] }),
      { expectedReplicas: 1 },
    );
    expect(JSON.stringify(result)).not.toContain('ghp_16C7e42F292c6912E7710c838347Ae178B4a');
    expect(result.notes.join('\n')).toContain('gitops unavailable: GET https://x-access-token:[REDACTED]@github.com/org/repo failed');
  });
});
