/**
 * Every classifier input the shipped torghut-ws scenarios give: each scenario's state (before and
 * after a restart), every readiness answer against every scenario's logs, and every log line alone.
 * The classification of each was captured with the rules as they were in TypeScript, before they
 * became runbook data (test/fixtures/classifications/torghut-ws-before.json); the runbook engine must
 * give the same answers (test/unit/runbook-failures.test.ts).
 */
import type { ClassifierInput } from '../../domain/classification';
import { kafkaUserOf, listScenarios, loadScenario, type HealthAnswer, type Scenario } from '../../sim/scenario';

export interface CorpusCase {
  name: string;
  input: ClassifierInput;
}

export interface Corpus {
  cases: CorpusCase[];
  /** Every distinct log line of the scenarios, for the per-line class the log excerpt keeps. */
  lines: string[];
}

/** The torghut-ws scenarios the fixture was captured from (later scenarios are other services'). */
export const TORGHUT_SCENARIOS = [
  'alpaca-406',
  'alpaca-406-two-replicas',
  'alpaca-auth',
  'api-errors',
  'flapping',
  'healthy',
  'kafka-auth',
  'kafka-metadata',
  'kafka-produce',
  'kafka-secret-missing',
  'readyz-malformed',
  'readyz-missing',
  'unknown',
] as const;

function readinessOf(answer: HealthAnswer | undefined): ClassifierInput['readiness'] {
  if (!answer) return null;
  if ('unreachable' in answer) return { status: null };
  return { status: answer.status, body: typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body) };
}

export async function classifierCorpus(): Promise<Corpus> {
  const shipped = new Set(await listScenarios());
  const scenarios: Array<[string, Scenario]> = [];
  for (const name of TORGHUT_SCENARIOS) {
    if (!shipped.has(name)) throw new Error(`scenario ${name} of the captured corpus is no longer shipped`);
    scenarios.push([name, await loadScenario(name)]);
  }
  const cases: CorpusCase[] = [];
  for (const [name, s] of scenarios) {
    const target = { deployment: s.deployment.name, kafkaUser: kafkaUserOf(s).name };
    cases.push({ name: `${name}: as simulated`, input: { readiness: readinessOf(s.readiness), logLines: s.logs, replicas: s.deployment.replicas, expectedReplicas: 1, target } });
    if (s.afterRestart) {
      cases.push({
        name: `${name}: after restart`,
        input: { readiness: readinessOf(s.afterRestart.readiness ?? s.readiness), logLines: s.afterRestart.logs ?? s.logs, replicas: 1, target },
      });
    }
  }
  for (const [readyName, r] of scenarios) {
    for (const [logName, l] of [['(no logs)', null] as const, ...scenarios]) {
      cases.push({ name: `readiness of ${readyName}, logs of ${logName}`, input: { readiness: readinessOf(r.readiness), logLines: l?.logs ?? [] } });
    }
  }
  for (const [logName, l] of scenarios) {
    cases.push({ name: `no readiness, logs of ${logName}, replicas 2`, input: { readiness: null, logLines: l.logs, replicas: 2 } });
  }
  // Two scenarios' logs together: several classes at once, so the precedence decides.
  for (const [i, [aName, a]] of scenarios.entries()) {
    for (const [bName, b] of scenarios.slice(i + 1)) {
      cases.push({ name: `no readiness, logs of ${aName} then ${bName}`, input: { readiness: null, logLines: [...a.logs, ...b.logs] } });
    }
  }
  const lines = [...new Set(scenarios.flatMap(([, s]) => [...s.logs, ...(s.afterRestart?.logs ?? [])]))];
  return { cases, lines };
}
