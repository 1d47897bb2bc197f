/**
 * The Alertmanager webhook payload, version "4" (the only version Alertmanager has sent since 0.x;
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). Parsed with zod at the
 * boundary; unknown extra fields are tolerated (and dropped) so a newer Alertmanager still works,
 * but every field the ingress relies on must be there with the right type.
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

export const alertmanagerPayloadSchema = z.object({
  version: z.literal('4'),
  receiver: z.string(),
  status: z.enum(['firing', 'resolved']),
  groupKey: z.string().min(1),
  truncatedAlerts: z.number().int().min(0).default(0),
  groupLabels: labelSet,
  commonLabels: labelSet,
  commonAnnotations: labelSet,
  externalURL: z.string(),
  alerts: z.array(alertSchema).max(1000),
});

export type AlertmanagerAlert = z.infer<typeof alertSchema>;
export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;

export interface PayloadIssue {
  path: string;
  message: string;
}

/** Validates a parsed JSON body; on failure the first few issues, each with its field path. */
export function parseAlertmanagerPayload(body: unknown): { ok: true; payload: AlertmanagerPayload } | { ok: false; issues: PayloadIssue[] } {
  const result = alertmanagerPayloadSchema.safeParse(body);
  if (result.success) return { ok: true, payload: result.data };
  return {
    ok: false,
    issues: result.error.issues.slice(0, 5).map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message })),
  };
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
