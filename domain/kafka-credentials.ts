/**
 * Procedure C's credentials check ("confirm the KafkaUser secret exists"), answered without any
 * access to Secrets: the Strimzi KafkaUser's status says whether its User Operator created the
 * credentials and in which Secret; the kubelet says when a container or mount cannot find a Secret.
 *
 * Why not the Secret's metadata: `get` on a Secret returns its data whatever `Accept` header the
 * client sends, so granting it lets the worker read the Kafka password. The KafkaUser carries the
 * same fact (Ready, `status.secret`) and nothing secret.
 *
 * Pure: the Strimzi object is untrusted input, parsed with a schema that tolerates extra fields;
 * every text that leaves here is redacted.
 */
import { z } from 'zod';
import type { EventFact, KafkaCredentials, KafkaUserFacts, MissingSecret } from './diagnosis';
import { redact } from './redact';

/** Where the Strimzi KafkaUser custom resource is served (CustomObjectsApi coordinates). */
export const KAFKA_USER_RESOURCE = { group: 'kafka.strimzi.io', version: 'v1beta2', plural: 'kafkausers' } as const;

const conditionSchema = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

const kafkaUserSchema = z.looseObject({
  status: z
    .looseObject({
      conditions: z.array(conditionSchema).optional(),
      secret: z.string().optional(),
      username: z.string().optional(),
    })
    .optional(),
});

const MESSAGE_MAX = 300;
const clip = (text: string): string => (text.length > MESSAGE_MAX ? `${text.slice(0, MESSAGE_MAX)}…` : text);
const cleaned = (text: string | undefined): string | undefined => (text ? clip(redact(text)) : undefined);

/** A KafkaUser that does not exist. */
export function absentKafkaUser(name: string): KafkaUserFacts {
  return { name, found: false, ready: 'Unknown' };
}

/**
 * Facts from a KafkaUser object. Strimzi reports success as `Ready=True` and a failed reconciliation
 * as `NotReady=True` (reason: the exception's class, message: its text); `Ready=False` (the usual
 * Kubernetes form) is read the same way. No condition at all means it has not been reconciled yet.
 */
export function kafkaUserFacts(name: string, object: unknown): KafkaUserFacts {
  const parsed = kafkaUserSchema.safeParse(object);
  if (!parsed.success) {
    return { name, found: true, ready: 'Unknown', reason: 'UnreadableStatus', message: 'the KafkaUser status does not have the Strimzi shape' };
  }
  const status = parsed.data.status ?? {};
  const conditions = status.conditions ?? [];
  const failing =
    conditions.find((c) => c.type === 'NotReady' && c.status === 'True') ?? conditions.find((c) => c.type === 'Ready' && c.status === 'False');
  const ready = failing ? 'False' : conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'True' : 'Unknown';
  const reason = cleaned(failing?.reason);
  const message = cleaned(failing?.message);
  return {
    name,
    found: true,
    ready,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    ...(status.secret ? { secret: status.secret } : {}),
    ...(status.username ? { username: status.username } : {}),
  };
}

const notFoundStatusSchema = z.looseObject({
  kind: z.literal('Status'),
  details: z.looseObject({ name: z.string().optional() }).optional(),
});

/**
 * What a 404 on the KafkaUser means. With Strimzi's CRD installed the API server names the missing
 * object (`kafkausers.kafka.strimzi.io "x" not found`, `details.name` x): the KafkaUser is absent.
 * Any other 404 (`the server could not find the requested resource`, or no Status at all) means the
 * API server does not serve kafkausers: Strimzi is not installed.
 */
export function kafkaUserNotFound(body: unknown, name: string): 'absent' | 'not-served' {
  let status: unknown = body;
  if (typeof status === 'string') {
    try {
      status = JSON.parse(status) as unknown;
    } catch {
      return 'not-served';
    }
  }
  const parsed = notFoundStatusSchema.safeParse(status);
  return parsed.success && parsed.data.details?.name === name ? 'absent' : 'not-served';
}


const SECRET_NOT_FOUND = /\bsecrets? "([^"\s]+)" not found/;

/** The Secret a kubelet message names as not found (`secret "torghut-ws" not found`), if any. */
export function secretNotFoundIn(message: string): string | undefined {
  return SECRET_NOT_FOUND.exec(message)?.[1];
}

/** A container waiting because a Secret is missing (CreateContainerConfigError), as the pod reports it. */
export function missingSecretOfContainer(
  pod: string,
  container: string,
  waiting: { reason?: string; message?: string } | undefined,
): MissingSecret | undefined {
  const secret = waiting?.message ? secretNotFoundIn(waiting.message) : undefined;
  if (!secret || !waiting) return undefined;
  return { secret, object: `Pod/${pod}`, container, reason: waiting.reason ?? 'Waiting', message: cleaned(waiting.message) ?? '' };
}

/** A pod's Warning event that names a missing Secret (FailedMount, or Failed with `Error: secret … not found`). */
export function missingSecretOfEvent(event: EventFact): MissingSecret | undefined {
  if (event.type !== 'Warning' || !event.object.startsWith('Pod/')) return undefined;
  const secret = secretNotFoundIn(event.message);
  return secret ? { secret, object: event.object, reason: event.reason, message: event.message } : undefined;
}

export interface KafkaCredentialFindings {
  /** The KafkaUser's state in one line. */
  kafkaUser: string;
  /** True when the credentials are not in place: KafkaUser absent, not Ready or pointing elsewhere, or a Secret reported missing. */
  problem: boolean;
  /** Containers of the target waiting for a missing Secret. */
  containers: MissingSecret[];
  /** The target's pod events that name a missing Secret. */
  events: EventFact[];
  /** What a human does first, one note per problem. */
  notes: string[];
}

/** The KafkaUser in one evidence line; with a note (what a human does first) when it is a problem. */
function kafkaUserFinding(user: KafkaUserFacts, expectedSecret: string | undefined): { text: string; note?: string } {
  const secret = user.secret ?? expectedSecret;
  const why = [user.reason, user.message].filter(Boolean).join(': ');
  const because = why ? ` (${why})` : '';
  if (!user.found) {
    return {
      text: `KafkaUser ${user.name} not found: Strimzi manages no Kafka credentials for the forwarder`,
      note: `KafkaUser ${user.name} does not exist: a human restores it (Strimzi then creates ${secret ? `Secret ${secret}` : 'its Secret'}) before any restart`,
    };
  }
  if (user.ready !== 'True') {
    return {
      text:
        user.ready === 'False'
          ? `KafkaUser ${user.name} not Ready${because}`
          : `KafkaUser ${user.name} has no Ready condition${because}: Strimzi's User Operator has not reconciled it`,
      note: `KafkaUser ${user.name} is not Ready: a human fixes what Strimzi reports before any restart`,
    };
  }
  if (expectedSecret && user.secret && user.secret !== expectedSecret) {
    return {
      text: `KafkaUser ${user.name} Ready, but its credentials are in Secret ${user.secret}, not Secret ${expectedSecret} as the runbook expects`,
      note: `KafkaUser ${user.name} keeps its credentials in Secret ${user.secret}, the forwarder reads Secret ${expectedSecret}: a human aligns them before any restart`,
    };
  }
  return { text: `KafkaUser ${user.name} Ready (Secret ${user.secret ?? '-'}, username ${user.username ?? '-'})` };
}

/**
 * What the credentials check found, for the classifier: the KafkaUser line, the kubelet's reports of
 * missing Secrets (the check's container states and the diagnosis' own events), and what to do.
 */
export function kafkaCredentialFindings(credentials: KafkaCredentials, events: readonly EventFact[]): KafkaCredentialFindings {
  const { kafkaUser: user, expectedSecret } = credentials;
  const finding = kafkaUserFinding(user, expectedSecret);
  const reported = events.flatMap((event) => {
    const missing = missingSecretOfEvent(event);
    return missing ? [{ event, secret: missing.secret }] : [];
  });
  const missingNames = new Set([...credentials.missingSecrets.map((m) => m.secret), ...reported.map((r) => r.secret)]);
  const kafkaSecrets = new Set([expectedSecret, user.secret].filter((s): s is string => s !== undefined));
  const notes = finding.note ? [finding.note] : [];
  for (const name of missingNames) {
    notes.push(
      kafkaSecrets.has(name)
        ? `the kubelet reports Secret ${name} not found: a human fixes KafkaUser ${user.name} so that Strimzi recreates it, before any restart`
        : `the kubelet reports Secret ${name} not found: a human restores it before any restart`,
    );
  }
  return {
    kafkaUser: finding.text,
    problem: notes.length > 0,
    containers: credentials.missingSecrets,
    events: reported.map((r) => r.event),
    notes,
  };
}
