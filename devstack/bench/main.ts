/**
 * `npm run bench`: the product's figures beside the best this machine does in the same run, printed
 * as a short table and written as JSON (bench-report.json, or $BENCH_REPORT). Starts its own Temporal
 * dev server and simulated environment, stops everything it started, and exits non-zero when an
 * incident does not complete. Figures, never assertions of time.
 *
 * Knobs: BENCH_RUNS (incidents per comparison, default 50), BENCH_WAVE (incidents opened at once in
 * the comparisons, default 5), BENCH_SCALE (default 1,10,50,100), BENCH_APPROVALS (default 5),
 * BENCH_CALL_DELAY_MS (simulated cluster per-call delay, default 50), BENCH_STORM_POSTS (2000),
 * BENCH_STORM_SECONDS (10), BENCH_STORM_TARGETS (20), BENCH_KUBECTL_RUNS (runbook by kubectl vs product
 * diagnosis on the real API server, default 10), BENCH_ONLY (comma list of sections).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { quietTemporalRuntime } from '../temporal-dev-server';
import { measureApproval } from './approval';
import { activitiesOf, breakdown } from './breakdown';
import { floorRound, productRound, type Run } from './incidents';
import { BENCH_SECRETS } from './ingress-process';
import { measureKubectl } from './kubectl';
import { measureLargeInputs } from './large-inputs';
import { loadRunbookConfig } from '../../config/load-runbook';
import { startBenchStack } from './stack';
import { alertStorm } from './storm';
import { BenchFailure, figure, machine, memoryOf, resetPeak, type Figure } from './stats';

quietTemporalRuntime('ERROR');
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const RUNS = num('BENCH_RUNS', 50);
const WAVE = num('BENCH_WAVE', 5);
const SCALE = (process.env.BENCH_SCALE ?? '1,10,50,100').split(',').map(Number);
const APPROVALS = num('BENCH_APPROVALS', 5);
const DELAY = num('BENCH_CALL_DELAY_MS', 50);
const STORM = { posts: num('BENCH_STORM_POSTS', 2000), seconds: num('BENCH_STORM_SECONDS', 10), targets: num('BENCH_STORM_TARGETS', 20) };
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const wanted = (section: string) => !ONLY || ONLY.has(section);

const report: Record<string, unknown> = { machine: machine(), settings: { RUNS, WAVE, SCALE, APPROVALS, callDelayMs: DELAY, STORM } };
const rows: Array<[string, string]> = [];
const fmt = (f: Figure) => `p50 ${f.p50} p95 ${f.p95} max ${f.max} ${f.unit} (n=${f.runs})`;
const ratio = (a: Figure, b: Figure) => Math.round((a.p50 / b.p50) * 100) / 100;
const log = (line: string) => console.error(`[bench] ${line}`);

/** A step of the breakdown as the table names it: the diagnosis step by what it holds. */
const stepLabel = (step: string) =>
  step.includes('getDeploymentFacts') ? `diagnosis (${step.split('+').length} activities${step.includes('lastRestartOfTarget') ? ', the cool-down look among them' : ''})` : step;

const began = performance.now();
let failed: unknown;
const targetsNeeded = Math.max(WAVE, ...SCALE, STORM.targets);
const stack = await startBenchStack({ targets: targetsNeeded, callDelayMs: DELAY });
try {
  const { fleet } = stack;
  const waves = <T>(fn: (targets: typeof fleet.runbooks) => Promise<T[]>) => async () => {
    const out: T[] = [];
    for (let done = 0; done < RUNS; done += WAVE) out.push(...(await fn(fleet.runbooks.slice(0, Math.min(WAVE, RUNS - done)))));
    return out;
  };
  if (wanted('ready')) {
    log(`alert → ready for approval: product and floor, ${RUNS} each in waves of ${WAVE}`);
    await productRound(stack, fleet.runbooks.slice(0, WAVE)); // warm-up: first workflow tasks, connections
    await floorRound(stack, WAVE);
    const product: number[] = [];
    const floor: number[] = [];
    const productRuns: Run[] = [];
    const floorRuns: Run[] = [];
    for (let done = 0; done < RUNS; done += WAVE) {
      const n = Math.min(WAVE, RUNS - done);
      product.push(...(await productRound(stack, fleet.runbooks.slice(0, n), productRuns)));
      floor.push(...(await floorRound(stack, n, floorRuns)));
    }
    const productSteps = await breakdown(stack.client, productRuns, 'postIncidentMessage');
    const floorSteps = await breakdown(stack.client, floorRuns, 'floorPost');
    const productActivities = await breakdown(stack.client, productRuns, 'postIncidentMessage', activitiesOf);
    const floorActivities = await breakdown(stack.client, floorRuns, 'floorPost', activitiesOf);
    log('the same incidents with the diagnosis run in order (bench-only worker)');
    await stack.restartWorker({ sequentialDiagnostics: true });
    const sequentialRuns: Run[] = [];
    const sequential = await waves((t) => productRound(stack, t, sequentialRuns))();
    await stack.restartWorker({ sequentialDiagnostics: false });
    const sequentialSteps = await breakdown(stack.client, sequentialRuns, 'postIncidentMessage');
    // The diagnosis step alone (sources and the cool-down look), in order against in parallel.
    const diagnosisStep = (steps: Record<string, Figure>) => Object.entries(steps).find(([name]) => name.includes('getDeploymentFacts'))?.[1];
    const diagnosisRatio = (() => {
      const inOrder = diagnosisStep(sequentialSteps);
      const parallel = diagnosisStep(productSteps);
      return inOrder && parallel ? ratio(inOrder, parallel) : null;
    })();
    const p = figure(product);
    const f = figure(floor);
    const s = figure(sequential);
    report.alertToReady = { product: p, floor: f, sequentialDiagnosis: s, productOverFloorP50: ratio(p, f), sequentialOverProductP50: ratio(s, p), productSteps, floorSteps, productActivities, floorActivities, sequentialSteps, diagnosisStepInOrderOverParallelP50: diagnosisRatio };
    rows.push(['1 alert → ready for approval', fmt(p)]);
    for (const [step, figure] of Object.entries(productSteps)) rows.push([`  step ${stepLabel(step)}`, fmt(figure)]);
    rows.push(['2 floor (same shape, no work)', `${fmt(f)}; product/floor ${ratio(p, f)}×`]);
    for (const [step, figure] of Object.entries(floorSteps)) rows.push([`  step ${step}`, fmt(figure)]);
    if (process.env.BENCH_ACTIVITIES) for (const [step, figure] of Object.entries({ ...productActivities, ...floorActivities })) rows.push([`  activity ${step}`, fmt(figure)]);
    rows.push(['3 diagnosis in order', `${fmt(s)}; in order/parallel ${ratio(s, p)}× (the diagnosis step alone: ${diagnosisRatio ?? '?'}×)`]);
    for (const [step, figure] of Object.entries(sequentialSteps)) rows.push([`  step ${stepLabel(step)}`, fmt(figure)]);
  }
  if (wanted('kubectl')) {
    const runs = num('BENCH_KUBECTL_RUNS', 10);
    log(`the runbook's commands by kubectl and the product's diagnosis on the real API server, ${runs} runs each`);
    const k = await measureKubectl({ runs, log });
    report.kubectl = k;
    if ('figure' in k) {
      rows.push(
        ['3 runbook by kubectl, in order (real API server)', `${fmt(k.figure)}; ${k.commands.length} commands, kubectl ${k.kubectl.version}`],
        ['3 product diagnosis (same server)', `${fmt(k.productDiagnose)}; kubectl/product ${k.kubectlOverProductP50}× at p50`],
      );
      for (const c of k.perCommand) rows.push([`  ${c.command}`, fmt(c.figure)]);
    } else {
      rows.push(['3 runbook by kubectl (real API server)', `not measured: ${k.notMeasured}`]);
    }
  }
  if (wanted('scale')) {
    const curve: Array<{ open: number; ready: Figure; workerRssMiB: number; workerPeakMiB: number }> = [];
    for (const open of SCALE) {
      log(`scale: ${open} incidents open at once`);
      resetPeak(stack.worker.pid);
      const samples: number[] = [];
      const rounds = Math.max(1, Math.ceil(10 / open));
      for (let i = 0; i < rounds; i++) samples.push(...(await productRound(stack, fleet.runbooks.slice(0, open))));
      const mem = memoryOf(stack.worker.pid);
      curve.push({ open, ready: figure(samples), workerRssMiB: mem.rssMiB, workerPeakMiB: mem.peakMiB });
    }
    const first = curve[0]!;
    const lastStep = curve.at(-1)!;
    report.scale = { curve, p50At100Over1: ratio(lastStep.ready, first.ready) };
    for (const step of curve) rows.push([`5 scale ${step.open} open`, `${fmt(step.ready)}; worker RSS ${step.workerRssMiB} MiB (peak ${step.workerPeakMiB})`]);
    rows.push(['5 cost growth', `p50 at ${lastStep.open} / at ${first.open}: ${ratio(lastStep.ready, first.ready)}×`]);
  }
  if (wanted('storm')) {
    log(`alert storm: ${STORM.posts} posts in ${STORM.seconds} s for ${STORM.targets} targets`);
    // A fresh worker process (as a new pod), so its peak is the storm's own and not what the scale
    // section's 100 incidents left in its heap, warmed by one incident as every other section is;
    // the ingress stays as it is (warm).
    await stack.restartWorker({ sequentialDiagnostics: false });
    await productRound(stack, fleet.runbooks.slice(0, 1));
    resetPeak(stack.worker.pid);
    resetPeak(stack.ingress.pid);
    const namespaces = fleet.runbooks.slice(0, STORM.targets).map((r) => r.target.namespace);
    const storm = await alertStorm({ url: stack.ingress.url, token: BENCH_SECRETS.alertmanagerToken, namespaces, posts: STORM.posts, seconds: STORM.seconds });
    const ingressMem = memoryOf(stack.ingress.pid);
    const workerMem = memoryOf(stack.worker.pid);
    const latency = figure(storm.latenciesMs);
    const sorted = [...storm.latenciesMs].sort((a, b) => a - b);
    const p99 = Math.round(sorted[Math.ceil(sorted.length * 0.99) - 1]! * 10) / 10;
    const fiveXX = Object.entries(storm.statuses).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0);
    const incidents = new Set<string>();
    for await (const w of stack.client.workflow.list({ query: `TaskQueue="bench-incidents" AND ExecutionStatus="Running"` })) incidents.add(w.workflowId);
    const rps = Math.round((storm.posts / storm.wallMs) * 1000);
    report.storm = { ...storm, latenciesMs: undefined, latency, p99, fiveXX, openIncidents: incidents.size, requestsPerSecond: rps, ingressPeakMiB: ingressMem.peakMiB, workerPeakMiB: workerMem.peakMiB };
    rows.push(['6 storm latency', `${fmt(latency)}; p99 ${p99} ms; ${rps} req/s held; statuses ${JSON.stringify(storm.statuses)}`]);
    rows.push(['6 storm outcome', `${incidents.size} incidents open for ${STORM.targets} targets; ${fiveXX} 5xx; peak RSS ingress ${ingressMem.peakMiB} MiB, worker ${workerMem.peakMiB} MiB`]);
    if (fiveXX > 0 || storm.errors.length > 0) throw new BenchFailure(`the storm got ${fiveXX} 5xx and ${storm.errors.length} failed posts (${storm.errors[0] ?? ''})`);
    if (incidents.size !== STORM.targets) throw new BenchFailure(`the storm opened ${incidents.size} incidents for ${STORM.targets} targets`);
    await Promise.all([...incidents].map((id) => stack.client.workflow.getHandle(id).terminate('bench storm over').catch(() => undefined)));
  }
  if (wanted('approval')) {
    log(`approval → PR and → remediated: ${APPROVALS} runs on one target`);
    const a = await measureApproval(stack.server, { runs: APPROVALS, callDelayMs: DELAY });
    report.approval = a;
    rows.push(['4 approval → PR opened', fmt(a.toPullRequest)], ['4 approval → remediated', fmt(a.toRemediated)], ['  Slack click → ack', fmt(a.slackAck)]);
    for (const [phase, f] of Object.entries(a.phases)) rows.push([`  phase ${phase}`, fmt(f)]);
    rows.push(['7 cost of one remediated incident', `${a.cost.events} events (limit warning 10,240), ${Math.round(a.cost.historyJsonBytes / 1024)} KiB history JSON (10 MiB), ${a.cost.activityCalls} activity calls, ${a.cost.signals} signals`]);
  }
  if (wanted('inputs')) {
    const l = measureLargeInputs(await torghutKnowledge(), num('BENCH_INPUT_RUNS', 10));
    report.largeInputs = l;
    rows.push(['8 classify 50,000-line log', fmt(l.log50k)], ['8 classify 1 MB readiness body', `${fmt(l.readiness1MB)}; heap growth ${l.heapGrowthMiB} MiB`]);
  }
} catch (err) {
  failed = err;
} finally {
  await stack.close();
}
report.totalSeconds = Math.round((performance.now() - began) / 100) / 10;
report.failure = failed instanceof Error ? failed.message : failed ? JSON.stringify(failed) : null;
const path = resolve(process.env.BENCH_REPORT ?? 'bench-report.json');
writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`machine: ${JSON.stringify(report.machine)}`);
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
console.log(`report: ${path} (${report.totalSeconds as number} s)`);
if (failed) {
  console.error(`[bench] FAILED: ${failed instanceof Error ? (failed.stack ?? failed.message) : JSON.stringify(failed)}`);
  process.exit(1);
}

/** The shipped torghut-ws runbook's failure knowledge, which the classifier runs on. */
async function torghutKnowledge() {
  const failures = (await loadRunbookConfig()).failures;
  if (!failures) throw new Error('the shipped torghut-ws runbook declares no failures');
  return failures;
}
