/**
 * FROZEN (workflow v1, see incident-v1.ts). The read-only diagnosis, gathered from every source in parallel. Each source that fails is
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
  LogTail,
  PodFacts,
  ProbeResult,
  SecretPresence,
  SourceResult,
} from './diagnosis-v1';
import { durationMs } from '../../domain/duration';
import type { RunbookConfig } from '../../domain/runbook-config';

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
  checkSecret(target: DiagnosisTarget): Promise<SecretPresence>;
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
    kafkaSecret: target.kafkaSecret,
    configMap: target.configMap,
    health: target.health,
    logTailLines: diagnosis.logTailLines,
    logLimitBytes: diagnosis.logLimitBytes,
    eventsLimit: diagnosis.eventsLimit,
    probeTimeoutMs: durationMs(diagnosis.probeTimeout),
  };
}

async function settle<T>(name: string, promise: Promise<T>): Promise<SourceResult<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (err) {
    return { ok: false, error: `${name}: ${failureMessage(err)}` };
  }
}

/** The innermost message: an activity failure carries the activity's own failure as its cause. */
function failureMessage(err: unknown): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

export async function collectDiagnosis(
  sources: DiagnosisSources,
  runbook: Pick<RunbookConfig, 'target' | 'diagnosis' | 'gitops'>,
): Promise<Diagnosis> {
  const target = diagnosisTarget(runbook);
  const { gitops } = runbook;
  const notConfigured = Promise.resolve<SourceResult<SecretPresence>>({ ok: false, error: 'kafkaSecret: not configured' });
  const [deployment, pods, events, logs, probes, kafkaSecret, gitopsFacts] = await Promise.all([
    settle('deployment', sources.getDeploymentFacts(target)),
    settle('pods', sources.listPods(target)),
    settle('events', sources.listEvents(target)),
    settle('logs', sources.tailLogs(target)),
    settle('probes', sources.probePods(target)),
    target.kafkaSecret ? settle('kafkaSecret', sources.checkSecret(target)) : notConfigured,
    settle(
      'gitops',
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
    kafkaSecret,
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
    ['kafkaSecret', target.kafkaSecret ? kafkaSecret : undefined],
    ['gitops', diagnosis.gitops],
  ];
  diagnosis.degraded = named.filter(([, source]) => source?.ok === false).map(([name]) => name);
  return diagnosis;
}
