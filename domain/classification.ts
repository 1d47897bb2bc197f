/** The classifier's vocabulary: failure classes, runbook procedures, and the conclusion it returns. */

/** The `error_class` values the forwarder documents for its /readyz 503 body (runbook). */
export const READINESS_ERROR_CLASSES = [
  'alpaca_406_second_connection',
  'alpaca_auth',
  'kafka_auth',
  'kafka_metadata',
  'kafka_produce',
  'unknown',
] as const;
export type ReadinessErrorClass = (typeof READINESS_ERROR_CLASSES)[number];

/** Everything the classifier can conclude: a readiness class, or healthy. */
export const FAILURE_CLASSES = [...READINESS_ERROR_CLASSES, 'healthy'] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** Runbook procedure: A = 406 restart, B = Alpaca credentials, C = Kafka auth/ACL/bootstrap. */
export type Procedure = 'A' | 'B' | 'C';

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

export function procedureFor(cls: FailureClass): Procedure | null {
  switch (cls) {
    case 'alpaca_406_second_connection':
      return 'A';
    case 'alpaca_auth':
      return 'B';
    case 'kafka_auth':
    case 'kafka_metadata':
    case 'kafka_produce':
      return 'C';
    case 'unknown':
    case 'healthy':
      return null;
  }
}

/** What the classifier reads. Pure data, so the same rules run in an activity, the CLI and tests. */
export interface ClassifierInput {
  /** The `/readyz` probe of the pod under suspicion; null/absent when it was not probed. */
  readiness?: { status: number | null; body?: string } | null;
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
}
