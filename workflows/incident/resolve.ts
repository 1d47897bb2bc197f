/**
 * Phase 0 — resolve: the start names a runbook by ID and nothing else; the worker resolves it from
 * the config it loaded (an activity, so the snapshot is in the history and replay never reads a
 * file). A start carrying inline config, an ID the worker does not know, or a workflow ID that is
 * not the one of that runbook's target is refused: nothing is read from GitHub or the cluster and
 * nothing is written anywhere.
 */
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { boundAlert, clip } from '../../domain/bounds';
import { INCIDENT_INPUT_KEYS, incidentWorkflowId, type IncidentInput, type IncidentTrigger } from '../../domain/incident';
import { runbookKey, targetKey } from '../../domain/search-attributes';
import { trust } from './activities';
import type { Incident } from './context';

const SOURCES: ReadonlyArray<IncidentTrigger['source']> = ['alertmanager', 'cli', 'demo'];

/** Why the start is refused, or null once the runbook is resolved. */
export async function resolveRunbook(incident: Incident, input: IncidentInput): Promise<string | null> {
  incident.state.trigger = boundTrigger(input?.trigger);
  const keys = typeof input === 'object' && input !== null ? Object.keys(input) : [];
  const foreign = keys.filter((key) => !INCIDENT_INPUT_KEYS.includes(key));
  if (foreign.length > 0) {
    return `the start carries ${foreign.map((k) => JSON.stringify(clip(k, 40))).join(', ')}: an incident names its runbook by ID only, and the worker resolves it from its own config`;
  }
  const runbookId = input?.runbookId;
  if (typeof runbookId !== 'string' || runbookId === '') return 'the start names no runbook ("runbookId")';

  const resolved = await trust.resolveRunbook({ runbookId });
  if (!resolved) return `runbook ${JSON.stringify(clip(runbookId, 100))} is not one this worker loaded`;
  const { runbook } = resolved;
  const expected = incidentWorkflowId(runbook.target, { dryRun: input.dryRun === true });
  if (workflowInfo().workflowId !== expected) {
    return `workflow ID ${workflowInfo().workflowId} is not the incident ID of ${runbook.target.namespace}/${runbook.target.deployment} (${expected}): one incident per target`;
  }
  incident.resolve(runbook, resolved.temporalUiUrl);
  upsertSearchAttributes([
    { key: runbookKey, value: runbook.id },
    { key: targetKey, value: `${runbook.target.namespace}/${runbook.target.deployment}` },
  ]);
  return null;
}

function boundTrigger(trigger: unknown): IncidentTrigger {
  const t = (typeof trigger === 'object' && trigger !== null ? trigger : {}) as Record<string, unknown>;
  const source = SOURCES.find((s) => s === t.source) ?? 'cli';
  return {
    source,
    ...(typeof t.by === 'string' ? { by: clip(t.by, 200) } : {}),
    ...(t.alert !== undefined ? { alert: boundAlert(t.alert) } : {}),
    ...(typeof t.reopened === 'string' ? { reopened: clip(t.reopened, 500) } : {}),
  };
}
