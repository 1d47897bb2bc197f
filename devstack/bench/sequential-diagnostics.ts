/**
 * The runbook done in order (bench only): a worker-side wrapper that runs the diagnosis activities of
 * one incident one after another — each waits for the previous one of the same workflow to finish —
 * as an engineer types `kubectl describe`, `kubectl logs`, then curls the probes. The workflow and
 * its history are the product's own: nothing a Temporal client or an alert sends can turn this on;
 * only the bench's worker is built with it.
 */
import { Context } from '@temporalio/activity';
import type { Activities } from '../../activities';

/** The diagnosis sources (domain/collect-diagnosis.ts DiagnosisSources). */
export const DIAGNOSIS_ACTIVITIES = ['getDeploymentFacts', 'listPods', 'listEvents', 'tailLogs', 'probePods', 'checkKafkaCredentials', 'readGitOpsFacts'] as const;

export function sequentialDiagnostics(activities: Activities): Activities {
  /** Per workflow: the end of the last diagnosis activity queued. */
  const tails = new Map<string, Promise<unknown>>();
  const wrapped: Record<string, unknown> = { ...activities };
  for (const name of DIAGNOSIS_ACTIVITIES) {
    const original = (activities as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!;
    wrapped[name] = (...args: unknown[]) => {
      const id = Context.current().info.workflowExecution?.workflowId ?? '(no workflow)';
      const previous = tails.get(id) ?? Promise.resolve();
      const mine = previous.then(
        () => original(...args),
        () => original(...args),
      );
      const settled = mine.catch(() => undefined);
      tails.set(id, settled);
      void settled.then(() => {
        if (tails.get(id) === settled) tails.delete(id);
      });
      return mine;
    };
  }
  return wrapped as Activities;
}
