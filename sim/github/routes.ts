/**
 * The simulated GitHub's REST routes under /repos/{owner}/{repo}: the calls `@octokit/rest` makes
 * for the restart PR (refs, commits, contents, pulls, merge, PR files, issue comments on PRs), and the
 * commit history of a file (`GET /commits?path=&since=`, the prerequisite evidence of procedure B).
 *
 * Each rejects what GitHub rejects: a contents PUT on an existing file without `sha` (422) or with a
 * stale one (409), a second open PR for the same head (422), a PR without commits (422), merging a
 * PR that is not open (405) or whose head moved (409), a PR update with a bad `state` (422), a
 * comment without `body` (422) or on an unknown issue (404), an existing or invalid ref (422), the
 * deletion of a ref that does not exist (422).
 */
import { DOCS, HttpError, identityFrom, invalid, notFound, optionalString, requireString, validation, type Json } from './errors';
import type { GitHubResponses } from './responses';
import { nowStamp, type GitHubState, type SimComment, type SimPullRequest } from './state';

export interface RouteContext {
  params: string[];
  query: URLSearchParams;
  body: () => Promise<Json>;
  accept: string;
}

export interface RouteAnswer {
  status: number;
  body: unknown;
  contentType?: string;
}

export interface Route {
  method: string;
  /** Matched against the path after /repos/{owner}/{repo}. */
  pattern: RegExp;
  handler: (ctx: RouteContext) => Promise<RouteAnswer>;
}

const page = (query: URLSearchParams) => {
  const perPage = Math.min(Number(query.get('per_page') ?? 30) || 30, 100);
  const number = Math.max(Number(query.get('page') ?? 1) || 1, 1);
  return <T>(list: T[]) => list.slice((number - 1) * perPage, number * perPage);
};

export function githubRoutes(state: GitHubState, responses: GitHubResponses): Route[] {
  const { git, options } = state;

  const getRef = async (ref: string): Promise<RouteAnswer> => {
    const full = `refs/${ref}`;
    if (!ref.startsWith('heads/') && !ref.startsWith('tags/')) throw notFound();
    const sha = await git.resolveCommit(full);
    const exact = sha ? (await git.git(['show-ref', '--verify', '--quiet', full], { allowCodes: [1] })).code === 0 : false;
    if (!sha || !exact) throw notFound();
    return { status: 200, body: responses.ref(full, sha) };
  };

  const createRef = async (body: Json): Promise<RouteAnswer> => {
    const ref = requireString(body, 'ref', DOCS.refs);
    const sha = requireString(body, 'sha', DOCS.refs);
    if (!ref.startsWith('refs/') || ref.split('/').length < 3 || !(await git.validRefName(ref))) {
      throw new HttpError(422, { message: 'Reference name is invalid', documentation_url: DOCS.refs });
    }
    const commit = /^[0-9a-f]{40}$/.test(sha) ? await git.resolveCommit(sha) : null;
    if (!commit) throw new HttpError(422, { message: 'Object does not exist', documentation_url: DOCS.refs });
    if (!(await git.updateRef(ref, commit, null))) {
      throw new HttpError(422, { message: 'Reference already exists', documentation_url: DOCS.refs });
    }
    return { status: 201, body: responses.ref(ref, commit) };
  };

  /** DELETE a branch or tag: 204, or 422 "Reference does not exist". */
  const deleteRef = async (ref: string): Promise<RouteAnswer> => {
    const full = `refs/${ref}`;
    const sha = ref.startsWith('heads/') || ref.startsWith('tags/') ? await git.resolveCommit(full) : null;
    if (!sha || !(await git.deleteRef(full, sha))) throw new HttpError(422, { message: 'Reference does not exist', documentation_url: DOCS.refs });
    return { status: 204, body: null };
  };

  const getCommit = async (sha: string): Promise<RouteAnswer> => {
    const info = /^[0-9a-f]{40}$/.test(sha) ? await git.commitInfo(sha) : null;
    if (!info) throw notFound();
    return { status: 200, body: responses.commit(info) };
  };

  const getContents = async (path: string, ref: string | null): Promise<RouteAnswer> => {
    const refName = ref ?? options.defaultBranch;
    const commit = await git.resolveCommit(refName);
    if (!commit) throw new HttpError(404, { message: `No commit found for the ref ${refName}`, documentation_url: DOCS.getContent });
    const clean = path.replace(/\/+$/, '');
    if (clean === '') return { status: 200, body: await responses.tree(commit, '', refName) };
    const entry = await git.entry(commit, clean);
    if (!entry) throw notFound();
    if (entry.type === 'tree') return { status: 200, body: await responses.tree(commit, clean, refName) };
    const content = await git.blob(entry.sha);
    return {
      status: 200,
      body: {
        ...responses.contentMeta(clean, entry.sha, content.length, refName),
        encoding: 'base64',
        content: (content.toString('base64').match(/.{1,60}/g) ?? []).join('\n') + '\n',
      },
    };
  };

  const putContents = async (path: string, body: Json): Promise<RouteAnswer> => {
    const message = requireString(body, 'message', DOCS.contents);
    const content = requireString(body, 'content', DOCS.contents);
    const sha = optionalString(body, 'sha', DOCS.contents);
    const branch = optionalString(body, 'branch', DOCS.contents) ?? options.defaultBranch;
    if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(content)) throw invalid('content is not valid Base64', DOCS.contents);
    const parent = await git.branchSha(branch);
    if (!parent) throw new HttpError(404, { message: `Branch ${branch} not found`, documentation_url: DOCS.contents });
    const existing = await git.entry(parent, path);
    if (existing?.type === 'tree') throw invalid(`"${path}" is a directory`, DOCS.contents);
    if (existing) {
      if (sha === undefined) throw invalid('"sha" wasn\'t supplied.', DOCS.contents);
      if (sha !== existing.sha) throw new HttpError(409, { message: `${path} does not match ${sha}`, documentation_url: DOCS.contents });
    }
    const who = identityFrom(body.committer) ?? identityFrom(body.author) ?? { name: options.login, email: `${options.login}@users.noreply.github.com` };
    const commit = await git.commitFiles(parent, { [path]: Buffer.from(content, 'base64') }, message, who);
    if (!(await git.updateRef(`refs/heads/${branch}`, commit.sha, parent))) {
      throw new HttpError(409, { message: `${path} does not match ${sha ?? 'the branch head'}`, documentation_url: DOCS.contents });
    }
    const blob = await git.entry(commit.sha, path);
    const size = blob ? (await git.blob(blob.sha)).length : 0;
    return {
      status: existing ? 200 : 201,
      body: { content: responses.contentMeta(path, blob?.sha ?? '', size, branch), commit: responses.commit(commit) },
    };
  };

  /** GitHub's list-commits: `sha` (branch or commit; default branch), `path`, `since` (ISO 8601), paged. */
  const listCommits = async (query: URLSearchParams): Promise<RouteAnswer> => {
    const ref = query.get('sha') ?? options.defaultBranch;
    const since = query.get('since');
    if (since !== null && Number.isNaN(Date.parse(since))) {
      throw validation([{ resource: 'Commit', field: 'since', code: 'invalid' }], DOCS.listCommits);
    }
    const commit = await git.resolveCommit(ref);
    if (!commit) throw new HttpError(404, { message: 'No commit found for SHA: ' + ref, documentation_url: DOCS.listCommits });
    const shas = await git.pathHistory(commit, query.get('path'), since === null ? null : new Date(since).toISOString());
    const infos = await Promise.all(page(query)(shas).map((sha) => git.commitInfo(sha)));
    return { status: 200, body: infos.filter((i) => i !== null).map((i) => responses.listedCommit(i)) };
  };

  const listPulls = async (query: URLSearchParams): Promise<RouteAnswer> => {
    const wanted = query.get('state') ?? 'open';
    if (!['open', 'closed', 'all'].includes(wanted)) throw validation([{ resource: 'Issue', field: 'state', code: 'invalid' }], DOCS.listPulls);
    const head = query.get('head');
    const base = query.get('base');
    let list = state.pullRequests.filter((pr) => wanted === 'all' || pr.state === wanted);
    if (head) {
      // GitHub filters by `user:ref-name`; a bare branch name matches nothing.
      const [user, ...branch] = head.split(':');
      list = branch.length === 0 ? [] : list.filter((pr) => user?.toLowerCase() === options.owner.toLowerCase() && pr.head === branch.join(':'));
    }
    if (base) list = list.filter((pr) => pr.base === base);
    const direction = query.get('direction') ?? 'desc';
    list = [...list].sort((a, b) => (direction === 'asc' ? a.number - b.number : b.number - a.number));
    return { status: 200, body: await Promise.all(page(query)(list).map((pr) => responses.pull(pr, false))) };
  };

  const createPull = async (body: Json): Promise<RouteAnswer> => {
    const title = optionalString(body, 'title', DOCS.pulls);
    const headInput = requireString(body, 'head', DOCS.pulls);
    const base = requireString(body, 'base', DOCS.pulls);
    const prBody = optionalString(body, 'body', DOCS.pulls) ?? null;
    if (!title) throw validation([{ resource: 'Issue', field: 'title', code: 'missing_field' }], DOCS.pulls);
    const [headOwner, headBranch] = headInput.includes(':') ? (headInput.split(/:(.*)/s) as [string, string]) : [options.owner, headInput];
    if (headOwner.toLowerCase() !== options.owner.toLowerCase()) throw validation([{ resource: 'PullRequest', field: 'head', code: 'invalid' }], DOCS.pulls);
    const baseSha = await git.branchSha(base);
    if (!baseSha) throw validation([{ resource: 'PullRequest', field: 'base', code: 'invalid' }], DOCS.pulls);
    const headSha = await git.branchSha(headBranch);
    if (!headSha) throw validation([{ resource: 'PullRequest', field: 'head', code: 'invalid' }], DOCS.pulls);
    if (state.pullRequests.some((pr) => pr.state === 'open' && pr.head === headBranch && pr.base === base)) {
      throw validation([{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${options.owner}:${headBranch}.` }], DOCS.pulls);
    }
    if ((await git.countCommits(`${baseSha}..${headSha}`)) === 0) {
      throw validation([{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${headBranch}` }], DOCS.pulls);
    }
    const now = nowStamp();
    const pr: SimPullRequest = {
      number: state.pullRequests.length + 1,
      title,
      body: prBody,
      head: headBranch,
      base,
      state: 'open',
      merged: false,
      user: options.login,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      mergedAt: null,
      mergedBy: null,
      mergeSha: null,
      frozenHeadSha: null,
      frozenBaseSha: null,
    };
    state.pullRequests.push(pr);
    return { status: 201, body: await responses.pull(pr, true) };
  };

  const getPull = async (n: number, accept: string): Promise<RouteAnswer> => {
    const pr = state.pull(n);
    if (/\.diff\b|vnd\.github\.diff/.test(accept)) return { status: 200, body: await state.diff(pr), contentType: 'text/plain; charset=utf-8' };
    return { status: 200, body: await responses.pull(pr, true) };
  };

  const updatePull = async (n: number, body: Json): Promise<RouteAnswer> => {
    const pr = state.pull(n);
    const wanted = optionalString(body, 'state', DOCS.update);
    const title = optionalString(body, 'title', DOCS.update);
    const text = optionalString(body, 'body', DOCS.update);
    if (wanted !== undefined && wanted !== 'open' && wanted !== 'closed') throw validation([{ resource: 'PullRequest', field: 'state', code: 'invalid' }], DOCS.update);
    if (title !== undefined) pr.title = title;
    if (text !== undefined) pr.body = text;
    if (wanted === 'closed' && pr.state === 'open') await state.close(pr);
    if (wanted === 'open' && pr.state === 'closed') {
      if (pr.merged) throw validation([{ resource: 'PullRequest', code: 'custom', message: 'state cannot be changed. The pull request has been merged.' }], DOCS.update);
      pr.state = 'open';
      pr.closedAt = null;
      pr.frozenHeadSha = null;
      pr.frozenBaseSha = null;
    }
    pr.updatedAt = nowStamp();
    return { status: 200, body: await responses.pull(pr, true) };
  };

  const listComments = (n: number, query: URLSearchParams): Promise<RouteAnswer> => {
    state.pull(n);
    const list = page(query)(state.issueComments.filter((c) => c.issue === n));
    return Promise.resolve({ status: 200, body: list.map((c) => responses.comment(c)) });
  };

  const createComment = (n: number, body: Json): Promise<RouteAnswer> => {
    state.pull(n);
    const text = requireString(body, 'body', DOCS.comments);
    if (text.trim() === '') throw validation([{ resource: 'IssueComment', field: 'body', code: 'missing_field' }], DOCS.comments);
    if (text.length > 65_536) throw validation([{ resource: 'IssueComment', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' }], DOCS.comments);
    const comment: SimComment = { id: 5000 + state.issueComments.length + 1, issue: n, body: text, user: options.login, createdAt: nowStamp() };
    state.issueComments.push(comment);
    return Promise.resolve({ status: 201, body: responses.comment(comment) });
  };

  const checkMerged = (n: number): Promise<RouteAnswer> => {
    if (!state.pull(n).merged) throw notFound();
    return Promise.resolve({ status: 204, body: '' });
  };

  const merge = async (n: number, body: Json): Promise<RouteAnswer> => {
    const sha = optionalString(body, 'sha', DOCS.merge);
    const method = optionalString(body, 'merge_method', DOCS.merge) ?? 'merge';
    const title = optionalString(body, 'commit_title', DOCS.merge);
    const message = optionalString(body, 'commit_message', DOCS.merge);
    if (method !== 'merge' && method !== 'squash' && method !== 'rebase') throw validation([{ resource: 'PullRequest', field: 'merge_method', code: 'invalid' }], DOCS.merge);
    const result = await state.merge(n, { sha, merge_method: method, commit_title: title, commit_message: message }, { name: options.login, email: `${options.login}@users.noreply.github.com` });
    return { status: 200, body: { sha: result.sha, merged: true, message: 'Pull Request successfully merged' } };
  };

  return [
    { method: 'GET', pattern: /^$/, handler: () => Promise.resolve({ status: 200, body: responses.repo(true) }) },
    { method: 'GET', pattern: /^\/git\/ref\/(.+)$/, handler: (c) => getRef(c.params[0]!) },
    { method: 'POST', pattern: /^\/git\/refs$/, handler: async (c) => createRef(await c.body()) },
    { method: 'DELETE', pattern: /^\/git\/refs\/(.+)$/, handler: (c) => deleteRef(c.params[0]!) },
    { method: 'GET', pattern: /^\/git\/commits\/([^/]+)$/, handler: (c) => getCommit(c.params[0]!) },
    { method: 'GET', pattern: /^\/commits$/, handler: (c) => listCommits(c.query) },
    { method: 'GET', pattern: /^\/contents(?:\/(.*))?$/, handler: (c) => getContents(c.params[0] ?? '', c.query.get('ref')) },
    { method: 'PUT', pattern: /^\/contents\/(.+)$/, handler: async (c) => putContents(c.params[0]!, await c.body()) },
    { method: 'GET', pattern: /^\/pulls$/, handler: (c) => listPulls(c.query) },
    { method: 'POST', pattern: /^\/pulls$/, handler: async (c) => createPull(await c.body()) },
    { method: 'GET', pattern: /^\/pulls\/(\d+)$/, handler: (c) => getPull(Number(c.params[0]), c.accept) },
    { method: 'PATCH', pattern: /^\/pulls\/(\d+)$/, handler: async (c) => updatePull(Number(c.params[0]), await c.body()) },
    { method: 'GET', pattern: /^\/issues\/(\d+)\/comments$/, handler: (c) => listComments(Number(c.params[0]), c.query) },
    { method: 'POST', pattern: /^\/issues\/(\d+)\/comments$/, handler: async (c) => createComment(Number(c.params[0]), await c.body()) },
    { method: 'GET', pattern: /^\/pulls\/(\d+)\/files$/, handler: async (c) => ({ status: 200, body: await responses.pullFiles(state.pull(Number(c.params[0]))) }) },
    { method: 'GET', pattern: /^\/pulls\/(\d+)\/merge$/, handler: (c) => checkMerged(Number(c.params[0])) },
    { method: 'PUT', pattern: /^\/pulls\/(\d+)\/merge$/, handler: async (c) => merge(Number(c.params[0]), await c.body()) },
  ];
}
