/** The classifier's vocabulary: failure classes, runbook procedures, and the conclusion it returns. */

export const FAILURE_CLASSES = [
  'alpaca_406_second_connection',
  'alpaca_auth',
  'kafka_auth',
  'kafka_metadata',
  'kafka_produce',
  'unknown',
  'healthy',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** Runbook procedure: A = 406 restart, B = Alpaca credentials, C = Kafka auth/ACL/bootstrap. */
export type Procedure = 'A' | 'B' | 'C';

export type EvidenceSource = 'readyz' | 'logs' | 'deployment' | 'pods' | 'events' | 'secret' | 'gitops';

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
