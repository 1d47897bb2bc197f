/**
 * Classification as an activity: the rules are pure (domain/classify.ts) but run here, so a change
 * to them never changes the command sequence of a workflow being replayed.
 */
import { classifyDiagnosis } from '../domain/classify';
import type { Classification } from '../domain/classification';
import type { Diagnosis } from '../domain/diagnosis';

export interface ClassifyOptions {
  expectedReplicas: number;
  kafkaUser?: string;
  readinessPath?: string;
}

export function createClassifyActivities() {
  return {
    async classifyIncident(diagnosis: Diagnosis, options: ClassifyOptions): Promise<Classification> {
      return Promise.resolve(classifyDiagnosis(diagnosis, options));
    },
  };
}
