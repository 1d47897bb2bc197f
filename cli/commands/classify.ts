/**
 * `agentruns classify --readyz FILE --logs FILE [--readyz-status CODE] [--replicas N] [--runbook FILE] [--json]`:
 * offline, by the failure knowledge of the runbook (default: the shipped torghut-ws runbook).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_RUNBOOK_PATH, loadRunbookConfig } from '../../config/load-runbook';
import { classify } from '../../domain/classify';
import { NO_FAILURE_KNOWLEDGE } from '../../domain/failure-knowledge';
import type { Classification } from '../../domain/classification';
import { CliError } from '../errors';
import { parseIntegerFlag, printJson, readInputFile } from '../io';
import { USAGE } from '../usage';


export async function classifyCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      readyz: { type: 'string' },
      'readyz-status': { type: 'string' },
      logs: { type: 'string' },
      replicas: { type: 'string' },
      runbook: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.readyz && !values.logs) throw new CliError(`give at least one of --readyz FILE and --logs FILE\nusage: agentruns ${USAGE.classify}`);
  const body = values.readyz ? await readInputFile(values.readyz, '--readyz') : undefined;
  const logs = values.logs ? await readInputFile(values.logs, '--logs') : '';
  const status = parseIntegerFlag(values['readyz-status'], '--readyz-status', 100) ?? null;
  if (status !== null && status > 599) throw new CliError('--readyz-status must be an HTTP status (100-599)');
  const replicas = parseIntegerFlag(values.replicas, '--replicas', 0);

  const runbook = await loadRunbookConfig(values.runbook ?? DEFAULT_RUNBOOK_PATH);
  const result = classify(runbook.failures ?? NO_FAILURE_KNOWLEDGE, {
    readiness: body === undefined && status === null ? null : { status, body },
    logLines: logs.split(/\r?\n/).filter((line) => line.length > 0),
    replicas,
    expectedReplicas: runbook.target.expectedReplicas,
    readinessPath: runbook.target.health.readinessPath,
  });
  if (values.json) printJson(result);
  else process.stdout.write(renderClassification(result));
  return 0;
}

export function renderClassification(c: Classification): string {
  const lines = [
    `class:     ${c.class}`,
    `procedure: ${c.procedure ?? '-'}`,
    `basis:     ${c.basis}${c.conflict ? ' (readiness and logs disagree; readiness wins)' : ''}`,
    `action:    ${c.action}`,
    'evidence:',
    ...c.evidence.map((e) => `  [${e.source}] ${e.text}`),
  ];
  if (c.notes.length) lines.push('notes:', ...c.notes.map((n) => `  - ${n}`));
  return `${lines.join('\n')}\n`;
}
