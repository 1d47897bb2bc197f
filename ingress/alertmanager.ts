/**
 * The Alertmanager webhook payload, version "4" (the only version Alertmanager has sent since 0.x;
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). Parsed with zod at the
 * boundary; unknown extra fields are tolerated (and dropped) so a newer Alertmanager still works,
 * but every field the ingress relies on must be there with the right type. The envelope is checked
 * as a whole and each alert on its own: a bad alert is reported, never a reason to refuse the rest.
 */
import { z } from 'zod';
import type { AlertInfo } from '../domain/incident';

const labelSet = z.record(z.string(), z.string());
/** RFC 3339 with any sub-second precision (Alertmanager sends nanoseconds) and a Z or ±hh:mm offset. */
const timestamp = z.iso.datetime({ offset: true });

export const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet.default({}),
  startsAt: timestamp,
  /** `0001-01-01T00:00:00Z` while firing. */
  endsAt: timestamp,
  /** Link to the rule's expression in Prometheus; may be empty. */
  generatorURL: z.string().default(''),
  fingerprint: z.string().min(1),
});

/**
 * The most alerts of one request that are read. A 1 MiB body (the default INGRESS_BODY_LIMIT_BYTES)
 * holds fewer than 10,000 real alerts, so in practice every alert is read; the cap only bounds the
 * work a body of junk entries can cause (a failed alert costs ~15 µs to validate: 0.15 s at the cap).
 */
export const MAX_ALERTS_READ = 10_000;

/**
 * The envelope, checked strictly: a body that is not an Alertmanager webhook at all is refused.
 * Its alerts are checked one by one ({@link parseAlertmanagerPayload}), so one bad alert cannot
 * make the ingress refuse the group — Alertmanager never retries a 4xx, and the good alerts of the
 * group would be lost with it.
 */
export const webhookEnvelopeSchema = z.object({
  version: z.literal('4'),
  receiver: z.string(),
  status: z.enum(['firing', 'resolved']),
  groupKey: z.string().min(1),
  truncatedAlerts: z.number().int().min(0).default(0),
  groupLabels: labelSet,
  commonLabels: labelSet,
  commonAnnotations: labelSet,
  externalURL: z.string(),
  alerts: z.array(z.unknown()),
});

export type AlertmanagerAlert = z.infer<typeof alertSchema>;
export type AlertmanagerPayload = Omit<z.infer<typeof webhookEnvelopeSchema>, 'alerts'> & {
  /** The alerts that passed the schema, each with its index in the body's `alerts`. */
  alerts: ReadAlert[];
};

/** An alert that passed the schema, with its index in the body's `alerts`. */
export type ReadAlert = AlertmanagerAlert & { index: number };

/** An alert of the body that could not be read: where it is and what was wrong with it. */
export interface InvalidAlert {
  index: number;
  /** The alert's fingerprint when it has a plausible one (hex-like, at most 64 characters). */
  fingerprint?: string;
  error: string;
}

export interface PayloadIssue {
  path: string;
  message: string;
}

export type ParsedPayload =
  | {
      ok: true;
      payload: AlertmanagerPayload;
      invalid: InvalidAlert[];
      /** Alerts past {@link MAX_ALERTS_READ}, not read at all. */
      skipped: number;
    }
  | { ok: false; issues: PayloadIssue[] };

const pathOf = (path: readonly PropertyKey[]) => path.map(String).join('.') || '(root)';

function fingerprintOf(alert: unknown): string | undefined {
  const value = alert && typeof alert === 'object' ? (alert as { fingerprint?: unknown }).fingerprint : undefined;
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined;
}

/**
 * Validates a parsed JSON body: the envelope as a whole (on failure the first few issues, each
 * with its field path), then each alert on its own. Alerts that fail are returned in `invalid`
 * with their index and the first problems; the others are read.
 */
export function parseAlertmanagerPayload(body: unknown): ParsedPayload {
  const envelope = webhookEnvelopeSchema.safeParse(body);
  if (!envelope.success) {
    return { ok: false, issues: envelope.error.issues.slice(0, 5).map((issue) => ({ path: pathOf(issue.path), message: issue.message })) };
  }
  const { alerts: raw, ...rest } = envelope.data;
  const alerts: ReadAlert[] = [];
  const invalid: InvalidAlert[] = [];
  raw.slice(0, MAX_ALERTS_READ).forEach((candidate, index) => {
    const parsed = alertSchema.safeParse(candidate);
    if (parsed.success) {
      alerts.push({ ...parsed.data, index });
      return;
    }
    const problems = parsed.error.issues.slice(0, 3).map((issue) => `${pathOf(issue.path)}: ${issue.message}`);
    const more = parsed.error.issues.length > 3 ? `; and ${parsed.error.issues.length - 3} more` : '';
    const fingerprint = fingerprintOf(candidate);
    invalid.push({ index, ...(fingerprint ? { fingerprint } : {}), error: `${problems.join('; ')}${more}`.slice(0, 300) });
  });
  return { ok: true, payload: { ...rest, alerts }, invalid, skipped: Math.max(0, raw.length - MAX_ALERTS_READ) };
}

/** The alert as the incident workflow records it (signal `alertFired` / `alertResolved`). */
export function toAlertInfo(alert: AlertmanagerAlert): AlertInfo {
  return {
    alertname: alert.labels.alertname,
    fingerprint: alert.fingerprint,
    startsAt: alert.startsAt,
    labels: alert.labels,
    annotations: alert.annotations,
    ...(alert.generatorURL ? { generatorURL: alert.generatorURL } : {}),
  };
}
