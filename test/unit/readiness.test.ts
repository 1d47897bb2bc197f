import { describe, expect, it } from 'vitest';
import { parseReadiness as parseBy } from '../../domain/readiness';
import { READINESS_ERROR_CLASSES, TORGHUT_READINESS } from '../support/shipped-rules';

const parseReadiness = (status: number | null, text: string | undefined) => parseBy(status, text, TORGHUT_READINESS);

const body = (errorClass: string | null, gates: Record<string, unknown> = { alpaca_ws: false, kafka: true, trade_updates: true }, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ status: 'not_ready', ...(errorClass === null ? {} : { error_class: errorClass }), gates, ...extra });

describe('the forwarder answers /readyz', () => {
  it('200 is Ready whatever the body says', () => {
    expect(parseReadiness(200, 'ok')).toEqual({ kind: 'ready', httpStatus: 200 });
    expect(parseReadiness(200, undefined)).toEqual({ kind: 'ready', httpStatus: 200 });
    expect(parseReadiness(200, '{"status":"ready","gates":{"alpaca_ws":true,"kafka":true,"trade_updates":true}}')).toEqual({
      kind: 'ready',
      httpStatus: 200,
      gates: { alpaca_ws: true, kafka: true, trade_updates: true },
    });
  });

  it.each(READINESS_ERROR_CLASSES.filter((c) => c !== 'unknown'))('503 with error_class %s', (errorClass) => {
    const reading = parseReadiness(503, body(errorClass));
    expect(reading).toEqual({
      kind: 'not-ready',
      httpStatus: 503,
      errorClass,
      gates: { alpaca_ws: false, kafka: true, trade_updates: true },
    });
  });

  it('503 with error_class unknown', () => {
    expect(parseReadiness(503, body('unknown'))).toMatchObject({ kind: 'not-ready', errorClass: 'unknown' });
  });

  it('503 naming a class the runbook does not know is read as unknown, keeping what was sent', () => {
    const reading = parseReadiness(503, body('alpaca_rate_limited'));
    expect(reading).toMatchObject({ kind: 'not-ready', errorClass: 'unknown', rawClass: 'alpaca_rate_limited' });
    expect(reading.kind === 'not-ready' && reading.note).toContain('alpaca_rate_limited');
  });

  it('an absurdly long unknown class is capped', () => {
    const reading = parseReadiness(503, body('x'.repeat(5000)));
    expect(reading.kind === 'not-ready' && reading.rawClass!.length).toBeLessThanOrEqual(81);
  });

  it('error_class in upper case still matches the documented class', () => {
    expect(parseReadiness(503, body('KAFKA_AUTH'))).toMatchObject({ kind: 'not-ready', errorClass: 'kafka_auth' });
  });

  it('503 without error_class: not ready, class unknown to the body (null), gates kept', () => {
    expect(parseReadiness(503, body(null, { kafka: false }))).toEqual({ kind: 'not-ready', httpStatus: 503, errorClass: null, gates: { kafka: false } });
    expect(parseReadiness(503, '{"error_class":null}')).toEqual({ kind: 'not-ready', httpStatus: 503, errorClass: null, gates: {} });
  });

  it('extra fields from a newer forwarder are tolerated and dropped', () => {
    const reading = parseReadiness(
      503,
      body('kafka_metadata', { alpaca_ws: true, kafka: false, trade_updates: true, schema_registry: false }, { since: '2026-02-08T10:00:00Z', version: 3 }),
    );
    expect(reading).toEqual({
      kind: 'not-ready',
      httpStatus: 503,
      errorClass: 'kafka_metadata',
      gates: { alpaca_ws: true, kafka: false, trade_updates: true },
    });
  });

  it('a UTF-8 BOM and surrounding whitespace do not break parsing', () => {
    expect(parseReadiness(503, `\uFEFF  ${body('alpaca_auth')}\n`)).toMatchObject({ kind: 'not-ready', errorClass: 'alpaca_auth' });
  });
});

describe('no usable answer', () => {
  it('pod unreachable (no status, no body) is missing', () => {
    expect(parseReadiness(null, undefined)).toMatchObject({ kind: 'missing', httpStatus: null });
  });

  it('503 with an empty body is missing, and says so', () => {
    const reading = parseReadiness(503, '   ');
    expect(reading).toMatchObject({ kind: 'missing', httpStatus: 503 });
    expect(reading.kind === 'missing' && reading.reason).toContain('empty body');
  });

  it('an HTML error page from a proxy is malformed', () => {
    const reading = parseReadiness(502, '<html><body>Bad Gateway</body></html>');
    expect(reading).toMatchObject({ kind: 'malformed', httpStatus: 502 });
    expect(reading.kind === 'malformed' && reading.reason).toContain('not valid JSON');
  });

  it('the malformed reason never quotes the body (it could hold a secret)', () => {
    const reading = parseReadiness(503, 'password=hunter2-Kafka not json');
    expect(JSON.stringify(reading)).not.toContain('hunter2');
  });

  it.each([
    ['an array', '[{"error_class":"kafka_auth"}]'],
    ['a string', '"kafka_auth"'],
    ['null', 'null'],
    ['a number', '503'],
  ])('JSON that is %s is malformed', (_what, text) => {
    expect(parseReadiness(503, text)).toMatchObject({ kind: 'malformed' });
  });

  it('wrong types in known fields are malformed, naming the field', () => {
    const reading = parseReadiness(503, '{"error_class":406,"gates":{"kafka":"yes"}}');
    expect(reading.kind).toBe('malformed');
    expect(reading.kind === 'malformed' && reading.reason).toMatch(/error_class/);
    expect(reading.kind === 'malformed' && reading.reason).toMatch(/gates\.kafka/);
  });

  it('a nonsense HTTP status is treated as unknown, never as Ready', () => {
    expect(parseReadiness(Number.NaN, body('alpaca_auth'))).toMatchObject({ kind: 'not-ready', httpStatus: null, errorClass: 'alpaca_auth' });
    expect(parseReadiness(9999, undefined)).toMatchObject({ kind: 'missing' });
  });
});

describe('a body pasted into the CLI (HTTP status unknown)', () => {
  it('all gates true and no error_class is Ready', () => {
    expect(parseReadiness(null, '{"gates":{"alpaca_ws":true,"kafka":true,"trade_updates":true}}')).toMatchObject({ kind: 'ready', httpStatus: null });
  });

  it('status "ok" with no gates and no error_class is Ready', () => {
    expect(parseReadiness(null, '{"status":"ok"}')).toMatchObject({ kind: 'ready' });
  });

  it('one gate false is not Ready', () => {
    expect(parseReadiness(null, '{"gates":{"alpaca_ws":true,"kafka":false}}')).toMatchObject({ kind: 'not-ready', errorClass: null });
  });

  it('an error_class wins over gates that look fine', () => {
    expect(parseReadiness(null, body('alpaca_406_second_connection', { alpaca_ws: true, kafka: true }))).toMatchObject({
      kind: 'not-ready',
      errorClass: 'alpaca_406_second_connection',
    });
  });

  it('an empty object says nothing: not Ready, no class', () => {
    expect(parseReadiness(null, '{}')).toEqual({ kind: 'not-ready', httpStatus: null, errorClass: null, gates: {} });
  });
});

describe('never throws', () => {
  it.each([
    ['deeply nested JSON', `${'['.repeat(5000)}${']'.repeat(5000)}`],
    ['a huge body', `{"error_class":"kafka_auth","pad":"${'x'.repeat(1_000_000)}"}`],
    ['__proto__ tricks', '{"__proto__":{"error_class":"alpaca_auth"},"constructor":{"prototype":{}}}'],
    ['binary garbage', '\u0000\u0001\u0002\uFFFD'],
  ])('%s', (_what, text) => {
    expect(() => parseReadiness(503, text)).not.toThrow();
  });
});
