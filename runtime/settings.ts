/**
 * Process settings from the environment, validated at start with a message per problem. Secrets
 * (tokens) come from the environment only — never from the cluster — and are never printed:
 * `describeSettings` shows whether each is set, not its value.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';

const optionalUrl = z.url().optional();
const optionalSecret = z.string().min(1).optional();

export const settingsSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('agentruns'),
  /** TLS to Temporal: 'true' for TLS with the system's CAs (Temporal Cloud); implied by the files below. */
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  /** mTLS client certificate and key (PEM files), e.g. for a self-hosted cluster or Temporal Cloud mTLS. */
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  /** CA of the server's certificate (PEM file), when the system does not trust it. */
  TEMPORAL_TLS_CA: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  /** Temporal Cloud API key (implies TLS). */
  TEMPORAL_API_KEY: optionalSecret,
  /** Base URL of the Temporal Web UI, for links in PRs and Slack. */
  TEMPORAL_UI_URL: optionalUrl,
  /** Runbook config file; default: the shipped torghut-ws runbook. */
  AGENTRUNS_RUNBOOK: z.string().min(1).optional(),
  /** The worker's prebuilt workflow bundle; default: the one `npm run build` put next to the built code (none from the sources: bundled at start). */
  AGENTRUNS_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /** Kubeconfig path; default: $KUBECONFIG, ~/.kube/config, or in-cluster service account. */
  KUBECONFIG: z.string().min(1).optional(),
  GITHUB_TOKEN: optionalSecret,
  GITHUB_API_URL: z.url().default('https://api.github.com'),
  ARGOCD_SERVER: optionalUrl,
  ARGOCD_AUTH_TOKEN: optionalSecret,
  /** Prometheus HTTP API base (e.g. http://prometheus.monitoring:9090), for a runbook's `verification.prometheus` check. */
  PROMETHEUS_URL: optionalUrl,
  SLACK_BOT_TOKEN: optionalSecret,
  SLACK_API_URL: z.url().default('https://slack.com/api/'),
  SLACK_SIGNING_SECRET: optionalSecret,
  /**
   * Shared by the ingress and the worker only: the ingress signs each verified Slack click with it,
   * the worker checks the signature before recording a decision as Slack's. Without it Slack buttons
   * cannot decide anything. At least 32 characters (`openssl rand -hex 32`).
   */
  AGENTRUNS_DECISION_KEY: z.string().min(32, 'must be at least 32 characters (openssl rand -hex 32)').optional(),
  ALERTMANAGER_TOKEN: optionalSecret,
  INGRESS_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  INGRESS_HOST: z.string().min(1).default('0.0.0.0'),
  INGRESS_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024),
});

export type Settings = z.infer<typeof settingsSchema>;

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const picked = Object.fromEntries(Object.keys(settingsSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const result = settingsSchema.safeParse(picked);
  if (!result.success) {
    throw new SettingsError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const s = result.data;
  const problems: string[] = [];
  if (s.ARGOCD_SERVER && !s.ARGOCD_AUTH_TOKEN) problems.push('ARGOCD_AUTH_TOKEN: required when ARGOCD_SERVER is set');
  if (Boolean(s.TEMPORAL_TLS_CERT) !== Boolean(s.TEMPORAL_TLS_KEY)) {
    problems.push('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: give both (mTLS client certificate and its key) or neither');
  }
  for (const key of ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'AGENTRUNS_WORKFLOW_BUNDLE'] as const) {
    const path = s[key];
    if (path && !existsSync(path)) problems.push(`${key}: no such file ${path}`);
  }
  if (problems.length) throw new SettingsError(problems);
  return s;
}

/** The settings that hold secrets: never logged, and in the manifests only by reference to a Secret. */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'TEMPORAL_API_KEY',
  'GITHUB_TOKEN',
  'ARGOCD_AUTH_TOKEN',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'AGENTRUNS_DECISION_KEY',
  'ALERTMANAGER_TOKEN',
]);

/** Settings safe to log: secret values left out, and only the names of the secrets that are set. */
export function describeSettings(s: Settings): Record<string, unknown> {
  const entries = Object.entries(s);
  return {
    ...Object.fromEntries(entries.filter(([k]) => !SECRET_KEYS.has(k))),
    // Named so the JSON logger does not mask the list (it masks fields called *secret*, *token*…).
    presentKeys: entries.filter(([k, v]) => SECRET_KEYS.has(k) && v).map(([k]) => k),
  };
}
