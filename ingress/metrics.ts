/**
 * Prometheus metrics of the ingress, with prom-client (the de-facto Node client: text exposition
 * format, counters, histograms, process metrics). Each ingress gets its own Registry so several can
 * live in one process (tests) without "metric already registered" clashes.
 *
 * Label values are closed sets chosen by the code (reasons, routes, results), never raw input, so a
 * flood of odd requests cannot blow up the series count.
 */
import type { Client } from '@temporalio/client';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { OUTCOMES } from '../domain/incident';
import { outcomeKey } from '../domain/search-attributes';
import { INCIDENT_WORKFLOW_TYPE } from '../workflows/messages';

export type AlertRejectReason =
  | 'not_found'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'unauthenticated'
  | 'forbidden'
  | 'too_large'
  | 'bad_json'
  | 'invalid_payload'
  | 'temporal_unavailable'
  | 'internal_error';

/** Why an alert of an accepted request was not read: it failed the schema, or came past the cap. */
export type InvalidAlertReason = 'invalid_alert' | 'over_limit';

export type SlackRejectReason =
  | 'not_configured'
  | 'unsupported_media_type'
  | 'too_large'
  | 'bad_signature'
  | 'stale_timestamp'
  | 'bad_payload';

export type ApprovalResult = 'accepted' | 'refused' | 'unauthorised' | 'error';

/** Counts incidents by outcome (closed) and open ones, read from Temporal visibility at scrape time. */
export type IncidentCounter = () => Promise<{ open: number; byOutcome: Partial<Record<string, number>> }>;

export interface IngressMetrics {
  registry: Registry;
  alertsReceived: Counter<'status'>;
  incidentsStarted: Counter<'runbook'>;
  incidentsAttached: Counter<'runbook'>;
  alertsResolved: Counter<'runbook' | 'signalled'>;
  alertsIgnored: Counter<'reason'>;
  alertsInvalid: Counter<'reason'>;
  alertsRejected: Counter<'reason'>;
  slackRejected: Counter<'reason'>;
  approvals: Counter<'channel' | 'decision' | 'result'>;
  requestDuration: Histogram<'route' | 'method' | 'status'>;
  /** Renders the registry in the Prometheus text format. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  /** Also export process metrics (CPU, memory, event loop lag); default true. */
  processMetrics?: boolean;
  /** When given, `agentruns_incidents{state}` is read from Temporal at each scrape. */
  countIncidents?: IncidentCounter;
  /** Called when counting incidents fails (the gauge keeps its last values). */
  onCountError?: (err: unknown) => void;
}

export function createMetrics(options: MetricsOptions = {}): IngressMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'agentruns_ingress_' });
  const registers = [registry];

  const metrics: IngressMetrics = {
    registry,
    alertsReceived: new Counter({
      name: 'agentruns_alerts_received_total',
      help: 'Alerts received from Alertmanager in accepted webhook requests, by alert status.',
      labelNames: ['status'],
      registers,
    }),
    incidentsStarted: new Counter({
      name: 'agentruns_alerts_started_total',
      help: 'Firing alerts that started a new incident workflow.',
      labelNames: ['runbook'],
      registers,
    }),
    incidentsAttached: new Counter({
      name: 'agentruns_alerts_attached_total',
      help: 'Firing alerts attached to an incident already open for the same target (alertFired signal).',
      labelNames: ['runbook'],
      registers,
    }),
    alertsResolved: new Counter({
      name: 'agentruns_alerts_resolved_total',
      help: 'Resolved alerts, by whether an open incident was signalled.',
      labelNames: ['runbook', 'signalled'],
      registers,
    }),
    alertsIgnored: new Counter({
      name: 'agentruns_alerts_ignored_total',
      help: 'Alerts acknowledged but ignored, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    alertsInvalid: new Counter({
      name: 'agentruns_alerts_invalid_total',
      help: 'Alerts of accepted webhook requests that were not read (listed in the 202 body), by reason: invalid_alert (failed the schema) or over_limit (past the first 10,000 of a request).',
      labelNames: ['reason'],
      registers,
    }),
    alertsRejected: new Counter({
      name: 'agentruns_alerts_rejected_total',
      help: 'Alertmanager webhook requests answered with an error (nothing started), by reason.',
      labelNames: ['reason'],
      registers,
    }),
    slackRejected: new Counter({
      name: 'agentruns_slack_interactions_rejected_total',
      help: 'Slack interaction requests rejected before any action, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    approvals: new Counter({
      name: 'agentruns_approvals_total',
      help: 'Decisions sent to incidents, by channel, decision and result (accepted, refused by the workflow, unauthorised user, error).',
      labelNames: ['channel', 'decision', 'result'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'agentruns_http_request_duration_seconds',
      help: 'Ingress HTTP request latency, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };

  const count = options.countIncidents;
  if (count) {
    new Gauge({
      name: 'agentruns_incidents',
      help: 'Incident workflows known to Temporal: open ones (state="open") and closed ones by outcome.',
      labelNames: ['state'],
      registers,
      async collect() {
        try {
          const { open, byOutcome } = await count();
          this.set({ state: 'open' }, open);
          for (const outcome of OUTCOMES) this.set({ state: outcome }, byOutcome[outcome] ?? 0);
        } catch (err) {
          options.onCountError?.(err);
        }
      },
    });
  }
  return metrics;
}

/**
 * Counts incidents in Temporal visibility: running ones, and closed ones by the `AgentRunsOutcome`
 * search attribute the workflow sets. One count query per outcome, all under one short deadline,
 * so a slow visibility store delays a scrape by at most `timeoutMs`.
 */
export function countIncidentsInTemporal(client: Client, timeoutMs = 2_000): IncidentCounter {
  const base = `WorkflowType = '${INCIDENT_WORKFLOW_TYPE}'`;
  return () =>
    client.withDeadline(Date.now() + timeoutMs, async () => {
      const [open, ...closed] = await Promise.all([
        client.workflow.count(`${base} AND ExecutionStatus = 'Running'`),
        ...OUTCOMES.map((outcome) => client.workflow.count(`${base} AND ${outcomeKey.name} = '${outcome}'`)),
      ]);
      return {
        open: open?.count ?? 0,
        byOutcome: Object.fromEntries(OUTCOMES.map((outcome, i) => [outcome, closed[i]?.count ?? 0])),
      };
    });
}
