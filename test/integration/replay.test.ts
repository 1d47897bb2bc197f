/**
 * Determinism: the committed histories replay against today's workflow code — one per outcome of
 * the current workflow (recorded with `npm run record-history`), and the version-1 history of an
 * incident started before the trust boundary (`remediated-406.json`), which must still finish as it
 * began. A change to the command sequence of in-flight incidents must go behind `patched()`, or
 * this test fails.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { incidentWorkflowId, OUTCOMES } from '../../domain/incident';

/** As devstack/record-history.ts names them: the file `<outcome>[+<variant>].json`, the namespace `rec-<outcome>[-<variant>]`. */
const recordedWorkflowId = (name: string) => incidentWorkflowId({ namespace: `rec-${name.replace('+', '-')}`, deployment: 'torghut-ws' });
const outcomeOfFile = (file: string) => file.replace(/\.json$/, '').split('+')[0]!;

const DIR = 'test/fixtures/histories';
const V1 = 'remediated-406.json';

interface HistoryEvent {
  eventType: string;
  markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, unknown> };
  workflowExecutionCompletedEventAttributes?: { result?: { payloads?: Array<{ data?: string }> } };
}

async function load(file: string): Promise<{ history: unknown; events: HistoryEvent[] }> {
  const history: unknown = JSON.parse(await readFile(`${DIR}/${file}`, 'utf8'));
  return { history, events: (history as { events: HistoryEvent[] }).events };
}

function outcomeOf(events: HistoryEvent[]): string | undefined {
  const data = events.at(-1)?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { outcome?: string }).outcome : undefined;
}

const replay = (history: unknown, id: string) => Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundleCode') } }, history, id);

describe('replay of recorded incidents', () => {
  const recorded = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== V1);

  it('there is one recorded history for every outcome of the workflow', () => {
    expect([...new Set(recorded.map(outcomeOfFile))].sort()).toEqual([...OUTCOMES].sort());
  });

  it.each(recorded)('%s ends with its outcome and replays deterministically', async (file) => {
    const { history, events } = await load(file);
    expect(events.at(-1)?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    expect(outcomeOf(events)).toBe(outcomeOfFile(file));
    // The workflow checks its own ID against its runbook's target: replay under the recorded one.
    await expect(replay(history, recordedWorkflowId(file.replace(/\.json$/, '')))).resolves.toBeUndefined();
  });

  it('the workflow bundle every worker isolate loads stays lean: no schema library, under 3 MiB with its source map', () => {
    const code = inject('workflowBundleCode');
    expect(code.includes('node_modules/zod/')).toBe(false);
    expect(code.length).toBeLessThan(3 * 1024 * 1024);
  });

  it('a version-1 incident (remediated 406, recorded before the trust boundary) replays on the frozen v1 code', async () => {
    const { history, events } = await load(V1);
    expect(events.filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED').length).toBeGreaterThan(10);
    expect(events.some((e) => e.eventType === 'EVENT_TYPE_MARKER_RECORDED')).toBe(false);
    expect(outcomeOf(events)).toBe('remediated');
    await expect(replay(history, 'agentruns-recorded-406')).resolves.toBeUndefined();
  });
});
