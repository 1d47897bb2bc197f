/**
 * A real Alertmanager for end-to-end tests: Debian's `prometheus-alertmanager` (0.25), clustering
 * off, on a free loopback port, with a temporary storage directory and a config whose one receiver
 * is a webhook to the ingress, authenticated with a bearer token read from a file
 * (`http_config.authorization.credentials_file`, as deploy/README's receiver does).
 *
 * It runs in its own process group and is stopped with it: `stop()`, or — should the test process
 * die first — an `exit` hook; with $AGENTRUNS_PID_DIR set its pid is kept there while it runs, for
 * .ci/run to kill. Missing binary: a loud error with the install hint, never a skip.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../devstack/temporal-dev-server';

const CANDIDATES = ['/usr/bin/prometheus-alertmanager', 'prometheus-alertmanager', 'alertmanager'];

/** An alert as Alertmanager's API v2 takes it (what Prometheus posts). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface AlertmanagerOptions {
  /** Where the webhook receiver posts (the ingress' /alertmanager). */
  webhookUrl: string;
  /** The bearer token, written to the credentials file. */
  token: string;
  groupBy?: string[];
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
}

export interface Alertmanager {
  url: string;
  version: string;
  /** POST /api/v2/alerts. */
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  /** Sum of a counter of Alertmanager's own /metrics over the series whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Alertmanager's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

function findBinary(): { path: string; version: string } {
  for (const path of CANDIDATES) {
    const run = spawnSync(path, ['--version'], { encoding: 'utf8' });
    if (run.status === 0) return { path, version: `${run.stdout}${run.stderr}`.split('\n')[0]!.trim() };
  }
  throw new Error(
    "Alertmanager not found (looked for /usr/bin/prometheus-alertmanager, prometheus-alertmanager, alertmanager): install Debian's prometheus-alertmanager package (`apt-get install prometheus-alertmanager`, as .ci/system-deps does)",
  );
}

export async function startAlertmanager(options: AlertmanagerOptions): Promise<Alertmanager> {
  const binary = findBinary();
  const dir = mkdtempSync(join(tmpdir(), 'agentruns-alertmanager-'));
  const tokenFile = join(dir, 'agentruns-token');
  writeFileSync(tokenFile, `${options.token}\n`, { mode: 0o600 });
  const config = {
    route: {
      receiver: 'agentruns',
      group_by: options.groupBy ?? ['alertname', 'namespace', 'deployment'],
      group_wait: options.groupWait ?? '1s',
      group_interval: options.groupInterval ?? '2s',
      repeat_interval: options.repeatInterval ?? '1h',
    },
    receivers: [
      {
        name: 'agentruns',
        webhook_configs: [
          {
            url: options.webhookUrl,
            send_resolved: true,
            http_config: { authorization: { type: 'Bearer', credentials_file: tokenFile } },
          },
        ],
      },
    ],
  };
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(configFile, stringify(config));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    binary.path,
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=debug',
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await once(child, 'spawn');
  const pid = child.pid!;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false;
    }
  };
  const pidFile = process.env.AGENTRUNS_PID_DIR ? join(process.env.AGENTRUNS_PID_DIR, `alertmanager-${pid}.pid`) : undefined;
  const onExit = () => {
    killGroup('SIGKILL');
    if (pidFile) rmSync(pidFile, { force: true });
  };
  process.on('exit', onExit);
  if (pidFile) {
    mkdirSync(process.env.AGENTRUNS_PID_DIR!, { recursive: true });
    writeFileSync(pidFile, `${pid}\n`);
  }

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => killGroup('SIGKILL'), 5000);
      if (killGroup('SIGTERM')) await exited;
      clearTimeout(timer);
    }
    process.off('exit', onExit);
    if (pidFile) rmSync(pidFile, { force: true });
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Alertmanager exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`Alertmanager did not become ready on ${url}:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url,
    version: binary.version,
    async postAlerts(alerts) {
      const response = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
      if (!response.ok) throw new Error(`Alertmanager refused the alerts: ${response.status} ${await response.text()}`);
    },
    async metric(name, labels = {}) {
      const text = await (await fetch(`${url}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([0-9.eE+-]+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
        if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
      }
      return sum;
    },
    log: () => output,
    stop,
  };
}
