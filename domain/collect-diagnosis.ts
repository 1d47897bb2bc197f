/**
 * The read-only diagnosis, gathered from every source in parallel. Each source that fails is
 * recorded (`ok: false`, listed in `degraded`) instead of failing the whole diagnosis.
 *
 * Written once over an interface of sources: the workflow passes its activity proxies (so each
 * source is its own audited, retried activity), the one-shot CLI passes the activity functions.
 */
import type {
  DeploymentFacts,
  Diagnosis,
  DiagnosisTarget,
  EventFact,
  GitOpsFacts,
  KafkaCredentials,
  LogTail,
  PodFacts,
  ProbeResult,
  SourceResult,
} from './diagnosis';
import { durationMs } from './duration';
import type { RunbookConfig } from './runbook-config';

export interface GitOpsFactsInput {
  owner: string;
  repo: string;
  ref: string;
  deploymentPath: string;
  configMapPath?: string;
  target: DiagnosisTarget;
}

export interface DiagnosisSources {
  getDeploymentFacts(target: DiagnosisTarget): Promise<DeploymentFacts>;
  listPods(target: DiagnosisTarget): Promise<PodFacts[]>;
  listEvents(target: DiagnosisTarget): Promise<EventFact[]>;
  tailLogs(target: DiagnosisTarget): Promise<LogTail>;
  probePods(target: DiagnosisTarget): Promise<ProbeResult[]>;
  checkKafkaCredentials(target: DiagnosisTarget): Promise<KafkaCredentials>;
  /** Null when no repository reader is configured: the source is then absent, not degraded. */
  readGitOpsFacts(input: GitOpsFactsInput): Promise<GitOpsFacts | null>;
}

/** The slice of the runbook config the diagnosis activities work on. */
export function diagnosisTarget(runbook: Pick<RunbookConfig, 'target' | 'diagnosis'>): DiagnosisTarget {
  const { target, diagnosis } = runbook;
  return {
    namespace: target.namespace,
    deployment: target.deployment,
    container: target.container,
    podSelector: target.podSelector,
    // Incidents started before kafkaUser existed carry runbooks without it: Strimzi's default name.
    kafkaUser: target.kafkaUser ?? target.kafkaSecret,
    kafkaSecret: target.kafkaSecret,
    configMap: target.configMap,
    health: target.health,
    logTailLines: diagnosis.logTailLines,
    logLimitBytes: diagnosis.logLimitBytes,
    eventsLimit: diagnosis.eventsLimit,
    probeTimeoutMs: durationMs(diagnosis.probeTimeout),
  };
}

/**
 * The error is the failure's own message (it names what was read), with no `source:` prefix: the
 * source is the field it is stored in, and a prefix such as `kafkaCredentials: the …` reads to the
 * redaction rules as a credential followed by its value.
 */
async function settleWith<T>(promise: Promise<T>, reasonOf: (err: unknown) => string): Promise<SourceResult<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (err) {
    return { ok: false, error: reasonOf(err) };
  }
}

/** The innermost message: an activity failure carries the activity's own failure as its cause. */
function failureMessage(err: unknown): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

export interface CollectOptions {
  /**
   * Why a source failed, as recorded in the diagnosis. Default: the innermost message (what the
   * first incidents recorded); the workflow passes the failure whole — operation, HTTP status, type,
   * attempt and why retries stopped — so on-call reads which call failed and how often it was tried.
   */
  reasonOf?: (err: unknown) => string;
}

export async function collectDiagnosis(
  sources: DiagnosisSources,
  runbook: Pick<RunbookConfig, 'target' | 'diagnosis' | 'gitops'>,
  options: CollectOptions = {},
): Promise<Diagnosis> {
  const reasonOf = options.reasonOf ?? failureMessage;
  const settle = <T>(promise: Promise<T>) => settleWith(promise, reasonOf);
  const target = diagnosisTarget(runbook);
  const { gitops } = runbook;
  const notConfigured = Promise.resolve<SourceResult<KafkaCredentials>>({ ok: false, error: 'no kafkaUser in the runbook' });
  // The order of the calls is the order of the activities in the history: keep it.
  const [deployment, pods, events, logs, probes, kafkaCredentials, gitopsFacts] = await Promise.all([
    settle(sources.getDeploymentFacts(target)),
    settle(sources.listPods(target)),
    settle(sources.listEvents(target)),
    settle(sources.tailLogs(target)),
    settle(sources.probePods(target)),
    target.kafkaUser ? settle(sources.checkKafkaCredentials(target)) : notConfigured,
    settle(
      sources.readGitOpsFacts({
        owner: gitops.owner,
        repo: gitops.repo,
        ref: gitops.baseBranch,
        deploymentPath: gitops.deploymentPath,
        configMapPath: gitops.configMapPath,
        target,
      }),
    ),
  ]);
  const diagnosis: Diagnosis = {
    collectedAt: new Date().toISOString(),
    deployment,
    pods,
    events,
    logs,
    probes,
    kafkaCredentials,
    degraded: [],
  };
  if (!gitopsFacts.ok) diagnosis.gitops = gitopsFacts;
  else if (gitopsFacts.value !== null) diagnosis.gitops = { ok: true, value: gitopsFacts.value };

  const named: Array<[string, SourceResult<unknown> | undefined]> = [
    ['deployment', deployment],
    ['pods', pods],
    ['events', events],
    ['logs', logs],
    ['probes', probes],
    ['kafkaCredentials', target.kafkaUser ? kafkaCredentials : undefined],
    ['gitops', diagnosis.gitops],
  ];
  diagnosis.degraded = named.filter(([, source]) => source?.ok === false).map(([name]) => name);
  return diagnosis;
}
