/**
 * Byte bounds on everything an incident keeps, returns, queries or passes to an activity. Temporal
 * refuses a payload over 2 MiB (and warns long before); whoever can send an alert or a signal could
 * otherwise grow the incident until its `status` query fails and its next command terminates it.
 *
 * Sizes are measured as the payload is: JSON-encoded UTF-8, where a control byte becomes `\u0000`
 * (six bytes) and a quote `\"`. Pure and deterministic: the workflow bounds what it receives, and
 * the ingress and activities bound what they send.
 */
import type { AlertInfo } from './incident';

/** Caps of the incident state, in JSON-encoded bytes unless named otherwise. */
export const STATE_BOUNDS = {
  alertLabels: 64,
  alertLabelBytes: 1024,
  alertAnnotationsBytes: 8 * 1024,
  alertAnnotationBytes: 2 * 1024,
  alertFieldBytes: 1024,
  alertEvents: 20,
  refusals: 50,
  refusalReasonBytes: 500,
  notes: 50,
  noteBytes: 1000,
  commentBytes: 2000,
} as const;

/** JSON-encoded size of one character code (UTF-16 unit), as in a JSON string. */
function encodedUnitBytes(code: number): number {
  if (code === 0x22 || code === 0x5c) return 2; // \" \\
  if (code < 0x20) return code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdfff) return 2; // half of a 4-byte pair
  return 3;
}

/** The JSON-encoded UTF-8 size of a string, quotes excluded. */
export function jsonStringBytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) bytes += encodedUnitBytes(text.charCodeAt(i));
  return bytes;
}

/** The JSON-encoded UTF-8 size of any value. */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 0 : jsonStringBytes(text);
}

/** The longest prefix of `text` whose JSON-encoded size fits `maxBytes`, marked with … when cut. */
export function clip(text: string, maxBytes: number): string {
  if (jsonStringBytes(text) <= maxBytes) return text;
  const budget = Math.max(0, maxBytes - 3);
  let bytes = 0;
  let end = 0;
  for (; end < text.length; end++) {
    const size = encodedUnitBytes(text.charCodeAt(end));
    if (bytes + size > budget) break;
    bytes += size;
  }
  // Never split a surrogate pair.
  if (end > 0 && end < text.length && text.charCodeAt(end - 1) >= 0xd800 && text.charCodeAt(end - 1) <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** A string map cut to `maxKeys` keys, each key and value clipped, the whole within `maxTotalBytes`. */
export function boundStringMap(
  value: unknown,
  limits: { maxKeys: number; maxValueBytes: number; maxTotalBytes: number },
): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  let total = 2;
  let kept = 0;
  for (const [rawKey, rawValue] of Object.entries(value as Record<string, unknown>)) {
    if (kept >= limits.maxKeys) break;
    if (typeof rawValue !== 'string') continue;
    const key = clip(rawKey, 128);
    const entry = clip(rawValue, limits.maxValueBytes);
    const size = jsonStringBytes(key) + jsonStringBytes(entry) + 6;
    if (total + size > limits.maxTotalBytes) break;
    out[key] = entry;
    total += size;
    kept++;
  }
  return out;
}

/** The most deliveries one signal may stand for (a bound on what a forged signal can claim). */
const MAX_REPEATS = 100_000;

const optionalField = (value: unknown): string | undefined =>
  typeof value === 'string' ? clip(value, STATE_BOUNDS.alertFieldBytes) : undefined;

/**
 * An alert as the incident keeps it: only the known fields, each bounded. Accepts anything (a
 * signal's payload is whatever its sender wrote) and never throws.
 */
export function boundAlert(alert: unknown): AlertInfo {
  const a = (typeof alert === 'object' && alert !== null ? alert : {}) as Record<string, unknown>;
  const out: AlertInfo = {
    labels: boundStringMap(a.labels, {
      maxKeys: STATE_BOUNDS.alertLabels,
      maxValueBytes: STATE_BOUNDS.alertLabelBytes,
      maxTotalBytes: STATE_BOUNDS.alertLabels * 64,
    }),
  };
  const annotations = boundStringMap(a.annotations, {
    maxKeys: STATE_BOUNDS.alertLabels,
    maxValueBytes: STATE_BOUNDS.alertAnnotationBytes,
    maxTotalBytes: STATE_BOUNDS.alertAnnotationsBytes,
  });
  if (Object.keys(annotations).length > 0) out.annotations = annotations;
  for (const field of ['alertname', 'fingerprint', 'startsAt', 'generatorURL'] as const) {
    const value = optionalField(a[field]);
    if (value !== undefined) out[field] = value;
  }
  if (typeof a.repeats === 'number' && Number.isSafeInteger(a.repeats) && a.repeats > 1 && a.repeats <= MAX_REPEATS) out.repeats = a.repeats;
  return out;
}

/** Appends to a capped list, dropping the oldest; returns how many were dropped. */
export function pushCapped<T>(list: T[], item: T, max: number): number {
  list.push(item);
  const over = list.length - max;
  if (over > 0) list.splice(0, over);
  return Math.max(0, over);
}
