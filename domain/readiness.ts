/**
 * Reading a service's readiness answer. The body is untrusted input: it is parsed with a schema that
 * tolerates extra fields, and every outcome — ready, not ready, no answer, garbage — is a value,
 * never an exception, so the classifier can fall back to logs whenever the body does not help. Where
 * the body names its class and gates is the runbook's (`failures.readiness`): torghut-ws answers
 * `{"error_class": "kafka_auth", "gates": {"kafka": false}}`, another service may nest it elsewhere.
 *
 * Readiness follows the kubelet: an HTTP status from 200 to 399 is Ready whatever the body says.
 * When the status is unknown (a body pasted into the CLI), the body alone decides: no class and every
 * reported gate true (or `status` "ok"/"ready") is Ready.
 */
import { z } from 'zod';
import type { FailureKnowledge } from './failure-knowledge';

/**
 * What a runbook says about its readiness body: where the class is named (a dotted path), where
 * the boolean gates are and which gates count, and the class each documented value stands for.
 */
export interface ReadinessView {
  classField: string;
  gatesField: string;
  /** Declared gates, in order. */
  gates: readonly string[];
  /** Documented values of the class field (lower case) → the runbook's class. */
  classes: ReadonlyMap<string, string>;
}

const views = new WeakMap<FailureKnowledge, ReadinessView>();

/** The readiness view of a runbook's failure knowledge (computed once per knowledge object). */
export function readinessViewOf(knowledge: FailureKnowledge): ReadinessView {
  let view = views.get(knowledge);
  if (!view) {
    view = {
      classField: knowledge.readiness.classField,
      gatesField: knowledge.readiness.gatesField,
      gates: Object.keys(knowledge.readiness.gates),
      classes: new Map(Object.entries(knowledge.classes).map(([cls, spec]) => [(spec.readiness ?? cls).toLowerCase(), cls])),
    };
    views.set(knowledge, view);
  }
  return view;
}

export type ReadinessGates = Record<string, boolean>;

export type ReadinessReading =
  | { kind: 'ready'; httpStatus: number | null; gates?: ReadinessGates }
  | {
      kind: 'not-ready';
      httpStatus: number | null;
      /** The documented class, `unknown` for an unrecognised one, null when the body names none. */
      errorClass: string | null;
      gates: ReadinessGates;
      /** The body's class as sent (capped) when it was not a documented class. */
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

/** The fields the body is read for: `status`, the class field and the gates, each optional. */
interface ReadinessBody {
  status?: string;
  errorClass?: string | null;
  gates: ReadinessGates;
}

type Tree = { [key: string]: Tree | z.ZodType };

function put(tree: Tree, path: string, leaf: z.ZodType): void {
  const keys = path.split('.');
  let node = tree;
  keys.slice(0, -1).forEach((key) => {
    const next = node[key];
    const child: Tree = next && !(next instanceof z.ZodType) ? next : {};
    node[key] = child;
    node = child;
  });
  node[keys[keys.length - 1]!] = leaf;
}

function schemaOf(tree: Tree): z.ZodType {
  return z.looseObject(Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, v instanceof z.ZodType ? v : schemaOf(v).optional()])));
}

const schemas = new WeakMap<ReadinessView, z.ZodType>();

/** Tolerates extra fields; the known ones must have their types (a string class, boolean gates). */
function bodySchema(view: ReadinessView): z.ZodType {
  let schema = schemas.get(view);
  if (!schema) {
    const tree: Tree = {};
    put(tree, 'status', z.string().optional());
    put(tree, view.classField, z.string().nullish());
    put(tree, view.gatesField, z.looseObject(Object.fromEntries(view.gates.map((g) => [g, z.boolean().optional()]))).optional());
    schema = schemaOf(tree);
    schemas.set(view, schema);
  }
  return schema;
}

function fieldAt(value: unknown, path: string): unknown {
  let node = value;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function gatesOf(json: unknown, view: ReadinessView): ReadinessGates {
  const gates: ReadinessGates = {};
  const source = fieldAt(json, view.gatesField);
  for (const gate of view.gates) {
    const value = fieldAt(source, gate);
    if (typeof value === 'boolean') gates[gate] = value;
  }
  return gates;
}

type BodyParse = { ok: true; body: ReadinessBody } | { ok: false; reason: string };

function parseBody(text: string, view: ReadinessView): BodyParse {
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
  const parsed = bodySchema(view).safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    return { ok: false, reason: `body does not match the readiness schema (${issues})` };
  }
  const status = fieldAt(json, 'status');
  const errorClass = fieldAt(json, view.classField) as string | null | undefined;
  return { ok: true, body: { ...(typeof status === 'string' ? { status } : {}), errorClass, gates: gatesOf(json, view) } };
}

/** True when a body read without an HTTP status says the forwarder can make progress. */
function bodySaysReady(body: ReadinessBody, gates: ReadinessGates): boolean {
  if (body.errorClass) return false;
  const values = Object.values(gates);
  if (values.includes(false)) return false;
  if (values.length > 0) return true;
  return body.status !== undefined && READY_STATUS_WORDS.has(body.status.trim().toLowerCase());
}

/**
 * Read a `/readyz` answer: `httpStatus` null when the probe could not reach the pod (or the status is
 * not known), `body` undefined when there was none. Never throws.
 */
export function parseReadiness(httpStatus: number | null, body: string | undefined, view: ReadinessView): ReadinessReading {
  const status = normaliseStatus(httpStatus);
  const text = typeof body === 'string' ? body.replace(/^\uFEFF/, '').trim() : '';

  if (isReadyStatus(status)) {
    const parsed = text ? parseBody(text, view) : undefined;
    return parsed?.ok ? { kind: 'ready', httpStatus: status, gates: parsed.body.gates } : { kind: 'ready', httpStatus: status };
  }
  if (!text) {
    return {
      kind: 'missing',
      httpStatus: status,
      reason: status === null ? 'no response (pod unreachable or not probed)' : `HTTP ${status} with an empty body`,
    };
  }

  const parsed = parseBody(text, view);
  if (!parsed.ok) return { kind: 'malformed', httpStatus: status, reason: status === null ? parsed.reason : `HTTP ${status}: ${parsed.reason}` };

  const gates = parsed.body.gates;
  if (status === null && bodySaysReady(parsed.body, gates)) return { kind: 'ready', httpStatus: null, gates };

  const raw = parsed.body.errorClass?.trim().toLowerCase();
  if (!raw) return { kind: 'not-ready', httpStatus: status, errorClass: null, gates };
  const documented = view.classes.get(raw);
  if (documented) return { kind: 'not-ready', httpStatus: status, errorClass: documented, gates };
  const sent = parsed.body.errorClass?.trim() ?? raw;
  const rawClass = sent.length > RAW_CLASS_MAX ? `${sent.slice(0, RAW_CLASS_MAX)}…` : sent;
  return {
    kind: 'not-ready',
    httpStatus: status,
    errorClass: 'unknown',
    gates,
    rawClass,
    note: `${view.classField} "${rawClass}" is not a documented class; read as unknown`,
  };
}
