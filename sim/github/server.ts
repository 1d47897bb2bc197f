/**
 * The simulated GitHub's server and its programmatic side. HTTP: the PR web page (no token), then
 * authentication (401 "Requires authentication" / "Bad credentials"), injected faults, routing to
 * ./routes.ts (unknown routes and wrong methods: 404), JSON bodies (400 "Problems parsing JSON").
 * Requests are handled one at a time, like a single GitHub shard, and logged (method, path, status;
 * never headers) for assertions. Answers carry GitHub's rate-limit and media-type headers.
 *
 * The programmatic side is what a test or the demo needs: merge or close a PR "as a human", commit
 * behind the automation's back, read files at any ref, list branches, inject API faults (an error
 * answer, or a slow, hung or lost answer: ./faults.ts), and subscribe to merges.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { FaultQueue } from '../fault-queue';
import { closeServer, dropConnection, listen, readBody, sleep, type LoggedRequest } from '../http-util';
import { DOCS, HttpError, notFound, type Json } from './errors';
import { faultError, type Fault } from './faults';
import { GitRepo } from './git-repo';
import { GitHubResponses } from './responses';
import { githubRoutes, type Route } from './routes';
import { torghutGitOpsTree } from './seed-tree';
import { GitHubState, HUMAN, type MergeEvent, type SimComment, type SimPullRequest } from './state';

export interface GitHubSimOptions {
  owner: string;
  repo: string;
  /** The only token accepted, as `Authorization: token X` or `Bearer X`. */
  token: string;
  /** `spec.replicas` in the seeded deployment.yaml (default 1). */
  replicas?: number;
  /** The seeded restartedAt annotation (null: none). */
  restartedAt?: string | null;
  kafkaBootstrap?: string;
  /** Replace the seeded torghut tree entirely. */
  files?: Record<string, string>;
  defaultBranch?: string;
  /** Login of the token's user (the PR author). Default `agentruns-bot`. */
  login?: string;
}

export interface GitHubRequest extends LoggedRequest {
  /** The status answered (or that would have been, for a dropped answer); 0 for a hung request. */
  status: number;
  /** A wire fault that hit the request: never answered, or handled and its answer dropped. */
  fault?: 'hung' | 'dropped';
}

export class GitHubSim {
  readonly requests: GitHubRequest[] = [];
  private readonly faults = new FaultQueue<Fault>();
  private readonly responses: GitHubResponses;
  private readonly routes: Route[];
  private queue: Promise<unknown> = Promise.resolve();
  private rateRemaining = 5000;

  private constructor(
    private readonly token: string,
    private readonly state: GitHubState,
    private readonly server: Server,
    readonly url: string,
  ) {
    this.responses = new GitHubResponses(state, url);
    this.routes = githubRoutes(state, this.responses);
  }

  static async start(options: GitHubSimOptions): Promise<GitHubSim> {
    const defaultBranch = options.defaultBranch ?? 'main';
    const git = await GitRepo.create(defaultBranch);
    const files = options.files ?? torghutGitOpsTree(options);
    const seed = await git.commitFiles(null, files, 'Seed torghut GitOps tree', { name: 'Lab Admin', email: 'admin@example.com' }, '2026-01-01T09:00:00Z');
    await git.updateRef(`refs/heads/${defaultBranch}`, seed.sha, null);

    const holder: { sim?: GitHubSim } = {};
    const server = createServer((req, res) => {
      if (!holder.sim) return void res.writeHead(503).end();
      holder.sim.handle(req, res);
    });
    const url = await listen(server);
    const state = new GitHubState({ owner: options.owner, repo: options.repo, defaultBranch, login: options.login ?? 'agentruns-bot' }, git);
    const sim = new GitHubSim(options.token, state, server, url);
    holder.sim = sim;
    return sim;
  }

  // --- programmatic API -----------------------------------------------------------------------

  /** Errors thrown by onMerge listeners (a merge never fails because a listener did). */
  get listenerErrors(): Error[] {
    return this.state.listenerErrors;
  }

  /** The file's text at a branch, tag or sha; null when the ref or the file does not exist. */
  async fileAt(ref: string, path: string): Promise<string | null> {
    const commit = await this.state.git.resolveCommit(ref);
    const entry = commit ? await this.state.git.entry(commit, path) : null;
    return entry?.type === 'blob' ? (await this.state.git.blob(entry.sha)).toString('utf8') : null;
  }

  /** The commit a branch points at (null when it does not exist). */
  branchSha(branch: string): Promise<string | null> {
    return this.state.git.branchSha(branch);
  }

  /** Commits reachable from a ref, newest first. */
  commits(ref: string): Promise<Array<{ sha: string; parents: string[]; subject: string }>> {
    return this.state.git.log(ref);
  }

  /** A snapshot of every PR, oldest first. */
  pulls(): SimPullRequest[] {
    return this.state.pullRequests.map((pr) => ({ ...pr }));
  }

  /** Comments posted on the PRs' conversations (all, or one PR's), oldest first. */
  comments(prNumber?: number): SimComment[] {
    return this.state.issueComments.filter((c) => prNumber === undefined || c.issue === prNumber).map((c) => ({ ...c }));
  }

  /** The PR's unified diff against the point where it left its base (as the GitHub PR page shows it). */
  async diff(prNumber: number): Promise<string> {
    const pr = this.state.pullRequests.find((p) => p.number === prNumber);
    if (!pr) throw new Error(`no pull request #${prNumber}`);
    return this.state.diff(pr);
  }

  /** Merges the PR as a human would with the green button. */
  mergePullRequest(prNumber: number, method: 'merge' | 'squash' = 'merge'): Promise<{ sha: string }> {
    return this.exclusive(() => this.state.merge(prNumber, { merge_method: method }, HUMAN));
  }

  /** Closes the PR without merging, as a human would. */
  closePullRequest(prNumber: number): Promise<void> {
    return this.exclusive(async () => {
      const pr = this.state.pullRequests.find((p) => p.number === prNumber);
      if (!pr) throw new Error(`no pull request #${prNumber}`);
      if (pr.state === 'open') await this.state.close(pr);
    });
  }

  /**
   * Someone commits straight to a branch (e.g. a colleague edits the manifest on main, or rotates the
   * sealed credentials); as `by` (default a human colleague), at `date` (default now).
   */
  commitFile(input: { branch: string; path: string; content: string; message: string; by?: { name: string; email: string }; date?: string }): Promise<string> {
    return this.exclusive(async () => {
      const { git } = this.state;
      const parent = await git.branchSha(input.branch);
      if (!parent) throw new Error(`no branch ${input.branch}`);
      const commit = await git.commitFiles(parent, { [input.path]: input.content }, input.message, input.by ?? HUMAN, input.date);
      if (!(await git.updateRef(`refs/heads/${input.branch}`, commit.sha, parent))) throw new Error('branch moved');
      return commit.sha;
    });
  }

  /** The next matching API requests fail with this status (rate limits, outages, …) or misbehave on the wire. */
  failNext(fault: Fault): void {
    this.faults.add(fault);
  }

  /** Branch names, optionally only those under a prefix (e.g. `agentruns/`). */
  async branches(prefix = ''): Promise<string[]> {
    const { stdout } = await this.state.git.git(['for-each-ref', '--format=%(refname:short)', `refs/heads/${prefix}`]);
    return stdout.toString('utf8').split('\n').filter(Boolean);
  }

  /** Called after every merge to the repository (the simulated Argo CD subscribes). */
  onMerge(listener: (event: MergeEvent) => void | Promise<void>): () => void {
    return this.state.onMerge(listener);
  }

  /** Resolves when every merge listener started so far has finished. */
  settled(): Promise<void> {
    return this.state.settled();
  }

  /** Requests that change something (everything but GET/HEAD). */
  writes(): GitHubRequest[] {
    return this.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
  }

  async close(): Promise<void> {
    await closeServer(this.server);
    await this.queue;
    await this.settled();
    await this.state.git.destroy();
  }

  // --- HTTP -----------------------------------------------------------------------------------

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://github.sim');
    const method = req.method ?? 'GET';
    const log = (status: number, fault?: GitHubRequest['fault']) =>
      this.requests.push({ method, path: safeDecode(url.pathname), query: safeDecode(url.search), at: Date.now(), status, ...(fault ? { fault } : {}) });
    let wire: Fault | undefined;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}, contentType = 'application/json; charset=utf-8') => {
      if (wire?.dropAfterWrite) {
        // The request was handled (a write happened); its answer is lost on the way back.
        dropConnection(res);
        return log(status, 'dropped');
      }
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      if (status === 204) {
        res.writeHead(204, headers).end();
      } else {
        res.writeHead(status, {
          'content-type': contentType,
          'content-length': String(Buffer.byteLength(text)),
          'x-github-media-type': 'github.v3; format=json',
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': String(this.rateRemaining),
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
          'x-ratelimit-resource': 'core',
          'x-github-request-id': `SIM:${this.requests.length + 1}`,
          ...headers,
        });
        res.end(text);
      }
      log(status);
    };

    void (async () => {
      // The PR's web page (its html_url): a plain-text view for the demo, no token needed.
      const page = /^\/([^/]+)\/([^/]+)\/pull\/(\d+)$/.exec(url.pathname);
      if (!(page && method === 'GET') && this.authenticated(req.headers.authorization)) {
        // Faults act after authentication; wire faults before the one-at-a-time queue, so a slow
        // or hung call holds up nobody else.
        wire = this.faults.take(method, url.pathname);
        if (wire?.hang) return log(0, 'hung');
        if (wire?.delayMs) await sleep(wire.delayMs);
      }
      await this.exclusive(async () => {
        try {
          if (page && method === 'GET') {
            const { owner, repo } = this.state.options;
            if (decodeURIComponent(page[1]!) !== owner || decodeURIComponent(page[2]!) !== repo) throw notFound();
            return send(200, await this.responses.pullPage(this.state.pull(Number(page[3]))), {}, 'text/plain; charset=utf-8');
          }
          this.authenticate(req.headers.authorization);
          this.rateRemaining = Math.max(0, this.rateRemaining - 1);
          const answer = wire ? faultError(wire) : null;
          if (answer) throw answer;
          const { handler, params } = this.route(method, url.pathname);
          let parsed: Json | undefined;
          const body = async (): Promise<Json> => {
            if (parsed) return parsed;
            const raw = (await readBody(req)).toString('utf8');
            let value: unknown;
            try {
              value = raw.trim() === '' ? {} : JSON.parse(raw);
            } catch {
              throw new HttpError(400, { message: 'Problems parsing JSON', documentation_url: DOCS.rest });
            }
            if (typeof value !== 'object' || value === null || Array.isArray(value)) {
              throw new HttpError(400, { message: 'Body should be a JSON object', documentation_url: DOCS.rest });
            }
            parsed = value as Json;
            return parsed;
          };
          const result = await handler({ params, query: url.searchParams, body, accept: String(req.headers.accept ?? '') });
          send(result.status, result.body, {}, result.contentType);
        } catch (err) {
          if (err instanceof HttpError) return send(err.status, err.body, err.headers);
          send(500, { message: `simulator error: ${(err as Error).message}` });
        }
      });
    })();
  }

  private authenticated(header: string | undefined): boolean {
    try {
      this.authenticate(header);
      return true;
    } catch {
      return false;
    }
  }

  private authenticate(header: string | undefined): void {
    if (!header) throw new HttpError(401, { message: 'Requires authentication', documentation_url: DOCS.rest });
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim());
    if (!match || match[1] !== this.token) throw new HttpError(401, { message: 'Bad credentials', documentation_url: DOCS.rest });
  }

  private route(method: string, path: string): { handler: Route['handler']; params: string[] } {
    const repoMatch = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (!repoMatch) throw notFound();
    const { owner, repo } = this.state.options;
    const [o, r] = [decodeURIComponent(repoMatch[1]!), decodeURIComponent(repoMatch[2]!)];
    if (o.toLowerCase() !== owner.toLowerCase() || r.toLowerCase() !== repo.toLowerCase()) throw notFound();
    const rest = repoMatch[3] ?? '';
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(rest);
      if (m) return { handler: route.handler, params: m.slice(1).map((p) => decodeURIComponent(p ?? '')) };
    }
    throw notFound();
  }

  /** Runs one mutation (or one whole API request) at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Starts a simulator seeded with the torghut GitOps tree. */
export function startGitHubSim(options: GitHubSimOptions): Promise<GitHubSim> {
  return GitHubSim.start(options);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
