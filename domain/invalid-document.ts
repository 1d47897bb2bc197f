/**
 * A document from outside (a runbook config, a scenario file) that failed validation: where it came
 * from and every problem with its path, so one message names them all.
 */
import type { z } from 'zod';

export interface DocumentIssue {
  path: string;
  message: string;
}

export class InvalidDocumentError extends Error {
  constructor(
    kind: string,
    readonly source: string,
    readonly issues: DocumentIssue[],
  ) {
    super(`invalid ${kind} ${source}:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'InvalidDocumentError';
  }
}

/** zod's issues as document issues (dotted paths). */
export function documentIssues(error: z.ZodError): DocumentIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}
