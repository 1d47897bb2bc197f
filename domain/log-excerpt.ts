/**
 * The bounded excerpt of a log tail that the incident keeps. A tail may be a megabyte of control
 * bytes and escaped JSON (several megabytes once JSON-encoded); the incident needs only what the
 * classifier reads and what a human wants to see. So the log activity keeps, within a byte budget:
 * first a few of the most recent lines of every failure class the tail shows (by the runbook's
 * signatures) (so no class is
 * crowded out by another's flood), then the other signature lines, newest first, then the newest
 * lines; each line clipped; the result in the tail's own order. The classifier scans the same
 * window (the last EVIDENCE_LIMITS.scanLines lines), so its verdict on the excerpt is the same as on
 * the whole tail.
 */
import { EVIDENCE_LIMITS, logLineClass } from './classify';
import { clip, jsonStringBytes } from './bounds';
import type { FailureKnowledge } from './failure-knowledge';

export const LOG_EXCERPT_LIMITS = {
  /** JSON-encoded bytes of all kept lines together. */
  maxBytes: 64 * 1024,
  /** JSON-encoded bytes of one kept line. */
  lineBytes: 2 * 1024,
  /** Signature lines kept per failure class before any other line. */
  perClass: 3,
  /** Newest lines kept for context once the signature lines are in. */
  newest: 60,
} as const;

export interface LogExcerpt {
  lines: string[];
  /** Lines of the tail as read. */
  totalLines: number;
  /** Lines the excerpt was chosen from (the most recent ones). */
  scannedLines: number;
  /** Lines of the scanned window left out. */
  omittedLines: number;
}

export function logExcerpt(knowledge: FailureKnowledge, all: readonly string[], limits: typeof LOG_EXCERPT_LIMITS = LOG_EXCERPT_LIMITS): LogExcerpt {
  const offset = Math.max(0, all.length - EVIDENCE_LIMITS.scanLines);
  const window = all.slice(offset);
  const clipped = window.map((line) => clip(String(line), limits.lineBytes));
  const classes = clipped.map((line) => logLineClass(knowledge, line));
  const chosen = new Set<number>();
  let used = 0;
  const take = (index: number): boolean => {
    if (chosen.has(index)) return true;
    const size = jsonStringBytes(clipped[index]!) + 3;
    if (used + size > limits.maxBytes) return false;
    chosen.add(index);
    used += size;
    return true;
  };
  const newestFirst = [...clipped.keys()].reverse();
  const perClass = new Map<string, number>();
  for (const i of newestFirst) {
    const cls = classes[i];
    if (!cls || (perClass.get(cls) ?? 0) >= limits.perClass) continue;
    if (take(i)) perClass.set(cls, (perClass.get(cls) ?? 0) + 1);
  }
  for (const i of newestFirst) if (classes[i] && !take(i)) break;
  let context = 0;
  for (const i of newestFirst) {
    if (context >= limits.newest || !take(i)) break;
    context++;
  }
  const lines = [...chosen].sort((a, b) => a - b).map((i) => clipped[i]!);
  return { lines, totalLines: all.length, scannedLines: window.length, omittedLines: window.length - lines.length };
}
