/**
 * The classifier: from a `/readyz` answer and the forwarder's recent logs to one failure class, the
 * runbook procedure that fixes it, and the redacted evidence behind the conclusion.
 *
 * Rules, in order:
 * 1. A `/readyz` body naming a documented `error_class` other than `unknown` is authoritative. Logs
 *    that show the same class confirm it (`basis: readiness+logs`); logs that show only other
 *    classes are reported as a conflict (`conflict: true`, a note naming both), and readiness wins.
 * 2. `/readyz` 2xx/3xx is healthy (`procedure: null`, "no action"). Failure signatures in the logs do
 *    not overturn it — the pod is Ready now — but are reported as a conflict (recovered or flapping).
 * 3. Readiness missing, unreachable, malformed, naming no class or `unknown`: the logs decide.
 * 4. Nothing conclusive: `unknown` (a human investigates).
 *
 * When the logs show several classes, {@link LOG_CLASS_PRECEDENCE} decides and a note says so:
 * - Authentication first (Alpaca, then Kafka): a restart cannot fix credentials, and restarting in
 *   a loop with a bad key only hides the cause. Alpaca before Kafka because the Alpaca session is the
 *   forwarder's first readiness gate.
 * - Kafka metadata, then produce: a send that fails because a topic is missing from metadata is a
 *   metadata problem; produce errors are often the downstream symptom of the other Kafka classes.
 * - Alpaca 406 after every Kafka class: procedure A step 2 says to confirm the forwarder (not Kafka)
 *   is the cause before restarting, so with Kafka failing too the incident goes to a human (C), and
 *   a note says the 406 restart applies once Kafka is healthy.
 * - `unknown` (other Alpaca error codes) last. An Alpaca 403 "already authenticated" is never a class.
 *
 * Log signatures are recognised in plain text, JSON log lines (values are searched unescaped) and
 * Kotlin/Java stack traces (the exception and `Caused by:` lines; `at …` frames are skipped).
 * Everything that reaches the result — evidence, notes — is passed through {@link redact} and capped.
 * Pure and deterministic: no clock, no I/O.
 */
import { procedureFor } from './classification';
import type { Classification, ClassifierInput, Evidence, EvidenceSource, FailureClass } from './classification';
import { consideredPods, describePodScope } from './diagnosis';
import type { Diagnosis, EventFact, ProbeResult, SourceResult } from './diagnosis';
import { kafkaCredentialFindings } from './kafka-credentials';
import { parseReadiness } from './readiness';
import type { ReadinessGates, ReadinessReading } from './readiness';
import { redact } from './redact';

/** Caps on what a classification carries, so a noisy pod cannot flood Slack, PRs or history. */
export const EVIDENCE_LIMITS = {
  logLines: 10,
  lineChars: 500,
  extraEvidence: 12,
  noteChars: 500,
  /** Log lines scanned (the most recent ones) and characters scanned per line. */
  scanLines: 5000,
  scanChars: 32_768,
} as const;

/** Which class wins when the logs show several; see the module comment for why. */
export const LOG_CLASS_PRECEDENCE = [
  'alpaca_auth',
  'kafka_auth',
  'kafka_metadata',
  'kafka_produce',
  'alpaca_406_second_connection',
  'unknown',
] as const satisfies readonly FailureClass[];
type LogClass = (typeof LOG_CLASS_PRECEDENCE)[number];

type Target = NonNullable<ClassifierInput['target']> & { expectedReplicas?: number };

/** The runbook step for a class, in words an on-call engineer can act on. */
export function actionFor(cls: FailureClass, target: Target = {}): string {
  const deployment = target.deployment ?? 'the deployment';
  const kafkaUser = target.kafkaUser ? `KafkaUser ${target.kafkaUser}` : 'the KafkaUser';
  const restart = `then restart ${deployment} via GitOps`;
  switch (cls) {
    case 'alpaca_406_second_connection':
      return `Restart ${deployment} via GitOps: bump kubectl.kubernetes.io/restartedAt in deployment.yaml (reset replicas to ${target.expectedReplicas ?? 1})`;
    case 'alpaca_auth':
      return `A human rotates Alpaca credentials through SealedSecrets, ${restart}`;
    case 'kafka_auth':
      return `A human fixes Kafka auth/ACL (check ${kafkaUser} and KAFKA_BOOTSTRAP), ${restart}`;
    case 'kafka_metadata':
      return `A human fixes Kafka connectivity (check KAFKA_BOOTSTRAP, that the topics exist, and ${kafkaUser}), ${restart}`;
    case 'kafka_produce':
      return `A human fixes the Kafka side (broker health, in-sync replicas, topic limits, KAFKA_BOOTSTRAP), ${restart}`;
    case 'unknown':
      return 'No automated remediation: a human reads /readyz, the logs and the events (kubectl describe) and decides';
    case 'healthy':
      return 'no action';
  }
}

// ---------------------------------------------------------------------------------------------------
// Log signatures
// ---------------------------------------------------------------------------------------------------

interface Signature {
  /** The class the line points at; null for a signal that is not an outage (Alpaca 403). */
  cls: LogClass | null;
  label: string;
  /** Locates the signature in the line, to centre a long line's excerpt on it. */
  locate: RegExp;
}

interface LogSignal extends Signature {
  index: number;
  /** The log line as written. */
  line: string;
  /** The text that matched: the line itself, or a JSON line's values unescaped. */
  text: string;
}

const ALPACA_CODES = new Map<number, { msg: string; cls: LogClass | null }>([
  [400, { msg: 'invalid syntax', cls: 'unknown' }],
  [401, { msg: 'not authenticated', cls: 'alpaca_auth' }],
  [402, { msg: 'auth failed', cls: 'alpaca_auth' }],
  [403, { msg: 'already authenticated', cls: null }],
  [404, { msg: 'auth timeout', cls: 'alpaca_auth' }],
  [405, { msg: 'symbol limit exceeded', cls: 'unknown' }],
  [406, { msg: 'connection limit exceeded', cls: 'alpaca_406_second_connection' }],
  [407, { msg: 'slow client', cls: 'unknown' }],
  [409, { msg: 'insufficient subscription', cls: 'unknown' }],
  [410, { msg: 'invalid subscribe action', cls: 'unknown' }],
  [500, { msg: 'internal error', cls: 'unknown' }],
]);

/** Alpaca messages without a code, most specific first (403 before 401: "already" vs "not"). */
const ALPACA_MESSAGES: Array<[RegExp, number]> = [
  [/connection limit exceeded/i, 406],
  [/already authenticated/i, 403],
  [/not authenticated/i, 401],
  [/\bauth(?:entication)? failed\b|\bfailed auth(?:entication)?\b/i, 402],
  [/\bauth(?:entication)? timeout\b/i, 404],
  [/symbol limit exceeded/i, 405],
  [/slow client/i, 407],
  [/insufficient subscription/i, 409],
  [/invalid subscribe action/i, 410],
  [/invalid syntax/i, 400],
  [/internal error/i, 500],
];

/** `"T":"error"` in a frame, escaped inside a JSON string, or flattened to `T=error`. */
const ALPACA_FRAME = /\bT\\*"?\s*[:=]\s*\\*"?error\b/;
const FRAME_CODE = /\bcode\\*"?\s*[:=]\s*\\*"?(\d{3})\b/gi;
const LOOSE_CODE = /\b(?:code|error|status)\s*[:=]?\s*\(?(\d{3})\b|\((\d{3})\)/gi;
const ALPACA_CONTEXT = /alpaca|stream\.data\.|wss:\/\//i;
const HANDSHAKE = /handshake|\bupgrade\b|expected (?:http )?(?:status (?:code )?)?101|http\/1\.1 40[13]\b|\b40[13] (?:unauthori[sz]ed|forbidden)\b/i;
const HANDSHAKE_STATUS = /\b(40[13])\b|(unauthori[sz]ed)|(forbidden)/i;
/** A bare `HTTP 401` counts as a handshake failure only on a line about the Alpaca connection. */
const HTTP_AUTH_STATUS = /\bhttp(?:\/[\d.]+)?\s+40[13]\b/i;

function firstKnownCode(text: string, pattern: RegExp): number | undefined {
  for (const match of text.matchAll(pattern)) {
    const code = Number(match[1] ?? match[2]);
    if (ALPACA_CODES.has(code)) return code;
  }
  return undefined;
}

function codeFromMessage(text: string): number | undefined {
  return ALPACA_MESSAGES.find(([pattern]) => pattern.test(text))?.[1];
}

function alpacaCodeSignature(code: number, source: 'frame' | 'log'): Signature | null {
  const known = ALPACA_CODES.get(code);
  if (!known) return null;
  const label = `Alpaca ${source === 'frame' ? 'error frame' : 'error'} ${code} (${known.msg})`;
  return { cls: known.cls, label, locate: new RegExp(`${code}|${known.msg}`, 'i') };
}

function alpacaSignature(text: string): Signature | null {
  if (ALPACA_FRAME.test(text)) {
    const code = firstKnownCode(text, FRAME_CODE) ?? codeFromMessage(text);
    if (code !== undefined) return alpacaCodeSignature(code, 'frame');
  }
  const handshake = HANDSHAKE.test(text) || (ALPACA_CONTEXT.test(text) && HTTP_AUTH_STATUS.test(text));
  if (handshake && !/already authenticated/i.test(text)) {
    const status = HANDSHAKE_STATUS.exec(text);
    if (status) {
      const code = status[1] ?? (status[2] ? '401' : '403');
      return { cls: 'alpaca_auth', label: `HTTP ${code} on the WebSocket handshake`, locate: HANDSHAKE_STATUS };
    }
  }
  if (ALPACA_CONTEXT.test(text)) {
    const code = firstKnownCode(text, FRAME_CODE) ?? firstKnownCode(text, LOOSE_CODE) ?? codeFromMessage(text);
    if (code !== undefined) return alpacaCodeSignature(code, 'log');
  }
  // The 406 message is specific enough to stand without any Alpaca context.
  if (/connection limit exceeded/i.test(text)) return alpacaCodeSignature(406, 'log');
  return null;
}

const KAFKA_CONTEXT = /kafka|producer|\brecords?\b|\btopics?\b|partition|broker|bootstrap/i;

const KAFKA_SIGNATURES: Array<Signature & { needsKafkaContext?: boolean }> = [
  {
    cls: 'kafka_auth',
    label: 'Kafka SASL authentication failed',
    locate: /SaslAuthenticationException|invalid credentials with SASL mechanism|failed authentication/i,
  },
  { cls: 'kafka_auth', label: 'Kafka TLS authentication failed', locate: /SslAuthenticationException/ },
  {
    cls: 'kafka_auth',
    label: 'Kafka ACL denied',
    locate: /(?:Topic|Cluster|Group|TransactionalId)AuthorizationException|Not authorized to access (?:topics|group|cluster)/i,
  },
  { cls: 'kafka_metadata', label: 'Kafka topic not in metadata', locate: /not present in metadata after \d+\s*ms/i },
  {
    cls: 'kafka_metadata',
    label: 'Kafka unknown topic or partition',
    locate: /UnknownTopicOrPartitionException|does not host this topic-partition/i,
  },
  {
    cls: 'kafka_metadata',
    label: 'Kafka bootstrap broker unreachable',
    locate:
      /bootstrap broker .{0,200}disconnected|couldn't resolve server .{0,200}bootstrap\.servers|no resolvable bootstrap urls|Connection to node -?\d+ .{0,200}could not be established/i,
  },
  {
    cls: 'kafka_metadata',
    label: 'Kafka metadata unavailable',
    locate: /LeaderNotAvailableException|Failed to update metadata after \d+\s*ms|Timed out waiting for a node assignment/i,
  },
  { cls: 'kafka_metadata', label: 'Kafka broker host unresolvable', locate: /UnknownHostException/, needsKafkaContext: true },
  { cls: 'kafka_produce', label: 'Kafka records expired before send', locate: /Expiring \d+ record\(s\) for/i },
  { cls: 'kafka_produce', label: 'Kafka record too large', locate: /RecordTooLargeException|when serialized which is larger than/i },
  { cls: 'kafka_produce', label: 'Kafka not enough in-sync replicas', locate: /NotEnoughReplicas(?:AfterAppend)?Exception/ },
  {
    cls: 'kafka_produce',
    label: 'Kafka producer failure',
    locate:
      /BufferExhaustedException|ProducerFencedException|OutOfOrderSequenceException|InvalidProducerEpochException|KafkaProducerException|Failed to allocate memory within the configured max blocking time/,
  },
  {
    cls: 'kafka_produce',
    label: 'Kafka send failed',
    locate: /\b(?:failed to (?:send|produce|publish)|error (?:when |while )?(?:sending|producing|publishing)|(?:send|produce|publish)(?:ing)? (?:failed|error))\b/i,
    needsKafkaContext: true,
  },
];

function kafkaSignature(text: string): Signature | null {
  for (const { needsKafkaContext, ...signature } of KAFKA_SIGNATURES) {
    if (!signature.locate.test(text)) continue;
    // A generic failure mentioning Alpaca must name Kafka itself to count as a Kafka failure.
    if (needsKafkaContext && !(ALPACA_CONTEXT.test(text) ? /kafka|producer/i.test(text) : KAFKA_CONTEXT.test(text))) continue;
    return signature;
  }
  return null;
}

const STACK_FRAME = /^\s*(?:at\s+[\w$.<>/-]+\(.*\)|\.\.\.\s*\d+\s+(?:more|common frames omitted))\s*$/;

/** `key=value` text of a JSON log line, strings unescaped, so frames inside messages read plainly. */
function flattenJson(value: unknown, key: string, out: string[], depth: number): void {
  if (out.length >= 200 || depth > 6) return;
  if (Array.isArray(value)) {
    for (const item of value) flattenJson(item, key, out, depth + 1);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flattenJson(v, k, out, depth + 1);
  } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    out.push(key ? `${key}=${String(value)}` : String(value));
  }
}

function textsToScan(line: string): string[] {
  const brace = line.search(/[[{]/);
  if (brace < 0 || brace > 80) return [line];
  try {
    const parsed: unknown = JSON.parse(line.slice(brace));
    if (parsed === null || typeof parsed !== 'object') return [line];
    const parts: string[] = [];
    flattenJson(parsed, '', parts, 0);
    const prefix = line.slice(0, brace).trim();
    return [line, `${prefix ? `${prefix} ` : ''}${parts.join(' ')}`];
  } catch {
    return [line];
  }
}

function scanLine(line: string, index: number): LogSignal | null {
  const scanned = line.length > EVIDENCE_LIMITS.scanChars ? line.slice(0, EVIDENCE_LIMITS.scanChars) : line;
  if (STACK_FRAME.test(scanned)) return null;
  for (const text of textsToScan(scanned)) {
    const signature = alpacaSignature(text) ?? kafkaSignature(text);
    if (signature) return { ...signature, index, line, text };
  }
  return null;
}

interface LogScan {
  signals: LogSignal[];
  /** Failure classes seen, in precedence order. */
  classes: LogClass[];
  /** The class the logs point at by precedence, or null when they show none. */
  cls: LogClass | null;
}

/**
 * The failure class a single log line shows (null: it names none, or only a non-outage code).
 * Lets the log activity keep every line that matters when it bounds a tail for the incident state.
 */
export function logLineClass(line: string): string | null {
  const signal = scanLine(line, 0);
  return signal ? (signal.cls ?? 'other') : null;
}

function scanLogs(lines: readonly string[]): LogScan {
  const recent = lines.length > EVIDENCE_LIMITS.scanLines ? lines.slice(-EVIDENCE_LIMITS.scanLines) : lines;
  const signals: LogSignal[] = [];
  recent.forEach((line, index) => {
    if (typeof line !== 'string') return;
    const signal = scanLine(line, index);
    if (signal) signals.push(signal);
  });
  const seen = new Set(signals.map((s) => s.cls));
  const classes = LOG_CLASS_PRECEDENCE.filter((cls) => seen.has(cls));
  return { signals, classes, cls: classes[0] ?? null };
}

// ---------------------------------------------------------------------------------------------------
// Evidence and notes: always redacted, always capped
// ---------------------------------------------------------------------------------------------------

function excerpt(text: string, max: number, locate?: RegExp): string {
  if (text.length <= max) return text;
  const at = locate ? text.search(locate) : -1;
  const start = at <= 0 ? 0 : Math.max(0, Math.min(at - 120, text.length - max + 1));
  const prefix = start > 0 ? '…' : '';
  let end = start + max - prefix.length;
  const suffix = end < text.length ? '…' : '';
  if (suffix) end -= 1;
  return `${prefix}${text.slice(start, end)}${suffix}`;
}

function evidence(source: EvidenceSource, text: string): Evidence {
  return { source, text: excerpt(redact(text), EVIDENCE_LIMITS.lineChars) };
}

function note(text: string): string {
  return excerpt(redact(text), EVIDENCE_LIMITS.noteChars);
}

const TIMESTAMP = /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g;

/**
 * Up to `logLines` lines: repeated lines (same text but for timestamps) collapse into the most recent
 * one with a count; the chosen class comes first, then the others by precedence, then the rest; each
 * class is guaranteed a few lines before the first fills the remainder.
 */
function logEvidence(signals: readonly LogSignal[], chosen: FailureClass): Evidence[] {
  const groupOf = (cls: LogClass | null): number =>
    cls === chosen ? 0 : cls === null ? LOG_CLASS_PRECEDENCE.length + 1 : 1 + LOG_CLASS_PRECEDENCE.indexOf(cls);

  interface Entry {
    signal: LogSignal;
    text: string;
    count: number;
  }
  const byKey = new Map<string, Entry>();
  for (const signal of signals) {
    // The line as written when it fits, else the matched text centred on the signature.
    const whole = redact(signal.line);
    const redacted = whole.length <= EVIDENCE_LIMITS.lineChars ? whole : redact(signal.text);
    const key = `${signal.cls ?? '-'}|${redacted.replace(TIMESTAMP, '').replace(/\s+/g, ' ').trim()}`;
    const previous = byKey.get(key);
    byKey.set(key, { signal, text: redacted, count: (previous?.count ?? 0) + 1 });
  }
  const groups = new Map<number, Entry[]>();
  for (const entry of byKey.values()) {
    const group = groupOf(entry.signal.cls);
    groups.set(group, [...(groups.get(group) ?? []), entry]);
  }
  for (const entries of groups.values()) entries.sort((a, b) => a.signal.index - b.signal.index);
  const order = [...groups.keys()].sort((a, b) => a - b);
  const picked = new Map<number, Entry[]>();
  let budget = EVIDENCE_LIMITS.logLines;
  // First pass: a few lines per class (most recent), so a conflict always shows both sides.
  for (const group of order) {
    const entries = groups.get(group) ?? [];
    const take = Math.min(entries.length, 3, budget);
    picked.set(group, entries.slice(entries.length - take));
    budget -= take;
  }
  // Second pass: fill with more of the same, in group order.
  for (const group of order) {
    if (budget <= 0) break;
    const entries = groups.get(group) ?? [];
    const already = picked.get(group) ?? [];
    const more = Math.min(entries.length - already.length, budget);
    if (more > 0) {
      picked.set(group, entries.slice(entries.length - already.length - more));
      budget -= more;
    }
  }
  const out: Evidence[] = [];
  for (const group of order) {
    const entries = [...(picked.get(group) ?? [])].sort((a, b) => a.signal.index - b.signal.index);
    for (const { signal, text, count } of entries) {
      const suffix = count > 1 ? ` [×${count}]` : '';
      out.push({ source: 'logs', text: `${excerpt(text, EVIDENCE_LIMITS.lineChars - suffix.length, signal.locate)}${suffix}` });
    }
  }
  return out;
}

function readinessEvidence(reading: ReadinessReading, body: string | undefined): Evidence {
  // Without a status (a body given offline, e.g. `agentruns classify --readyz FILE`) say only what is known.
  const status = reading.httpStatus === null ? 'body' : `HTTP ${reading.httpStatus}`;
  switch (reading.kind) {
    case 'missing':
      return evidence('readyz', `/readyz: ${reading.reason}`);
    case 'malformed':
      return evidence('readyz', `/readyz ${status}, ${reading.reason}: ${(body ?? '').trim()}`);
    case 'ready':
    case 'not-ready': {
      const trimmed = (body ?? '').trim();
      return evidence('readyz', trimmed ? `/readyz ${status}: ${trimmed}` : `/readyz ${status}`);
    }
  }
}

const GATE_SIDES: Record<keyof ReadinessGates, string> = {
  alpaca_ws: 'the Alpaca WebSocket session',
  kafka: 'Kafka',
  trade_updates: 'the trade-updates stream',
};

function failingGates(gates: ReadinessGates): Array<keyof ReadinessGates> {
  return (Object.keys(GATE_SIDES) as Array<keyof ReadinessGates>).filter((gate) => gates[gate] === false);
}

/** A hint from the gates when no class is named: which side is failing. */
function gatesHint(gates: ReadinessGates): string | null {
  const failing = failingGates(gates);
  if (failing.length === 0) return null;
  return `/readyz gates failing: ${failing.map((g) => `${g} (${GATE_SIDES[g]})`).join(', ')}`;
}

/** A note when the gates contradict the class (e.g. kafka_auth with gates.kafka true). */
function gatesMismatch(cls: FailureClass, gates: ReadinessGates): string | null {
  const relevant: Array<keyof ReadinessGates> = cls.startsWith('alpaca_') ? ['alpaca_ws', 'trade_updates'] : cls.startsWith('kafka_') ? ['kafka'] : [];
  const reported = relevant.filter((gate) => gates[gate] !== undefined);
  if (reported.length === 0 || reported.some((gate) => gates[gate] === false)) return null;
  const shown = (Object.keys(GATE_SIDES) as Array<keyof ReadinessGates>)
    .filter((gate) => gates[gate] !== undefined)
    .map((gate) => `${gate}=${String(gates[gate])}`)
    .join(', ');
  return `/readyz gates (${shown}) do not point at ${cls}; check the forwarder's own view before acting`;
}

// ---------------------------------------------------------------------------------------------------
// The decision
// ---------------------------------------------------------------------------------------------------

interface Decision {
  cls: FailureClass;
  basis: Classification['basis'];
  conflict: boolean;
  notes: string[];
}

function decide(reading: ReadinessReading | null, logs: LogScan): Decision {
  const notes: string[] = [];
  const logFailure = logs.cls && logs.cls !== 'unknown' ? logs.cls : null;

  if (reading?.kind === 'ready') {
    if (logFailure) {
      notes.push(
        `/readyz is Ready but the logs show ${logs.classes.filter((c) => c !== 'unknown').join(', ')}: ` +
          'it may have recovered or be flapping; readiness wins, re-check if the alert persists',
      );
    }
    return { cls: 'healthy', basis: 'readiness', conflict: logFailure !== null, notes };
  }

  if (reading?.kind === 'not-ready') {
    if (reading.note) notes.push(reading.note);
    const named = reading.errorClass;
    if (named && named !== 'unknown') {
      const mismatch = gatesMismatch(named, reading.gates);
      if (mismatch) notes.push(mismatch);
      if (!logFailure) return { cls: named, basis: 'readiness', conflict: false, notes };
      if (logs.classes.includes(named)) {
        const others = logs.classes.filter((c) => c !== named && c !== 'unknown');
        if (others.length > 0) notes.push(`logs confirm ${named} and also show ${others.join(', ')}`);
        return { cls: named, basis: 'readiness+logs', conflict: false, notes };
      }
      notes.push(
        `conflict: /readyz says ${named} but the logs point at ${logFailure}; readiness is authoritative, ` +
          'check both before acting',
      );
      return { cls: named, basis: 'readiness', conflict: true, notes };
    }
    notes.push(
      named === 'unknown'
        ? '/readyz error_class is unknown: the class comes from the logs'
        : '/readyz is not Ready but names no error_class: the class comes from the logs',
    );
    const hint = gatesHint(reading.gates);
    if (hint) notes.push(hint);
    if (logs.cls) return { cls: logs.cls, basis: 'logs', conflict: false, notes };
    notes.push('no known failure signature in the logs');
    return { cls: 'unknown', basis: 'readiness', conflict: false, notes };
  }

  notes.push(
    reading === null
      ? 'no /readyz result: the class comes from the logs'
      : `/readyz ${reading.kind === 'missing' ? 'gave no usable answer' : 'body is malformed'} (${reading.reason}): falling back to logs`,
  );
  if (logs.cls) return { cls: logs.cls, basis: 'logs', conflict: false, notes };
  notes.push('no known failure signature in the logs');
  return { cls: 'unknown', basis: 'none', conflict: false, notes };
}

function logNotes(logs: LogScan): string[] {
  const notes: string[] = [];
  const failures = logs.classes.filter((c) => c !== 'unknown');
  if (failures.length > 1) {
    const counts = failures.map((cls) => `${cls} ×${logs.signals.filter((s) => s.cls === cls).length}`);
    notes.push(`logs show several failure classes (${counts.join(', ')}); by precedence ${LOG_CLASS_PRECEDENCE.join(' > ')} the logs point at ${failures[0] ?? ''}`);
  }
  if (logs.classes.includes('alpaca_406_second_connection') && failures.some((c) => c.startsWith('kafka_'))) {
    notes.push(
      'Alpaca 406 seen together with Kafka failures: procedure A (restart) applies only once Kafka is confirmed healthy (runbook step A.2)',
    );
  }
  const otherCodes = [...new Set(logs.signals.filter((s) => s.cls === 'unknown').map((s) => s.label))];
  if (otherCodes.length > 0) {
    notes.push(`${otherCodes.join('; ')} in the logs: no runbook procedure for ${otherCodes.length > 1 ? 'these' : 'this'}, a human investigates`);
  }
  if (logs.signals.some((s) => s.cls === null)) {
    notes.push('Alpaca 403 "already authenticated" in the logs is not an outage by itself');
  }
  return notes;
}

/** Classify a torghut-ws failure from its readiness answer and logs. Pure; never throws on input. */
export function classify(input: ClassifierInput): Classification {
  const expected = input.expectedReplicas ?? 1;
  const reading = input.readiness ? parseReadiness(input.readiness.status, input.readiness.body) : null;
  const logs = scanLogs(Array.isArray(input.logLines) ? input.logLines : []);
  const decision = decide(reading, logs);
  const cls = decision.cls;

  const notes = [...decision.notes, ...logNotes(logs)];
  const out: Evidence[] = [];
  if (reading && input.readiness) out.push(readinessEvidence(reading, input.readiness.body));

  const replicas = input.replicas;
  if (typeof replicas === 'number' && replicas !== expected) {
    if (replicas > expected && (cls === 'alpaca_406_second_connection' || logs.classes.includes('alpaca_406_second_connection'))) {
      out.push(evidence('deployment', `replicas=${replicas} (expected ${expected}): a second replica causes Alpaca 406`));
      notes.push(`replicas=${replicas} (expected ${expected}) is the likely cause of the 406: the GitOps change resets replicas to ${expected}`);
    } else {
      notes.push(`replicas=${replicas} (expected ${expected}): ${replicas > expected ? 'a second replica causes Alpaca 406; ' : ''}restore ${expected} in GitOps`);
    }
  } else if (cls === 'alpaca_406_second_connection' && replicas === expected) {
    notes.push(`replicas=${expected} as expected: the 406 most likely comes from a stale socket of a previous pod, which a restart closes`);
  }

  out.push(...logEvidence(logs.signals, cls));
  for (const extra of (input.extraEvidence ?? []).slice(0, EVIDENCE_LIMITS.extraEvidence)) out.push(evidence(extra.source, extra.text));
  notes.push(...(input.extraNotes ?? []));

  return {
    class: cls,
    procedure: procedureFor(cls),
    action: actionFor(cls, { ...input.target, expectedReplicas: expected }),
    basis: decision.basis,
    conflict: decision.conflict,
    evidence: out,
    notes: [...new Set(notes.map(note))],
  };
}

// ---------------------------------------------------------------------------------------------------
// From a Diagnosis
// ---------------------------------------------------------------------------------------------------

export interface ClassifyDiagnosisOptions {
  expectedReplicas: number;
  /** Name of the Strimzi KafkaUser of the Kafka credentials (from the runbook config). */
  kafkaUser?: string;
  /** Path of the readiness probe among the probe results (default `/readyz`). */
  readinessPath?: string;
}

/** An event as one evidence line. */
function eventLine(event: EventFact): string {
  return `${event.type} ${event.reason} ${event.object}: ${event.message}${event.count > 1 ? ` [×${event.count}]` : ''}`;
}

function isReadyStatus(status: number | null): boolean {
  return status !== null && status >= 200 && status < 400;
}

function pickReadinessProbe(diagnosis: Diagnosis, readinessPath: string): ProbeResult | undefined {
  if (!diagnosis.probes.ok) return undefined;
  const probes = diagnosis.probes.value.filter((p) => p.path === readinessPath || p.path.split('?')[0] === readinessPath);
  if (probes.length === 0) return undefined;
  if (diagnosis.pods.ok) {
    const pods = consideredPods(diagnosis.pods.value);
    for (const pod of [...pods.filter((p) => !p.ready), ...pods.filter((p) => p.ready)]) {
      const probe = probes.find((p) => p.pod === pod.name);
      if (probe) return probe;
    }
  }
  return probes.find((p) => !isReadyStatus(p.status)) ?? probes[0];
}

function degradedNotes(diagnosis: Diagnosis): string[] {
  const sources: Array<[string, SourceResult<unknown> | undefined]> = [
    ['deployment', diagnosis.deployment],
    ['pods', diagnosis.pods],
    ['events', diagnosis.events],
    ['logs', diagnosis.logs],
    ['probes', diagnosis.probes],
    ['kafkaCredentials', diagnosis.kafkaCredentials],
    ['gitops', diagnosis.gitops],
  ];
  const notes: string[] = [];
  const named = new Set<string>();
  for (const [name, result] of sources) {
    if (result && !result.ok) {
      notes.push(`${name} unavailable: ${result.error}`);
      named.add(name);
    }
  }
  for (const name of diagnosis.degraded) if (!named.has(name)) notes.push(`${name} unavailable`);
  return notes;
}

/**
 * Classify a read-only diagnosis: the readiness probe of the first pod that is not Ready (else the
 * first pod's), the log tail, the Deployment's replicas, plus what the other sources add — the
 * KafkaUser and missing-Secret reports (for Kafka classes), GitOps drift, warning events, and a note
 * per degraded source.
 */
export function classifyDiagnosis(diagnosis: Diagnosis, opts: ClassifyDiagnosisOptions): Classification {
  const expected = opts.expectedReplicas;
  const readinessPath = opts.readinessPath ?? '/readyz';
  const deployment = diagnosis.deployment.ok ? diagnosis.deployment.value : null;
  // Pods of old ReplicaSets, Terminating, Evicted or Completed say nothing about the Deployment now.
  const listedPods = diagnosis.pods.ok ? diagnosis.pods.value : null;
  const pods = listedPods ? consideredPods(listedPods) : null;
  // Optional chaining: a diagnosis of a version-1 incident (in flight across the upgrade) has none.
  const credentials = diagnosis.kafkaCredentials?.ok ? diagnosis.kafkaCredentials.value : null;
  const kafkaUserName = opts.kafkaUser ?? credentials?.kafkaUser.name;
  const gitops = diagnosis.gitops?.ok ? diagnosis.gitops.value : null;

  const leadNotes: string[] = [];
  const notes = degradedNotes(diagnosis);
  const extra: Evidence[] = [];

  if (deployment) {
    extra.push({
      source: 'deployment',
      text: `Deployment ${deployment.namespace}/${deployment.name}: replicas=${deployment.replicas} ready=${deployment.readyReplicas} updated=${deployment.updatedReplicas} available=${deployment.availableReplicas}`,
    });
    for (const condition of deployment.conditions.filter((c) => c.status !== 'True').slice(0, 2)) {
      extra.push({
        source: 'deployment',
        text: `condition ${condition.type}=${condition.status}${condition.reason ? ` (${condition.reason})` : ''}${condition.message ? `: ${condition.message}` : ''}`,
      });
    }
  }
  if (listedPods && (deployment?.podScope || listedPods.length > (pods?.length ?? 0))) {
    extra.push({ source: 'pods', text: describePodScope(deployment?.podScope, listedPods) });
  }
  if (pods) {
    for (const pod of pods.slice(0, 3)) {
      extra.push({ source: 'pods', text: `pod ${pod.name} ${pod.phase} ready=${pod.ready} restarts=${pod.restarts}` });
    }
    if (pods.length > expected) {
      notes.push(`${pods.length} pods found (expected ${expected}): each pod opens its own Alpaca connection, which causes 406`);
    }
  }
  if (diagnosis.events.ok) {
    for (const event of diagnosis.events.value.filter((e) => e.type === 'Warning').slice(0, 3)) {
      extra.push({ source: 'events', text: eventLine(event) });
    }
  }
  if (gitops) {
    if (gitops.replicas !== null && deployment && gitops.replicas !== deployment.replicas) {
      extra.push({
        source: 'gitops',
        text: `drift: GitOps deployment.yaml has replicas=${gitops.replicas}, the live Deployment has replicas=${deployment.replicas}`,
      });
    }
    if (gitops.replicas !== null && gitops.replicas !== expected) {
      notes.push(`GitOps deployment.yaml has replicas=${gitops.replicas} (expected ${expected}): the GitOps change must reset it`);
    }
    if (gitops.kafkaBootstrap !== null && gitops.liveKafkaBootstrap !== null && gitops.kafkaBootstrap !== gitops.liveKafkaBootstrap) {
      extra.push({
        source: 'gitops',
        text: `drift: GitOps configmap.yaml has KAFKA_BOOTSTRAP=${gitops.kafkaBootstrap}, the live ConfigMap has ${gitops.liveKafkaBootstrap}`,
      });
    }
  }

  const noPods = pods !== null && pods.length === 0;
  let probe = noPods ? undefined : pickReadinessProbe(diagnosis, readinessPath);
  let readyFromPods = false;
  if (!probe && pods && pods.length > 0 && pods.every((p) => p.ready)) {
    // No probe answer, but the kubelet's own readiness probe passes on every pod.
    probe = { pod: pods[0]?.name ?? '', path: readinessPath, status: 200, body: '' };
    readyFromPods = true;
    leadNotes.push(`no ${readinessPath} answer: every pod reports Ready (kubelet), read as Ready`);
  }
  if (noPods) leadNotes.push('no pods found for the deployment (scaled to 0, or the selector matches nothing): nothing to classify');
  if (probe && !readyFromPods) {
    if (probe.error) leadNotes.push(`${readinessPath} probe of pod ${probe.pod} failed: ${probe.error}`);
    if (pods && pods.length > 1) leadNotes.push(`readiness taken from pod ${probe.pod} (${pods.length} pods)`);
  }
  const logTail = diagnosis.logs.ok ? diagnosis.logs.value : null;
  if (logTail && probe && !readyFromPods && logTail.pod && logTail.pod !== probe.pod) {
    leadNotes.push(`logs are from pod ${logTail.pod}, readiness from pod ${probe.pod}`);
  }

  const result = classify({
    readiness: probe ? { status: probe.status, body: probe.body } : null,
    logLines: noPods || !logTail ? [] : logTail.lines,
    replicas: deployment?.replicas ?? null,
    expectedReplicas: expected,
    extraEvidence: extra,
    extraNotes: notes,
    target: { deployment: deployment?.name, kafkaUser: kafkaUserName },
  });

  if (credentials && (result.class.startsWith('kafka_') || result.class === 'unknown')) {
    const findings = kafkaCredentialFindings(credentials, diagnosis.events.ok ? diagnosis.events.value : []);
    if (findings.problem) {
      const lines = [
        evidence('kafkaUser', findings.kafkaUser),
        ...findings.containers.map((m) => evidence('pods', `${m.object} container ${m.container ?? '?'} waiting (${m.reason}): ${m.message}`)),
        ...findings.events.map((e) => evidence('events', eventLine(e))),
      ];
      for (const line of lines) if (!result.evidence.some((e) => e.text === line.text)) result.evidence.push(line);
      result.notes.push(...findings.notes.map(note));
    } else if (result.class.startsWith('kafka_')) {
      result.evidence.push(evidence('kafkaUser', findings.kafkaUser));
    }
  }
  if (readyFromPods && result.class === 'healthy') result.basis = 'probes';
  result.notes = [...new Set([...leadNotes.map(note), ...result.notes])];
  return result;
}
