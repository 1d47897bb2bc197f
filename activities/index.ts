/**
 * Every activity of the incident workflow, built by one factory over narrow dependencies: the worker
 * wires real clients (runtime/wiring.ts), tests and the demo wire the simulated environment. The
 * workflow imports only the type. Each runs under `keepAlive` (./context.ts): it heartbeats while it
 * runs, so a lost worker costs the proxy's heartbeat timeout, and its failures carry their attempt.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Octokit } from '@octokit/rest';
import type { WebClient } from '@slack/web-api';
import type { GitOpsFactsInput } from '../domain/collect-diagnosis';
import type { DiagnosisTarget, GitOpsFacts, LogTail } from '../domain/diagnosis';
import { logExcerpt } from '../domain/log-excerpt';
import type { RunbookConfig } from '../domain/runbook-config';
import { createArgoActivities, type ArgoClientConfig } from './argocd';
import { createGuard } from './guard';
import { createClassifyActivities } from './classify';
import { keepAlive } from './context';
import { namedFailure } from './errors';
import { createIncidentRecordActivities } from './incident-records';
import { createGitHubActivities, type GitHubActivities } from './github';
import { createKubernetesActivities } from './kubernetes';
import { createSlackActivities } from './slack';
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
  /** GitOps repository access; without it the diagnosis has no GitOps facts and no PR can be opened. */
  github?: { octokit: Octokit };
  /** Argo CD API; required only when a runbook enables Argo sync. */
  argo?: ArgoClientConfig;
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
  const kube = createKubernetesActivities(deps.kubeConfig);
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
      const { lines, ...excerpt } = logExcerpt(tail.lines);
      return { ...tail, lines, excerpt };
    },
    ...createClassifyActivities(),
    ...createWaitActivities({ ...kube, getPullRequest }),

    /** GitOps facts at the base branch beside the live ConfigMap value; null without a repo reader. */
    async readGitOpsFacts(input: GitOpsFactsInput): Promise<GitOpsFacts | null> {
      if (!github) return null;
      guard.gitops('readGitOpsFacts', input);
      guard.target('readGitOpsFacts', input.target);
      const [facts, live] = await Promise.all([
        github.readGitOpsFacts(input),
        input.target.configMap ? kube.getConfigMapValue(input.target, 'KAFKA_BOOTSTRAP') : Promise.resolve(null),
      ]);
      return { ...facts, liveKafkaBootstrap: live };
    },
    // Every write below acts only on a loaded runbook's repository, Deployment or application, and
    // the restart-causing ones only with an approval in the incident's own history (./guard.ts).
    async openRestartPullRequest(input: Parameters<GitHubActivities['openRestartPullRequest']>[0]) {
      const runbook = repoOf('openRestartPullRequest', input);
      if (input.expectedReplicas !== undefined && input.expectedReplicas !== runbook.target.expectedReplicas) {
        throw namedFailure('NotAllowedError', `openRestartPullRequest: replicas ${input.expectedReplicas} is not what runbook ${runbook.id} expects`);
      }
      if (!input.dryRun) await guard.approved('openRestartPullRequest', runbook, 'restart');
      return withGitHub('openRestartPullRequest')(input);
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
      await guard.approved('openRevertPullRequest', repoOf('openRevertPullRequest', input), 'rollback');
      return withGitHub('openRevertPullRequest')(input);
    },
    async closePullRequest(input: Parameters<GitHubActivities['closePullRequest']>[0]) {
      repoOf('closePullRequest', input);
      return withGitHub('closePullRequest')(input);
    },

    ...argo,
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
    verifyRestart: (input: Parameters<typeof verify.verifyRestart>[0]) =>
      verify.verifyRestart({ pollIntervalMs: deps.verifyPollIntervalMs, ...input }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
