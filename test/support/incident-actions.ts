/**
 * What an incident did to the outside world, counted from the simulators' own records — never from
 * the incident's state, which could be wrong in the same way as the code under test: the branches
 * and restart commits in the simulated GitHub's Git repository, its PRs and merge commits, the Slack
 * messages carrying the incident's metadata, the Argo CD syncs requested, the rollouts the simulated
 * cluster went through. A test of a fault or a crash asserts that nothing appears twice.
 */
import type { IncidentState } from '../../domain/incident';
import type { IncidentHarness } from './incident';

export interface IncidentActions {
  branches: number;
  pulls: number;
  restartCommits: number;
  merges: number;
  slackMessages: number;
  /** Thread replies of the incident posted more than once for one step (a retry after a lost answer). */
  slackRepliesTwice: number;
  syncs: number;
  rollouts: number;
}

/** One of each: what a remediated incident with Argo CD sync leaves behind. */
export const ONE_OF_EACH: IncidentActions = { branches: 1, pulls: 1, restartCommits: 1, merges: 1, slackMessages: 1, slackRepliesTwice: 0, syncs: 1, rollouts: 1 };

/** The thread replies of a remediated incident with Argo CD sync, in order: each step, then the report. */
export const STEP_REPLIES_OF_A_REMEDIATION = ['decision-restart', 'pull-request', 'merged', 'synced', 'report'];

/** The incident's actions by kind, from the simulators' records. */
export async function actions(h: IncidentHarness, state: Pick<IncidentState, 'workflowId' | 'runId'>): Promise<IncidentActions> {
  const { github } = h.env;
  const branches = await github.branches(`agentruns/${state.workflowId}/`);
  const restartCommits = (await Promise.all(branches.map((b) => github.commits(b)))).flat().filter((c) => c.subject.startsWith('Restart '));
  return {
    branches: branches.length,
    pulls: github.pulls().length,
    restartCommits: new Set(restartCommits.map((c) => c.sha)).size,
    merges: (await github.commits(h.runbook.gitops.baseBranch)).filter((c) => c.subject.startsWith('Merge pull request')).length,
    slackMessages: h.env.slack.incidentMessages(state.workflowId, state.runId).length,
    slackRepliesTwice: repeated(h.env.slack.incidentReplies(state.workflowId, state.runId).map((r) => r.key)),
    syncs: h.env.argo.syncCount('torghut'),
    rollouts: h.env.kube.snapshot().rollouts,
  };
}

function repeated(keys: string[]): number {
  return keys.length - new Set(keys).size;
}

/** Every request the simulators have logged so far: a new one means some worker did something. */
export function requestCount(h: IncidentHarness): number {
  const { kube, github, argo, slack } = h.env;
  return kube.requests.length + github.requests.length + argo.requests.length + slack.requests.length;
}
