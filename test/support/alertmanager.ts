/**
 * A real Alertmanager for end-to-end tests: Debian's `prometheus-alertmanager` (0.25), clustering
 * off, on a free loopback port, with a temporary storage directory and a config whose one receiver
 * is a webhook to the ingress, authenticated with a bearer token read from a file
 * (`http_config.authorization.credentials_file`, as deploy/README's receiver does).
 *
 * It runs as ./daemon.ts runs a server: its own process group, stopped with it, a loud error when
 * the binary is missing.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../devstack/temporal-dev-server';
import { findBinary, startDaemon } from './daemon';

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

export async function startAlertmanager(options: AlertmanagerOptions): Promise<Alertmanager> {
  const binary = findBinary('Alertmanager', CANDIDATES, "install Debian's prometheus-alertmanager package (`apt-get install prometheus-alertmanager`, as .ci/system-deps does)");
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
  const daemon = await startDaemon({
    name: 'Alertmanager',
    binary,
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=debug',
    ],
    readyUrl: `${url}/-/ready`,
    dir,
  });

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
    log: daemon.log,
    stop: daemon.stop,
  };
}
