/**
 * The runbook as data: everything about the target service that the automation needs, validated
 * with zod so a bad file fails at start-up with the path and reason of each problem.
 * torghut-ws is the shipped default (config/runbooks/torghut-ws.yaml); another team points the
 * automation at its own deployment by writing another file of this shape.
 */
import { z } from 'zod';
import { parseDuration } from './duration';
import { DECISION_CHANNELS } from './decision';
import { failureKnowledgeSchema } from './failure-knowledge';
import { documentIssues, InvalidDocumentError, type DocumentIssue } from './invalid-document';

const durationIssue = (text: string): string | null => {
  const ms = parseDuration(text);
  if (ms === undefined) return "expected a duration such as '30 seconds', '10m' or '2 hours'";
  return ms <= 0 ? 'must be longer than zero' : null;
};
const duration = z.string().superRefine((text, ctx) => {
  const issue = durationIssue(text);
  if (issue) ctx.addIssue({ code: 'custom', message: issue });
});
/** A duration, or `off`. */
const durationOrOff = z.string().superRefine((text, ctx) => {
  const issue = text === 'off' ? null : durationIssue(text);
  if (issue) ctx.addIssue({ code: 'custom', message: `${issue}, or 'off'` });
});

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a Kubernetes name (lower-case letters, digits and -)')
  .max(63);

const repoPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'expected a path relative to the repository root');

export const approverSchema = z.object({
  /** The identity recorded in the audit trail and typed in the CLI / Temporal UI signal. */
  id: z.string().min(1),
  name: z.string().optional(),
  /** Slack member ID (U…) that maps a button click to this approver. */
  slackUserId: z.string().regex(/^[UW][A-Z0-9]+$/, 'expected a Slack member ID such as U024BE7LH').optional(),
  /**
   * The Temporal caller identities that may act for this approver (with SSO in front of the
   * Temporal UI, the user's login). When listed, a signal or Update from any other identity is
   * refused and recorded as refused; when absent, the identity is recorded but not checked.
   */
  temporalIdentities: z.array(z.string().min(1).max(200)).min(1).optional(),
});

const channelList = z
  .array(z.enum(DECISION_CHANNELS))
  .min(1, 'name at least one channel')
  .refine((list) => new Set(list).size === list.length, 'a channel is listed twice');

export const alertMatcherSchema = z.object({
  /** Label equality matchers; every one must hold for an alert to route to this runbook. */
  labels: z.record(z.string(), z.string()),
});

export const runbookConfigSchema = z
  .object({
    id: dnsLabel,
    description: z.string().optional(),
    target: z.object({
      namespace: dnsLabel,
      deployment: dnsLabel,
      container: dnsLabel,
      /** Label selector of the deployment's pods, e.g. app=torghut-ws. */
      podSelector: z.string().min(1),
      /**
       * The Secret with the forwarder's Kafka credentials, created by Strimzi for the KafkaUser.
       * Never read: procedure C checks that the KafkaUser's status points at it.
       */
      kafkaSecret: dnsLabel.optional(),
      /** The Strimzi KafkaUser whose status procedure C checks (default: the kafkaSecret name). */
      kafkaUser: dnsLabel.optional(),
      /** ConfigMap whose KAFKA_BOOTSTRAP is compared with Git. */
      configMap: dnsLabel.optional(),
      /** At least 1: a restart PR must never scale the service to zero. */
      expectedReplicas: z.number().int().min(1).default(1),
      health: z.object({
        port: z.number().int().min(1).max(65535),
        livenessPath: z.string().startsWith('/'),
        readinessPath: z.string().startsWith('/'),
        /** Probe through this base URL instead of the API server's pods/proxy subresource. */
        directBaseUrl: z.url().optional(),
      }),
    })
      // Runbooks written before kafkaUser existed name the KafkaUser by its Secret (Strimzi's default).
      .transform((target) => ({ ...target, kafkaUser: target.kafkaUser ?? target.kafkaSecret })),
    gitops: z.object({
      owner: z.string().min(1),
      repo: z.string().min(1),
      baseBranch: z.string().min(1).default('main'),
      deploymentPath: repoPath,
      configMapPath: repoPath.optional(),
      sealedSecretsPath: repoPath.optional(),
      /** 'wait' polls the PR until a human merges it; 'auto' merges it after approval. */
      merge: z.enum(['wait', 'auto']).default('wait'),
      mergeTimeout: duration.default('2 hours'),
      mergePollInterval: duration.default('30 seconds'),
    }),
    argo: z
      .object({
        enabled: z.boolean().default(false),
        application: z.string().min(1),
        syncTimeout: duration.default('10 minutes'),
      })
      .optional(),
    approvers: z
      .array(approverSchema)
      .min(1, 'at least one approver is required')
      .refine((list) => new Set(list.map((a) => a.id)).size === list.length, 'an approver id is listed twice'),
    approval: z
      .object({
        /** The channels a decision may come through: temporal (UI, signal), slack, cli. Default all three. */
        channels: channelList.default([...DECISION_CHANNELS]),
        /** The channels that may approve the emergency direct restart; default: the same as `channels`. */
        emergencyChannels: channelList.optional(),
      })
      .prefault({}),
    timeouts: z
      .object({
        approval: duration.default('30 minutes'),
        verification: duration.default('10 minutes'),
        /** A target restarted less than this long ago is escalated as needs-human, not restarted again. */
        cooldown: duration.default('1 hour'),
        /**
         * After a close that changed nothing (needs-human, healthy-no-action), how long the incident
         * holds Alertmanager's re-sends of its alert instead of opening a new incident for each:
         * longer than Alertmanager's default repeat_interval (4h). 'off' opens one for every re-send.
         */
        resendHold: durationOrOff.default('6 hours'),
      })
      .prefault({}),
    /** What "came back" means after a restart, beyond the rollout and readiness 200 (domain/verification.ts). */
    verification: z
      .object({
        /** The new pods stay Ready, with no container restart, this long before `remediated` ('off': not watched). */
        stableFor: durationOrOff.default('2 minutes'),
        /**
         * The runbook's "status topic resumes": a PromQL expression that must hold after the restart,
         * evaluated against the Prometheus HTTP API (the worker's PROMETHEUS_URL) until `timeout`.
         * It holds when the instant query returns at least one sample and none is 0 or NaN
         * (`rate(…[1m]) > 0` returns nothing while the rate is 0).
         */
        prometheus: z
          .object({
            query: z.string().trim().min(1).max(4000),
            /** What the expression shows, in the state and the Slack message; default the query. */
            description: z.string().min(1).max(300).optional(),
            timeout: duration.default('3 minutes'),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    diagnosis: z
      .object({
        logTailLines: z.number().int().min(1).max(5000).default(200),
        // Bounded: the log tail lives in the incident's state, and Temporal payloads are limited to 2 MiB.
        logLimitBytes: z.number().int().min(1024).max(1024 * 1024).default(256 * 1024),
        eventsLimit: z.number().int().min(1).max(500).default(50),
        probeTimeout: duration.default('5 seconds'),
      })
      .prefault({}),
    emergency: z
      .object({
        /** Direct API restart (the kubectl rollout restart equivalent); off by default per the runbook. */
        directRestartEnabled: z.boolean().default(false),
      })
      .prefault({}),
    /** What the evidence of a human prerequisite compares against (domain/prerequisite-evidence.ts). */
    prerequisites: z
      .object({
        /** The KAFKA_BOOTSTRAP the service must use (procedure C shows Git and the live ConfigMap beside it). */
        kafkaBootstrap: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    alerts: z.array(alertMatcherSchema).default([]),
    slack: z.object({ channel: z.string().min(1) }).optional(),
    /** What the classifier knows about the service's failures (domain/failure-knowledge.ts); none: every failure is unknown. */
    failures: failureKnowledgeSchema.optional(),
  })
  .strict();

export type RunbookConfig = z.infer<typeof runbookConfigSchema>;
export type RunbookConfigInput = z.input<typeof runbookConfigSchema>;
export type Approver = z.infer<typeof approverSchema>;

/** One problem of a config file: where it is and why it is wrong. */
export type ConfigIssue = DocumentIssue;

export class RunbookConfigError extends InvalidDocumentError {
  constructor(source: string, issues: ConfigIssue[]) {
    super('runbook config', source, issues);
    this.name = 'RunbookConfigError';
  }
}

/** Validates an already-parsed document; throws RunbookConfigError naming every problem. */
export function parseRunbookConfig(document: unknown, source = '(inline)'): RunbookConfig {
  const result = runbookConfigSchema.safeParse(document);
  if (!result.success) {
    throw new RunbookConfigError(source, documentIssues(result.error));
  }
  return result.data;
}
