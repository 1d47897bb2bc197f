/**
 * Large inputs (measurement 8): the classifier on a 50,000-line log and on a 1 MB readiness body,
 * in this process, timed over several runs, with the heap's growth while it runs (the classifier
 * keeps bounded evidence, so its memory must not follow the input's size).
 */
import { classify } from '../../domain/classify';
import type { FailureKnowledge } from '../../domain/failure-knowledge';
import { figure, type Figure } from './stats';

function log50k(): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 50_000; i++) {
    if (i % 997 === 0) lines.push(`2026-03-01T10:15:${String(i % 60).padStart(2, '0')}Z ERROR alpaca ws: [{"T":"error","code":406,"msg":"connection limit exceeded"}]`);
    else lines.push(`2026-03-01T10:15:${String(i % 60).padStart(2, '0')}Z INFO forwarded trade batch seq=${i} symbols=AAPL,MSFT,NVDA size=${i % 500} kafka.topic=torghut.trades.v1`);
  }
  return lines;
}

function readiness1MB(): string {
  const padding = 'x'.repeat(1024 * 1024 - 200);
  return JSON.stringify({ status: 'not_ready', error_class: 'alpaca_406_second_connection', gates: { alpaca_ws: false, kafka: true, trade_updates: false }, detail: padding });
}

export interface LargeInputFigures {
  log50k: Figure;
  readiness1MB: Figure;
  heapGrowthMiB: number;
  classifiedAs: string[];
}

export function measureLargeInputs(knowledge: FailureKnowledge, runs: number): LargeInputFigures {
  const lines = log50k();
  const body = readiness1MB();
  const logTimes: number[] = [];
  const bodyTimes: number[] = [];
  const classes = new Set<string>();
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    classes.add(classify(knowledge, { logLines: lines, replicas: 1 }).class);
    logTimes.push(performance.now() - t);
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    t = performance.now();
    classes.add(classify(knowledge, { readiness: { status: 503, body }, logLines: [], replicas: 1 }).class);
    bodyTimes.push(performance.now() - t);
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  }
  return { log50k: figure(logTimes), readiness1MB: figure(bodyTimes), heapGrowthMiB: Math.round(((heapPeak - heapBefore) / 2 ** 20) * 10) / 10, classifiedAs: [...classes] };
}
