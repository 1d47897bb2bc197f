/**
 * Determinism: the committed history of a full remediated incident (recorded with
 * `npm run record-history`) replays against today's workflow code. A change to the command sequence
 * of in-flight incidents must go behind `patched()`, or this test fails.
 */
import { readFile } from 'node:fs/promises';
import { Worker } from '@temporalio/worker';
import { inject, describe, expect, it } from 'vitest';

const HISTORY = 'test/fixtures/histories/remediated-406.json';

describe('replay of recorded incidents', () => {
  it('a remediated 406 incident (approve → PR → merge → Argo sync → verified) replays deterministically', async () => {
    const history: unknown = JSON.parse(await readFile(HISTORY, 'utf8'));
    const events = (history as { events: Array<{ eventType: string }> }).events;
    // The recording is the whole loop, not a fragment.
    expect(events.filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED').length).toBeGreaterThan(10);
    expect(events.at(-1)?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');

    await expect(
      Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundleCode') } }, history, 'agentruns-recorded-406'),
    ).resolves.toBeUndefined();
  });
});
