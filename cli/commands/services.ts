/**
 * The long-running services. Production runs them apart — `agentruns worker` and `agentruns serve` —
 * so the ingress scales and restarts independently of the worker; `agentruns serve --with-worker`
 * runs both in one process for small installations. Both stop gracefully on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../../ingress/logger';
import { startIngressService, type IngressService } from '../../ingress/service';
import { loadSettings } from '../../runtime/settings';
import { startWorker } from '../../worker/main';
import { EXIT } from '../errors';

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export async function workerCommand(argv: string[]): Promise<number> {
  parseArgs({ args: argv, options: {}, strict: true });
  const logger = createLogger({ base: { service: 'agentruns-worker' } });
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
