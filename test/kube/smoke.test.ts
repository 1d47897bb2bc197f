/**
 * A read-only smoke run of the diagnosis against a cluster of one's own:
 *
 *   AGENTRUNS_KUBECONFIG=~/.kube/config [AGENTRUNS_RUNBOOK=my-runbook.yaml] npx vitest run --project kube
 *
 * runs only this file, against that kubeconfig's current context and the runbook's target (default:
 * the shipped torghut-ws runbook). It calls only the read-only activities (no patch, no write of
 * any kind) and fails if the target cannot be diagnosed. Without AGENTRUNS_KUBECONFIG it runs in CI
 * against a namespace of the local control plane seeded with the 406 scenario, as the worker's
 * ServiceAccount with the shipped RBAC, so the same code path is proven on every run.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, expect, it } from 'vitest';
import { createKubernetesActivities } from '../../activities/kubernetes';
import { loadRunbookConfig } from '../../config/load-runbook';
import { classifyDiagnosis } from '../../domain/classify';
import { NO_FAILURE_KNOWLEDGE } from '../../domain/failure-knowledge';
import { collectDiagnosis } from '../../domain/collect-diagnosis';
import { describePodScope } from '../../domain/diagnosis';
import type { RunbookConfig } from '../../domain/runbook-config';
import { closeSeeded, externalKubeConfig, isExternalCluster, seeded, workerKubeConfig } from '../support/kube';

afterAll(closeSeeded);

async function cluster(): Promise<{ kubeConfig: KubeConfig; runbook: RunbookConfig; where: string }> {
  if (isExternalCluster()) {
    const kubeConfig = externalKubeConfig();
    return { kubeConfig, runbook: await loadRunbookConfig(process.env.AGENTRUNS_RUNBOOK), where: `context ${kubeConfig.getCurrentContext()}` };
  }
  const s = await seeded('alpaca-406');
  return { kubeConfig: await workerKubeConfig(s.admin, s.namespace), runbook: s.runbook, where: 'the local control plane' };
}

it('the runbook target is diagnosed read-only and classified', async () => {
  const { kubeConfig, runbook, where } = await cluster();
  const kube = createKubernetesActivities(kubeConfig);
  // Only reads: the diagnosis sources, never patchRestartedAt.
  const diagnosis = await collectDiagnosis({ ...kube, readGitOpsFacts: () => Promise.resolve(null) }, runbook);
  const classification = classifyDiagnosis(diagnosis, {
    knowledge: runbook.failures ?? NO_FAILURE_KNOWLEDGE,
    expectedReplicas: runbook.target.expectedReplicas,
    kafkaUser: runbook.target.kafkaUser ?? runbook.target.kafkaSecret,
    readinessPath: runbook.target.health.readinessPath,
  });
  const pods = diagnosis.pods.ok ? describePodScope(diagnosis.deployment.ok ? diagnosis.deployment.value.podScope : undefined, diagnosis.pods.value) : diagnosis.pods.error;
  console.error(
    `[smoke] ${where}: ${runbook.target.namespace}/${runbook.target.deployment} → ${classification.class}` +
      `${diagnosis.degraded.length ? ` (degraded: ${diagnosis.degraded.join(', ')})` : ''}; ${pods}`,
  );
  expect(diagnosis.deployment.ok, diagnosis.deployment.ok ? '' : diagnosis.deployment.error).toBe(true);
  expect(['healthy', ...(runbook.failures?.precedence ?? ['unknown'])]).toContain(classification.class);
  if (!isExternalCluster()) {
    expect(classification.class).toBe('alpaca_406_second_connection');
    expect(diagnosis.degraded).toEqual([]);
  }
});
