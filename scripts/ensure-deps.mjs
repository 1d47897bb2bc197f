// Installs what the README's two commands need on a fresh clone, so neither needs a separate step:
// the locked npm packages when missing or older than package-lock.json, and with --browser the
// system packages of the test suite (.ci/system-deps): Debian's Chromium for the Temporal Web UI
// test, etcd-server and iproute2 for the kube tests. The Temporal CLI and the kube binaries are found
// or built by the code that starts them (devstack/temporal-dev-server.ts, devstack/control-plane).
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  console.error('[agentruns] installing npm packages (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
if (process.argv.includes('--browser') && !(existsSync('/usr/bin/chromium') && (process.env.ETCD || has('etcd')) && has('ip'))) {
  console.error('[agentruns] installing system packages for the tests: chromium, etcd-server, iproute2 (.ci/system-deps)…');
  execSync('bash .ci/system-deps', { stdio: 'inherit' });
}
