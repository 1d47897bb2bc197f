/**
 * Structured JSON logs, one object per line on stdout (or any writable stream). Every message and
 * every string field passes through `redact`, and fields whose name says they hold a secret
 * (token, secret, password, authorization, cookie, signature, …) are replaced whole: the ingress
 * handles bearer tokens, Slack signing material and alert annotations, and none of it may reach a
 * log. Request bodies are never logged, only their size and what was wrong with them.
 */
import type { Writable } from 'node:stream';
import { REDACTED, redact } from '../domain/redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (e.g. a request id). */
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /token|secret|passw|authorization|cookie|signature|credential|api[-_]?key|private[-_]?key/i;
const MAX_STRING = 4000;
const MAX_DEPTH = 6;

/** A log-safe copy of any value: secrets masked, strings redacted and capped, errors flattened. */
export function sanitizeForLog(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') {
    const clean = redact(value);
    return clean.length > MAX_STRING ? `${clean.slice(0, MAX_STRING)}…(${clean.length} chars)` : clean;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: sanitizeForLog(value.message, depth + 1) };
    const code = (value as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') out.code = code;
    if (value.cause !== undefined && depth < MAX_DEPTH) out.cause = sanitizeForLog(value.cause, depth + 1);
    return out;
  }
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => sanitizeForLog(v, depth + 1));
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      out[key] = SECRET_FIELD.test(key) && v !== undefined && v !== null && v !== '' ? REDACTED : sanitizeForLog(v, depth + 1);
    }
    return out;
  }
  return `[${typeof value}]`;
}

export interface LoggerOptions {
  /** Where lines go; default process.stdout. */
  stream?: Pick<Writable, 'write'>;
  /** Lowest level written; default info. */
  level?: LogLevel;
  /** Fields on every line, e.g. { service: 'agentruns-ingress' }. */
  base?: LogFields;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stdout;
  const min = ORDER[options.level ?? 'info'];
  const now = options.now ?? (() => new Date());
  // `bound` is sanitized once, when the logger is made: a request's child logger does not redact
  // its request id and path again on every line.
  const make = (bound: LogFields): Logger => {
    const write = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (ORDER[level] < min) return;
      const record = { ...bound, ...(fields ? (sanitizeForLog(fields) as LogFields) : {}) };
      // The envelope keys belong to the logger; a field of the same name cannot overwrite them.
      delete record.time;
      delete record.level;
      delete record.msg;
      const line = JSON.stringify({ time: now().toISOString(), level, msg: redact(msg), ...record });
      stream.write(`${line}\n`);
    };
    return {
      debug: (msg, fields) => write('debug', msg, fields),
      info: (msg, fields) => write('info', msg, fields),
      warn: (msg, fields) => write('warn', msg, fields),
      error: (msg, fields) => write('error', msg, fields),
      child: (fields) => make({ ...bound, ...(sanitizeForLog(fields) as LogFields) }),
    };
  };
  return make(sanitizeForLog(options.base ?? {}) as LogFields);
}

/** A logger that writes nothing (tests that do not look at logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
