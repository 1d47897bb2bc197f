/**
 * Long-running activities heartbeat and sleep through their Temporal context; called directly (in a
 * unit test or the one-shot CLI) they run without one.
 */
import { Context } from '@temporalio/activity';

export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export function heartbeat(details?: unknown): void {
  activityContext()?.heartbeat(details);
}

/** Sleeps, cancellably when inside an activity. */
export async function pause(ms: number): Promise<void> {
  const ctx = activityContext();
  if (ctx) await ctx.sleep(ms);
  else await new Promise((resolve) => setTimeout(resolve, ms));
}
