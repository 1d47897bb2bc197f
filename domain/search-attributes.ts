/**
 * Search attributes that let incidents be listed by runbook, target, class and outcome
 * (`temporal workflow list --query 'AgentRunsOutcome="remediated"'`). The dev server registers them
 * at start (devstack/temporal-dev-server.ts); a production namespace needs them created once with
 * `temporal operator search-attribute create`.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const runbookKey = defineSearchAttributeKey('AgentRunsRunbook', SearchAttributeType.KEYWORD);
export const targetKey = defineSearchAttributeKey('AgentRunsTarget', SearchAttributeType.KEYWORD);
export const classKey = defineSearchAttributeKey('AgentRunsClass', SearchAttributeType.KEYWORD);
export const outcomeKey = defineSearchAttributeKey('AgentRunsOutcome', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [runbookKey, targetKey, classKey, outcomeKey] as const;
