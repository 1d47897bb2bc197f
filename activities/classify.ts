/**
 * Classification as an activity: the rules are pure (domain/classify.ts, an engine over the
 * runbook's `failures:` data) but run here, so a change to them never changes the command sequence
 * of a workflow being replayed. The failure knowledge is the worker's own: the runbook the input
 * names, from the config this worker loaded and validated at start-up.
 */
import { classifyDiagnosis } from '../domain/classify';
import type { Classification } from '../domain/classification';
import type { Diagnosis } from '../domain/diagnosis';
import { NO_FAILURE_KNOWLEDGE, type FailureKnowledge } from '../domain/failure-knowledge';
import type { RunbookConfig } from '../domain/runbook-config';
import { namedFailure } from './errors';

export interface ClassifyOptions {
  /**
   * The runbook whose failure knowledge applies. Absent in classifications scheduled before runbooks
   * declared their failures: those were torghut-ws's rules, the only ones there were.
   */
  runbookId?: string;
  expectedReplicas: number;
  kafkaUser?: string;
  readinessPath?: string;
  logTailLines?: number;
}

/** The runbook ID whose knowledge an input without one was classified by. */
export const LEGACY_RUNBOOK_ID = 'torghut-ws';

/** The failure knowledge of a loaded runbook (none declared: no class, every failure is unknown). */
export function knowledgeOf(runbooks: readonly RunbookConfig[], runbookId: string | undefined): FailureKnowledge {
  const id = runbookId ?? LEGACY_RUNBOOK_ID;
  const runbook = runbooks.find((r) => r.id === id);
  if (!runbook) throw namedFailure('InputError', `classifyIncident: runbook ${JSON.stringify(id)} is not one this worker loaded`);
  return runbook.failures ?? NO_FAILURE_KNOWLEDGE;
}

export function createClassifyActivities(deps: { runbooks: readonly RunbookConfig[] }) {
  return {
    async classifyIncident(diagnosis: Diagnosis, options: ClassifyOptions): Promise<Classification> {
      const { runbookId, ...rest } = options;
      return Promise.resolve(classifyDiagnosis(diagnosis, { ...rest, knowledge: knowledgeOf(deps.runbooks, runbookId) }));
    },
  };
}
