/**
 * torghut-ws's failure knowledge as runbook data gives the classifications the TypeScript rules
 * gave: every input of every shipped scenario (test/support/classify-corpus.ts) was classified by
 * the old code into test/fixtures/classifications/torghut-ws-before.json before the rules moved.
 * The one intended difference: "no known failure signature" now names the window it scanned.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classify, logLineClass } from '../../domain/classify';
import type { Classification } from '../../domain/classification';
import { procedureOf } from '../../domain/approval';
import { classifierCorpus } from '../support/classify-corpus';
import { hostileLog } from '../support/hostile-log';
import { shippedRunbook, TORGHUT_WS } from '../support/shipped-rules';

interface Before {
  cases: Array<{ name: string; classification: Classification; prerequisite: string | null }>;
  lines: Array<{ line: string; class: string | null }>;
}
const before = JSON.parse(readFileSync(new URL('../fixtures/classifications/torghut-ws-before.json', import.meta.url), 'utf8')) as Before;
const corpus = await classifierCorpus();

const OLD_NOTHING_FOUND = 'no known failure signature in the logs';
const NEW_NOTHING_FOUND = /^no known failure signature in the logs scanned \((all \d+ log lines read)\)$/;

describe('torghut-ws classifies every scenario as before the rules became data', () => {
  it('the corpus is the one the fixture was captured from', () => {
    expect(corpus.cases.map((c) => c.name)).toEqual(before.cases.map((c) => c.name));
    expect(corpus.lines).toEqual(before.lines.map((l) => l.line));
    expect(before.cases.length).toBeGreaterThan(200);
  });

  it.each(before.cases.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    const old = before.cases[i]!;
    const input = corpus.cases[i]!.input;
    const now = classify(TORGHUT_WS, input);
    const renamed = now.notes.map((n) => (NEW_NOTHING_FOUND.test(n) ? OLD_NOTHING_FOUND : n));
    expect({ ...now, notes: renamed }).toEqual(old.classification);
    // Where the old note said nothing was found, the new one says in how many lines.
    const lines = Math.min(input.logLines.length, 5000);
    for (const n of now.notes.filter((n) => NEW_NOTHING_FOUND.test(n))) expect(n).toContain(`all ${lines} log lines read`);
    // The prerequisite a human confirms, and whether a restart may happen at all, come from the data.
    const procedure = procedureOf(TORGHUT_WS, now.class);
    expect(procedure?.prerequisite ?? null).toBe(old.prerequisite);
    expect(procedure === null || procedure.restart === 'forbidden').toBe(old.classification.procedure === null);
  });

  it('every scenario log line keeps its class (what the log excerpt keeps)', () => {
    expect(corpus.lines.map((line) => ({ line, class: logLineClass(TORGHUT_WS, line) }))).toEqual(before.lines);
  });
});

describe('the classifier says what it looked at', () => {
  const noise = (i: number) => `2026-02-09T13:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:00.000Z INFO  KafkaSink - batch ${i} sent to torghut.trades.v1`;
  const frame406 = '2026-02-09T13:57:59.431Z DEBUG a.p.d.ws.AlpacaMarketDataClient - <<< [{"T":"error","code":406,"msg":"connection limit exceeded"}]';

  it('a 406 10,000 lines before the end of a 50,000-line log: unknown in the last 5,000 lines scanned, and it says so', () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => (i === 40_000 ? frame406 : noise(i)));
    const result = classify(TORGHUT_WS, { readiness: null, logLines: lines });
    expect(result.class).toBe('unknown');
    expect(result.notes).toContain('no known failure signature in the logs scanned (the last 5,000 of 50,000 log lines)');
    expect(result.notes).toContain('only the last 5,000 of 50,000 log lines were scanned: a signature in the 45,000 older lines is not seen');
    expect(result.evidence).toContainEqual({ source: 'logs', text: 'log window: the last 5,000 of 50,000 log lines scanned' });
  });

  it('the same 406 within the window is found, and the window is still named', () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => (i === 48_000 ? frame406 : noise(i)));
    const result = classify(TORGHUT_WS, { readiness: null, logLines: lines });
    expect(result).toMatchObject({ class: 'alpaca_406_second_connection', procedure: 'A', basis: 'logs' });
    expect(result.evidence[0]).toEqual({ source: 'logs', text: 'log window: the last 5,000 of 50,000 log lines scanned' });
  });

  it('an excerpt of a longer tail (as the log activity keeps it) names the lines read, not only those kept', () => {
    const result = classify(TORGHUT_WS, { readiness: null, logLines: [noise(1), noise(2)], logWindow: { readLines: 200, scannedLines: 200, tailLimited: true } });
    expect(result.notes).toContain('no known failure signature in the logs scanned (all 200 log lines read, the most recent the pod printed: older lines were not read)');
  });
});

describe('bounded in time: a hostile 50,000-line log', () => {
  // No timed assertion (figures: scripts/classify-bench.ts); a pattern that backtracked without
  // bound would not finish within the test's timeout.
  it.each(['torghut-ws', 'quote-api'])('%s classifies it, scanning the last 5,000 lines, and finds nothing', { timeout: 60_000 }, (name) => {
    const knowledge = shippedRunbook(name).failures!;
    const result = classify(knowledge, { readiness: null, logLines: hostileLog() });
    expect(result.class).toBe('unknown');
    expect(result.evidence).toEqual([{ source: 'logs', text: 'log window: the last 5,000 of 50,000 log lines scanned' }]);
  });
});
