/**
 * `agentruns diagnose [--runbook FILE] [--kubeconfig FILE] [--json]`: the read-only diagnosis, once,
 * against the cluster of the kubeconfig (or the simulator), with the classification. Writes nothing.
 */
import { parseArgs } from 'node:util';
import { loadRunbookConfig } from '../../config/load-runbook';
import { classifyDiagnosis } from '../../domain/classify';
import { collectDiagnosis } from '../../domain/collect-diagnosis';
import { NO_FAILURE_KNOWLEDGE } from '../../domain/failure-knowledge';
import { describePodScope, type Diagnosis, type KafkaCredentials } from '../../domain/diagnosis';
import { loadSettings } from '../../runtime/settings';
import { activitiesFromSettings } from '../../runtime/wiring';
import { printJson } from '../io';
import { renderClassification } from './classify';

export async function diagnoseCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { runbook: { type: 'string' }, kubeconfig: { type: 'string' }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  const settings = loadSettings({ ...process.env, ...(values.kubeconfig ? { KUBECONFIG: values.kubeconfig } : {}) });
  const runbook = await loadRunbookConfig(values.runbook ?? settings.AGENTRUNS_RUNBOOK);
  const activities = activitiesFromSettings(settings, [runbook]);
  const diagnosis = await collectDiagnosis(activities, runbook);
  const classification = classifyDiagnosis(diagnosis, {
    knowledge: runbook.failures ?? NO_FAILURE_KNOWLEDGE,
    logTailLines: runbook.diagnosis.logTailLines,
    expectedReplicas: runbook.target.expectedReplicas,
    kafkaUser: runbook.target.kafkaUser,
    readinessPath: runbook.target.health.readinessPath,
  });
  if (values.json) printJson({ runbook: runbook.id, diagnosis, classification });
  else process.stdout.write(`${renderDiagnosis(runbook.id, diagnosis)}\n${renderClassification(classification)}`);
  return 0;
}

function renderDiagnosis(runbookId: string, d: Diagnosis): string {
  const lines = [`diagnosis of ${runbookId} at ${d.collectedAt}${d.degraded.length ? ` (degraded: ${d.degraded.join(', ')})` : ''}`];
  if (d.deployment.ok) {
    const dep = d.deployment.value;
    lines.push(`deployment ${dep.namespace}/${dep.name}: replicas ${dep.replicas}, ready ${dep.readyReplicas}, updated ${dep.updatedReplicas}, generation ${dep.observedGeneration}/${dep.generation}`);
  } else lines.push(`deployment: unavailable (${d.deployment.error})`);
  if (d.pods.ok) {
    lines.push(describePodScope(d.deployment.ok ? d.deployment.value.podScope : undefined, d.pods.value));
    for (const p of d.pods.value) lines.push(`pod ${p.name}: ${p.phase}, ready ${p.ready}, restarts ${p.restarts}${p.ignored ? ` (ignored: ${p.ignored})` : ''}`);
  } else lines.push(`pods: unavailable (${d.pods.error})`);
  if (d.probes.ok) for (const p of d.probes.value) lines.push(`probe ${p.pod} ${p.path}: ${p.status ?? 'unreachable'} ${p.body.slice(0, 160)}`);
  else lines.push(`probes: unavailable (${d.probes.error})`);
  if (d.kafkaCredentials.ok) lines.push(kafkaCredentialsLine(d.kafkaCredentials.value));
  else lines.push(`kafka credentials: unavailable (${d.kafkaCredentials.error})`);
  if (d.gitops?.ok) lines.push(`gitops: replicas ${d.gitops.value.replicas ?? '-'}, KAFKA_BOOTSTRAP ${d.gitops.value.kafkaBootstrap ?? '-'} (live ${d.gitops.value.liveKafkaBootstrap ?? '-'})`);
  if (d.events.ok) for (const e of d.events.value.slice(0, 5)) lines.push(`event ${e.type} ${e.reason} ${e.object}: ${e.message}`);
  if (d.logs.ok) lines.push(`log tail: ${d.logs.value.lines.length} lines from ${d.logs.value.pod}${d.logs.value.truncated ? ' (truncated)' : ''}`);
  return `${lines.join('\n')}\n`;
}

function kafkaCredentialsLine({ kafkaUser: u, missingSecrets }: KafkaCredentials): string {
  const state = !u.found ? 'NOT FOUND' : `Ready=${u.ready}${u.reason ? ` (${u.reason})` : ''}, Secret ${u.secret ?? '-'}, username ${u.username ?? '-'}`;
  const missing = missingSecrets.length ? `; Secret not found for ${missingSecrets.map((m) => `${m.object}/${m.container ?? '?'} (${m.secret})`).join(', ')}` : '';
  return `kafkaUser ${u.name}: ${state}${missing}`;
}
