/**
 * Redaction under fuzzing: a generated corpus of realistic secrets (test/fuzz/support/secret-corpus.ts)
 * in every form a log line, a readiness body or an alert annotation carries them, plus arbitrary text.
 * Properties: no piece of a secret survives (redaction holds), redacting again changes nothing
 * (idempotent), the line count is kept and the output is bounded by the input, and the ingress's
 * logger never writes a secret, whatever field or message carries it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify } from '../support/shipped-rules';
import { REDACTED, redact, redactLines } from '../../domain/redact';
import { createLogger } from '../../ingress/logger';
import { fuzzParams } from './support/fuzz-runs';
import { annotationsWithSecret, leaks, readinessBodyWithSecret, secretFragment, secretLines } from './support/secret-corpus';

/** Pieces that steer the redactor's state machine: quotes, escapes, names, PEM markers, URLs. */
const tricky = fc.constantFrom(
  '"', "'", '\\', '\\"', '\\\\\\"', 'password=', 'password: ', '"password":"', 'secret=\\"', 'token ', 'bearer ', 'Authorization: ',
  '-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----', 'https://u:', '@host/', '\n', '\r\n', REDACTED, '[REDAC…', '…', '=', ':', ',', '}', '{',
);
/** Text built from those pieces, the corpus' fragments and arbitrary strings (any code point). */
const hostileText = fc
  .array(fc.oneof(tricky, secretFragment.map((f) => f.fragment), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 })), { maxLength: 25 })
  .map((parts) => parts.join(''));

describe('redaction holds: no piece of a realistic secret survives', () => {
  it('in a log line (plain, JSON, JSON inside JSON) or split across lines, through redactLines and redact', () => {
    fc.assert(
      fc.property(secretLines, (c) => {
        const lines = redactLines(c.lines);
        expect(leaks(lines.join('\n'), c.secrets), `${c.kind}: ${c.lines.join('⏎')} → ${lines.join('⏎')}`).toEqual([]);
        expect(leaks(redact(c.lines.join('\n')), c.secrets), c.kind).toEqual([]);
      }),
      fuzzParams({ scale: 5 }),
    );
  });

  it('in a JSON log line redaction keeps the line JSON', () => {
    fc.assert(
      fc.property(secretLines.filter((c) => c.lines.length === 1 && c.lines[0]!.startsWith('{')), (c) => {
        const out = redact(c.lines[0]!);
        expect(() => JSON.parse(out) as unknown, `${c.kind}: ${out}`).not.toThrow();
      }),
      fuzzParams(),
    );
  });

  it('in a readiness body and the log tail, through the classifier: nothing in its evidence or notes', () => {
    fc.assert(
      fc.property(readinessBodyWithSecret, fc.array(secretLines.filter((c) => c.lines.length === 1), { maxLength: 4 }), (body, logs) => {
        const lines = logs.flatMap((c) => c.lines);
        const result = classify({ readiness: { status: 503, body: body.body }, logLines: [...lines, '<<< [{"T":"error","code":406,"msg":"connection limit exceeded"}]'] });
        const secrets = [...body.secrets, ...logs.flatMap((c) => c.secrets)];
        expect(leaks(JSON.stringify(result), secrets), body.kind).toEqual([]);
      }),
      fuzzParams(),
    );
  });

  it('in alert annotations, log fields, error messages and causes: the ingress logger writes none of it', () => {
    fc.assert(
      fc.property(annotationsWithSecret, secretLines, secretFragment, (alert, line, message) => {
        const written: string[] = [];
        const log = createLogger({ stream: { write: (chunk: string) => written.push(chunk) > 0 }, level: 'debug' });
        const err = new Error(`upstream said: ${line.lines.join('\n')}`, { cause: new Error(message.fragment) });
        log.child({ requestId: 'r1' }).warn(`rejected: ${message.fragment}`, { annotations: alert.annotations, first: [{ error: line.lines.join('\n') }], err });
        const text = written.join('');
        expect(leaks(text, [...alert.secrets, ...line.secrets, ...message.secrets]), `${alert.kind} / ${line.kind} / ${message.kind}: ${text}`).toEqual([]);
        for (const record of text.trim().split('\n')) expect(() => JSON.parse(record) as unknown).not.toThrow();
      }),
      fuzzParams(),
    );
  });
});

describe('redaction is idempotent and bounded on any text', () => {
  it('redacting twice gives the text of redacting once (corpus lines and hostile text)', () => {
    fc.assert(
      fc.property(fc.oneof(secretLines.map((c) => c.lines), fc.array(hostileText, { maxLength: 6 })), (lines) => {
        const once = redactLines(lines);
        expect(redactLines(once)).toEqual(once);
        const joined = redact(lines.join('\n'));
        expect(redact(joined)).toBe(joined);
      }),
      fuzzParams({ scale: 5 }),
    );
  });

  it('the same number of lines, in order; never longer than a mask per character and line', () => {
    fc.assert(
      fc.property(fc.array(hostileText, { maxLength: 6 }), (lines) => {
        const out = redactLines(lines);
        expect(out).toHaveLength(lines.length);
        out.forEach((line, i) => expect(line.length).toBeLessThanOrEqual(REDACTED.length * (lines[i]!.length + 1)));
        const total = lines.reduce((n, l) => n + l.length, 0);
        expect(out.reduce((n, l) => n + l.length, 0)).toBeLessThanOrEqual(total + REDACTED.length * (lines.length + total));
      }),
      fuzzParams({ scale: 5 }),
    );
  });
});
