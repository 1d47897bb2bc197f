/** The ingress process alone: `tsx ingress/main.ts` (same as `agentruns serve`). */
import { loadSettings } from '../runtime/settings';
import { createLogger } from './logger';
import { startIngressService } from './service';

const logger = createLogger({ base: { service: 'agentruns-ingress' } });
try {
  const service = await startIngressService(loadSettings(), logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('signal received, shutting down', { signal });
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  logger.error('ingress failed to start', { err });
  process.exit(1);
}
