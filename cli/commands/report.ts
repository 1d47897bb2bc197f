/**
 * `agentruns report ID`: one incident told from its workflow history (domain/report.ts) — the
 * timeline with durations, as plain text, Markdown (`--markdown`, as posted on the PR) or JSON. The
 * latest run of the ID unless `--run` names one; an open incident is reported as far as it got.
 */
import { parseArgs } from 'node:util';
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { IncidentState } from '../../domain/incident';
import { incidentReport, reportMarkdown, reportText } from '../../domain/report';
import { statusQuery } from '../../workflows/messages';
import { CliError, EXIT } from '../errors';
import { printJson } from '../io';
import { connect, connectionOptions } from './incidents';

export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...connectionOptions, markdown: { type: 'boolean', default: false }, run: { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new CliError('name one incident: agentruns report ID');
  if (values.json && values.markdown) throw new CliError('--json and --markdown: choose one');
  const { client, close } = await connect(values);
  try {
    const handle = client.workflow.getHandle(id, values.run);
    let history;
    let running: IncidentState | null = null;
    try {
      history = await handle.fetchHistory();
      const completed = history.events?.at(-1)?.workflowExecutionCompletedEventAttributes;
      // An open incident has no result yet: its state so far comes from the `status` query.
      if (!completed && (await handle.describe()).status.name === 'RUNNING') running = await handle.query(statusQuery);
    } catch (err) {
      if (isNotFound(err)) throw new CliError(`no incident ${id}${values.run ? ` run ${values.run}` : ''}`, EXIT.failure);
      throw new CliError(`incident ${id}: ${(err as Error).message}`, EXIT.failure);
    }
    const report = incidentReport(history, running);
    if (values.json) printJson(report);
    else process.stdout.write(values.markdown ? reportMarkdown(report) : reportText(report));
    return EXIT.ok;
  } finally {
    await close();
  }
}

/** No such workflow (or run): the SDK's named error, or the history call's gRPC NOT_FOUND (code 5). */
function isNotFound(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  const cause = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(cause) && Number(cause.code) === 5;
}
