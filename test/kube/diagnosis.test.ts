/**
 * The diagnosis of every scenario on the real API server, as the worker's ServiceAccount with the
 * shipped RBAC: the same collectDiagnosis and classifier as the workflow, and the same class,
 * procedure, basis and degraded sources as on the in-process simulator. A scenario's API faults are
 * produced the way a real server produces them, by taking the resource out of the Role (403); the
 * simulator's `events: 500` thereby shows as a 403, and the diagnosis degrades the same way.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createKubernetesActivities, type KubernetesActivities } from '../../activities/kubernetes';
import { loadRunbookConfig } from '../../config/load-runbook';
import { classifyDiagnosis } from '../../domain/classify';
import { NO_FAILURE_KNOWLEDGE } from '../../domain/failure-knowledge';
import { collectDiagnosis } from '../../domain/collect-diagnosis';
import type { RunbookConfig } from '../../domain/runbook-config';
import { kubeconfigFor, startKubeSim } from '../../sim/kube-api';
import { listScenarios, loadScenario, type Scenario } from '../../sim/scenario';
import { closeSeeded, seeded, workerKubeConfig } from '../support/kube';

afterAll(closeSeeded);

/** The torghut-ws scenarios: the others are other services' (quote-api), diagnosed by their own runbooks. */
const SCENARIOS = (await Promise.all((await listScenarios()).map(async (name) => [name, (await loadScenario(name)).deployment.name] as const)))
  .filter(([, deployment]) => deployment === 'torghut-ws')
  .map(([name]) => name);

/** The Role's resources a scenario's API faults stand for. */
const FAULT_RESOURCES: Record<keyof Scenario['faults'], string> = {
  deployment: 'deployments',
  pods: 'pods',
  events: 'events',
  logs: 'pods/log',
  kafkaUser: 'kafkausers',
  configmap: 'configmaps',
  proxy: 'pods/proxy',
  patch: 'deployments',
  replicasets: 'replicasets',
};

async function diagnoseAndClassify(kube: KubernetesActivities, runbook: RunbookConfig) {
  const diagnosis = await collectDiagnosis({ ...kube, readGitOpsFacts: () => Promise.resolve(null) }, runbook);
  const classification = classifyDiagnosis(diagnosis, {
    knowledge: runbook.failures ?? NO_FAILURE_KNOWLEDGE,
    expectedReplicas: runbook.target.expectedReplicas,
    kafkaUser: runbook.target.kafkaUser ?? runbook.target.kafkaSecret,
    readinessPath: runbook.target.health.readinessPath,
  });
  return { diagnosis, classification };
}

async function onSimulator(scenario: Scenario) {
  const sim = await startKubeSim(scenario);
  try {
    return await diagnoseAndClassify(createKubernetesActivities(kubeconfigFor(sim)), await loadRunbookConfig());
  } finally {
    await sim.close();
  }
}

describe.concurrent('every scenario diagnosed on the real API server classifies as on the simulator', () => {
  it.each(SCENARIOS)('%s', async (name) => {
    const scenario = await loadScenario(name);
    const expected = await onSimulator(scenario);

    const s = await seeded(scenario);
    const denied = Object.entries(scenario.faults)
      .filter(([resource, code]) => code !== undefined && resource !== 'patch')
      .map(([resource]) => FAULT_RESOURCES[resource as keyof Scenario['faults']]);
    const worker = await workerKubeConfig(s.admin, s.namespace, denied);
    const real = await diagnoseAndClassify(createKubernetesActivities(worker), s.runbook);

    expect(real.classification.class).toBe(expected.classification.class);
    expect(real.classification.procedure).toBe(expected.classification.procedure);
    expect(real.classification.basis).toBe(expected.classification.basis);
    expect(real.diagnosis.degraded.sort()).toEqual(expected.diagnosis.degraded.sort());
    for (const source of real.diagnosis.degraded) {
      expect((real.diagnosis[source as 'events'] as { error: string }).error).toMatch(/Forbidden: .* is forbidden: User "system:serviceaccount:agentruns:agentruns" cannot/);
    }
    if (real.diagnosis.pods.ok && expected.diagnosis.pods.ok) {
      const shape = (pods: typeof real.diagnosis.pods.value) => pods.map((p) => [p.phase, p.ready, p.restarts]).sort();
      expect(shape(real.diagnosis.pods.value)).toEqual(shape(expected.diagnosis.pods.value));
    }
    if (real.diagnosis.probes.ok && expected.diagnosis.probes.ok) {
      const statuses = (probes: typeof real.diagnosis.probes.value) => probes.map((p) => `${p.path} ${p.status}`).sort();
      expect(statuses(real.diagnosis.probes.value)).toEqual(statuses(expected.diagnosis.probes.value));
    }
    // The scenario's events about the Deployment and its pods, core/v1 or events.k8s.io/v1 (a series), on both.
    const own = scenario.events.filter((e) => /^(pod(\/\d+)?|deployment|replicaset)$/.test(e.object));
    for (const d of [real.diagnosis, expected.diagnosis]) {
      if (!d.events.ok) continue;
      for (const e of own) expect(d.events.value).toContainEqual(expect.objectContaining({ reason: e.reason, count: e.count, type: e.type }));
    }
    // The evidence says which ReplicaSet's pods were looked at.
    expect(real.classification.evidence.map((e) => e.text).join('\n')).toMatch(/of the current ReplicaSet torghut-ws-\w+ \(revision 1\) considered/);
    for (const secret of scenario.secretsInLogs) expect(JSON.stringify(real)).not.toContain(secret);
  });
});
