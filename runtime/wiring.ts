/**
 * Real clients from settings: the Kubernetes API from a kubeconfig (file, $KUBECONFIG, ~/.kube/config
 * or the in-cluster service account), GitHub, Argo CD and Slack from tokens in the environment.
 * A missing token switches its integration off; what that means is logged at start.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { createActivities, type Activities } from '../activities';
import { createOctokit } from '../activities/github';
import { createSlackClient } from '../activities/slack';
import type { RunbookConfig } from '../domain/runbook-config';
import type { Settings } from './settings';

export function kubeConfigFrom(settings: Pick<Settings, 'KUBECONFIG'>): KubeConfig {
  const kc = new KubeConfig();
  if (settings.KUBECONFIG) kc.loadFromFile(settings.KUBECONFIG);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new Error('no Kubernetes cluster configured: set KUBECONFIG, use --kubeconfig, or run in a cluster');
  }
  return kc;
}

export function activitiesFromSettings(
  settings: Settings,
  runbooks: readonly RunbookConfig[],
  kubeConfig: KubeConfig = kubeConfigFrom(settings),
): Activities {
  return createActivities({
    runbooks,
    temporalUiUrl: settings.TEMPORAL_UI_URL,
    decisionKey: settings.AGENTRUNS_DECISION_KEY,
    kubeConfig,
    github: settings.GITHUB_TOKEN ? { octokit: createOctokit({ baseUrl: settings.GITHUB_API_URL, token: settings.GITHUB_TOKEN }) } : undefined,
    argo: settings.ARGOCD_SERVER && settings.ARGOCD_AUTH_TOKEN ? { baseUrl: settings.ARGOCD_SERVER, token: settings.ARGOCD_AUTH_TOKEN } : undefined,
    prometheus: settings.PROMETHEUS_URL ? { baseUrl: settings.PROMETHEUS_URL } : undefined,
    slack: settings.SLACK_BOT_TOKEN
      ? { client: createSlackClient({ token: settings.SLACK_BOT_TOKEN, apiUrl: settings.SLACK_API_URL }), namespace: settings.TEMPORAL_NAMESPACE }
      : undefined,
  });
}

/** What is switched on, for the start-up log line (never a secret). */
export function integrationsSummary(settings: Settings): Record<string, string> {
  return {
    github: settings.GITHUB_TOKEN ? `on (${settings.GITHUB_API_URL})` : 'off: no GITHUB_TOKEN (no GitOps facts, no PR)',
    argocd: settings.ARGOCD_SERVER ? `on (${settings.ARGOCD_SERVER})` : 'off: no ARGOCD_SERVER',
    prometheus: settings.PROMETHEUS_URL ? `on (${settings.PROMETHEUS_URL})` : "off: no PROMETHEUS_URL (a runbook's verification.prometheus check cannot be made)",
    slack: settings.SLACK_BOT_TOKEN ? `on (${settings.SLACK_API_URL})` : 'off: no SLACK_BOT_TOKEN',
    slackDecisions: settings.AGENTRUNS_DECISION_KEY ? 'on' : 'off: no AGENTRUNS_DECISION_KEY (Slack buttons cannot decide)',
  };
}
