/**
 * FROZEN (workflow v1, see incident-v1.ts): the activities v1 schedules, by name and shape. Types
 * only — the worker registers today's activities; an in-flight v1 incident calling one that no
 * longer exists (`checkSecret`) records that diagnosis source as degraded, as any failing source.
 */
import type { Classification } from '../../domain/classification';
import type { GitOpsFactsInput } from './collect-diagnosis-v1';
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
} from './diagnosis-v1';
import type { IncidentState, PullRequestRecord, VerificationRecord } from './types-v1';

type Slack = { channel: string; ts: string } | null;

export interface ActivitiesV1 {
  getDeploymentFacts(target: DiagnosisTarget): Promise<DeploymentFacts>;
  listPods(target: DiagnosisTarget): Promise<PodFacts[]>;
  listEvents(target: DiagnosisTarget): Promise<EventFact[]>;
  tailLogs(target: DiagnosisTarget): Promise<LogTail>;
  probePods(target: DiagnosisTarget): Promise<ProbeResult[]>;
  checkSecret(target: DiagnosisTarget): Promise<SecretPresence>;
  readGitOpsFacts(input: GitOpsFactsInput): Promise<GitOpsFacts | null>;
  classifyIncident(diagnosis: Diagnosis, options: { expectedReplicas: number; kafkaSecret?: string; readinessPath?: string }): Promise<Classification>;
  patchRestartedAt(target: DiagnosisTarget, restartedAt: string, expectedReplicas?: number): Promise<unknown>;
  openRestartPullRequest(input: object): Promise<PullRequestRecord>;
  mergePullRequest(input: object): Promise<PullRequestRecord>;
  waitForMerge(input: object): Promise<PullRequestRecord>;
  syncArgoApplication(input: { application: string; timeoutMs: number }): Promise<NonNullable<IncidentState['argoSync']>>;
  verifyRestart(input: { target: DiagnosisTarget; restartedAt: string; timeoutMs: number }): Promise<VerificationRecord>;
  openRevertPullRequest(input: object): Promise<PullRequestRecord>;
  closePullRequest(input: object): Promise<PullRequestRecord>;
  postIncidentMessage(view: IncidentState, options: { channel: string; temporalUiUrl?: string }): Promise<Slack>;
  updateIncidentMessage(input: { channel: string; ts: string; state: IncidentState; temporalUiUrl?: string }): Promise<Slack>;
}
