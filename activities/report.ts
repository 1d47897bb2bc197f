/**
 * The incident report at close (domain/report.ts), built from the incident's own workflow history —
 * read through the worker's Temporal client, as `authenticateDecision` reads it — and the closing
 * state the workflow passes, then posted where on-call looks: a comment on the restart PR (once,
 * found again by its marker on a retry) and a reply in the incident's Slack thread (`chat.postMessage`
 * with `thread_ts`, once: an earlier attempt's reply is found by its metadata in
 * `conversations.replies`). Either channel missing (no PR, no Slack) is skipped, not an error.
 */
import { Context } from '@temporalio/activity';
import type { WebClient } from '@slack/web-api';
import type { IncidentState } from '../domain/incident';
import { incidentReport, reportMarkdown, reportSlack } from '../domain/report';
import { namedFailure } from './errors';
import { replyInThread } from './slack';

/** The metadata event that marks a report reply in a Slack thread. */
const REPORT_EVENT = 'agentruns_incident_report';

export interface ReportDeps {
  /** Comments on a PR once per marker (activities/github.ts); absent without GitHub access. */
  commentOnPullRequest?: (input: { owner?: string; repo?: string; number: number; marker: string; body: string }) => Promise<{ id: number; url: string }>;
  slack?: WebClient;
}

export interface PostIncidentReportInput {
  /** The closing state (the workflow's own, without the raw diagnosis: the history has it). */
  state: IncidentState;
  /** The runbook's GitOps repository, where the PR is. */
  owner: string;
  repo: string;
}

export interface PostedReport {
  comment: { id: number; url: string } | null;
  slackReply: { channel: string; ts: string } | null;
}

export function createReportActivities(deps: ReportDeps) {
  return {
    async postIncidentReport(input: PostIncidentReportInput): Promise<PostedReport> {
      const ctx = Context.current();
      const execution = ctx.info.workflowExecution;
      if (!execution) throw namedFailure('InputError', 'postIncidentReport runs only for a workflow');
      const { workflowId, runId } = execution;
      const history = await ctx.client.workflow.getHandle(workflowId, runId).fetchHistory();
      // Bound to this very run, whatever the state says.
      const report = incidentReport(history, { ...input.state, workflowId, runId });

      const pr = input.state.pullRequest;
      const comment =
        pr && !pr.dryRun && pr.number > 0 && deps.commentOnPullRequest
          ? await deps.commentOnPullRequest({
              owner: input.owner,
              repo: input.repo,
              number: pr.number,
              marker: `<!-- agentruns-incident-report ${workflowId} ${runId} -->`,
              body: reportMarkdown(report),
            })
          : null;

      const thread = input.state.slack;
      const slackReply =
        thread && deps.slack ? await replyInThread(deps.slack, thread, { workflowId, runId, key: 'report', text: reportSlack(report), eventType: REPORT_EVENT }) : null;
      return { comment, slackReply };
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
