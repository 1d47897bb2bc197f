/**
 * What the read-only diagnosis gathers. Each source is collected by its own activity; a source that
 * fails is recorded as such (`ok: false`) so one broken API degrades the diagnosis instead of
 * failing the incident.
 */

export type SourceResult<T> = { ok: true; value: T } | { ok: false; error: string };

export interface DeploymentCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface DeploymentFacts {
  name: string;
  namespace: string;
  generation: number;
  observedGeneration: number;
  /** spec.replicas */
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  /** spec.template.metadata.annotations */
  templateAnnotations: Record<string, string>;
  conditions: DeploymentCondition[];
}

export interface PodFacts {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  startedAt?: string;
  /** Seconds since the pod started, at collection time. */
  ageSeconds?: number;
  nodeName?: string;
}

export interface EventFact {
  type: string;
  reason: string;
  message: string;
  object: string;
  count: number;
  lastTimestamp?: string;
}

export interface LogTail {
  pod: string;
  container: string;
  /** Lines already redacted by the activity before they leave it. */
  lines: string[];
  truncated: boolean;
  /**
   * Set when `lines` is the bounded excerpt the incident keeps (domain/log-excerpt.ts) rather than
   * the whole tail: how many lines were read, scanned and left out.
   */
  excerpt?: { totalLines: number; scannedLines: number; omittedLines: number };
}

export interface ProbeResult {
  pod: string;
  path: string;
  /** HTTP status of the probe, or null when it could not be reached. */
  status: number | null;
  /** Response body (truncated, redacted). */
  body: string;
  error?: string;
}

export interface SecretPresence {
  name: string;
  exists: boolean;
  /** Names of the data keys (never the values), when it exists. */
  keys: string[];
}

export interface GitOpsFacts {
  ref: string;
  /** `replicas` in the GitOps deployment.yaml (null when absent). */
  replicas: number | null;
  restartedAt: string | null;
  /** KAFKA_BOOTSTRAP in the GitOps configmap.yaml (null when absent or not configured). */
  kafkaBootstrap: string | null;
  /** KAFKA_BOOTSTRAP in the live ConfigMap, for drift comparison (null when unknown). */
  liveKafkaBootstrap: string | null;
}

export interface Diagnosis {
  collectedAt: string;
  deployment: SourceResult<DeploymentFacts>;
  pods: SourceResult<PodFacts[]>;
  events: SourceResult<EventFact[]>;
  logs: SourceResult<LogTail>;
  probes: SourceResult<ProbeResult[]>;
  kafkaSecret: SourceResult<SecretPresence>;
  /** Absent when no repository reader is configured. */
  gitops?: SourceResult<GitOpsFacts>;
  /** Names of the sources that failed. */
  degraded: string[];
}

/** What the diagnosis activities need to know about the target (a slice of the runbook config). */
export interface DiagnosisTarget {
  namespace: string;
  deployment: string;
  container: string;
  podSelector: string;
  kafkaSecret?: string;
  configMap?: string;
  health: { port: number; livenessPath: string; readinessPath: string; directBaseUrl?: string };
  logTailLines: number;
  logLimitBytes: number;
  eventsLimit: number;
  probeTimeoutMs: number;
}

/** The pod-template annotation whose change makes the Deployment controller roll the pods. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
