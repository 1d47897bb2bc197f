/**
 * The ingress process: `tsx ingress/main.ts`. Validates settings and the runbook config at start
 * (naming every problem), connects to Temporal lazily — so the process comes up and /readyz says
 * 503 until Temporal answers, instead of crash-looping — and on SIGTERM/SIGINT stops accepting,
 * finishes in-flight requests and acknowledged Slack clicks, then exits.
 */
import { Client, Connection } from '@temporalio/client';
import { loadRunbookConfig } from '../config/load-runbook';
import { createSlackActivities, createSlackClient } from '../activities/slack';
import { describeSettings, loadSettings } from '../runtime/settings';
import { createLogger } from './logger';
import { countIncidentsInTemporal, createMetrics } from './metrics';
import { createIngress } from './server';

async function main(): Promise<void> {
  const logger = createLogger({ base: { service: 'agentruns-ingress' } });
  const settings = loadSettings();
  const runbook = await loadRunbookConfig(settings.AGENTRUNS_RUNBOOK);
  const connection = Connection.lazy({ address: settings.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: settings.TEMPORAL_NAMESPACE });
  const metrics = createMetrics({
    countIncidents: countIncidentsInTemporal(client),
    onCountError: (err) => logger.warn('could not count incidents for /metrics', { err }),
  });
  const slack = settings.SLACK_BOT_TOKEN
    ? createSlackActivities({
        client: createSlackClient({ token: settings.SLACK_BOT_TOKEN, apiUrl: settings.SLACK_API_URL }),
        channel: runbook.slack?.channel,
      })
    : undefined;
  logger.info('ingress starting', { settings: describeSettings(settings), runbook: runbook.id });
  const ingress = createIngress({
    client,
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    runbooks: [runbook],
    settings,
    slack,
    logger,
    metrics,
    temporalUiUrl: settings.TEMPORAL_UI_URL,
  });
  await ingress.start();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('signal received, shutting down', { signal });
    ingress
      .stop()
      .then(() => connection.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error('shutdown failed', { err });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  createLogger().error('ingress failed to start', { err });
  process.exit(1);
});
