/**
 * The activities the incident workflow's diagnosis calls, with the one change of in-flight behaviour
 * behind `patched()`: incidents diagnosed before the Kafka credentials were checked through the
 * Strimzi KafkaUser scheduled `checkSecret` (a Secret metadata read) in that position, and their
 * histories must replay it. Every diagnosis made from now on calls `checkKafkaCredentials`; workers
 * no longer have `checkSecret`, so it only ever runs from history.
 */
import { patched, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { DiagnosisSources } from '../domain/collect-diagnosis';
import type { DiagnosisTarget, KafkaCredentials } from '../domain/diagnosis';

export const KAFKA_CREDENTIALS_PATCH = 'kafka-credentials-from-kafkauser';

/**
 * The retired activity, by name only: what a recorded history may hold at that position. Its recorded
 * result has the old Secret-presence shape; nothing in the workflow reads that field.
 */
interface RetiredActivities {
  checkSecret(target: DiagnosisTarget): Promise<KafkaCredentials>;
}

/** Call at every diagnosis: a history recorded before the patch replays the retired activity. */
export function diagnosisSources(diag: DiagnosisSources, options: ActivityOptions): DiagnosisSources {
  if (patched(KAFKA_CREDENTIALS_PATCH)) return diag;
  const retired = proxyActivities<RetiredActivities>(options);
  return {
    getDeploymentFacts: (target) => diag.getDeploymentFacts(target),
    listPods: (target) => diag.listPods(target),
    listEvents: (target) => diag.listEvents(target),
    tailLogs: (target) => diag.tailLogs(target),
    probePods: (target) => diag.probePods(target),
    checkKafkaCredentials: (target) => retired.checkSecret(target),
    readGitOpsFacts: (input) => diag.readGitOpsFacts(input),
  };
}
