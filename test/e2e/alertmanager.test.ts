/**
 * A real Alertmanager (Debian's prometheus-alertmanager 0.25) delivering to the real ingress
 * service, which talks to the REAL Temporal dev server of the run. Alerts are posted to
 * Alertmanager's API v2 as Prometheus posts them for the TorghutWsNotReady rule
 * (deploy/prometheus: alertname, namespace, deployment, severity); Alertmanager groups them by
 * alertname/namespace/deployment and calls the webhook receiver with a bearer token from a
 * credentials file, exactly as the README's receiver config does.
 *
 * No worker runs: an incident stays pending on the ingress' own task queue, which is enough to see
 * what the delivery did — which workflows exist, and which signals their histories hold.
 * Alertmanager and the ingress are stopped at the end, on failure too.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadRunbookConfigs } from '../../config/load-runbook';
import { incidentWorkflowId } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { freePort } from '../../devstack/temporal-dev-server';
import { createLogger } from '../../ingress/logger';
import { startIngressService, type IngressService } from '../../ingress/service';
import { loadSettings } from '../../runtime/settings';
import { startAlertmanager, type Alertmanager, type PostableAlert } from '../support/alertmanager';

const TOKEN = 'am-e2e-webhook-token-0123456789abcdef';
const RUN = randomUUID().slice(0, 6);
/** One namespace per target and scenario, so Alertmanager groups and incidents never mix. */
const NS = {
  prod: `torghut-${RUN}`,
  staging: `torghut-staging-${RUN}`,
  resolved: `torghut-res-${RUN}`,
  outage: `torghut-outage-${RUN}`,
};
const taskQueue = `am-e2e-${RUN}`;

let connection: Connection;
let client: Client;
let alertmanager: Alertmanager | undefined;
let ingress: IngressService | undefined;
let ingressPort: number;
let runbookDir: string;
let runbooks: Map<string, RunbookConfig>;
const logs: string[] = [];

/** The runbook of one target: torghut-ws in `namespace`, routed by alertname and namespace. */
function runbookFile(namespace: string) {
  return {
    id: `am-${namespace}`.slice(0, 50),
    target: {
      namespace,
      deployment: 'torghut-ws',
      container: 'torghut-ws',
      podSelector: 'app=torghut-ws',
      health: { port: 8080, livenessPath: '/healthz', readinessPath: '/readyz' },
    },
    gitops: { owner: 'proompteng', repo: 'lab', deploymentPath: 'argocd/applications/torghut/ws/deployment.yaml' },
    approvers: [{ id: 'oncall-alice' }],
    alerts: [{ labels: { alertname: 'TorghutWsNotReady', namespace } }],
    slack: { channel: '#torghut-oncall' },
  };
}

async function startIngress(): Promise<void> {
  const settings = loadSettings({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    AGENTRUNS_RUNBOOK: runbookDir,
    ALERTMANAGER_TOKEN: TOKEN,
    INGRESS_HOST: '127.0.0.1',
    INGRESS_PORT: String(ingressPort),
  });
  const logger = createLogger({ level: 'debug', stream: { write: (line: string) => logs.push(line) > 0 } });
  ingress = await startIngressService(settings, logger);
}

async function stopIngress(): Promise<void> {
  const running = ingress;
  ingress = undefined;
  await running?.stop();
}

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: inject('temporalNamespace') });
  runbookDir = mkdtempSync(join(tmpdir(), 'agentruns-am-runbooks-'));
  for (const namespace of Object.values(NS)) writeFileSync(join(runbookDir, `${namespace}.json`), JSON.stringify(runbookFile(namespace)));
  runbooks = new Map((await loadRunbookConfigs(runbookDir)).map((r) => [r.target.namespace, r]));
  ingressPort = await freePort();
  await startIngress();
  alertmanager = await startAlertmanager({
    webhookUrl: `http://127.0.0.1:${ingressPort}/alertmanager`,
    token: TOKEN,
    groupWait: '1s',
    groupInterval: '2s',
    // Alertmanager re-sends a firing group this often: that re-send must attach, never start twice.
    repeatInterval: '3s',
  });
});

afterAll(async () => {
  await alertmanager?.stop();
  await stopIngress();
  for (const runbook of runbooks?.values() ?? []) {
    await client?.workflow
      .getHandle(incidentWorkflowId(runbook.target))
      .terminate('alertmanager e2e cleanup')
      .catch(() => undefined);
  }
  await connection?.close();
  if (runbookDir) rmSync(runbookDir, { recursive: true, force: true });
});

/** TorghutWsNotReady as Prometheus sends it for the rule in deploy/prometheus. */
function notReady(namespace: string, extra: Partial<PostableAlert> = {}): PostableAlert {
  return {
    labels: { alertname: 'TorghutWsNotReady', namespace, deployment: 'torghut-ws', severity: 'page' },
    annotations: { summary: `torghut-ws in ${namespace} has 1 replica(s) not Ready for 5 minutes` },
    generatorURL: 'http://prometheus.monitoring:9090/graph?g0.expr=kube_deployment_status_replicas_ready',
    ...extra,
  };
}

const workflowIdOf = (namespace: string) => incidentWorkflowId(runbooks.get(namespace)!.target);

/** The signals in the workflow's history, in order, with their first argument decoded. */
async function signals(workflowId: string): Promise<Array<{ name: string; labels: Record<string, string> }>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((a): a is NonNullable<typeof a> => !!a)
    .map((a) => {
      const payload = a.input?.payloads?.[0];
      const arg = payload ? defaultPayloadConverter.fromPayload<{ labels?: Record<string, string> }>(payload) : {};
      return { name: a.signalName ?? '', labels: arg.labels ?? {} };
    });
}

/** Retries `probe` until it returns a value (not undefined), or fails with Alertmanager's and the ingress' logs. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${last instanceof Error ? ` (${last.message})` : ''}\n--- ingress log ---\n${logs.slice(-30).join('')}\n--- alertmanager log ---\n${alertmanager?.log().slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs of a workflow ID, as Temporal's visibility lists them. */
async function runsOf(workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(w.runId);
  return runs;
}

async function workflowsOnTaskQueue(): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) ids.push(w.workflowId);
  return ids.sort();
}

describe('real Alertmanager → ingress → Temporal', () => {
  it('TorghutWsNotReady for two targets → one incident per target; Alertmanager\'s re-send attaches to it, never a second', async () => {
    await alertmanager!.postAlerts([notReady(NS.prod), notReady(NS.staging)]);

    for (const namespace of [NS.prod, NS.staging]) {
      const fired = await eventually(`incident for ${namespace}`, async () => {
        const list = (await signals(workflowIdOf(namespace))).filter((s) => s.name === 'alertFired');
        return list.length > 0 ? list : undefined;
      });
      expect(fired[0]!.labels).toMatchObject({ alertname: 'TorghutWsNotReady', namespace, deployment: 'torghut-ws', severity: 'page' });
    }

    // Still firing: Alertmanager sends the group again after repeat_interval; it lands on the open incident.
    const repeated = await eventually('the re-sent alert attached', async () => {
      const fired = (await signals(workflowIdOf(NS.prod))).filter((s) => s.name === 'alertFired');
      return fired.length >= 2 ? fired : undefined;
    });
    expect(repeated.every((s) => s.labels.namespace === NS.prod)).toBe(true);
    expect(await runsOf(workflowIdOf(NS.prod))).toHaveLength(1);
    expect(await runsOf(workflowIdOf(NS.staging))).toHaveLength(1);
    expect((await signals(workflowIdOf(NS.staging))).every((s) => s.labels.namespace === NS.staging)).toBe(true);
  });

  it('the alert ends (endsAt in the past) → Alertmanager sends it resolved → alertResolved on that incident', async () => {
    const startsAt = new Date(Date.now() - 10 * 60_000).toISOString();
    await alertmanager!.postAlerts([notReady(NS.resolved, { startsAt })]);
    const id = workflowIdOf(NS.resolved);
    await eventually('incident opened', async () => ((await signals(id)).some((s) => s.name === 'alertFired') ? true : undefined));

    await alertmanager!.postAlerts([notReady(NS.resolved, { startsAt, endsAt: new Date(Date.now() - 1000).toISOString() })]);
    const resolved = await eventually('resolution signalled', async () => (await signals(id)).find((s) => s.name === 'alertResolved'));
    expect(resolved.labels).toMatchObject({ alertname: 'TorghutWsNotReady', namespace: NS.resolved });
    expect(await runsOf(id)).toHaveLength(1);
  });

  it('an alert no runbook matches is acknowledged and ignored: nothing starts', async () => {
    const ignoredBefore = await ingressCounter('agentruns_alerts_ignored_total');
    await alertmanager!.postAlerts([
      notReady(`elsewhere-${RUN}`),
      { labels: { alertname: 'KubePodCrashLooping', namespace: NS.prod, deployment: 'torghut-ws', severity: 'warning' } },
    ]);
    await eventually('both alerts ignored', async () => ((await ingressCounter('agentruns_alerts_ignored_total')) >= ignoredBefore + 2 ? true : undefined));
    // Alertmanager got its 2xx: nothing for it to retry.
    // One line per request, naming the first ignored alerts.
    const ignoredLines = logs.filter((l) => l.includes('"alerts ignored: no runbook matches"'));
    expect(ignoredLines.some((l) => l.includes('KubePodCrashLooping'))).toBe(true);
    const expected = [NS.prod, NS.staging, NS.resolved].map(workflowIdOf).sort();
    expect(await eventually('visibility caught up', async () => {
      const ids = await workflowsOnTaskQueue();
      return ids.length >= expected.length ? ids : undefined;
    })).toEqual(expected);
  });

  it('the ingress was down for a while: Alertmanager keeps retrying and delivers once it is back', async () => {
    const failedBefore = await alertmanager!.metric('alertmanager_notifications_failed_total', { integration: 'webhook' });
    await stopIngress();
    await alertmanager!.postAlerts([notReady(NS.outage)]);
    // Alertmanager tried and failed while nobody listened (connection refused).
    await eventually(
      'a failed delivery',
      async () => ((await alertmanager!.metric('alertmanager_notifications_failed_total', { integration: 'webhook' })) > failedBefore ? true : undefined),
      20_000,
    );
    await new Promise((r) => setTimeout(r, 3000));
    const id = workflowIdOf(NS.outage);
    await expect(client.workflow.getHandle(id).describe()).rejects.toThrow();

    await startIngress(); // same port, as a restarted pod behind its Service
    const fired = await eventually('delivered after the restart', async () => (await signals(id)).find((s) => s.name === 'alertFired'), 60_000);
    expect(fired.labels).toMatchObject({ namespace: NS.outage, alertname: 'TorghutWsNotReady' });
    expect(await runsOf(id)).toHaveLength(1);
  });
});

/** A counter of the ingress' own /metrics, summed over its series. */
async function ingressCounter(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${ingressPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}
