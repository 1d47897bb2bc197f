/**
 * GitHub's error answers and request-body checks, in GitHub's wording: `{ message,
 * documentation_url }` (404 Not Found, 409 conflicts, 405 not mergeable), 422 "Validation Failed"
 * with an `errors` list, and 422 "Invalid request" for a body field of the wrong type or missing.
 */
import type { Identity } from './git-repo';

export type Json = Record<string, unknown>;

/** An error answer: thrown by a route, sent by the server as it is. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body.message === 'string' ? body.message : `HTTP ${status}`);
  }
}

export const DOCS = {
  rest: 'https://docs.github.com/rest',
  contents: 'https://docs.github.com/rest/repos/contents#create-or-update-file-contents',
  getContent: 'https://docs.github.com/rest/repos/contents#get-repository-content',
  refs: 'https://docs.github.com/rest/git/refs#create-a-reference',
  pulls: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
  listPulls: 'https://docs.github.com/rest/pulls/pulls#list-pull-requests',
  listCommits: 'https://docs.github.com/rest/commits/commits#list-commits',
  merge: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request',
  update: 'https://docs.github.com/rest/pulls/pulls#update-a-pull-request',
  comments: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
};

export const notFound = () => new HttpError(404, { message: 'Not Found', documentation_url: DOCS.rest });
export const validation = (errors: Array<Record<string, unknown>>, doc: string) =>
  new HttpError(422, { message: 'Validation Failed', errors, documentation_url: doc });
export const invalid = (message: string, doc: string) => new HttpError(422, { message: `Invalid request.\n\n${message}`, documentation_url: doc });

export function requireString(body: Json, key: string, doc: string): string {
  const value = body[key];
  if (value === undefined) throw invalid(`"${key}" wasn't supplied.`, doc);
  if (typeof value !== 'string') throw invalid(`For 'properties/${key}', ${JSON.stringify(value)} is not a string.`, doc);
  return value;
}

export function optionalString(body: Json, key: string, doc: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`For 'properties/${key}', ${JSON.stringify(value)} is not a string.`, doc);
  return value;
}

export function identityFrom(value: unknown): Identity | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, email } = value as { name?: unknown; email?: unknown };
  return typeof name === 'string' && typeof email === 'string' ? { name, email } : undefined;
}
