/** `npm run temporal:install` / `npm run temporal:dev`: install the CLI, or run a dev server until Ctrl-C. */
import { ensureTemporalCli, startDevServer } from './temporal-dev-server';

const command = process.argv[2];
if (command === 'install') {
  console.log(ensureTemporalCli());
} else if (command === 'start') {
  const server = await startDevServer({ dbFile: '.temporal/dev.sqlite', port: 7233, uiPort: 8233 });
  console.log(`Temporal dev server: ${server.address} (namespace ${server.namespace}), Web UI ${server.uiUrl}`);
  const shutdown = () => void server.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} else {
  console.error('usage: temporal-cli-main.ts install|start');
  process.exit(2);
}
