/**
 * Scenario files of the simulated torghut environment: one YAML file per situation an on-call
 * engineer meets (406, auth, each Kafka class, healthy, flapping, API errors). Validated with zod so
 * a typo in a scenario fails loudly with the file and the path of the bad field, instead of quietly
 * simulating something else.
 */
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { readYamlDocument } from '../config/read-yaml';
import { documentIssues, InvalidDocumentError, type DocumentIssue } from '../domain/invalid-document';

export const SCENARIO_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));

/** What a pod answers on a health path: a status and a body, or nothing at all. */
const httpAnswerSchema = z
  .object({
    status: z.number().int().min(100).max(599),
    /** Raw text (possibly malformed) or a JSON object, served as application/json. */
    body: z.union([z.string(), z.record(z.string(), z.unknown())]).default(''),
    contentType: z.string().optional(),
    /** Hold the answer this long (a hung endpoint; probes must time out). */
    delayMs: z.number().int().min(0).max(60_000).optional(),
  })
  .strict();

/** The port does not answer: the API server's proxy reports it cannot reach the pod. */
const unreachableSchema = z.object({ unreachable: z.literal(true) }).strict();

export const healthAnswerSchema = z.union([httpAnswerSchema, unreachableSchema]);

const logsSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((logs) => (typeof logs === 'string' ? logs.replace(/\n$/, '').split('\n') : logs));

const eventSchema = z
  .object({
    type: z.enum(['Normal', 'Warning']).default('Normal'),
    reason: z.string().min(1),
    /** `{replicaset}` and `{pod}` are replaced by the simulated names. */
    message: z.string(),
    /** `deployment`, `replicaset`, `pod` (the first pod), `pod/N`, or a literal `Kind/name`. */
    object: z.string().default('pod'),
    count: z.number().int().min(1).default(1),
    secondsAgo: z.number().int().min(0).default(60),
    /**
     * Which API wrote it: core/v1 (`count`, `lastTimestamp`) or events.k8s.io/v1, as newer
     * components write them (`eventTime`, a `series` when it repeated, no `lastTimestamp`).
     */
    api: z.enum(['core/v1', 'events.k8s.io/v1']).default('core/v1'),
  })
  .strict();

/**
 * The forwarder container cannot start and waits, as the kubelet reports it (`state.waiting`), e.g.
 * CreateContainerConfigError with `secret "torghut-ws" not found`. Its pods are Pending: nothing
 * answers on the health port and there are no logs.
 */
const containerWaitingSchema = z
  .object({
    reason: z.string().min(1),
    message: z.string().default(''),
  })
  .strict();

/** The part of the state that a restart may change. */
const conditionSchema = z
  .object({
    readiness: healthAnswerSchema.optional(),
    liveness: healthAnswerSchema.optional(),
    logs: logsSchema.optional(),
    /** Pod readiness; defaults to "readiness answers 2xx". */
    ready: z.boolean().optional(),
    /**
     * After this many readiness probes the cure wears off and the pods fall back to the broken
     * state (a restart that cures only briefly).
     */
    relapseAfterReadinessProbes: z.number().int().min(1).optional(),
    /** The cure holds only while the Deployment runs at most this many replicas (a second replica re-triggers 406). */
    maxReplicas: z.number().int().min(0).optional(),
    /** The new pods' container cannot start (a restart before the cause is fixed can make it worse). */
    containerWaiting: containerWaitingSchema.optional(),
  })
  .strict();

const faultCode = z.number().int().min(400).max(599);

export const scenarioSchema = z
  .object({
    description: z.string().min(1),
    namespace: z.string().default('torghut'),
    deployment: z
      .object({
        name: z.string().default('torghut-ws'),
        replicas: z.number().int().min(0).default(1),
        generation: z.number().int().min(1).default(1),
        image: z.string().default('registry.ide-newton.ts.net/lab/torghut-ws:0.42.1'),
        /** spec.template.metadata.annotations */
        templateAnnotations: z.record(z.string(), z.string()).default({}),
        labels: z.record(z.string(), z.string()).default({ app: 'torghut-ws' }),
        /**
         * The Argo CD application that manages the Deployment and how it marks it: the
         * `argocd.argoproj.io/tracking-id` annotation (Argo CD's default) or the
         * `app.kubernetes.io/instance` label. null: not managed by Argo CD.
         */
        argoTracking: z
          .object({ application: z.string().min(1), by: z.enum(['annotation', 'label']).default('annotation') })
          .strict()
          .nullable()
          .default({ application: 'torghut', by: 'annotation' }),
      })
      .strict()
      .prefault({}),
    container: z.string().default('torghut-ws'),
    port: z.number().int().min(1).max(65535).default(8080),
    /** The service's health paths (the runbook's target.health). */
    health: z
      .object({ livenessPath: z.string().startsWith('/').default('/healthz'), readinessPath: z.string().startsWith('/').default('/readyz') })
      .strict()
      .prefault({}),
    /** What the GitOps repository holds, file by path, as after the last sync (default: the torghut-ws tree). */
    gitops: z.object({ files: z.record(z.string().min(1), z.string()) }).strict().optional(),
    pods: z
      .object({
        phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']).default('Running'),
        /** How many of the pods are Ready; default: all when readiness answers 2xx, else none. */
        readyCount: z.number().int().min(0).optional(),
        restarts: z.number().int().min(0).default(0),
        startedSecondsAgo: z.number().int().min(0).default(3600),
        nodeName: z.string().default('talos-worker-3'),
      })
      .strict()
      .prefault({}),
    /**
     * Pods of an earlier ReplicaSet that are still listed with the Deployment's labels, as on a real
     * cluster: Terminating (being killed), Evicted (Failed, kept until garbage collection) or
     * Completed (Succeeded). They answer no probe.
     */
    oldPods: z.array(z.enum(['Terminating', 'Evicted', 'Completed'])).default([]),
    readiness: healthAnswerSchema,
    liveness: healthAnswerSchema.default({ status: 200, body: 'ok' }),
    /** What a Ready pod answers on readiness when others are not ready (replicas > 1). */
    readyReadiness: healthAnswerSchema.default({
      status: 200,
      body: { status: 'ok', gates: { alpaca_ws: true, kafka: true, trade_updates: true } },
    }),
    logs: logsSchema.default([]),
    events: z.array(eventSchema).default([]),
    /** The pods' container waits instead of running (absent: it runs). */
    containerWaiting: containerWaitingSchema.optional(),
    /**
     * Whether the Kafka credentials Secret exists. The API server never serves it (the shipped Role
     * grants nothing on secrets, so every secrets request is refused with 403); it decides the
     * KafkaUser's default state.
     */
    secret: z
      .object({
        name: z.string().default('torghut-ws'),
        present: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** The Strimzi KafkaUser that owns the Secret, served at kafka.strimzi.io/v1beta2 kafkausers. */
    kafkaUser: z
      .object({
        /** Default: the Secret's name (Strimzi names the Secret after its KafkaUser). */
        name: z.string().optional(),
        /** Default: ready when the Secret is present, not-ready when it is not. */
        state: z.enum(['ready', 'not-ready', 'absent']).optional(),
        /** Strimzi's NotReady condition when not-ready: the exception's class and message. */
        reason: z.string().min(1).default('TimeoutException'),
        message: z.string().default('Timed out waiting for a node assignment. Call: describeUserScramCredentials'),
        /** False: Strimzi is not installed, the API server does not serve kafkausers at all. */
        crdInstalled: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    configMap: z
      .object({
        name: z.string().default('torghut-ws'),
        present: z.boolean().default(true),
        data: z.record(z.string(), z.string()).default({ KAFKA_BOOTSTRAP: 'kafka-kafka-bootstrap.kafka:9092' }),
      })
      .strict()
      .prefault({}),
    /** API faults: the HTTP status the simulated API server answers for that resource. */
    faults: z
      .object({
        deployment: faultCode.optional(),
        pods: faultCode.optional(),
        events: faultCode.optional(),
        logs: faultCode.optional(),
        kafkaUser: faultCode.optional(),
        configmap: faultCode.optional(),
        proxy: faultCode.optional(),
        replicasets: faultCode.optional(),
        patch: faultCode.optional(),
      })
      .strict()
      .default({}),
    /** The state after a rollout restart; absent = a restart does not cure. */
    afterRestart: conditionSchema.optional(),
    /** How many restarts it takes before afterRestart applies (default 1). */
    restartsUntilCured: z.number().int().min(1).default(1),
    /**
     * Raw secret strings written into this scenario's logs. Tests assert none of them ever leaves
     * an activity; the loader checks each really appears in the scenario.
     */
    secretsInLogs: z.array(z.string().min(6)).default([]),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type HealthAnswer = z.infer<typeof healthAnswerSchema>;
export type ScenarioCondition = z.infer<typeof conditionSchema>;
export type ScenarioEvent = z.infer<typeof eventSchema>;
export type ContainerWaiting = z.infer<typeof containerWaitingSchema>;

/** The KafkaUser a scenario simulates, with its defaults derived from the Secret. */
export interface ScenarioKafkaUser {
  name: string;
  state: 'ready' | 'not-ready' | 'absent';
  reason: string;
  message: string;
  crdInstalled: boolean;
  /** `status.secret` once Strimzi created it. */
  secret: string;
}

export function kafkaUserOf(scenario: Scenario): ScenarioKafkaUser {
  const { kafkaUser: user, secret } = scenario;
  return {
    name: user.name ?? secret.name,
    state: user.state ?? (secret.present ? 'ready' : 'not-ready'),
    reason: user.reason,
    message: user.message,
    crdInstalled: user.crdInstalled,
    secret: secret.name,
  };
}

export class ScenarioError extends InvalidDocumentError {
  constructor(source: string, issues: DocumentIssue[]) {
    super('scenario', source, issues);
    this.name = 'ScenarioError';
  }
}

/** Validates an already-parsed scenario document; throws ScenarioError naming every problem. */
export function parseScenario(document: unknown, source = '(inline)'): Scenario {
  const result = scenarioSchema.safeParse(document);
  if (!result.success) {
    throw new ScenarioError(source, documentIssues(result.error));
  }
  const missing = result.data.secretsInLogs.filter((secret) => !scenarioText(result.data).includes(secret));
  if (missing.length > 0) {
    throw new ScenarioError(source, [{ path: 'secretsInLogs', message: `${missing.length} listed secret(s) do not appear in the logs` }]);
  }
  return result.data;
}

/** All log text of a scenario, before and after restart. */
function scenarioText(scenario: Scenario): string {
  return [...scenario.logs, ...(scenario.afterRestart?.logs ?? [])].join('\n');
}

/** Loads a scenario by name (`alpaca-406`) from sim/scenarios, or by file path. */
export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  const path = /[/\\]|\.ya?ml$/.test(nameOrPath) ? nameOrPath : join(SCENARIO_DIR, `${nameOrPath}.yaml`);
  return parseScenario(await readYamlDocument(path, (issues) => new ScenarioError(path, issues)), path);
}

/** Names of the shipped scenarios (file names without .yaml), sorted. */
export async function listScenarios(dir: string = SCENARIO_DIR): Promise<string[]> {
  const files = await readdir(dir);
  return files
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => basename(file, '.yaml'))
    .sort();
}
