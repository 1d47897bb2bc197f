/**
 * The simulated torghut environment: Kubernetes API, GitHub, Argo CD and Slack servers that speak the real
 * wire APIs, wired together as the real systems are — merging the restart PR in the simulated
 * GitHub and syncing the simulated Argo CD applies the manifest to the simulated cluster, which rolls
 * the pods and (when the scenario says a restart cures it) turns readiness to 200.
 *
 * It powers the integration tests and the demo. The activities built on it are the production
 * activities (createActivities) with real clients (@kubernetes/client-node, Octokit, fetch) pointed
 * at the simulators.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { createActivities, type Activities } from '../activities';
import { createOctokit } from '../activities/github';
import { loadRunbookConfig } from '../config/load-runbook';
import { RESTARTED_AT_ANNOTATION } from '../domain/diagnosis';
import type { RunbookConfig } from '../domain/runbook-config';
import { createSlackClient } from '../activities/slack';
import { posix } from 'node:path';
import { startArgoSim, type ArgoSim, type ArgoSimSource } from '../sim/argocd';
import { GitHubSim } from '../sim/github';
import { kubeconfigFor, startKubeSim, type KubeEndpoint, type KubeSim } from '../sim/kube-api';
import { loadScenario, type Scenario } from '../sim/scenario';
import { startSlackSim, type SlackSim } from '../sim/slack';

export interface SimEnvironmentOptions {
  /** Scenario name (sim/scenarios/NAME.yaml), path, or loaded scenario. */
  scenario: string | Scenario;
  /** Base runbook; default the shipped torghut-ws runbook. */
  runbook?: RunbookConfig;
  /** Overrides applied to the runbook (timeouts, merge mode, Argo, approvers…). */
  adjustRunbook?: (runbook: RunbookConfig) => RunbookConfig;
  /** What Git holds, when it should differ from the live cluster (drift); default: as deployed. */
  git?: { replicas?: number; kafkaBootstrap?: string };
  /**
   * Where the Argo CD application reads its manifests; default one source: the runbook's repository,
   * the directory of its deployment manifest, its base branch (what the application of a correct
   * runbook reads).
   */
  argoSources?: ArgoSimSource[];
  /** Verification poll interval (default 250 ms: the simulators answer at once). */
  verifyPollIntervalMs?: number;
  /** The Temporal Web UI the worker links to. */
  temporalUiUrl?: string;
  /** More runbooks the worker loads besides this environment's own (e.g. a forged start's target). */
  extraRunbooks?: RunbookConfig[];
  /** Client settings of the activities (see {@link SimClientOptions}). */
  clients?: SimClientOptions;
  /** A Prometheus for the runbook's status check (a real one in tests); none: that check cannot be made. */
  prometheusUrl?: string;
}

/** How the activities' clients behave against the simulators. */
export interface SimClientOptions {
  /** Milliseconds per second of GitHub back-off (retry-after, 5xx); default 10. */
  githubRetryAfterBaseValue?: number;
  /** Per-request deadline of every client (Kubernetes, GitHub, Argo CD, Slack); default 5 s. */
  requestTimeoutMs?: number;
}

/** Where the simulators listen, and their tokens: all another process needs to reach them. */
export interface SimEndpoints {
  kube: KubeEndpoint;
  github: { url: string; token: string };
  argo: { url: string; token: string };
  slack: { apiUrl: string; token: string };
}

export interface SimActivityOptions {
  runbooks: RunbookConfig[];
  temporalUiUrl?: string;
  decisionKey: string;
  verifyPollIntervalMs?: number;
  clients?: SimClientOptions;
  prometheusUrl?: string;
}

/** The production activities with real clients pointed at the GitOps simulators and at `kubeConfig`. */
function activitiesFor(kubeConfig: KubeConfig, endpoints: Omit<SimEndpoints, 'kube'>, options: SimActivityOptions): Activities {
  const timeoutMs = options.clients?.requestTimeoutMs ?? 5_000;
  return createActivities({
    runbooks: options.runbooks,
    temporalUiUrl: options.temporalUiUrl,
    decisionKey: options.decisionKey,
    kubeConfig,
    kubeRequestTimeoutMs: timeoutMs,
    github: {
      octokit: createOctokit({
        baseUrl: endpoints.github.url,
        token: endpoints.github.token,
        retryAfterBaseValue: options.clients?.githubRetryAfterBaseValue ?? 10,
        requestTimeoutMs: timeoutMs,
        pace: false,
      }),
    },
    argo: { baseUrl: endpoints.argo.url, token: endpoints.argo.token, pollIntervalMs: 100, requestTimeoutMs: timeoutMs },
    slack: { client: createSlackClient({ token: endpoints.slack.token, apiUrl: endpoints.slack.apiUrl, timeoutMs }) },
    verifyPollIntervalMs: options.verifyPollIntervalMs ?? 250,
    ...(options.prometheusUrl ? { prometheus: { baseUrl: options.prometheusUrl, requestTimeoutMs: timeoutMs } } : {}),
  });
}

/** The same activities from the endpoints alone: what a worker in another process (one a test kills) builds. */
export function simActivities(endpoints: SimEndpoints, options: SimActivityOptions): Activities {
  return activitiesFor(kubeconfigFor(endpoints.kube), endpoints, options);
}

export interface SimEnvironment {
  kube: KubeSim;
  github: GitHubSim;
  argo: ArgoSim;
  slack: SlackSim;
  runbook: RunbookConfig;
  activities: Activities;
  tokens: { github: string; argo: string; slack: string };
  endpoints: SimEndpoints;
  /** AGENTRUNS_DECISION_KEY shared by this environment's worker activities and an ingress in front of them. */
  decisionKey: string;
  close(): Promise<void>;
}

/** What the GitOps side needs of a cluster: apply a manifest as Argo CD would, and report health. */
export interface GitOpsCluster {
  apply(manifest: string): void | Promise<void>;
  health(): 'Healthy' | 'Progressing' | 'Degraded';
}

export interface GitOpsSystems {
  github: GitHubSim;
  argo: ArgoSim;
  slack: SlackSim;
  tokens: { github: string; argo: string; slack: string };
  /** AGENTRUNS_DECISION_KEY shared by these systems' worker activities and an ingress in front of them. */
  decisionKey: string;
  /** The production activities with real clients pointed at the simulators and at `kubeConfig`. */
  activities(kubeConfig: KubeConfig, verifyPollIntervalMs: number): Activities;
  close(): Promise<void>;
}

/**
 * The simulated GitHub (seeded as the cluster runs: Git and the cluster agree, as after the last
 * Argo sync), Argo CD (its sync applies the manifest at the base branch to `cluster`) and Slack,
 * wired as the real systems are. Without Argo sync in the runbook a merge reaches the cluster
 * directly, standing in for Argo CD's automated sync.
 */
export async function startGitOpsSystems(options: {
  runbook: RunbookConfig;
  live: { replicas: number; restartedAt: string | null };
  git?: SimEnvironmentOptions['git'];
  argoSources?: ArgoSimSource[];
  cluster: GitOpsCluster;
  /** The Temporal Web UI the worker links to. */
  temporalUiUrl?: string;
  /** More runbooks the worker loads besides this one. */
  extraRunbooks?: RunbookConfig[];
  clients?: SimClientOptions;
  prometheusUrl?: string;
  /** The repository's files (the scenario's `gitops.files`); default: the torghut-ws tree. */
  files?: Record<string, string>;
}): Promise<GitOpsSystems> {
  const { runbook, cluster } = options;
  const tokens = {
    github: 'ghp_simulatedGitHubToken000000000000000000',
    argo: 'argocd-simulated-token',
    slack: 'xoxb-000000000000-simulated-slack-token',
  };
  const github = await GitHubSim.start({
    owner: runbook.gitops.owner,
    repo: runbook.gitops.repo,
    token: tokens.github,
    defaultBranch: runbook.gitops.baseBranch,
    replicas: options.git?.replicas ?? options.live.replicas,
    restartedAt: options.live.restartedAt,
    ...(options.git?.kafkaBootstrap ? { kafkaBootstrap: options.git.kafkaBootstrap } : {}),
    ...(options.files ? { files: options.files } : {}),
  });

  const applyFromGit = async () => {
    const manifest = await github.fileAt(runbook.gitops.baseBranch, runbook.gitops.deploymentPath);
    if (manifest === null) throw new Error(`${runbook.gitops.deploymentPath} is missing on ${runbook.gitops.baseBranch}`);
    await cluster.apply(manifest);
  };

  const argo = await startArgoSim({
    token: tokens.argo,
    applications: [
      {
        name: runbook.argo?.application ?? 'torghut',
        ...(options.argoSources && options.argoSources.length > 1
          ? { sources: options.argoSources }
          : {
              source: options.argoSources?.[0] ?? {
                repoURL: `https://github.com/${runbook.gitops.owner}/${runbook.gitops.repo}.git`,
                path: posix.dirname(runbook.gitops.deploymentPath),
                targetRevision: runbook.gitops.baseBranch,
              },
            }),
        destinationNamespace: runbook.target.namespace,
        async readDesired() {
          const manifest = await github.fileAt(runbook.gitops.baseBranch, runbook.gitops.deploymentPath);
          const revision = await github.branchSha(runbook.gitops.baseBranch);
          if (manifest === null || revision === null) throw new Error('desired manifest not found in Git');
          return { manifest, revision };
        },
        apply: (manifest) => cluster.apply(manifest),
        health: () => cluster.health(),
      },
    ],
  });

  // The runbook's channel exists in the simulated workspace beside the default #torghut-oncall.
  const runbookChannel = runbook.slack?.channel?.replace(/^#/, '');
  const slack = await startSlackSim({
    token: tokens.slack,
    ...(runbookChannel && runbookChannel !== 'torghut-oncall' ? { channels: { 'torghut-oncall': 'C0TORGHUT1', [runbookChannel]: `C0${createHash('sha256').update(runbookChannel).digest('hex').slice(0, 8).toUpperCase()}` } } : {}),
  });

  if (!runbook.argo?.enabled) github.onMerge(() => applyFromGit());

  const decisionKey = randomBytes(32).toString('hex');
  return {
    github,
    argo,
    slack,
    tokens,
    decisionKey,
    activities: (kubeConfig, verifyPollIntervalMs) =>
      activitiesFor(
        kubeConfig,
        { github: { url: github.url, token: tokens.github }, argo: { url: argo.url, token: tokens.argo }, slack: { apiUrl: slack.apiUrl, token: tokens.slack } },
        { runbooks: [runbook, ...(options.extraRunbooks ?? [])], temporalUiUrl: options.temporalUiUrl, decisionKey, verifyPollIntervalMs, clients: options.clients, prometheusUrl: options.prometheusUrl },
      ),
    close: async () => {
      await Promise.allSettled([github.close(), argo.close(), slack.close()]);
    },
  };
}

export async function startSimEnvironment(options: SimEnvironmentOptions): Promise<SimEnvironment> {
  const loaded = typeof options.scenario === 'string' ? await loadScenario(options.scenario) : options.scenario;
  const base = options.runbook ?? (await loadRunbookConfig());
  const runbook = options.adjustRunbook ? options.adjustRunbook(base) : base;
  // The simulated cluster serves the runbook's namespace (tests give each incident its own target).
  const scenario = { ...loaded, namespace: runbook.target.namespace };

  const kube = await startKubeSim(scenario);
  const live = kube.snapshot();
  const systems = await startGitOpsSystems({
    runbook,
    live: { replicas: live.replicas, restartedAt: live.templateAnnotations[RESTARTED_AT_ANNOTATION] ?? null },
    git: options.git,
    argoSources: options.argoSources,
    temporalUiUrl: options.temporalUiUrl,
    extraRunbooks: options.extraRunbooks,
    clients: options.clients,
    prometheusUrl: options.prometheusUrl,
    ...(scenario.gitops ? { files: scenario.gitops.files } : {}),
    cluster: {
      apply: (manifest) => kube.applyDeployment(parse(manifest) as object),
      health: () => {
        const snapshot = kube.snapshot();
        const ready = snapshot.pods.filter((p) => p.ready).length;
        return ready === snapshot.replicas && ready === snapshot.pods.length ? 'Healthy' : 'Degraded';
      },
    },
  });

  return {
    kube,
    github: systems.github,
    argo: systems.argo,
    slack: systems.slack,
    runbook,
    activities: systems.activities(kubeconfigFor(kube), options.verifyPollIntervalMs ?? 250),
    tokens: systems.tokens,
    endpoints: {
      kube: { url: kube.url, token: kube.token },
      github: { url: systems.github.url, token: systems.tokens.github },
      argo: { url: systems.argo.url, token: systems.tokens.argo },
      slack: { apiUrl: systems.slack.apiUrl, token: systems.tokens.slack },
    },
    decisionKey: systems.decisionKey,
    close: async () => {
      await Promise.allSettled([kube.close(), systems.close()]);
    },
  };
}
