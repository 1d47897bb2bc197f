/**
 * The incidents' own records of earlier restarts, read from Temporal: the closed runs of this
 * incident's workflow ID (every incident of a target shares it) and the `restart.happenedAt` each
 * returned — when its restart really took effect (the Argo CD sync, the merge, the API patch).
 *
 * The cool-down needs that moment, not the restartedAt value a PR wrote: a PR a human merged an hour
 * and a half after the approval carries the approval's time, and the cool-down would otherwise be
 * over by the time the restart happens.
 */
import { Context } from '@temporalio/activity';
import type { IncidentState, RestartRecord } from '../domain/incident';
import { namedFailure } from './errors';

/** At most this many closed runs are read: the cool-down window rarely holds more than one or two. */
export const MAX_RUNS_READ = 20;

export interface EarlierRestart {
  runId: string;
  how: RestartRecord['how'];
  happenedAt: string;
}

/** The latest restart that took effect at or after `since` (ms), among the runs' final states. */
export function latestRestart(runs: ReadonlyArray<{ runId: string; state: unknown }>, since: number): EarlierRestart | null {
  let latest: EarlierRestart | null = null;
  for (const { runId, state } of runs) {
    const restart = (state as Partial<IncidentState> | null)?.restart;
    const at = restart?.happenedAt ? Date.parse(restart.happenedAt) : NaN;
    if (!restart || !Number.isFinite(at) || at < since) continue;
    if (!latest || at > Date.parse(latest.happenedAt)) latest = { runId, how: restart.how, happenedAt: restart.happenedAt! };
  }
  return latest;
}

export function createIncidentRecordActivities() {
  return {
    /** The latest restart an earlier incident of this target made within the last `withinMs`, or null. */
    async lastRestartOfTarget(input: { withinMs: number }): Promise<EarlierRestart | null> {
      const ctx = Context.current();
      const execution = ctx.info.workflowExecution;
      if (!execution) throw namedFailure('InputError', 'lastRestartOfTarget runs only for a workflow');
      const since = Date.now() - Math.max(0, input.withinMs);
      // A run that restarted within the window closed after the restart, so within the window too.
      const query = `WorkflowId = '${execution.workflowId.replace(/'/g, '')}' AND ExecutionStatus = 'Completed' AND CloseTime >= '${new Date(since).toISOString()}'`;
      const runs: Array<{ runId: string; state: unknown }> = [];
      for await (const run of ctx.client.workflow.list({ query })) {
        if (run.runId === execution.runId) continue;
        const state: unknown = await ctx.client.workflow.getHandle(run.workflowId, run.runId, { followRuns: false }).result();
        runs.push({ runId: run.runId, state });
        if (runs.length >= MAX_RUNS_READ) break;
      }
      return latestRestart(runs, since);
    },
  };
}

export type IncidentRecordActivities = ReturnType<typeof createIncidentRecordActivities>;
