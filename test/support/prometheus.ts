/**
 * A real Prometheus for tests (Debian's `prometheus` package, 2.42), on a free loopback port with a
 * temporary TSDB, scraping the given targets every second — and a small exporter to scrape: one
 * counter, `torghut_ws_status_messages_total`, that grows while the test says the forwarder
 * publishes to its status topic. Run as ./daemon.ts runs a server.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../devstack/temporal-dev-server';
import { findBinary, startDaemon, type Daemon } from './daemon';

export interface Prometheus extends Daemon {
  url: string;
  /** Resolves once Prometheus has scraped `job` successfully (up == 1). */
  scraped(job: string, timeoutMs?: number): Promise<void>;
}

export async function startPrometheus(targets: Array<{ job: string; address: string }>): Promise<Prometheus> {
  const binary = findBinary('Prometheus', ['/usr/bin/prometheus', 'prometheus'], "install Debian's prometheus package (`apt-get install prometheus`, as .ci/system-deps does)");
  const dir = mkdtempSync(join(tmpdir(), 'agentruns-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(
    configFile,
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: targets.map((t) => ({ job_name: t.job, scrape_interval: '1s', static_configs: [{ targets: [t.address] }] })),
    }),
  );
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const daemon = await startDaemon({
    name: 'Prometheus',
    binary,
    args: [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    readyUrl: `${url}/-/ready`,
    dir,
  });
  return {
    ...daemon,
    url,
    async scraped(job, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const answer = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(`up{job="${job}"}`)}`)).json()) as {
          data?: { result?: Array<{ value: [number, string] }> };
        };
        if (answer.data?.result?.some((r) => r.value[1] === '1')) return;
        if (Date.now() > deadline) throw new Error(`Prometheus never scraped ${job}:\n${daemon.log()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}

export interface StatusExporter {
  address: string;
  /** Whether the forwarder publishes to its status topic: the counter grows by 5 a second while it does. */
  publishing: boolean;
  close(): Promise<void>;
}

/** The forwarder's status-topic counter, as Prometheus would scrape it from torghut-ws. */
export async function startStatusExporter(): Promise<StatusExporter> {
  let total = 0;
  const exporter = { publishing: false } as StatusExporter;
  const tick = setInterval(() => {
    if (exporter.publishing) total += 1;
  }, 200);
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      '# HELP torghut_ws_status_messages_total Messages published to the status topic.\n# TYPE torghut_ws_status_messages_total counter\n' +
        `torghut_ws_status_messages_total{topic="torghut.status.v1"} ${total}\n`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  exporter.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  exporter.close = async () => {
    clearInterval(tick);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return exporter;
}
