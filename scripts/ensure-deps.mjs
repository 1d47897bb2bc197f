// Installs what the README's two commands need on a fresh clone, so neither needs a separate step:
// the locked npm packages when missing or older than package-lock.json, and with --system-deps the
// Debian packages of the test suite (.ci/system-deps): Chromium for the Temporal Web UI test,
// prometheus (promtool) for the alert rule, prometheus-alertmanager for the Alertmanager test,
// etcd-server and iproute2 for the kube tests. The Temporal CLI and the kube binaries are found or
// built by the code that starts them (devstack/temporal-dev-server.ts, devstack/control-plane).
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  console.error('[agentruns] installing npm packages (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const systemBinaries = ['/usr/bin/chromium', '/usr/bin/promtool', '/usr/bin/prometheus-alertmanager'];
const systemReady = systemBinaries.every((bin) => existsSync(bin)) && (process.env.ETCD || has('etcd')) && has('ip');
if (process.argv.includes('--system-deps') && !systemReady) {
  console.error('[agentruns] installing the test suite\'s Debian packages (.ci/system-deps)…');
  execSync('bash .ci/system-deps', { stdio: 'inherit' });
}
