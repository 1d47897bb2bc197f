/**
 * The long-running services. Production runs them apart — `agentruns worker` and `agentruns serve` —
 * so the ingress scales and restarts independently of the worker; `agentruns serve --with-worker`
 * runs both in one process for small installations. Both stop gracefully on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime, type LogLevel as TemporalLogLevel } from '@temporalio/worker';
import { createLogger, type Logger } from '../../ingress/logger';
import { startIngressService, type IngressService } from '../../ingress/service';
import { loadSettings } from '../../runtime/settings';
import { startWorker } from '../../worker/main';
import { EXIT } from '../errors';

const LEVELS: Record<TemporalLogLevel, 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'debug',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The SDK's own logs (worker, workflow `log`, activities) as the same redacted JSON lines as ours. */
function installJsonRuntimeLogger(logger: Logger): void {
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => logger[LEVELS[entry.level]](entry.message, { ...entry.meta, source: 'temporal-sdk' })),
  });
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export async function workerCommand(argv: string[]): Promise<number> {
  parseArgs({ args: argv, options: {}, strict: true });
  const logger = createLogger({ base: { service: 'agentruns-worker' } });
  installJsonRuntimeLogger(logger);
  const worker = await startWorker(loadSettings(), (msg, meta) => logger.info(msg, meta as Record<string, unknown>));
  // Worker.run() itself shuts down on SIGINT/SIGTERM, finishing in-flight tasks.
  await worker.run;
  logger.info('worker stopped');
  return EXIT.ok;
}

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'with-worker': { type: 'boolean', default: false } }, strict: true });
  const settings = loadSettings();
  const logger = createLogger({ base: { service: 'agentruns' } });
  installJsonRuntimeLogger(logger);
  const worker = values['with-worker'] ? await startWorker(settings, (msg, meta) => logger.info(msg, meta as Record<string, unknown>)) : undefined;
  let ingress: IngressService;
  try {
    ingress = await startIngressService(settings, logger);
  } catch (err) {
    // Without this the running worker keeps the process alive: it would hang instead of exiting with the error.
    await worker?.shutdown().catch((shutdownErr: unknown) => logger.error('worker shutdown failed', { err: shutdownErr }));
    throw err;
  }
  const signal = await untilSignal();
  logger.info('signal received, shutting down', { signal });
  await ingress.stop();
  await worker?.shutdown();
  return EXIT.ok;
}
