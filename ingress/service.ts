/**
 * The ingress as a service: validates settings and the runbook configs at start (naming every
 * problem), connects to Temporal lazily — so the process comes up and /readyz says 503 until Temporal
 * answers, instead of crash-looping — and stops gracefully: no new requests, in-flight requests and
 * acknowledged Slack clicks finished, then the connection closed.
 */
import { Client, Connection } from '@temporalio/client';
import { createSlackActivities, createSlackClient } from '../activities/slack';
import { loadRunbookConfigs } from '../config/load-runbook';
import { describeSettings, type Settings } from '../runtime/settings';
import { temporalConnectionOptions } from '../runtime/temporal-connection';
import type { Logger } from './logger';
import { countIncidentsInTemporal, createMetrics } from './metrics';
import { createIngress } from './server';

export interface IngressService {
  url: string;
  stop(): Promise<void>;
}

export async function startIngressService(settings: Settings, logger: Logger): Promise<IngressService> {
  const runbooks = await loadRunbookConfigs(settings.AGENTRUNS_RUNBOOK);
  const connection = Connection.lazy(temporalConnectionOptions(settings));
  const client = new Client({ connection, namespace: settings.TEMPORAL_NAMESPACE });
  const metrics = createMetrics({
    countIncidents: countIncidentsInTemporal(client),
    onCountError: (err) => logger.warn('could not count incidents for /metrics', { err }),
  });
  const slack = settings.SLACK_BOT_TOKEN
    ? createSlackActivities({
        client: createSlackClient({ token: settings.SLACK_BOT_TOKEN, apiUrl: settings.SLACK_API_URL }),
      })
    : undefined;
  logger.info('ingress starting', { settings: describeSettings(settings), runbooks: runbooks.map((r) => r.id) });
  const ingress = createIngress({
    client,
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    runbooks,
    settings,
    slack,
    logger,
    metrics,
  });
  const url = await ingress.start();
  logger.info('ingress listening', { url });
  return {
    url,
    stop: async () => {
      await ingress.stop();
      await connection.close();
    },
  };
}
