import { describe, expect, it } from 'vitest';
import { REDACTED, redact, redactLines } from '../../domain/redact';

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
    ];
    for (const sample of samples) {
      const once = redact(sample);
      expect(redact(once)).toBe(once);
    }
  });

  it('redactLines masks every line and keeps their order and count', () => {
    const out = redactLines([`token=${GITHUB_CLASSIC}`, 'plain line', `secret: ${ALPACA_SECRET}`]);
    expect(out).toEqual([`token=${REDACTED}`, 'plain line', `secret: ${REDACTED}`]);
  });

  it('a long line of word characters is handled quickly (no catastrophic backtracking)', () => {
    const long = `${'a'.repeat(200_000)} key`;
    const started = performance.now();
    redact(long);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
