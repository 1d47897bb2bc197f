/**
 * The classifier: from a readiness answer and the service's recent logs to one failure class, the
 * runbook procedure that fixes it, and the redacted evidence behind the conclusion. An engine over
 * the runbook's failure knowledge (`failures:`, ./failure-knowledge.ts): the classes, how the
 * readiness body names them, the log signatures, the procedures and the precedence are data.
 *
 * Rules, in order:
 * 1. A readiness body naming a documented class other than `unknown` is authoritative. Logs that
 *    show the same class confirm it (`basis: readiness+logs`); logs that show only other classes are
 *    reported as a conflict (`conflict: true`, a note naming both), and readiness wins.
 * 2. Readiness 2xx/3xx is healthy (`procedure: null`, "no action"). Failure signatures in the logs do
 *    not overturn it — the pod is Ready now — but are reported as a conflict (recovered or flapping).
 * 3. Readiness missing, unreachable, malformed, naming no class or `unknown`: the logs decide.
 * 4. Nothing conclusive: `unknown` (a human investigates) — "no known failure signature in the logs
 *    scanned", naming the window: only the most recent EVIDENCE_LIMITS.scanLines lines are read.
 *
 * When the logs show several classes, the runbook's `precedence` decides and a note says so.
 * Everything that reaches the result — evidence, notes — is passed through {@link redact} and capped.
 * Pure and deterministic: no clock, no I/O.
 */
import type { Classification, ClassifierInput, Evidence, EvidenceSource, FailureClass } from './classification';
import { HEALTHY, UNKNOWN } from './classification';
import { consideredPods, describePodScope } from './diagnosis';
import type { Diagnosis, EventFact, ProbeResult, SourceResult } from './diagnosis';
import type { FailureClassSpec, FailureKnowledge } from './failure-knowledge';
import { NO_FAILURE_KNOWLEDGE } from './failure-knowledge';
import { kafkaCredentialFindings } from './kafka-credentials';
import { SCAN_CHARS, signaturesOf, type LogSignal } from './log-signatures';
import { parseReadiness, readinessViewOf } from './readiness';
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
  scanChars: SCAN_CHARS,
} as const;

const DEFAULT_UNKNOWN_ACTION = NO_FAILURE_KNOWLEDGE.classes[UNKNOWN]!.procedure.action;

/** The runbook step for a class, in words an on-call engineer can act on. */
export function actionFor(knowledge: FailureKnowledge, cls: FailureClass, target: ClassifierInput['target'] & { expectedReplicas?: number } = {}): string {
  if (cls === HEALTHY) return 'no action';
  const template = knowledge.classes[cls]?.procedure.action ?? DEFAULT_UNKNOWN_ACTION;
  const values: Record<string, string> = {
    deployment: target.deployment ?? 'the deployment',
    kafkaUser: target.kafkaUser ? `KafkaUser ${target.kafkaUser}` : 'the KafkaUser',
    expectedReplicas: String(target.expectedReplicas ?? 1),
  };
  return template.replace(/\{(deployment|kafkaUser|expectedReplicas)\}/g, (_m, key: string) => values[key] ?? '');
}

/** The runbook procedure's id for a class (null: the engine's verdicts, and classes with no restart). */
export function procedureIdFor(knowledge: FailureKnowledge, cls: FailureClass): string | null {
  return cls === HEALTHY ? null : (knowledge.classes[cls]?.procedure.id ?? null);
}

// ---------------------------------------------------------------------------------------------------
// Log signatures
// ---------------------------------------------------------------------------------------------------

/**
 * The failure class a single log line shows (null: it names none; `other` for a non-outage signal).
 * Lets the log activity keep every line that matters when it bounds a tail for the incident state.
 */
export function logLineClass(knowledge: FailureKnowledge, line: string): string | null {
  const signal = signaturesOf(knowledge).scanLine(line, 0);
  return signal ? (signal.cls ?? 'other') : null;
}

interface LogScan {
  signals: LogSignal[];
  /** Failure classes seen, in precedence order. */
  classes: FailureClass[];
  /** The class the logs point at by precedence, or null when they show none. */
  cls: FailureClass | null;
  /** Lines read and lines scanned (the most recent). */
  window: { read: number; scanned: number; tailLimited: boolean };
}

function scanLogs(knowledge: FailureKnowledge, lines: readonly string[], window: ClassifierInput['logWindow']): LogScan {
  const recent = lines.length > EVIDENCE_LIMITS.scanLines ? lines.slice(-EVIDENCE_LIMITS.scanLines) : lines;
  const signatures = signaturesOf(knowledge);
  const signals: LogSignal[] = [];
  recent.forEach((line, index) => {
    if (typeof line !== 'string') return;
    const signal = signatures.scanLine(line, index);
    if (signal) signals.push(signal);
  });
  const seen = new Set(signals.map((s) => s.cls));
  const classes = knowledge.precedence.filter((cls) => seen.has(cls));
  const read = Math.max(window?.readLines ?? lines.length, lines.length);
  const scanned = Math.min(window?.scannedLines ?? recent.length, recent.length === lines.length ? read : recent.length);
  return { signals, classes, cls: classes[0] ?? null, window: { read, scanned, tailLimited: window?.tailLimited === true } };
}

const count = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** The window scanned, in words: "all 24 log lines read", "the last 5,000 of 50,000 log lines". */
function windowText(w: LogScan['window']): string {
  const lines = w.scanned < w.read ? `the last ${count(w.scanned)} of ${count(w.read)} log lines` : `all ${count(w.read)} log lines read`;
  return w.tailLimited ? `${lines}, the most recent the pod printed: older lines were not read` : lines;
}

// ---------------------------------------------------------------------------------------------------
// Evidence and notes: always redacted, always capped
// ---------------------------------------------------------------------------------------------------

function excerpt(text: string, max: number, locate?: (text: string) => number): string {
  if (text.length <= max) return text;
  const at = locate ? locate(text) : -1;
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
function logEvidence(knowledge: FailureKnowledge, signals: readonly LogSignal[], chosen: FailureClass): Evidence[] {
  const precedence = knowledge.precedence;
  const groupOf = (cls: FailureClass | null): number =>
    cls === chosen ? 0 : cls === null ? precedence.length + 1 : 1 + precedence.indexOf(cls);

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

function readinessEvidence(path: string, reading: ReadinessReading, body: string | undefined): Evidence {
  // Without a status (a body given offline, e.g. `agentruns classify --readyz FILE`) say only what is known.
  const status = reading.httpStatus === null ? 'body' : `HTTP ${reading.httpStatus}`;
  switch (reading.kind) {
    case 'missing':
      return evidence('readyz', `${path}: ${reading.reason}`);
    case 'malformed':
      return evidence('readyz', `${path} ${status}, ${reading.reason}: ${(body ?? '').trim()}`);
    case 'ready':
    case 'not-ready': {
      const trimmed = (body ?? '').trim();
      return evidence('readyz', trimmed ? `${path} ${status}: ${trimmed}` : `${path} ${status}`);
    }
  }
}

/** A hint from the gates when no class is named: which side is failing. */
function gatesHint(knowledge: FailureKnowledge, path: string, gates: ReadinessGates): string | null {
  const sides = knowledge.readiness.gates;
  const failing = Object.keys(sides).filter((gate) => gates[gate] === false);
  if (failing.length === 0) return null;
  return `${path} gates failing: ${failing.map((g) => `${g} (${sides[g]})`).join(', ')}`;
}

/** A note when the gates contradict the class (e.g. kafka_auth with gates.kafka true). */
function gatesMismatch(knowledge: FailureKnowledge, path: string, cls: FailureClass, gates: ReadinessGates): string | null {
  const relevant = knowledge.classes[cls]?.gates ?? [];
  const reported = relevant.filter((gate) => gates[gate] !== undefined);
  if (reported.length === 0 || reported.some((gate) => gates[gate] === false)) return null;
  const shown = Object.keys(knowledge.readiness.gates)
    .filter((gate) => gates[gate] !== undefined)
    .map((gate) => `${gate}=${String(gates[gate])}`)
    .join(', ');
  return `${path} gates (${shown}) do not point at ${cls}; check the service's own view before acting`;
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

function decide(knowledge: FailureKnowledge, path: string, reading: ReadinessReading | null, logs: LogScan): Decision {
  const notes: string[] = [];
  const logFailure = logs.cls && logs.cls !== UNKNOWN ? logs.cls : null;
  const nothingFound = `no known failure signature in the logs scanned (${windowText(logs.window)})`;

  if (reading?.kind === 'ready') {
    if (logFailure) {
      notes.push(
        `${path} is Ready but the logs show ${logs.classes.filter((c) => c !== UNKNOWN).join(', ')}: ` +
          'it may have recovered or be flapping; readiness wins, re-check if the alert persists',
      );
    }
    return { cls: HEALTHY, basis: 'readiness', conflict: logFailure !== null, notes };
  }

  if (reading?.kind === 'not-ready') {
    if (reading.note) notes.push(`${path} ${reading.note}`);
    const named = reading.errorClass;
    if (named && named !== UNKNOWN) {
      const mismatch = gatesMismatch(knowledge, path, named, reading.gates);
      if (mismatch) notes.push(mismatch);
      if (!logFailure) return { cls: named, basis: 'readiness', conflict: false, notes };
      if (logs.classes.includes(named)) {
        const others = logs.classes.filter((c) => c !== named && c !== UNKNOWN);
        if (others.length > 0) notes.push(`logs confirm ${named} and also show ${others.join(', ')}`);
        return { cls: named, basis: 'readiness+logs', conflict: false, notes };
      }
      notes.push(
        `conflict: ${path} says ${named} but the logs point at ${logFailure}; readiness is authoritative, ` +
          'check both before acting',
      );
      return { cls: named, basis: 'readiness', conflict: true, notes };
    }
    notes.push(
      named === UNKNOWN
        ? `${path} ${knowledge.readiness.classField} is unknown: the class comes from the logs`
        : `${path} is not Ready but names no ${knowledge.readiness.classField}: the class comes from the logs`,
    );
    const hint = gatesHint(knowledge, path, reading.gates);
    if (hint) notes.push(hint);
    if (logs.cls) return { cls: logs.cls, basis: 'logs', conflict: false, notes };
    notes.push(nothingFound);
    return { cls: UNKNOWN, basis: 'readiness', conflict: false, notes };
  }

  notes.push(
    reading === null
      ? `no ${path} result: the class comes from the logs`
      : `${path} ${reading.kind === 'missing' ? 'gave no usable answer' : 'body is malformed'} (${reading.reason}): falling back to logs`,
  );
  if (logs.cls) return { cls: logs.cls, basis: 'logs', conflict: false, notes };
  notes.push(nothingFound);
  return { cls: UNKNOWN, basis: 'none', conflict: false, notes };
}

function logNotes(knowledge: FailureKnowledge, logs: LogScan): string[] {
  const notes: string[] = [];
  const failures = logs.classes.filter((c) => c !== UNKNOWN);
  if (failures.length > 1) {
    const counts = failures.map((cls) => `${cls} ×${logs.signals.filter((s) => s.cls === cls).length}`);
    notes.push(`logs show several failure classes (${counts.join(', ')}); by precedence ${knowledge.precedence.join(' > ')} the logs point at ${failures[0] ?? ''}`);
  }
  for (const [cls, spec] of Object.entries(knowledge.classes)) {
    const seenWith = spec.seenWith;
    if (seenWith && logs.classes.includes(cls) && failures.some((c) => seenWith.classes.includes(c))) notes.push(seenWith.note);
  }
  const otherCodes = [...new Set(logs.signals.filter((s) => s.cls === UNKNOWN).map((s) => s.label))];
  if (otherCodes.length > 0) {
    notes.push(`${otherCodes.join('; ')} in the logs: no runbook procedure for ${otherCodes.length > 1 ? 'these' : 'this'}, a human investigates`);
  }
  notes.push(...new Set(logs.signals.filter((s) => s.cls === null && s.note).map((s) => s.note!)));
  if (logs.window.scanned < logs.window.read) {
    notes.push(
      `only the last ${count(logs.window.scanned)} of ${count(logs.window.read)} log lines were scanned: a signature in the ${count(logs.window.read - logs.window.scanned)} older lines is not seen`,
    );
  }
  return notes;
}

/** The class that surplus replicas cause (torghut-ws: the 406 of a second Alpaca connection), if any. */
function surplusReplicaClass(knowledge: FailureKnowledge): [FailureClass, NonNullable<FailureClassSpec['surplusReplicas']>] | null {
  for (const [cls, spec] of Object.entries(knowledge.classes)) if (spec.surplusReplicas) return [cls, spec.surplusReplicas];
  return null;
}

/** Classify a failure from its readiness answer and logs, by the runbook's knowledge. Pure; never throws on input. */
export function classify(knowledge: FailureKnowledge, input: ClassifierInput): Classification {
  const expected = input.expectedReplicas ?? 1;
  const reading = input.readiness ? parseReadiness(input.readiness.status, input.readiness.body, readinessViewOf(knowledge)) : null;
  const logs = scanLogs(knowledge, Array.isArray(input.logLines) ? input.logLines : [], input.logWindow);
  const path = input.readinessPath ?? '/readyz';
  const decision = decide(knowledge, path, reading, logs);
  const cls = decision.cls;

  const notes = [...decision.notes, ...logNotes(knowledge, logs)];
  const out: Evidence[] = [];
  if (reading && input.readiness) out.push(readinessEvidence(path, reading, input.readiness.body));

  const replicas = input.replicas;
  const surplus = surplusReplicaClass(knowledge);
  if (typeof replicas === 'number' && replicas !== expected) {
    if (surplus && replicas > expected && (cls === surplus[0] || logs.classes.includes(surplus[0]))) {
      out.push(evidence('deployment', `replicas=${replicas} (expected ${expected}): ${surplus[1].cause}`));
      notes.push(`replicas=${replicas} (expected ${expected}) is the likely cause of ${surplus[1].short}: the GitOps change resets replicas to ${expected}`);
    } else {
      notes.push(`replicas=${replicas} (expected ${expected}): ${replicas > expected && surplus ? `${surplus[1].cause}; ` : ''}restore ${expected} in GitOps`);
    }
  } else if (surplus && cls === surplus[0] && replicas === expected) {
    notes.push(`replicas=${expected} as expected: ${surplus[1].asExpected}`);
  }

  if (logs.window.scanned < logs.window.read) out.push(evidence('logs', `log window: ${windowText(logs.window)} scanned`));
  out.push(...logEvidence(knowledge, logs.signals, cls));
  for (const extra of (input.extraEvidence ?? []).slice(0, EVIDENCE_LIMITS.extraEvidence)) out.push(evidence(extra.source, extra.text));
  notes.push(...(input.extraNotes ?? []));

  return {
    class: cls,
    procedure: procedureIdFor(knowledge, cls),
    action: actionFor(knowledge, cls, { ...input.target, expectedReplicas: expected }),
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
  /** The runbook's failure knowledge (`failures:`); a runbook without it knows no class. */
  knowledge: FailureKnowledge;
  expectedReplicas: number;
  /** Lines the log tail asks for (runbook `diagnosis.logTailLines`): a full tail may have older lines unread. */
  logTailLines?: number;
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
      const surplus = surplusReplicaClass(opts.knowledge);
      notes.push(`${pods.length} pods found (expected ${expected})${surplus ? `: ${surplus[1].perPod}` : ''}`);
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

  const lines = noPods || !logTail ? [] : logTail.lines;
  const readLines = logTail?.excerpt?.totalLines ?? lines.length;
  const result = classify(opts.knowledge, {
    readiness: probe ? { status: probe.status, body: probe.body } : null,
    readinessPath,
    logLines: lines,
    ...(logTail && !noPods
      ? {
          logWindow: {
            readLines,
            scannedLines: logTail.excerpt?.scannedLines ?? Math.min(lines.length, EVIDENCE_LIMITS.scanLines),
            tailLimited: logTail.truncated || (opts.logTailLines !== undefined && readLines >= opts.logTailLines),
          },
        }
      : {}),
    replicas: deployment?.replicas ?? null,
    expectedReplicas: expected,
    extraEvidence: extra,
    extraNotes: notes,
    target: { deployment: deployment?.name, kafkaUser: kafkaUserName },
  });

  const credentialsCount = (cls: FailureClass) => opts.knowledge.classes[cls]?.kafkaCredentials === true;
  if (credentials && (credentialsCount(result.class) || result.class === UNKNOWN)) {
    const findings = kafkaCredentialFindings(credentials, diagnosis.events.ok ? diagnosis.events.value : []);
    if (findings.problem) {
      const lines = [
        evidence('kafkaUser', findings.kafkaUser),
        ...findings.containers.map((m) => evidence('pods', `${m.object} container ${m.container ?? '?'} waiting (${m.reason}): ${m.message}`)),
        ...findings.events.map((e) => evidence('events', eventLine(e))),
      ];
      for (const line of lines) if (!result.evidence.some((e) => e.text === line.text)) result.evidence.push(line);
      result.notes.push(...findings.notes.map(note));
    } else if (credentialsCount(result.class) && result.class !== UNKNOWN) {
      result.evidence.push(evidence('kafkaUser', findings.kafkaUser));
    }
  }
  if (readyFromPods && result.class === HEALTHY) result.basis = 'probes';
  result.notes = [...new Set([...leadNotes.map(note), ...result.notes])];
  return result;
}
