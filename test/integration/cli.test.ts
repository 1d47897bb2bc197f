/**
 * The `agentruns` command line as a user runs it: the real binary (`node bin/agentruns.js …`) in a
 * child process, its stdout, stderr and exit code (README: 0 ok, 1 failed or refused, 2 bad usage or
 * input). Offline commands get realistic input files; `diagnose` reads the simulated Kubernetes API
 * through a kubeconfig file; the incident commands talk to the suite's real Temporal dev server, with
 * a worker on its own task queue running the production activities against the simulators.
 *
 * Every child costs a Node + tsx start-up, so the tests run concurrently and runs that do not depend
 * on each other are started together; the incident loop, the longest chain of runs, comes first so it
 * starts first.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import type { IncidentSummary, OpenedIncident } from '../../control/incidents';
import type { Classification } from '../../domain/classification';
import type { Diagnosis } from '../../domain/diagnosis';
import type { IncidentState } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { startKubeSim, writeKubeconfig } from '../../sim/kube-api';
import { describeRun, jsonOf, pollCli, runCli, type CliResult } from '../support/cli';
import { incidentHarness } from '../support/incident';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentruns-cli-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function expectExit(result: CliResult, code: number): void {
  expect(result.code, describeRun(result)).toBe(code);
}

// ---------------------------------------------------------------------------------------------------
// The incident commands, against the real Temporal dev server
// ---------------------------------------------------------------------------------------------------

describe.concurrent('agentruns incident commands', () => {
  let ctx: TemporalTestContext;
  beforeAll(async () => {
    ctx = await connectTemporal();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('start → status awaiting-approval → approve refused for mallory (exit 1) → approved by oncall-alice → remediated → listed', async () => {
    const harness = await incidentHarness(ctx, {
      scenario: 'alpaca-406',
      adjust: (r: RunbookConfig): RunbookConfig => ({
        ...r,
        gitops: { ...r.gitops, merge: 'auto', mergePollInterval: '200ms' },
        timeouts: { ...r.timeouts, approval: '5 minutes', verification: '30 seconds' },
        argo: { enabled: true, application: 'torghut', syncTimeout: '30 seconds' },
      }),
    });
    try {
      // The CLI reads the same (uniquely named) runbook as the worker's incident.
      const runbookFile = await file(`${harness.runbook.id}.yaml`, stringify(harness.runbook));
      const env = {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: inject('temporalNamespace'),
        TEMPORAL_TASK_QUEUE: harness.taskQueue,
        AGENTRUNS_RUNBOOK: runbookFile,
      };
      await harness.run(async () => {
        const start = await runCli(['start', '--json'], { env });
        expectExit(start, 0);
        const opened = jsonOf<OpenedIncident>(start);
        expect(opened).toMatchObject({ workflowId: `agentruns-torghut-ws-${harness.runbook.target.namespace}`, attached: false });
        const id = opened.workflowId;

        const waiting = await pollCli(['status', id, '--json'], (r) => r.code === 0 && jsonOf<IncidentState>(r).phase === 'awaiting-approval', { env });
        const state = jsonOf<IncidentState>(waiting);
        expect(state.classification?.class).toBe('alpaca_406_second_connection');
        expect(state.trigger).toMatchObject({ source: 'cli' });

        // A decision names the run and step it is for; without them the CLI says which ones wait.
        const unpinned = await runCli(['approve', id, '--by', 'oncall-alice'], { env });
        expectExit(unpinned, 2);
        expect(unpinned.stderr).toContain(`waits for a decision on the restart of run ${state.runId} (add --run ${state.runId} --step restart)`);
        const pin = ['--run', state.runId, '--step', 'restart'];

        const refused = await runCli(['approve', id, '--by', 'mallory', ...pin, '--json'], { env });
        expectExit(refused, 1);
        const refusal = jsonOf<{ accepted: boolean; reason: string }>(refused);
        expect(refusal.accepted).toBe(false);
        expect(refusal.reason).toMatch(/mallory is not an approver/);

        const approved = await runCli(['approve', id, '--by', 'oncall-alice', ...pin, '--comment', 'stale socket, restart'], { env });
        expectExit(approved, 0);
        // The channel is the path (the Update), the identity the one Temporal recorded for the CLI's call.
        expect(approved.stdout).toMatch(new RegExp(`^approve accepted for ${id} by oncall-alice \\(cli, identity agentruns-cli:[^)]+\\)\\n$`));

        const done = await pollCli(['status', id], (r) => r.code === 0 && /^phase: +closed/m.test(r.stdout), { env });
        expect(done.stdout, describeRun(done)).toMatch(/^phase: +closed → remediated$/m);
        expect(done.stdout).toMatch(/^decision: +approve by oncall-alice via /m);
        expect(done.stdout).toMatch(/^verified: +yes/m);
        // The refused CLI approval is in the audit trail too.
        expect(done.stdout).toMatch(/^refused: +mallory \(reported\): cli: mallory is not an approver/m);

        // The visibility store may lag the close by a moment.
        const listed = await pollCli(
          ['list', '--runbook-id', harness.runbook.id, '--json'],
          (r) => r.code === 0 && jsonOf<IncidentSummary[]>(r).some((i) => i.workflowId === id && i.outcome !== undefined),
          { env, intervalMs: 500 },
        );
        expect(jsonOf<IncidentSummary[]>(listed)).toContainEqual(
          expect.objectContaining({ workflowId: id, status: 'COMPLETED', outcome: 'remediated', class: 'alpaca_406_second_connection', target: `${harness.runbook.target.namespace}/torghut-ws` }),
        );
      });
      // The restart went through GitOps: one PR, merged.
      expect(harness.env.github.pulls()).toHaveLength(1);
    } finally {
      await harness.close();
    }
  });

  it('approve without ID or without --by exits 2; an unreachable Temporal exits 1 saying so', async () => {
    const [noId, noBy, unreachable] = await Promise.all([
      runCli(['approve', '--by', 'oncall-alice']),
      runCli(['approve', 'agentruns-torghut-ws-torghut']),
      runCli(['status', 'agentruns-torghut-ws-torghut', '--address', '127.0.0.1:1']),
    ]);
    expectExit(noId, 2);
    expect(noId.stderr).toMatch(/expected one incident ID/);
    expect(noId.stderr).toContain('usage: agentruns approve ID --by APPROVER');
    expectExit(noBy, 2);
    expect(noBy.stderr).toMatch(/--by APPROVER is required/);
    expectExit(unreachable, 1);
    expect(unreachable.stdout).toBe('');
    expect(unreachable.stderr).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1/);
  });
});

// ---------------------------------------------------------------------------------------------------
// classify (offline)
// ---------------------------------------------------------------------------------------------------

/** What torghut-ws answers on /readyz while Alpaca refuses the second connection. */
const READYZ_406 = `${JSON.stringify({
  status: 'not_ready',
  error_class: 'alpaca_406_second_connection',
  gates: { alpaca_ws: false, kafka: true, trade_updates: true },
  since: '2026-02-09T13:58:03Z',
  consecutive_failures: 143,
})}\n`;

const ALPACA_KEY_ID = 'AKR7T2VQX9LMB4ZC8HWN';
const ALPACA_SECRET = 'fQ3kz8VtW1pYc7RmN2sHx5LbJ9dGa4UeTo6Ki0Ph';
const TRADE_UPDATES_TOKEN = '79f1c3a2-5d0e-4b8a-9e61-2c4f7a8d3b10';
const SECRETS = [ALPACA_KEY_ID, ALPACA_SECRET, TRADE_UPDATES_TOKEN];

/**
 * `kubectl logs deploy/torghut-ws` during a 406: the auth frame with the key and secret in clear (a
 * DEBUG logger), and a structured rejection line that carries the last frame sent — a 406 signature
 * that the classifier keeps as evidence, so redaction is what keeps the secret out of the output.
 */
const FORWARDER_LOG = [
  '2026-02-09T13:57:58.102Z INFO  [main] ai.proompteng.dorvud.ws.ForwarderAppKt - torghut-ws 0.42.1 starting (feed=sip, symbols=42, tradeUpdates=true)',
  '{"@timestamp":"2026-02-09T13:57:59.020Z","level":"INFO","logger_name":"ai.proompteng.dorvud.ws.AlpacaMarketDataClient","thread_name":"DefaultDispatcher-worker-3","message":"connecting to wss://stream.data.alpaca.markets/v2/sip"}',
  '2026-02-09T13:57:59.244Z DEBUG [DefaultDispatcher-worker-3] a.p.d.ws.AlpacaMarketDataClient - <<< [{"T":"success","msg":"connected"}]',
  `2026-02-09T13:57:59.247Z DEBUG [DefaultDispatcher-worker-3] a.p.d.ws.AlpacaMarketDataClient - >>> {"action":"auth","key":"${ALPACA_KEY_ID}","secret":"${ALPACA_SECRET}"}`,
  '2026-02-09T13:57:59.431Z DEBUG [DefaultDispatcher-worker-3] a.p.d.ws.AlpacaMarketDataClient - <<< [{"T":"error","code":406,"msg":"connection limit exceeded"}]',
  `{"@timestamp":"2026-02-09T13:57:59.433Z","level":"WARN","logger_name":"ai.proompteng.dorvud.ws.AlpacaMarketDataClient","thread_name":"DefaultDispatcher-worker-3","message":"alpaca stream rejected: code=406 msg=connection limit exceeded","last_sent":"{\\"action\\":\\"auth\\",\\"key\\":\\"${ALPACA_KEY_ID}\\",\\"secret\\":\\"${ALPACA_SECRET}\\"}"}`,
  `2026-02-09T13:58:00.007Z DEBUG [DefaultDispatcher-worker-5] a.p.d.ws.TradeUpdatesClient - REQUEST: wss://paper-api.alpaca.markets/stream -> Authorization: Bearer ${TRADE_UPDATES_TOKEN}`,
  '2026-02-09T13:58:00.391Z INFO  [DefaultDispatcher-worker-5] a.p.d.ws.TradeUpdatesClient - trade_updates stream authorized and listening',
  '2026-02-09T13:58:03.437Z INFO  [DefaultDispatcher-worker-3] a.p.d.ws.AlpacaMarketDataClient - reconnecting to wss://stream.data.alpaca.markets/v2/sip in 5000ms (attempt 2)',
  '2026-02-09T13:58:08.612Z DEBUG [DefaultDispatcher-worker-1] a.p.d.ws.AlpacaMarketDataClient - <<< [{"T":"error","code":406,"msg":"connection limit exceeded"}]',
  '2026-02-09T13:58:08.615Z ERROR [DefaultDispatcher-worker-1] a.p.d.ws.AlpacaMarketDataClient - websocket session failed',
  'io.ktor.websocket.ProtocolViolationException: alpaca error frame code=406 msg=connection limit exceeded',
  '\tat ai.proompteng.dorvud.ws.AlpacaMarketDataClient.handleControlFrame(AlpacaMarketDataClient.kt:212)',
  '\tat kotlinx.coroutines.DispatchedTask.run(DispatchedTask.kt:104)',
  '',
].join('\n');

function expectNoSecrets(...results: CliResult[]): void {
  for (const result of results) {
    for (const secret of SECRETS) {
      expect(result.stdout, `stdout of ${result.args.join(' ')}`).not.toContain(secret);
      expect(result.stderr, `stderr of ${result.args.join(' ')}`).not.toContain(secret);
    }
  }
}

describe.concurrent('agentruns classify (offline)', () => {
  it('readiness body + logs → class, procedure and redacted evidence; --replicas 2 adds the replicas evidence; logs alone decide without --readyz', async () => {
    const readyz = await file('readyz-406.json', READYZ_406);
    const logs = await file('forwarder-406.log', FORWARDER_LOG);
    const [plain, twoReplicas, logsOnly] = await Promise.all([
      runCli(['classify', '--readyz', readyz, '--logs', logs, '--json']),
      runCli(['classify', '--readyz', readyz, '--logs', logs, '--replicas', '2', '--json']),
      runCli(['classify', '--logs', logs]),
    ]);
    for (const result of [plain, twoReplicas, logsOnly]) {
      expectExit(result, 0);
      expect(result.stderr).toBe('');
    }
    expectNoSecrets(plain, twoReplicas, logsOnly);

    const c = jsonOf<Classification>(plain);
    expect(c).toMatchObject({ class: 'alpaca_406_second_connection', procedure: 'A', basis: 'readiness+logs', conflict: false });
    expect(c.action).toMatch(/bump kubectl\.kubernetes\.io\/restartedAt/);
    expect(c.evidence[0]).toEqual({ source: 'readyz', text: `/readyz body: ${READYZ_406.trim()}` });
    const logEvidence = c.evidence.filter((e) => e.source === 'logs').map((e) => e.text);
    expect(logEvidence).toContainEqual(expect.stringContaining('"code":406,"msg":"connection limit exceeded"'));
    // The rejection line that carried the auth frame is evidence, with the values masked.
    const carried = logEvidence.find((t) => t.includes('last_sent'));
    expect(carried, JSON.stringify(logEvidence)).toBeDefined();
    expect(carried).toContain('[REDACTED]');
    expect(c.evidence.some((e) => e.source === 'deployment')).toBe(false);

    const two = jsonOf<Classification>(twoReplicas);
    expect(two.class).toBe('alpaca_406_second_connection');
    expect(two.evidence).toContainEqual({ source: 'deployment', text: 'replicas=2 (expected 1): a second replica causes Alpaca 406' });
    expect(two.notes.join('\n')).toMatch(/replicas=2 \(expected 1\)/);
    expect(two.evidence.length).toBe(c.evidence.length + 1);

    // Human output, no readiness: the logs decide.
    expect(logsOnly.stdout).toMatch(/^class: +alpaca_406_second_connection$/m);
    expect(logsOnly.stdout).toMatch(/^procedure: +A$/m);
    expect(logsOnly.stdout).toMatch(/^basis: +logs$/m);
    expect(logsOnly.stdout).toMatch(/^ {2}\[logs\] .*connection limit exceeded/m);
    expect(logsOnly.stdout).not.toContain('[readyz]');
  });

  it('bad input exits 2 with the reason: missing file (named), unknown flag, --replicas abc, no flags', async () => {
    const logs = await file('forwarder-bad-input.log', FORWARDER_LOG);
    const missing = join(dir, 'no-such-readyz.json');
    const [missingFile, unknownFlag, badReplicas, noFlags] = await Promise.all([
      runCli(['classify', '--readyz', missing, '--logs', logs]),
      runCli(['classify', '--logs', logs, '--verbose']),
      runCli(['classify', '--logs', logs, '--replicas', 'abc']),
      runCli(['classify']),
    ]);
    for (const result of [missingFile, unknownFlag, badReplicas, noFlags]) {
      expectExit(result, 2);
      expect(result.stdout, describeRun(result)).toBe('');
    }
    expect(missingFile.stderr).toContain(missing);
    expect(missingFile.stderr).toMatch(/cannot read file \(ENOENT\)/);
    expect(unknownFlag.stderr).toMatch(/Unknown option '--verbose'/);
    expect(unknownFlag.stderr).toContain('usage: agentruns classify');
    expect(badReplicas.stderr).toMatch(/--replicas must be an integer >= 0, got "abc"/);
    expect(noFlags.stderr).toMatch(/give at least one of --readyz FILE and --logs FILE/);
    expectNoSecrets(missingFile, unknownFlag, badReplicas, noFlags);
  });
});

// ---------------------------------------------------------------------------------------------------
// restart-patch (offline)
// ---------------------------------------------------------------------------------------------------

/** argocd/applications/torghut/ws/deployment.yaml as a human wrote it: comments, quoting styles, flow maps. */
const DEPLOYMENT = `# torghut-ws: Alpaca market-data WebSocket -> Kafka forwarder.
# Runbook: Operations: WS Connection Limit and Auth (v1)
apiVersion: apps/v1
kind: Deployment
metadata:
  name: torghut-ws
  namespace: torghut
  labels:
    app: torghut-ws
    app.kubernetes.io/part-of: torghut
spec:
  # Alpaca allows ONE market-data connection per key: keep a single replica (406 otherwise).
  replicas: 2   # bumped during the load test
  revisionHistoryLimit: 5
  strategy:
    type: Recreate # never two pods at once
  selector:
    matchLabels:
      app: torghut-ws
  template:
    metadata:
      labels:
        app: torghut-ws
      annotations:
        prometheus.io/scrape: 'true'
        prometheus.io/port: "8080"
        kubectl.kubernetes.io/restartedAt: "2026-01-01T09:14:00Z" # last GitOps restart
    spec:
      serviceAccountName: torghut-ws
      containers:
      - name: torghut-ws
        image: registry.example.com/torghut/torghut-ws:0.42.1
        args: ["--symbols=AAPL,MSFT,NVDA,TSLA,AMZN", "--topic-prefix=torghut.marketdata.v1"]
        ports:
        - name: http
          containerPort: 8080
        envFrom:
        - configMapRef: {name: torghut-ws}
        readinessProbe:
          httpGet: { path: /readyz, port: http }
          periodSeconds: 5

        resources:
          requests: { cpu: 100m, memory: 256Mi }
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: torghut-ws
  namespace: torghut
spec:
  selector:
    app: torghut-ws
  ports:
  - name: http
    port: 8080
`;

describe.concurrent('agentruns restart-patch (offline)', () => {
  it('prints the patched manifest: only the replicas line and the restartedAt line differ from the input', async () => {
    const manifest = await file('deployment.yaml', DEPLOYMENT);
    const result = await runCli(['restart-patch', manifest, '--at', '2026-02-09T14:00:00Z']);
    expectExit(result, 0);
    const before = DEPLOYMENT.split('\n');
    const after = result.stdout.split('\n');
    expect(after).toHaveLength(before.length);
    const changed = before.flatMap((line, i) => (line === after[i] ? [] : [[line, after[i]]]));
    expect(changed).toEqual([
      ['  replicas: 2   # bumped during the load test', '  replicas: 1   # bumped during the load test'],
      [
        '        kubectl.kubernetes.io/restartedAt: "2026-01-01T09:14:00Z" # last GitOps restart',
        '        kubectl.kubernetes.io/restartedAt: "2026-02-09T14:00:00Z" # last GitOps restart',
      ],
    ]);
    // What changed goes to stderr, so stdout can be redirected straight into the file.
    expect(result.stderr).toBe('changed: replicas: 2 → 1\nchanged: restartedAt: 2026-01-01T09:14:00Z → 2026-02-09T14:00:00Z\n');
  });

  it('a manifest that is not a Deployment, or a bad --at, exits 2 and prints no manifest', async () => {
    const [service, deployment] = await Promise.all([file('service.yaml', SERVICE), file('deployment-bad-at.yaml', DEPLOYMENT)]);
    const [notDeployment, badAt] = await Promise.all([
      runCli(['restart-patch', service, '--at', '2026-02-09T14:00:00Z']),
      runCli(['restart-patch', deployment, '--at', '9 Feb 2026 14:00']),
    ]);
    expectExit(notDeployment, 2);
    expect(notDeployment.stdout).toBe('');
    expect(notDeployment.stderr).toContain(service);
    expect(notDeployment.stderr).toMatch(/Deployment/);
    expectExit(badAt, 2);
    expect(badAt.stdout).toBe('');
    expect(badAt.stderr).toMatch(/ISO-8601/);
    expect(badAt.stderr).toContain('"9 Feb 2026 14:00"');
  });
});

// ---------------------------------------------------------------------------------------------------
// diagnose (read-only, against the simulated Kubernetes API)
// ---------------------------------------------------------------------------------------------------

describe.concurrent('agentruns diagnose', () => {
  it('--kubeconfig against the 406 scenario: classified, nothing degraded, no write, no secret; human output names the class; a bad runbook exits 2', async () => {
    const sim = await startKubeSim('alpaca-406');
    try {
      const kubeconfig = await writeKubeconfig(sim, join(dir, 'kube-406'));
      const badRunbook = await file('bad-runbook.yaml', stringify({ id: 'Torghut_WS', target: { namespace: 'torghut' } }));
      // No GITHUB_TOKEN in the child (the helper strips every setting): no GitOps facts are collected.
      const [json, human, invalid] = await Promise.all([
        runCli(['diagnose', '--kubeconfig', kubeconfig, '--json']),
        runCli(['diagnose', '--kubeconfig', kubeconfig]),
        runCli(['diagnose', '--kubeconfig', kubeconfig, '--runbook', badRunbook, '--json']),
      ]);

      expectExit(json, 0);
      const out = jsonOf<{ runbook: string; diagnosis: Diagnosis; classification: Classification }>(json);
      expect(out.runbook).toBe('torghut-ws');
      expect(out.classification).toMatchObject({ class: 'alpaca_406_second_connection', procedure: 'A', basis: 'readiness+logs' });
      expect(out.diagnosis.degraded).toEqual([]);
      expect(out.diagnosis.gitops ?? null).toBeNull();
      expect(out.diagnosis.deployment).toMatchObject({ ok: true, value: { name: 'torghut-ws', namespace: 'torghut', replicas: 1 } });
      // The log tail is in the diagnosis, redacted: the scenario's Alpaca key, secret and bearer token are gone.
      expect(JSON.stringify(out.diagnosis.logs)).toContain('[REDACTED]');
      expectNoSecrets(json, human);

      expectExit(human, 0);
      expect(human.stdout).toMatch(/^diagnosis of torghut-ws at /m);
      expect(human.stdout).toMatch(/^class: +alpaca_406_second_connection$/m);
      expect(human.stdout).toMatch(/^probe \S+ \/readyz: 503 /m);

      expectExit(invalid, 2);
      expect(invalid.stdout).toBe('');
      expect(invalid.stderr).toContain(badRunbook);
      expect(invalid.stderr).toMatch(/- id: expected a Kubernetes name/);

      // Read-only: the simulated API server saw reads only.
      expect(sim.requests.length).toBeGreaterThan(0);
      expect(sim.writes()).toEqual([]);
    } finally {
      await sim.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// help and unknown commands
// ---------------------------------------------------------------------------------------------------

const COMMANDS = ['demo', 'stack', 'classify', 'diagnose', 'restart-patch', 'start', 'approve', 'reject', 'status', 'list', 'worker', 'serve'];

describe.concurrent('agentruns usage', () => {
  it('--help exits 0 and lists every command with its usage; an unknown or missing command exits 2 with the usage on stderr', async () => {
    const [help, unknown, none] = await Promise.all([runCli(['--help']), runCli(['restart']), runCli([])]);
    expectExit(help, 0);
    for (const command of COMMANDS) {
      expect(help.stdout).toMatch(new RegExp(`^ {2}${command} +\\S`, 'm'));
      expect(help.stdout).toContain(`agentruns ${command}`);
    }
    expect(help.stdout).toContain('exit codes: 0 ok, 1 failed or refused, 2 bad usage or input');
    expectExit(unknown, 2);
    expect(unknown.stderr).toMatch(/^agentruns: unknown command "restart"$/m);
    expectExit(none, 2);
    expect(none.stderr).toMatch(/^agentruns: no command given$/m);
    expect(none.stderr).toContain('usage: agentruns COMMAND [flags]');
    expect(none.stdout).toBe('');
  });
});
