// Installs what the README's two commands need on a fresh clone, so neither needs a separate step:
// the locked npm packages when missing or older than package-lock.json, and with --browser Debian's
// Chromium for the Temporal Web UI test (.ci/system-deps). The Temporal CLI is found or built by the
// code that starts the dev server (devstack/temporal-dev-server.ts).
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  console.error('[agentruns] installing npm packages (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
if (process.argv.includes('--browser') && !existsSync('/usr/bin/chromium')) {
  console.error('[agentruns] installing Chromium for the browser test (.ci/system-deps)…');
  execSync('bash .ci/system-deps', { stdio: 'inherit' });
}
