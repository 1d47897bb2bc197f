import { describe, expect, it } from 'vitest';
import { MAX_QUOTE_CONTINUATION, REDACTED, redact, redactLines } from '../../domain/redact';

// Realistic-looking secrets (none of them real). Each test asserts the VALUE is gone.
const ALPACA_KEY_ID = 'AKXXXXXXXXXXXXXXXX';
const ALPACA_KEY_ID_LIVE = 'PKZ3Q9T2M8L4R7W1X5V6';
const ALPACA_SECRET = 'q8Zr2LmN4pX7vT1wK9sB3dF6gH0jY5uE8cA2nQ4r';
const SASL_PASSWORD = 's3cr3t-Kafka-pa55';
const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6ImFyZ29jZCJ9.eyJzdWIiOiJhZ2VudHJ1bnMiLCJpc3MiOiJhcmdvY2QifQ.dGhpc2lzbm90YXJlYWxzaWduYXR1cmVhdGFsbA';
const GITHUB_CLASSIC = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';
const GITHUB_FINE = 'github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOP0123456789abcdefghijk';
const SLACK_BOT = 'xoxb-2094812345-5512345678901-AbCdEfGhIjKlMnOpQrStUvWx';
const SLACK_APP = 'xapp-1-A0123BCDEFG-4567890123456-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d';

function expectGone(output: string, ...secrets: string[]): void {
  for (const secret of secrets) expect(output).not.toContain(secret);
  expect(output).toContain(REDACTED);
}

describe('Alpaca credentials', () => {
  it('auth frame sent on connect: key and secret are masked, the action survives', () => {
    const line = `2026-02-08T10:00:00.120Z DEBUG AlpacaWsClient - send {"action":"auth","key":"${ALPACA_KEY_ID}","secret":"${ALPACA_SECRET}"}`;
    const out = redact(line);
    expectGone(out, ALPACA_KEY_ID, ALPACA_SECRET);
    expect(out).toBe(`2026-02-08T10:00:00.120Z DEBUG AlpacaWsClient - send {"action":"auth","key":"${REDACTED}","secret":"${REDACTED}"}`);
  });

  it('auth frame logged inside a JSON log line (escaped quotes)', () => {
    const line = JSON.stringify({
      '@timestamp': '2026-02-08T10:00:00Z',
      level: 'DEBUG',
      message: `send {"action":"auth","key":"${ALPACA_KEY_ID_LIVE}","secret":"${ALPACA_SECRET}"}`,
    });
    const out = redact(line);
    expectGone(out, ALPACA_KEY_ID_LIVE, ALPACA_SECRET);
    // Still valid JSON after redaction.
    expect(() => JSON.parse(out) as unknown).not.toThrow();
  });

  it('APCA-API-KEY-ID / APCA-API-SECRET-KEY as HTTP headers, env vars and JSON keys', () => {
    const lines = [
      `APCA-API-KEY-ID: ${ALPACA_KEY_ID_LIVE}`,
      `APCA-API-SECRET-KEY: ${ALPACA_SECRET}`,
      `APCA_API_KEY_ID=${ALPACA_KEY_ID_LIVE} APCA_API_SECRET_KEY=${ALPACA_SECRET}`,
      `{"headers":{"APCA-API-KEY-ID":"${ALPACA_KEY_ID_LIVE}","APCA-API-SECRET-KEY":"${ALPACA_SECRET}"}}`,
    ];
    for (const line of lines) {
      const out = redact(line);
      expectGone(out, ALPACA_KEY_ID_LIVE, ALPACA_SECRET);
      expect(out).toMatch(/APCA[-_]API[-_](?:KEY[-_]ID|SECRET[-_]KEY)/);
    }
  });

  it('a key ID or secret on its own, outside any key=value', () => {
    expectGone(redact(`rotated key ${ALPACA_KEY_ID_LIVE} yesterday`), ALPACA_KEY_ID_LIVE);
    expectGone(redact(`leaked ${ALPACA_SECRET} in a stack dump`), ALPACA_SECRET);
  });
});

describe('HTTP authorization', () => {
  it('Authorization: Bearer JWT keeps the scheme', () => {
    const out = redact(`Authorization: Bearer ${JWT}`);
    expectGone(out, JWT, JWT.split('.')[1]!);
    expect(out).toBe(`Authorization: Bearer ${REDACTED}`);
  });

  it('Authorization: Basic and a JSON header map', () => {
    const basic = 'dG9yZ2h1dDpodW50ZXIy';
    expect(redact(`authorization: Basic ${basic}`)).toBe(`authorization: Basic ${REDACTED}`);
    const json = redact(`{"Authorization":"Bearer ${GITHUB_CLASSIC}","Accept":"application/json"}`);
    expectGone(json, GITHUB_CLASSIC);
    expect(json).toContain('"Accept":"application/json"');
  });

  it('a bearer token mentioned outside a header, and a JWT alone', () => {
    expectGone(redact(`retrying with bearer ${JWT}`), JWT);
    expectGone(redact(`argocd token=${JWT}`), JWT);
    expectGone(redact(`session ${JWT} expired`), JWT);
  });

  it('credentials in a URL keep the user and host', () => {
    const out = redact('connecting to https://torghut:hunter2-pa55@kafka-ui.internal:9443/api');
    expect(out).toBe(`connecting to https://torghut:${REDACTED}@kafka-ui.internal:9443/api`);
  });

  it('cookies', () => {
    expectGone(redact('Cookie: argocd.token=abc123def456; other=1'), 'abc123def456');
  });
});

describe('Kafka SASL configuration', () => {
  it('sasl.jaas.config with a SCRAM password: username survives, password does not', () => {
    const line = `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="torghut-ws" password="${SASL_PASSWORD}";`;
    const out = redact(line);
    expectGone(out, SASL_PASSWORD);
    expect(out).toBe(
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="torghut-ws" password="${REDACTED}";`,
    );
  });

  it('sasl.jaas.config inside a JSON log line and in a ProducerConfig dump', () => {
    const json = JSON.stringify({ message: `sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="torghut-ws" password="${SASL_PASSWORD}";` });
    expectGone(redact(json), SASL_PASSWORD);
    expectGone(redact(`\tsasl.password = ${SASL_PASSWORD}`), SASL_PASSWORD);
    expectGone(redact(`KAFKA_SASL_PASSWORD: '${SASL_PASSWORD}'`), SASL_PASSWORD);
  });

  it("Kafka's own [hidden] placeholder is left readable", () => {
    expect(redact('\tsasl.jaas.config = [hidden]')).toBe('\tsasl.jaas.config = [hidden]');
  });

  it('a password cut off by the log byte limit (unterminated quote) is still masked', () => {
    expectGone(redact(`ScramLoginModule required username="torghut-ws" password="${SASL_PASSWORD}`), SASL_PASSWORD);
  });
});

describe('tokens of the tools the automation talks to', () => {
  it('GitHub classic and fine-grained tokens', () => {
    expectGone(redact(`git push https://x-access-token:${GITHUB_CLASSIC}@github.com/org/repo`), GITHUB_CLASSIC);
    expectGone(redact(`GITHUB_TOKEN is ${GITHUB_CLASSIC}`), GITHUB_CLASSIC);
    expectGone(redact(`using ${GITHUB_FINE}`), GITHUB_FINE);
  });

  it('Slack bot and app tokens and webhook URLs', () => {
    expectGone(redact(`slack client ${SLACK_BOT} / ${SLACK_APP}`), SLACK_BOT, SLACK_APP);
    expectGone(redact('posting to https://hooks.slack.com/services/T024BE7LH/B0123456/abcdefghijklmnop'), 'abcdefghijklmnop');
  });

  it('long base64 blobs (a Secret data value, a private key line)', () => {
    const blob = 'c2FzbC5qYWFzLmNvbmZpZz1vcmcuYXBhY2hlLmthZmthLmNvbW1vbi5zZWN1cml0eQ==';
    expectGone(redact(`data: ${blob}`), blob);
    expectGone(redact(`  password: ${blob}`), blob);
    expectGone(redact('-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-----END PRIVATE KEY-----'), 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
  });
});

describe('leaks closed (issue 7 §8): every input keeps no part of its secret', () => {
  it('a JAAS password="…" split across two log lines is masked on both (redactLines carries the open quote)', () => {
    const lines = [
      '2026-02-09T13:45:19.460Z INFO ForwarderConfig - sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="torghut-ws" password="Zk8vQ2mX',
      '7pLr4TnW9sYb"; security.protocol=SASL_PLAINTEXT',
      'org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed',
    ];
    const out = redactLines(lines);
    expectGone(out.join('\n'), 'Zk8vQ2mX', '7pLr4TnW9sYb');
    expect(out[0]).toMatch(/username="torghut-ws" password="\[REDACTED\]$/);
    expect(out[1]).toBe(`${REDACTED}"; security.protocol=SASL_PLAINTEXT`);
    expect(out[2]).toBe(lines[2]);
    // redact() of the same text as one string does the same, line by line.
    expect(redact(lines.join('\n'))).toBe(out.join('\n'));
  });

  it('redis://:pw@host (no user) keeps the host', () => {
    expect(redact('connecting to redis://:Rd5pw-2026@redis-master.torghut:6379/0')).toBe(`connecting to redis://:${REDACTED}@redis-master.torghut:6379/0`);
  });

  it('postgres://u:pa/ss@db: a "/" in the password does not end it', () => {
    expect(redact('DATABASE_URL=postgres://torghut:pa/ss9w0rd@db.torghut:5432/ws')).toBe(`DATABASE_URL=postgres://torghut:${REDACTED}@db.torghut:5432/ws`);
  });

  it('https://u:p@ss@host: an "@" in the password does not end it; an "@" later in the query is not the host', () => {
    expect(redact('GET https://torghut:p@ss@kafka-ui.internal/api')).toBe(`GET https://torghut:${REDACTED}@kafka-ui.internal/api`);
    expect(redact('GET https://torghut:pw1@kafka-ui.internal/api?owner=ops@example.com')).toBe(
      `GET https://torghut:${REDACTED}@kafka-ui.internal/api?owner=ops@example.com`,
    );
  });

  it('basic.auth.user.info=user:pw (schema registry credentials)', () => {
    expect(redact('basic.auth.user.info=torghut-ws:Sr7pass')).toBe(`basic.auth.user.info=${REDACTED}`);
    expect(redact('\tbasic.auth.user.info = torghut-ws:Sr7pass')).toBe(`\tbasic.auth.user.info = ${REDACTED}`);
  });

  it('a docker config auths entry: the short base64 auth and the password are masked, the registry stays', () => {
    const config = '{"auths":{"ghcr.io":{"username":"torghut-bot","password":"Dk9pw","auth":"dG9yZ2h1dDpEazlw"}}}';
    const out = redact(config);
    expectGone(out, 'Dk9pw', 'dG9yZ2h1dDpEazlw');
    expect(out).toBe(`{"auths":{"ghcr.io":{"username":"torghut-bot","password":"${REDACTED}","auth":"${REDACTED}"}}}`);
    expect(() => JSON.parse(out) as unknown).not.toThrow();
  });

  it('short base64 after a credential word, without = or : (Basic outside a header, secret …)', () => {
    expect(redact('retrying with basic dG9yZ2h1dDpodW50ZXIy')).toBe(`retrying with basic ${REDACTED}`);
    expect(redact('loaded secret c2VjcmV0MQ== from env')).toBe(`loaded secret ${REDACTED} from env`);
    expect(redact('token Zk8vQ2mX7pLr')).toBe(`token ${REDACTED}`);
  });

  it.each([
    ['pass=', 'pass=Hq3Lz9', 'pass'],
    ['pwd=', 'MYSQL_PWD=Hq3Lz9', 'MYSQL_PWD'],
    ['auth=', 'redis auth=Hq3Lz9 ok', 'redis auth'],
    ['ssl.key.passphrase=', 'ssl.key.passphrase=Hq3Lz9', 'ssl.key.passphrase'],
    ['dbPass: (camelCase segment)', 'dbPass: Hq3Lz9', 'dbPass'],
  ])('%s', (_name, line, kept) => {
    const out = redact(line);
    expectGone(out, 'Hq3Lz9');
    expect(out).toContain(kept);
  });

  it('KAFKA_PASSWORD=Xy7;kLm9&Qw2,zz: ; & and , belong to an unquoted KEY=value', () => {
    expect(redact('KAFKA_PASSWORD=Xy7;kLm9&Qw2,zz KAFKA_USER=torghut-ws')).toBe(`KAFKA_PASSWORD=${REDACTED} KAFKA_USER=torghut-ws`);
  });

  it('password: correct horse battery (YAML-ish): the rest of the line, spaces included', () => {
    expect(redact('  password: correct horse battery')).toBe(`  password: ${REDACTED}`);
    // Inside a JSON log line the value ends with the JSON string, so the line stays JSON.
    const json = JSON.stringify({ level: 'warn', message: 'login failed, password: correct horse battery', pod: 'torghut-ws-0' });
    const out = redact(json);
    expectGone(out, 'correct', 'horse', 'battery');
    expect(JSON.parse(out)).toEqual({ level: 'warn', message: `login failed, password: ${REDACTED}`, pod: 'torghut-ws-0' });
  });

  it('an escaped quote inside a JSON secret does not end it (plain JSON and JSON inside a JSON log line)', () => {
    const frame = JSON.stringify({ action: 'auth', key: ALPACA_KEY_ID, secret: 'q8Zr"2Lm\\"N4p' });
    expect(redact(frame)).toBe(`{"action":"auth","key":"${REDACTED}","secret":"${REDACTED}"}`);
    const logged = JSON.stringify({ level: 'DEBUG', message: `send ${frame}` });
    const out = redact(logged);
    expectGone(out, 'q8Zr', '2Lm', 'N4p');
    const { message } = JSON.parse(out) as { message: string };
    expect(JSON.parse(message.slice('send '.length))).toEqual({ action: 'auth', key: REDACTED, secret: REDACTED });
  });

  it('bearer followed by a token without digits', () => {
    expect(redact('retrying with bearer qwertyuiopasdfghjkl')).toBe(`retrying with bearer ${REDACTED}`);
    expect(redact('upstream said: Bearer AbCdEfGhIjKlMnOp')).toBe(`upstream said: Bearer ${REDACTED}`);
  });
});

describe('lines: what one line leaves open for the next', () => {
  it('a quoted secret may continue over a few lines and closes on the first matching quote', () => {
    const out = redactLines(['password="abc', 'def', 'ghi" then token=Zk8vQ2mX7p', 'plain line']);
    expect(out).toEqual([`password="${REDACTED}`, REDACTED, `${REDACTED}" then token=${REDACTED}`, 'plain line']);
  });

  it(`an unterminated quote stops carrying after ${MAX_QUOTE_CONTINUATION} more lines (a cut line, not a password)`, () => {
    const lines = ['password="abc', ...Array.from({ length: MAX_QUOTE_CONTINUATION }, (_, i) => `wrapped ${i}`), 'Caused by: SaslAuthenticationException'];
    const out = redactLines(lines);
    expect(out.slice(1, -1).every((l) => l === REDACTED)).toBe(true);
    expect(out.at(-1)).toBe('Caused by: SaslAuthenticationException');
  });

  it('a value already masked and cut by an excerpt opens nothing, so a PR body quoting it keeps its next lines', () => {
    const body = [`**Evidence**: password="${REDACTED}…`, 'SaslAuthenticationException: Authentication failed', `password="[REDAC…`, 'next "quoted" line'];
    expect(redactLines(body)).toEqual(body);
  });

  it.each([
    ['…', 'an ellipsis (fuzz seed 215203733)'],
    ['[REDAC…', 'a mask cut by an excerpt (fuzz seed 2000)'],
  ])('a PEM key after %s in a quoted value (%s): masked once, and a second redaction changes nothing', (before) => {
    const once = redactLines([`"password":"${before}-----BEGIN PRIVATE KEY-----`, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC']);
    expect(once).toEqual([`"password":"${before}${REDACTED}`, REDACTED]);
    expect(redactLines(once)).toEqual(once);
  });

  it('a URL whose path holds a base64 run and a later "@" (fuzz seed 3000): masked once, and a second redaction changes nothing', () => {
    const once = redact(`git push https://x-access-token:ghp_${'A'.repeat(36)}@github.com/proompteng/lab${'A'.repeat(34)}==@host/`);
    expectGone(once, 'ghp_');
    expect(redact(once)).toBe(once);
  });

  it('a quoted value that only looks like a cut mask is still masked', () => {
    expect(redact('"password":"[REDACTEDx')).toBe(`"password":"${REDACTED}`);
    expect(redact('"password":"[R3dacted…')).toBe(`"password":"${REDACTED}`);
  });

  it('a PEM private key over several lines is masked to its END line', () => {
    const out = redactLines(['key follows:', '-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEA', 'xK9f2LmQ', '-----END RSA PRIVATE KEY----- loaded', 'ready']);
    expect(out).toEqual(['key follows:', REDACTED, REDACTED, REDACTED, `${REDACTED} loaded`, 'ready']);
  });

  it('a JSON-escaped quote opened on one line closes on the same escaping level on the next', () => {
    const out = redactLines(['{"message":"password=\\"abc', 'd\\\\\\"e\\"; rest"}']);
    expect(out).toEqual([`{"message":"password=\\"${REDACTED}`, `${REDACTED}\\"; rest"}`]);
  });
});

describe('useful text survives so the evidence stays readable', () => {
  const keep = [
    '2026-02-08T10:00:00.123Z ERROR AlpacaWsClient torghut-ws-7d9f8b6c5d-x2x9z [{"T":"error","code":406,"msg":"connection limit exceeded"}]',
    '[{"T":"error","code":402,"msg":"auth failed"}]',
    '[{"T":"error","code":403,"msg":"already authenticated"}]',
    '{"status":"not_ready","error_class":"alpaca_406_second_connection","gates":{"alpaca_ws":false,"kafka":true,"trade_updates":true}}',
    'org.apache.kafka.common.errors.TimeoutException: Topic torghut.trades.v1 not present in metadata after 60000 ms.',
    'Caused by: org.apache.kafka.common.errors.TopicAuthorizationException: Not authorized to access topics: [torghut.trades.v1]',
    'org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
    '[Producer clientId=producer-1] Bootstrap broker kafka-kafka-bootstrap.kafka:9092 (id: -1 rack: null) disconnected',
    'org.apache.kafka.common.errors.TimeoutException: Expiring 12 record(s) for torghut.trades.v1-0:120000 ms has passed since batch creation',
    '\tat ai.proompteng.dorvud.ws.ForwarderApp$run$1.invokeSuspend(ForwarderApp.kt:123)',
    'GET /api/v1/namespaces/torghut/pods/torghut-ws-7d9f8b6c5d-x2x9z/proxy/readyz -> 503',
    'commit 3f2b9c0d1e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b bumped kubectl.kubernetes.io/restartedAt',
    'incident 0b9c6f5e-4d3a-4b2c-9a1f-8e7d6c5b4a39 opened for torghut-ws',
    'Secret torghut-ws exists (data keys: password, sasl.jaas.config)',
    'KAFKA_BOOTSTRAP=kafka-kafka-bootstrap.kafka:9092',
    'alpaca stream rejected: code=406 msg="connection limit exceeded"',
    'org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed',
    '\tsasl.jaas.config = [hidden]',
    '\tbasic.auth.user.info = [hidden]',
    '\tssl.key.password = null',
    'ProducerConfig values: acks = -1 sasl.jaas.config = [hidden] sasl.mechanism = SCRAM-SHA-512',
    'WWW-Authenticate: Bearer realm="agentruns"',
    'bearer authentication failed for torghut-ws',
    'Secret torghut-ws-kafka referenced by the pod',
    'bypass=false compass: north',
    'https://kafka-ui.internal/api?owner=ops@example.com',
  ];
  it.each(keep)('%s', (line) => {
    expect(redact(line)).toBe(line);
  });
});

describe('properties', () => {
  it('redacting twice gives the same text as redacting once', () => {
    const samples = [
      `{"action":"auth","key":"${ALPACA_KEY_ID}","secret":"${ALPACA_SECRET}"}`,
      `APCA-API-SECRET-KEY: ${ALPACA_SECRET}`,
      `Authorization: Bearer ${JWT}`,
      `username="torghut-ws" password="${SASL_PASSWORD}";`,
      `${GITHUB_CLASSIC} ${SLACK_BOT}`,
      'KAFKA_PASSWORD=Xy7;kLm9&Qw2,zz password: correct horse battery',
      'redis://:pw@host postgres://u:pa/ss@db https://u:p@ss@host',
      JSON.stringify({ message: 'send {"secret":"a\\"b","x":1} password: x y' }),
      'bearer qwertyuiopasdfghjkl basic dG9yZ2h1dDpodW50ZXIy',
    ];
    for (const sample of samples) {
      const once = redact(sample);
      expect(redact(once)).toBe(once);
    }
    const split = ['password="abc', 'def"; ok', '-----BEGIN PRIVATE KEY-----', 'MIIE', '-----END PRIVATE KEY-----'];
    const once = redactLines(split);
    expect(redactLines(once)).toEqual(once);
  });

  it('redactLines masks every line and keeps their order and count', () => {
    const out = redactLines([`token=${GITHUB_CLASSIC}`, 'plain line', `secret: ${ALPACA_SECRET}`]);
    expect(out).toEqual([`token=${REDACTED}`, 'plain line', `secret: ${REDACTED}`]);
  });

  it('long lines are handled quickly (no catastrophic backtracking)', () => {
    const lines = [`${'a'.repeat(200_000)} key`, 'a.'.repeat(100_000), 'password="'.repeat(20_000), 'token: '.repeat(30_000)];
    for (const long of lines) {
      const started = performance.now();
      redact(long);
      expect(performance.now() - started).toBeLessThan(2000);
    }
  });
});

describe('gaps the fuzzer found (test/fuzz/redaction.test.ts)', () => {
  it('a credential name glued to a token masked by its shape is masked in the same pass', () => {
    // 64 hex characters and the name make one 83-character word: longer than any credential name.
    const line = `slack client xapp-1-A0123BCDEFG-4567890123456-${'0a1b2c3d'.repeat(8)}KAFKA_SASL_PASSWORD: Hq3Lz9pW2x`;
    const out = redact(line);
    expectGone(out, 'Hq3Lz9pW2x');
    expect(redact(out)).toBe(out);
  });

  it('a PEM block inside a quoted value: the rest of the value up to its closing quote is masked too', () => {
    const line = 'password="ab-----BEGIN PRIVATE KEY-----MIIEvQ-----END PRIVATE KEY-----Zk8vQ2mX7p" user=torghut-ws';
    const out = redact(line);
    expectGone(out, 'Zk8vQ2mX7p', 'MIIEvQ');
    expect(out).toBe(`password="${REDACTED}${REDACTED}" user=torghut-ws`);
    expect(redact(out)).toBe(out);
  });

  it.each([
    ['a header value next to a PEM block', 'Authorization: x-----BEGIN PRIVATE KEY-----'],
    ['an open escaped quote before a PEM block', 'secret=\\"-----BEGIN PRIVATE KEY----------END PRIVATE KEY-----\u0000'],
    ['a bearer token, a PEM block and an open quote', `Authorization: Bearer ${JWT}-----BEGIN PRIVATE KEY----------END PRIVATE KEY-----secret=\\"`],
    ['a quoted value closed after two masks', '"password":"password: -----BEGIN PRIVATE KEY-----sasl.jaas.config=x required username="torghut-ws" password="Hq3Lz9pW2x";'],
  ])('redacting again changes nothing: %s', (_name, line) => {
    const once = redact(line);
    expect(redact(once)).toBe(once);
  });
});
