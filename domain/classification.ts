/** The classifier's vocabulary: failure classes, runbook procedures, and the conclusion it returns. */

/**
 * A failure class: one of the runbook's (`failures.classes`), or one of the engine's own verdicts —
 * `healthy` (readiness 2xx) and `unknown` (nothing conclusive). A string, not a union: a second
 * runbook declares classes of its own.
 */
export type FailureClass = string;

/** The engine's own verdicts, whatever the runbook declares. */
export const HEALTHY = 'healthy';
export const UNKNOWN = 'unknown';

/** A runbook procedure's id (torghut-ws: A = 406 restart, B = Alpaca credentials, C = Kafka auth/ACL/bootstrap). */
export type Procedure = string;

export type EvidenceSource = 'readyz' | 'logs' | 'deployment' | 'pods' | 'events' | 'kafkaUser' | 'gitops';

export interface Evidence {
  source: EvidenceSource;
  /** One line of evidence, secrets already redacted. */
  text: string;
}

export interface Classification {
  class: FailureClass;
  procedure: Procedure | null;
  /** What the on-call engineer (or the automation, after approval) should do. */
  action: string;
  /** Where the conclusion came from. */
  basis: 'readiness' | 'logs' | 'readiness+logs' | 'probes' | 'none';
  /** True when readiness and logs point at different classes (readiness wins). */
  conflict: boolean;
  evidence: Evidence[];
  /** Warnings the engineer should see, e.g. replicas != 1 for a 406. */
  notes: string[];
}

/** What the classifier reads. Pure data, so the same rules run in an activity, the CLI and tests. */
export interface ClassifierInput {
  /** The readiness probe of the pod under suspicion; null/absent when it was not probed. */
  readiness?: { status: number | null; body?: string } | null;
  /** The readiness path, as evidence and notes name it (default `/readyz`). */
  readinessPath?: string;
  /** Recent log lines of the forwarder (any format: plain, JSON lines, stack traces). */
  logLines: readonly string[];
  /** `spec.replicas` of the live Deployment, when known. */
  replicas?: number | null;
  /** Replicas the runbook requires (default 1: a second replica causes Alpaca 406). */
  expectedReplicas?: number;
  /** Facts gathered elsewhere (deployment, KafkaUser, GitOps drift); redacted and capped like the rest. */
  extraEvidence?: Evidence[];
  /** Warnings gathered elsewhere (degraded sources), shown after the classifier's own notes. */
  extraNotes?: readonly string[];
  /** Names for the action text; generic wording when absent. */
  target?: { deployment?: string; kafkaUser?: string };
  /**
   * Where `logLines` came from, when they are not the whole log the pod was asked for: how many lines
   * were read and how many of those (the most recent) were scanned. Default: `logLines` is all of it.
   */
  logWindow?: { readLines: number; scannedLines: number; tailLimited?: boolean };
}
