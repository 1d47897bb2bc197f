/**
 * Where the time to "ready" goes, read from the server-written history of each run (bench only):
 * from the workflow's start to the completion of the activity that posts (the product's
 * `postIncidentMessage`, the floor's `floorPost`), split into the activity steps the workflow waited
 * on, in order. A step is a group of activities scheduled by the same workflow task (the diagnosis
 * sources run as one step); its time is from the end of the step before (the workflow's start for
 * the first) to the completion of its last activity, so the workflow task that scheduled it, the
 * server's dispatch and the worker's slots are all counted in the step: the steps add up to the
 * whole.
 */
import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { figure, type Figure } from './stats';

type HistoryEvent = NonNullable<History['events']>[number];

const ms = (event: HistoryEvent): number => {
  const t = event.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.round((t.nanos ?? 0) / 1e6) : NaN;
};

/** One step of a run: the activity types it ran (sorted, joined by "+"), and its milliseconds. */
export interface Step {
  name: string;
  ms: number;
}

/**
 * Each activity of one run, up to `until`: its queue time (scheduled → started on a worker) and run
 * time (started → completed), named `<type> queue` and `<type> run`.
 */
export function activitiesOf(events: readonly HistoryEvent[], until: string): Step[] {
  const scheduledAt = new Map<number, { type: string; at: number }>();
  const startedAt = new Map<number, number>();
  const out: Step[] = [];
  for (const event of events) {
    const id = Number(event.eventId);
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) scheduledAt.set(id, { type: scheduled.activityType?.name ?? '?', at: ms(event) });
    if (event.activityTaskStartedEventAttributes) startedAt.set(Number(event.activityTaskStartedEventAttributes.scheduledEventId), ms(event));
    const done = event.activityTaskCompletedEventAttributes;
    if (done) {
      const from = scheduledAt.get(Number(done.scheduledEventId));
      const start = startedAt.get(Number(done.scheduledEventId));
      if (!from || start === undefined) continue;
      out.push({ name: `${from.type} queue`, ms: start - from.at }, { name: `${from.type} run`, ms: ms(event) - start });
      if (from.type === until) break;
    }
  }
  return out;
}

/** The steps of one run, up to the completion of the `until` activity (the post). */
export function stepsOf(events: readonly HistoryEvent[], until: string): Step[] {
  const started = events[0] ? ms(events[0]) : NaN;
  const typeOf = new Map<number, string>();
  const stepOf = new Map<number, number>();
  const steps: Array<{ types: string[]; from: number; to: number }> = [];
  let openedBy = -1;
  for (const event of events) {
    const id = Number(event.eventId);
    if (event.workflowTaskCompletedEventAttributes) openedBy = -1;
    if (event.activityTaskScheduledEventAttributes) {
      const type = event.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      typeOf.set(id, type);
      if (openedBy < 0) {
        const previous = steps.at(-1);
        steps.push({ types: [], from: previous && Number.isFinite(previous.to) ? previous.to : started, to: NaN });
        openedBy = steps.length - 1;
      }
      steps[openedBy]!.types.push(type);
      stepOf.set(id, openedBy);
    }
    const done = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    if (done) {
      const scheduled = Number(done.scheduledEventId);
      const step = steps[stepOf.get(scheduled) ?? -1];
      if (step) step.to = Math.max(Number.isNaN(step.to) ? -Infinity : step.to, ms(event));
      if (typeOf.get(scheduled) === until) break;
    }
  }
  return steps.map((s) => ({ name: [...new Set(s.types)].sort().join('+'), ms: s.to - s.from }));
}

/** The steps of several runs, summarised per step name (in the order of the first run). */
export async function breakdown(
  client: Client,
  runs: ReadonlyArray<{ workflowId: string; runId?: string }>,
  until: string,
  of: typeof stepsOf = stepsOf,
): Promise<Record<string, Figure>> {
  const samples = new Map<string, number[]>();
  for (const { workflowId, runId } of runs) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    for (const step of of(history.events ?? [], until)) {
      if (!samples.has(step.name)) samples.set(step.name, []);
      samples.get(step.name)!.push(step.ms);
    }
  }
  return Object.fromEntries([...samples].map(([name, values]) => [name, figure(values)]));
}
