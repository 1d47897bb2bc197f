/**
 * Reading the forwarder's `/readyz` answer. The body is untrusted input: it is parsed with a schema
 * that tolerates extra fields, and every outcome — ready, not ready, no answer, garbage — is a value,
 * never an exception, so the classifier can fall back to logs whenever the body does not help.
 *
 * Readiness follows the kubelet: an HTTP status from 200 to 399 is Ready whatever the body says.
 * When the status is unknown (a body pasted into the CLI), the body alone decides: no `error_class`
 * and every reported gate true (or `status` "ok"/"ready") is Ready.
 */
import { z } from 'zod';
import { READINESS_ERROR_CLASSES, type ReadinessErrorClass } from './classification';

export { READINESS_ERROR_CLASSES, type ReadinessErrorClass };

export const readinessGatesSchema = z.looseObject({
  alpaca_ws: z.boolean().optional(),
  kafka: z.boolean().optional(),
  trade_updates: z.boolean().optional(),
});

export const readinessBodySchema = z.looseObject({
  status: z.string().optional(),
  /** Any string is accepted here; an unrecognised one is read as `unknown` with a note. */
  error_class: z.string().nullish(),
  gates: readinessGatesSchema.optional(),
});
export type ReadinessBody = z.infer<typeof readinessBodySchema>;

export interface ReadinessGates {
  alpaca_ws?: boolean;
  kafka?: boolean;
  trade_updates?: boolean;
}

export type ReadinessReading =
  | { kind: 'ready'; httpStatus: number | null; gates?: ReadinessGates }
  | {
      kind: 'not-ready';
      httpStatus: number | null;
      /** The documented class, `unknown` for an unrecognised one, null when the body names none. */
      errorClass: ReadinessErrorClass | null;
      gates: ReadinessGates;
      /** The body's `error_class` as sent (capped) when it was not a documented class. */
      rawClass?: string;
      /** Why `errorClass` is `unknown` although the body named a class. */
      note?: string;
    }
  | { kind: 'missing'; httpStatus: number | null; reason: string }
  | { kind: 'malformed'; httpStatus: number | null; reason: string };

const RAW_CLASS_MAX = 80;
const READY_STATUS_WORDS = new Set(['ok', 'ready', 'healthy', 'up', 'pass']);

function isReadyStatus(status: number | null): boolean {
  return status !== null && status >= 200 && status < 400;
}

function normaliseStatus(status: number | null): number | null {
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599 ? status : null;
}

function gatesOf(body: ReadinessBody): ReadinessGates {
  const gates: ReadinessGates = {};
  const source = body.gates;
  if (source?.alpaca_ws !== undefined) gates.alpaca_ws = source.alpaca_ws;
  if (source?.kafka !== undefined) gates.kafka = source.kafka;
  if (source?.trade_updates !== undefined) gates.trade_updates = source.trade_updates;
  return gates;
}

function isDocumentedClass(value: string): value is ReadinessErrorClass {
  return (READINESS_ERROR_CLASSES as readonly string[]).includes(value);
}

type BodyParse = { ok: true; body: ReadinessBody } | { ok: false; reason: string };

function parseBody(text: string): BodyParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's own message quotes the body, which may hold secrets: say only what is wrong.
    return { ok: false, reason: 'body is not valid JSON' };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, reason: `body is JSON but not an object (${Array.isArray(json) ? 'array' : json === null ? 'null' : typeof json})` };
  }
  const parsed = readinessBodySchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    return { ok: false, reason: `body does not match the readiness schema (${issues})` };
  }
  return { ok: true, body: parsed.data };
}

/** True when a body read without an HTTP status says the forwarder can make progress. */
function bodySaysReady(body: ReadinessBody, gates: ReadinessGates): boolean {
  if (body.error_class) return false;
  const values = Object.values(gates);
  if (values.includes(false)) return false;
  if (values.length > 0) return true;
  return body.status !== undefined && READY_STATUS_WORDS.has(body.status.trim().toLowerCase());
}

/**
 * Read a `/readyz` answer: `httpStatus` null when the probe could not reach the pod (or the status is
 * not known), `body` undefined when there was none. Never throws.
 */
export function parseReadiness(httpStatus: number | null, body: string | undefined): ReadinessReading {
  const status = normaliseStatus(httpStatus);
  const text = typeof body === 'string' ? body.replace(/^\uFEFF/, '').trim() : '';

  if (isReadyStatus(status)) {
    const parsed = text ? parseBody(text) : undefined;
    return parsed?.ok ? { kind: 'ready', httpStatus: status, gates: gatesOf(parsed.body) } : { kind: 'ready', httpStatus: status };
  }
  if (!text) {
    return {
      kind: 'missing',
      httpStatus: status,
      reason: status === null ? 'no response (pod unreachable or not probed)' : `HTTP ${status} with an empty body`,
    };
  }

  const parsed = parseBody(text);
  if (!parsed.ok) return { kind: 'malformed', httpStatus: status, reason: status === null ? parsed.reason : `HTTP ${status}: ${parsed.reason}` };

  const gates = gatesOf(parsed.body);
  if (status === null && bodySaysReady(parsed.body, gates)) return { kind: 'ready', httpStatus: null, gates };

  const raw = parsed.body.error_class?.trim().toLowerCase();
  if (!raw) return { kind: 'not-ready', httpStatus: status, errorClass: null, gates };
  if (isDocumentedClass(raw)) return { kind: 'not-ready', httpStatus: status, errorClass: raw, gates };
  const sent = parsed.body.error_class?.trim() ?? raw;
  const rawClass = sent.length > RAW_CLASS_MAX ? `${sent.slice(0, RAW_CLASS_MAX)}…` : sent;
  return {
    kind: 'not-ready',
    httpStatus: status,
    errorClass: 'unknown',
    gates,
    rawClass,
    note: `/readyz error_class "${rawClass}" is not a documented class; read as unknown`,
  };
}
