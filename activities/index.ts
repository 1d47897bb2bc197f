/**
 * Every activity of the incident workflow, built by one factory over narrow dependencies: the worker
 * wires real clients (runtime/wiring.ts), tests and the demo wire the simulated environment. The
 * workflow imports only the type. Each runs under `keepAlive` (./context.ts): it heartbeats while it
 * runs, so a lost worker costs the proxy's heartbeat timeout, and its failures carry their attempt.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Octokit } from '@octokit/rest';
import type { WebClient } from '@slack/web-api';
import { judgeOwnership, type ArgoOwnership } from '../domain/argo-ownership';
import type { GitOpsFactsInput } from '../domain/collect-diagnosis';
import { compareKafkaBootstrap, summarizeEvidence, type PrerequisiteEvidence, type SealedSecretsEvidence } from '../domain/prerequisite-evidence';
import type { DiagnosisTarget, GitOpsFacts, LogTail, SourceResult } from '../domain/diagnosis';
import { NO_FAILURE_KNOWLEDGE } from '../domain/failure-knowledge';
import { logExcerpt } from '../domain/log-excerpt';
import { redact } from '../domain/redact';
import type { RunbookConfig } from '../domain/runbook-config';
import { createArgoActivities, type ArgoClientConfig } from './argocd';
import { createGuard } from './guard';
import { createClassifyActivities } from './classify';
import { keepAlive } from './context';
import { namedFailure } from './errors';
import { createIncidentRecordActivities } from './incident-records';
import { createGitHubActivities, type GitHubActivities } from './github';
import { createKubernetesActivities } from './kubernetes';
import { createReportActivities } from './report';
import { createSlackActivities } from './slack';
import { createPrometheusActivities, type PrometheusActivities, type PrometheusConfig } from './prometheus';
import { createTrustActivities } from './trust';
import { createVerifyActivities } from './verify';
import { createWaitActivities } from './waits';

export interface ActivityDeps {
  /** The runbooks this worker loaded: the only ones its incidents may follow (resolved by ID). */
  runbooks: readonly RunbookConfig[];
  /** The Temporal Web UI, for links in PRs and Slack messages. */
  temporalUiUrl?: string;
  /** AGENTRUNS_DECISION_KEY, shared with the ingress: verifies Slack decisions. Without it none is accepted. */
  decisionKey?: string;
  kubeConfig: KubeConfig;
  /** Deadline of each Kubernetes API call; default activities/kubernetes.ts's KUBE_REQUEST_TIMEOUT_MS (10 s). */
  kubeRequestTimeoutMs?: number;
  /** GitOps repository access; without it the diagnosis has no GitOps facts and no PR can be opened. */
  github?: { octokit: Octokit };
  /** Argo CD API; required only when a runbook enables Argo sync. */
  argo?: ArgoClientConfig;
  /** Prometheus HTTP API, for a runbook's `verification.prometheus` check; without it that check cannot be made. */
  prometheus?: PrometheusConfig;
  /** Slack Web API; without it the Slack activities do nothing and return null. */
  slack?: { client: WebClient; namespace?: string };
  /** Poll interval of verification; default 2 s. */
  verifyPollIntervalMs?: number;
}

/** Every activity of `activities` under keepAlive, its type unchanged (each already returns a promise). */
function keptAlive<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  return Object.fromEntries(Object.entries(activities).map(([name, fn]) => [name, keepAlive(fn as (...args: unknown[]) => Promise<unknown>)])) as unknown as T;
}

export function createActivities(deps: ActivityDeps) {
  return keptAlive(createActivityFunctions(deps));
}

function createActivityFunctions(deps: ActivityDeps) {
  const kube = createKubernetesActivities(deps.kubeConfig, { requestTimeoutMs: deps.kubeRequestTimeoutMs });
  const github = deps.github ? createGitHubActivities({ octokit: deps.github.octokit }) : undefined;
  const withGitHub = <K extends keyof GitHubActivities>(name: K): GitHubActivities[K] => {
    if (github) return github[name];
    return () => {
      throw namedFailure('NotAllowedError', `${name}: the worker has no GitHub access (set GITHUB_TOKEN)`);
    };
  };
  const verify = createVerifyActivities(kube);
  const getPullRequest = withGitHub('getPullRequest');
  const argo = createArgoActivities(deps.argo);
  const prometheus = createPrometheusActivities(deps.prometheus);
  const guard = createGuard({ runbooks: deps.runbooks, decisionKey: deps.decisionKey });
  /** The GitOps repository of a loaded runbook, named by the input (owner and repo are required). */
  const repoOf = (what: string, input: { owner?: string; repo?: string; deploymentPath?: string; baseBranch?: string }) =>
    guard.gitops(what, { ...input, owner: input.owner ?? '', repo: input.repo ?? '' });

  return {
    ...createTrustActivities({ runbooks: deps.runbooks, temporalUiUrl: deps.temporalUiUrl, decisionKey: deps.decisionKey }),
    ...createIncidentRecordActivities(),
    ...kube,
    /** The log tail as the incident keeps it: the bounded excerpt the classifier and a human need. */
    async tailLogs(target: DiagnosisTarget): Promise<LogTail> {
      const tail = await kube.tailLogs(target);
      // The signatures of the runbook this Deployment belongs to pick the lines worth keeping.
      const runbook = deps.runbooks.find((r) => r.target.namespace === target.namespace && r.target.deployment === target.deployment);
      const { lines, ...excerpt } = logExcerpt(runbook?.failures ?? NO_FAILURE_KNOWLEDGE, tail.lines);
      return { ...tail, lines, excerpt };
    },
    ...createClassifyActivities({ runbooks: deps.runbooks }),
    ...createWaitActivities({ ...kube, getPullRequest }),

    /** GitOps facts at the base branch beside the live ConfigMap value; null without a repo reader. */
    async readGitOpsFacts(input: GitOpsFactsInput): Promise<GitOpsFacts | null> {
      if (!github) return null;
      guard.target('readGitOpsFacts', input.target);
      const runbook = guard.gitops('readGitOpsFacts', input);
      const names = { deployment: runbook.target.deployment, configMap: runbook.target.configMap };
      const [facts, live] = await Promise.all([
        github.readGitOpsFacts({ ...input, names }),
        input.target.configMap ? kube.getConfigMapValue(input.target, 'KAFKA_BOOTSTRAP') : Promise.resolve(null),
      ]);
      return { ...facts, liveKafkaBootstrap: live };
    },
    /**
     * Read-only evidence for the prerequisite of procedure B (sealed credentials changed in Git since
     * the failure began?) or C (KAFKA_BOOTSTRAP in Git, live, and as the runbook expects). Paths,
     * names and the expected value come from the worker's runbook for the target; each source that
     * cannot be read is recorded with its reason.
     */
    async collectPrerequisiteEvidence(input: PrerequisiteEvidenceInput): Promise<PrerequisiteEvidence> {
      const runbook = guard.target('collectPrerequisiteEvidence', input.target);
      const { gitops, target } = runbook;
      const repo = { owner: gitops.owner, repo: gitops.repo, baseBranch: gitops.baseBranch };
      const evidence: Omit<PrerequisiteEvidence, 'summary'> = { procedure: input.procedure, collectedAt: new Date().toISOString() };
      if (input.procedure === 'B') {
        evidence.sealedSecrets = !gitops.sealedSecretsPath
          ? { ok: false, error: `runbook ${runbook.id} names no gitops.sealedSecretsPath` }
          : await settled(async (): Promise<SealedSecretsEvidence> => {
              const listed = await withGitHub('listFileCommits')({ ...repo, path: gitops.sealedSecretsPath!, since: input.since });
              return { path: gitops.sealedSecretsPath!, branch: gitops.baseBranch, since: input.since, sinceFrom: input.sinceFrom, ...listed };
            });
      } else {
        const [git, live] = await Promise.all([
          gitops.configMapPath
            ? settled(async () => (await withGitHub('readGitConfigMapValue')({ ...repo, path: gitops.configMapPath!, key: 'KAFKA_BOOTSTRAP', name: target.configMap })).value)
            : Promise.resolve<SourceResult<string | null>>({ ok: false, error: `runbook ${runbook.id} names no gitops.configMapPath` }),
          target.configMap
            ? settled(() => kube.getConfigMapValue(input.target, 'KAFKA_BOOTSTRAP'))
            : Promise.resolve<SourceResult<string | null>>({ ok: false, error: `runbook ${runbook.id} names no target.configMap` }),
        ]);
        const expected = runbook.prerequisites?.kafkaBootstrap ?? null;
        evidence.kafkaBootstrap = {
          git: { ...git, ...(gitops.configMapPath ? { path: gitops.configMapPath } : {}) },
          live: { ...live, ...(target.configMap ? { configMap: target.configMap } : {}) },
          expected,
          mismatches: compareKafkaBootstrap(git, live, expected),
        };
      }
      return { ...evidence, summary: summarizeEvidence(evidence) };
    },
    // Every write below acts only on a loaded runbook's repository, Deployment or application, and
    // the restart-causing ones only with an approval in the incident's own history (./guard.ts).
    async openRestartPullRequest(input: Parameters<GitHubActivities['openRestartPullRequest']>[0]) {
      const runbook = repoOf('openRestartPullRequest', input);
      if (input.expectedReplicas !== undefined && input.expectedReplicas !== runbook.target.expectedReplicas) {
        throw namedFailure('NotAllowedError', `openRestartPullRequest: replicas ${input.expectedReplicas} is not what runbook ${runbook.id} expects`);
      }
      if (!input.dryRun) await guard.approved('openRestartPullRequest', runbook, 'restart');
      // The Deployment is found in its file by the runbook's name for it (the file may hold others).
      return withGitHub('openRestartPullRequest')({ ...input, deploymentName: runbook.target.deployment });
    },
    async getPullRequest(input: Parameters<GitHubActivities['getPullRequest']>[0]) {
      if (typeof input !== 'number') repoOf('getPullRequest', input);
      return getPullRequest(input);
    },
    async mergePullRequest(input: Parameters<GitHubActivities['mergePullRequest']>[0]) {
      if (typeof input === 'number') throw namedFailure('NotAllowedError', 'mergePullRequest: name the repository of a runbook');
      await guard.approved('mergePullRequest', repoOf('mergePullRequest', input), 'any');
      return withGitHub('mergePullRequest')(input);
    },
    async waitForMerge(input: Parameters<GitHubActivities['waitForMerge']>[0]) {
      repoOf('waitForMerge', input);
      return withGitHub('waitForMerge')(input);
    },
    async openRevertPullRequest(input: Parameters<GitHubActivities['openRevertPullRequest']>[0]) {
      const runbook = repoOf('openRevertPullRequest', input);
      await guard.approved('openRevertPullRequest', runbook, 'rollback');
      return withGitHub('openRevertPullRequest')({ ...input, deploymentName: runbook.target.deployment });
    },
    async closePullRequest(input: Parameters<GitHubActivities['closePullRequest']>[0]) {
      repoOf('closePullRequest', input);
      return withGitHub('closePullRequest')(input);
    },

    ...argo,
    /**
     * Read-only, before the restart PR: is the live Deployment the runbook's Argo CD application's, and
     * does that application read the file the PR changes? Both sides in the answer
     * (domain/argo-ownership.ts); the application, Deployment and file must be one runbook's.
     */
    async checkArgoOwnership(input: ArgoOwnershipInput): Promise<ArgoOwnership> {
      const runbook = guard.argo('checkArgoOwnership', input.application);
      if (guard.target('checkArgoOwnership', input.target) !== runbook || repoOf('checkArgoOwnership', input) !== runbook) {
        throw namedFailure('NotAllowedError', `checkArgoOwnership: application, Deployment and manifest must all be runbook ${runbook.id}'s`);
      }
      const [live, sources] = await Promise.all([kube.readArgoTracking(input.target), argo.getArgoApplicationSources(input.application)]);
      return judgeOwnership({
        application: input.application,
        namespace: input.target.namespace,
        deployment: input.target.deployment,
        owner: input.owner,
        repo: input.repo,
        baseBranch: input.baseBranch,
        deploymentPath: input.deploymentPath,
        live,
        sources,
      });
    },
    async getArgoApplicationSources(application: string) {
      guard.argo('getArgoApplicationSources', application);
      return argo.getArgoApplicationSources(application);
    },
    async readArgoTracking(target: DiagnosisTarget) {
      guard.target('readArgoTracking', target);
      return kube.readArgoTracking(target);
    },
    async syncArgoApplication(input: Parameters<typeof argo.syncArgoApplication>[0]) {
      const runbook = guard.argo('syncArgoApplication', input.application);
      const only = input.resources ?? [];
      if (only.length !== 1 || only[0]!.name !== runbook.target.deployment || only[0]!.namespace !== runbook.target.namespace) {
        throw namedFailure('NotAllowedError', `syncArgoApplication: a sync names exactly the Deployment of runbook ${runbook.id}`);
      }
      await guard.approved('syncArgoApplication', runbook, 'any');
      return argo.syncArgoApplication(input);
    },
    async patchRestartedAt(target: DiagnosisTarget, restartedAt: string, expectedReplicas?: number) {
      const runbook = guard.target('patchRestartedAt', target);
      if (expectedReplicas !== runbook.target.expectedReplicas) {
        throw namedFailure('NotAllowedError', `patchRestartedAt: replicas ${String(expectedReplicas)} is not what runbook ${runbook.id} expects`);
      }
      if (!runbook.emergency.directRestartEnabled) throw namedFailure('NotAllowedError', `patchRestartedAt: runbook ${runbook.id} does not enable the emergency restart`);
      await guard.approved('patchRestartedAt', runbook, 'restart');
      return kube.patchRestartedAt(target, restartedAt, expectedReplicas);
    },
    ...createSlackActivities({ client: deps.slack?.client, namespace: deps.slack?.namespace }),
    // The report comments only on a PR in a loaded runbook's repository.
    ...createReportActivities({
      ...(github ? { commentOnPullRequest: (input: Parameters<GitHubActivities['commentOnPullRequest']>[0]) => (repoOf('postIncidentReport', input), github.commentOnPullRequest(input)) } : {}),
      ...(deps.slack ? { slack: deps.slack.client } : {}),
    }),
    verifyRestart: (input: Parameters<typeof verify.verifyRestart>[0]) =>
      verify.verifyRestart({ pollIntervalMs: deps.verifyPollIntervalMs, ...input }),
    watchStability: (input: Parameters<typeof verify.watchStability>[0]) => {
      guard.target('watchStability', input.target);
      return verify.watchStability({ pollIntervalMs: deps.verifyPollIntervalMs, ...input });
    },
    // Only an expression a loaded runbook names: the worker's Prometheus is not anyone's to query.
    checkPromql: (input: Parameters<PrometheusActivities['checkPromql']>[0]) => {
      if (!deps.runbooks.some((r) => r.verification.prometheus?.query === input.query)) {
        throw namedFailure('NotAllowedError', 'checkPromql: the query is not the verification.prometheus.query of a runbook this worker loaded');
      }
      return prometheus.checkPromql({ pollIntervalMs: deps.verifyPollIntervalMs ? Math.max(deps.verifyPollIntervalMs, 500) : undefined, ...input });
    },
  };
}

/** Which prerequisite's evidence, for which target, counted from when the failure began. */
export interface PrerequisiteEvidenceInput {
  procedure: 'B' | 'C';
  target: DiagnosisTarget;
  /** ISO 8601, and what that moment is (see domain/prerequisite-evidence.ts failureBegan). */
  since: string;
  sinceFrom: string;
}

/** A read that fails is recorded with its reason (the named failure's message: operation and status), not thrown. */
async function settled<T>(read: () => Promise<T>): Promise<SourceResult<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (err) {
    return { ok: false, error: redact(err instanceof Error ? err.message : String(err)) };
  }
}

/** What the ownership check compares: the runbook's application, Deployment and GitOps file. */
export interface ArgoOwnershipInput {
  application: string;
  target: DiagnosisTarget;
  owner: string;
  repo: string;
  baseBranch: string;
  deploymentPath: string;
}

export type Activities = ReturnType<typeof createActivities>;
