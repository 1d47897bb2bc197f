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
  /** Which pods the diagnosis considers (absent in diagnoses recorded before it existed). */
  podScope?: PodScope;
}

/** The Deployment's current ReplicaSet: the one with the highest `deployment.kubernetes.io/revision`. */
export interface ReplicaSetRef {
  name: string;
  podTemplateHash: string;
  revision: number;
}

/**
 * Which pods diagnosis and verification look at. On a real cluster the pods of earlier ReplicaSets
 * keep the Deployment's labels while they terminate, and Evicted or Completed pods stay listed until
 * something garbage-collects them: only the running pods of the current ReplicaSet say anything
 * about the Deployment as it is now.
 */
export interface PodScope {
  /** Null when the ReplicaSets could not be read: every pod matching the selector is considered. */
  replicaSet: ReplicaSetRef | null;
  /** Why the current ReplicaSet is unknown (replicaSet null). */
  fallback?: string;
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
  /** The ReplicaSet that owns the pod. */
  replicaSet?: string;
  /**
   * Why the pod is not considered (an old ReplicaSet's, Terminating, Evicted, Completed); absent for
   * the pods the diagnosis and verification look at.
   */
  ignored?: string;
}

/** The pods a diagnosis looks at: those not ignored (all pods of diagnoses recorded before scoping). */
export function consideredPods(pods: PodFacts[]): PodFacts[] {
  return pods.filter((pod) => !pod.ignored);
}

/** One evidence line: which ReplicaSet's pods were considered, and which pods were left out and why. */
export function describePodScope(scope: PodScope | undefined, pods: PodFacts[]): string {
  const considered = consideredPods(pods);
  const ignored = pods.filter((pod) => pod.ignored);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const head = scope?.replicaSet
    ? `${plural(considered.length, 'pod')} of the current ReplicaSet ${scope.replicaSet.name} (revision ${scope.replicaSet.revision}) considered`
    : `${plural(considered.length, 'pod')} considered: current ReplicaSet unknown${scope?.fallback ? ` (${scope.fallback})` : ''}, every running pod of the selector counts`;
  if (ignored.length === 0) return head;
  const listed = ignored.slice(0, 5).map((pod) => `${pod.name}: ${pod.ignored}`).join('; ');
  return `${head}; ${plural(ignored.length, 'pod')} ignored (${listed}${ignored.length > 5 ? '; …' : ''})`;
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

/**
 * The Strimzi KafkaUser that owns the forwarder's Kafka credentials, from its status. Strimzi reports
 * success as condition `Ready=True` and a failed reconciliation as `NotReady=True` with the exception
 * as reason and message; `ready` folds both into one value.
 */
export interface KafkaUserFacts {
  name: string;
  found: boolean;
  /** 'Unknown' when not found, or when Strimzi has not reported a condition yet. */
  ready: 'True' | 'False' | 'Unknown';
  /** Reason and message (redacted) of the condition that says it is not ready. */
  reason?: string;
  message?: string;
  /** `status.secret`: the Secret Strimzi created with the user's credentials. */
  secret?: string;
  /** `status.username`: the Kafka principal's user name. */
  username?: string;
}

/** A Secret that the kubelet reports as not found (a container that cannot start, a mount that fails). */
export interface MissingSecret {
  /** Name of the Secret the kubelet could not find. */
  secret: string;
  /** `Pod/<name>` the report is about. */
  object: string;
  /** The waiting container, when the report is a container state. */
  container?: string;
  /** e.g. CreateContainerConfigError (container state), FailedMount or Failed (event). */
  reason: string;
  /** The kubelet's message, redacted. */
  message: string;
}

/**
 * The Kafka credentials check of procedure C, made without any access to Secrets: the KafkaUser's
 * status, and containers of the target's pods waiting because a Secret is missing.
 */
export interface KafkaCredentials {
  kafkaUser: KafkaUserFacts;
  /** The Secret the forwarder reads its credentials from (runbook `target.kafkaSecret`). */
  expectedSecret?: string;
  /** Containers of the target's pods that wait because a Secret is not found. */
  missingSecrets: MissingSecret[];
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
  kafkaCredentials: SourceResult<KafkaCredentials>;
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
  /** The Strimzi KafkaUser that owns the Kafka credentials. */
  kafkaUser?: string;
  /** The Secret the KafkaUser's status should point at. */
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
