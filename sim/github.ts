/**
 * Simulated GitHub REST API for the GitOps repository: the calls `@octokit/rest` makes for the restart
 * PR (refs, contents, pulls, merge, PR files and commits, issue comments on PRs), served on 127.0.0.1 and backed by a real
 * bare git repository in a temporary directory, so history is real and every `sha` in the API is the
 * git object id (blob sha for contents, commit sha for refs and merges).
 *
 * It rejects what GitHub rejects: bad or missing token (401), unknown routes and wrong methods (404),
 * malformed JSON (400 "Problems parsing JSON"), a contents PUT on an existing file without `sha` (422)
 * or with a stale one (409), a second open PR for the same head (422), a PR without commits (422),
 * merging a PR that is not open (405) or whose head moved (409), a PR update with a bad `state` (422), a
 * comment without `body` (422) or on an unknown issue (404). Requests are handled one at a time,
 * like a single GitHub shard, and logged (method, path, status; never headers) for assertions.
 *
 * The programmatic side is what a test or the demo needs: merge or close a PR "as a human", commit
 * behind the automation's back, read files at any ref, inject API faults, and subscribe to merges (the
 * simulated Argo CD applies the merged manifest).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServer, listen, readBody, type LoggedRequest } from './http-util';

// ---------------------------------------------------------------------------------------------------
// The seeded torghut GitOps tree

export const TORGHUT_DEPLOYMENT_PATH = 'argocd/applications/torghut/ws/deployment.yaml';
export const TORGHUT_CONFIGMAP_PATH = 'argocd/applications/torghut/ws/configmap.yaml';
export const TORGHUT_SEALED_SECRETS_PATH = 'argocd/applications/torghut/sealed-secrets.yaml';
export const TORGHUT_KAFKA_BOOTSTRAP = 'kafka-kafka-bootstrap.kafka:9092';

export interface TorghutTreeOptions {
  /** `spec.replicas` in deployment.yaml; 2 reproduces the drift that causes Alpaca 406. Default 1. */
  replicas?: number;
  /** Current restartedAt annotation; null leaves the annotation out. Default 2026-01-01T09:30:00Z. */
  restartedAt?: string | null;
  /** KAFKA_BOOTSTRAP in configmap.yaml (a wrong value reproduces a procedure C misconfiguration). */
  kafkaBootstrap?: string;
}

/** The files of the seeded repository, by path. */
export function torghutGitOpsTree(options: TorghutTreeOptions = {}): Record<string, string> {
  const replicas = options.replicas ?? 1;
  const restartedAt = options.restartedAt === undefined ? '2026-01-01T09:30:00Z' : options.restartedAt;
  const restartLine = restartedAt === null ? '' : `        kubectl.kubernetes.io/restartedAt: "${restartedAt}" # last GitOps restart\n`;
  const deployment = `# torghut-ws: forwards the Alpaca market-data WebSocket into Kafka.
# Runbook: "Operations: WS Connection Limit and Auth" (procedures A, B, C).
apiVersion: apps/v1
kind: Deployment
metadata:
  name: torghut-ws
  namespace: torghut
  labels:
    app: torghut-ws
    app.kubernetes.io/part-of: torghut
spec:
  # Alpaca allows one market-data connection per key: a second replica causes 406. Keep 1.
  replicas: ${replicas}
  revisionHistoryLimit: 5
  strategy:
    type: Recreate # never two pods at once
  selector:
    matchLabels:
      app: torghut-ws
  template:
    metadata:
      labels:
        app: torghut-ws
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "8080"
${restartLine}    spec:
      serviceAccountName: torghut-ws
      containers:
        - name: torghut-ws
          image: registry.example.com/torghut/torghut-ws:1.4.2
          args: ["--symbols=AAPL,MSFT,NVDA,TSLA,AMZN,GOOGL,META,AMD", "--topic-prefix=torghut.marketdata.v1", "--status-topic=torghut.status.v1"]
          ports:
            - name: http
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: torghut-ws
          env:
            - name: KAFKA_SASL_PASSWORD
              valueFrom:
                secretKeyRef: { name: torghut-ws, key: password }
            - name: APCA_API_KEY_ID
              valueFrom:
                secretKeyRef: { name: torghut-alpaca, key: APCA_API_KEY_ID }
            - name: APCA_API_SECRET_KEY
              valueFrom:
                secretKeyRef: { name: torghut-alpaca, key: APCA_API_SECRET_KEY }
          livenessProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: 10
          readinessProbe:
            httpGet: { path: /readyz, port: http }
            periodSeconds: 5
            failureThreshold: 3
          resources:
            requests: { cpu: 100m, memory: 256Mi }
            limits:
              memory: 512Mi
`;
  const configMap = `# torghut-ws runtime configuration (no secrets here: see ../sealed-secrets.yaml).
apiVersion: v1
kind: ConfigMap
metadata:
  name: torghut-ws
  namespace: torghut
data:
  KAFKA_BOOTSTRAP: ${options.kafkaBootstrap ?? TORGHUT_KAFKA_BOOTSTRAP}
  KAFKA_SECURITY_PROTOCOL: SASL_PLAINTEXT
  KAFKA_SASL_MECHANISM: SCRAM-SHA-512
  ALPACA_FEED: sip
  ALPACA_STREAM_URL: wss://stream.data.alpaca.markets/v2/sip
  TRADE_UPDATES_ENABLED: "true"
`;
  const sealedSecrets = `# Alpaca credentials, sealed for the torghut namespace. Rotate with kubeseal, never in plain text.
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: torghut-alpaca
  namespace: torghut
spec:
  encryptedData:
    APCA_API_KEY_ID: AgBSIMULATEDciphertextNOTaREALkeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==
    APCA_API_SECRET_KEY: AgBSIMULATEDciphertextNOTaREALsecretBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB==
  template:
    metadata:
      name: torghut-alpaca
      namespace: torghut
`;
  return {
    [TORGHUT_DEPLOYMENT_PATH]: deployment,
    [TORGHUT_CONFIGMAP_PATH]: configMap,
    [TORGHUT_SEALED_SECRETS_PATH]: sealedSecrets,
  };
}

// ---------------------------------------------------------------------------------------------------
// A bare git repository driven through plumbing commands

interface Identity {
  name: string;
  email: string;
}

interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  author: Identity & { date: string };
  committer: Identity & { date: string };
  message: string;
}

class GitError extends Error {
  override name = 'GitError';
}

class GitRepo {
  private constructor(readonly dir: string) {}

  static async create(defaultBranch: string): Promise<GitRepo> {
    const dir = await mkdtemp(join(tmpdir(), 'agentruns-github-sim-'));
    const repo = new GitRepo(dir);
    await repo.git(['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`]);
    return repo;
  }

  async git(
    args: string[],
    options: { input?: Buffer | string; env?: Record<string, string>; allowCodes?: number[] } = {},
  ): Promise<{ stdout: Buffer; code: number }> {
    const child = spawn('git', args, {
      cwd: this.dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: this.dir,
        GIT_DIR: this.dir,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_TERMINAL_PROMPT: '0',
        LC_ALL: 'C',
        ...options.env,
      },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    if (child.stdin) {
      // A command may exit before reading all of stdin; its exit code tells what happened.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? -1));
    });
    if (code !== 0 && !(options.allowCodes ?? []).includes(code)) {
      throw new GitError(`git ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString('utf8').trim()}`);
    }
    return { stdout: Buffer.concat(out), code };
  }

  private async text(args: string[], allowCodes?: number[]): Promise<string> {
    return (await this.git(args, { allowCodes })).stdout.toString('utf8').trim();
  }

  /** The commit a ref, branch name or sha points at; null when it does not resolve. */
  async resolveCommit(ref: string): Promise<string | null> {
    if (ref.startsWith('-')) return null;
    const sha = await this.text(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], [1, 128]);
    return /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  }

  async branchSha(branch: string): Promise<string | null> {
    const sha = await this.text(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], [1, 128]);
    return /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  }

  async validRefName(ref: string): Promise<boolean> {
    return (await this.git(['check-ref-format', ref], { allowCodes: [1] })).code === 0;
  }

  /** What is at `path` in `commit`: a blob (file), a tree (directory), or nothing. */
  async entry(commit: string, path: string): Promise<{ type: 'blob' | 'tree'; sha: string } | null> {
    const spec = `${commit}:${path}`;
    const sha = await this.text(['rev-parse', '--verify', '--quiet', spec], [1, 128]);
    if (!/^[0-9a-f]{40}$/.test(sha)) return null;
    const type = await this.text(['cat-file', '-t', sha]);
    return type === 'blob' || type === 'tree' ? { type, sha } : null;
  }

  async blob(sha: string): Promise<Buffer> {
    return (await this.git(['cat-file', 'blob', sha])).stdout;
  }

  async listTree(commit: string, path: string): Promise<Array<{ type: 'blob' | 'tree'; sha: string; size: number; path: string }>> {
    const out = await this.text(['ls-tree', '-l', '-z', commit, path === '' ? '.' : `${path}/`]);
    return out
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const [meta, name] = line.split('\t') as [string, string];
        const [, type, sha, size] = meta.split(/\s+/) as [string, string, string, string];
        return { type: type === 'tree' ? 'tree' : 'blob', sha, size: size === '-' ? 0 : Number(size), path: name };
      });
  }

  async commitInfo(sha: string): Promise<CommitInfo | null> {
    const resolved = await this.resolveCommit(sha);
    if (!resolved) return null;
    const raw = await this.text(['log', '-1', '--format=%T%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%ce%x1f%cI%x1f%B', resolved]);
    const [tree, parents, an, ae, ad, cn, ce, cd, message] = raw.split('\x1f');
    return {
      sha: resolved,
      tree: tree!,
      parents: parents ? parents.split(' ').filter(Boolean) : [],
      author: { name: an!, email: ae!, date: isoUtc(ad!) },
      committer: { name: cn!, email: ce!, date: isoUtc(cd!) },
      message: message ?? '',
    };
  }

  /** A new commit on top of `parent` (null: a root commit) replacing the given files. */
  async commitFiles(parent: string | null, files: Record<string, Buffer | string>, message: string, by: Identity, date?: string): Promise<CommitInfo> {
    const index = join(this.dir, `index-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    const env = { GIT_INDEX_FILE: index };
    try {
      if (parent) await this.git(['read-tree', parent], { env });
      else await this.git(['read-tree', '--empty'], { env });
      for (const [path, content] of Object.entries(files)) {
        const blob = (await this.git(['hash-object', '-w', '--stdin'], { input: content })).stdout.toString('utf8').trim();
        await this.git(['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], { env });
      }
      const tree = (await this.git(['write-tree'], { env })).stdout.toString('utf8').trim();
      return await this.commitTree(tree, parent ? [parent] : [], message, by, date);
    } finally {
      await rm(index, { force: true });
    }
  }

  async commitTree(tree: string, parents: string[], message: string, by: Identity, date?: string): Promise<CommitInfo> {
    const when = date ?? new Date().toISOString();
    const env = {
      GIT_AUTHOR_NAME: by.name,
      GIT_AUTHOR_EMAIL: by.email,
      GIT_AUTHOR_DATE: when,
      GIT_COMMITTER_NAME: by.name,
      GIT_COMMITTER_EMAIL: by.email,
      GIT_COMMITTER_DATE: when,
    };
    const args = ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p])];
    const sha = (await this.git(args, { input: message, env })).stdout.toString('utf8').trim();
    const info = await this.commitInfo(sha);
    if (!info) throw new GitError(`commit ${sha} vanished`);
    return info;
  }

  /** Moves a ref only if it still points at `expected` (null: only if it does not exist yet). */
  async updateRef(ref: string, sha: string, expected: string | null): Promise<boolean> {
    const { code } = await this.git(['update-ref', ref, sha, expected ?? '0'.repeat(40)], { allowCodes: [128] });
    return code === 0;
  }

  async mergeTree(base: string, head: string): Promise<{ tree: string; clean: boolean }> {
    const { stdout, code } = await this.git(['merge-tree', '--write-tree', '--no-messages', base, head], { allowCodes: [1] });
    return { tree: stdout.toString('utf8').split('\n')[0]!.trim(), clean: code === 0 };
  }

  async mergeBase(a: string, b: string): Promise<string | null> {
    const sha = await this.text(['merge-base', a, b], [1]);
    return /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  }

  async countCommits(range: string): Promise<number> {
    return Number(await this.text(['rev-list', '--count', range]));
  }

  async diff(from: string, to: string, path?: string): Promise<string> {
    const args = ['diff', '--no-color', '--no-ext-diff', '--no-renames', from, to];
    if (path) args.push('--', path);
    return (await this.git(args)).stdout.toString('utf8');
  }

  async diffFiles(from: string, to: string): Promise<Array<{ path: string; status: string; additions: number; deletions: number; sha: string | null }>> {
    const numstat = await this.text(['diff', '--numstat', '--no-renames', '-z', from, to]);
    const raw = await this.text(['diff', '--raw', '--no-renames', '-z', '--no-abbrev', from, to]);
    const blobs = new Map<string, { status: string; sha: string }>();
    const rawParts = raw.split('\0').filter(Boolean);
    for (let i = 0; i + 1 < rawParts.length; i += 2) {
      const fields = rawParts[i]!.split(' ');
      blobs.set(rawParts[i + 1]!, { status: fields[4] ?? 'M', sha: fields[3] ?? '' });
    }
    return numstat
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const [add, del, path] = line.split('\t') as [string, string, string];
        const blob = blobs.get(path);
        const status = blob?.status === 'A' ? 'added' : blob?.status === 'D' ? 'removed' : 'modified';
        return { path, status, additions: Number(add) || 0, deletions: Number(del) || 0, sha: blob && status !== 'removed' ? blob.sha : null };
      });
  }

  async log(ref: string): Promise<Array<{ sha: string; parents: string[]; subject: string }>> {
    const out = await this.text(['log', '--format=%H%x1f%P%x1f%s', ref]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [sha, parents, subject] = line.split('\x1f') as [string, string, string];
        return { sha, parents: parents.split(' ').filter(Boolean), subject };
      });
  }

  async destroy(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

function isoUtc(date: string): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------------
// The simulator

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
  status: number;
}

export interface SimPullRequest {
  number: number;
  title: string;
  body: string | null;
  head: string;
  base: string;
  state: 'open' | 'closed';
  merged: boolean;
  user: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  mergedBy: string | null;
  mergeSha: string | null;
  /** Head and base commits frozen when the PR was merged or closed. */
  frozenHeadSha: string | null;
  frozenBaseSha: string | null;
}

/** A comment on a PR's conversation (issue comments share the PR's number). */
export interface SimComment {
  id: number;
  issue: number;
  body: string;
  user: string;
  createdAt: string;
}

export interface MergeEvent {
  number: number;
  base: string;
  mergeSha: string;
  headSha: string;
  files: string[];
}

export interface Fault {
  method?: string;
  /** Matched against the request path (string: substring). */
  path?: RegExp | string;
  status: number;
  message?: string;
  headers?: Record<string, string>;
  /** How many matching requests fail (default 1). */
  times?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body.message === 'string' ? body.message : `HTTP ${status}`);
  }
}

const notFound = () => new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
const validation = (errors: Array<Record<string, unknown>>, doc: string) =>
  new HttpError(422, { message: 'Validation Failed', errors, documentation_url: doc });
const invalid = (message: string, doc: string) => new HttpError(422, { message: `Invalid request.\n\n${message}`, documentation_url: doc });

const DOCS = {
  contents: 'https://docs.github.com/rest/repos/contents#create-or-update-file-contents',
  refs: 'https://docs.github.com/rest/git/refs#create-a-reference',
  pulls: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
  merge: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request',
  update: 'https://docs.github.com/rest/pulls/pulls#update-a-pull-request',
  comments: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
};

const HUMAN: Identity = { name: 'On-call Human', email: 'oncall@example.com' };

type Json = Record<string, unknown>;
type Handler = (ctx: RequestContext) => Promise<{ status: number; body: unknown; contentType?: string }>;

interface RequestContext {
  params: string[];
  query: URLSearchParams;
  body: () => Promise<Json>;
  accept: string;
}

export class GitHubSim {
  readonly requests: GitHubRequest[] = [];
  /** Errors thrown by onMerge listeners (a merge never fails because a listener did). */
  readonly listenerErrors: Error[] = [];
  private readonly pullRequests: SimPullRequest[] = [];
  private readonly issueComments: SimComment[] = [];
  private readonly listeners = new Set<(event: MergeEvent) => void | Promise<void>>();
  private readonly pendingListeners = new Set<Promise<void>>();
  private faults: Array<Fault & { left: number }> = [];
  private queue: Promise<unknown> = Promise.resolve();
  private rateRemaining = 5000;
  private readonly routes: Array<{ method: string; pattern: RegExp; handler: Handler }>;

  private constructor(
    private readonly options: Required<Pick<GitHubSimOptions, 'owner' | 'repo' | 'token' | 'defaultBranch' | 'login'>>,
    private readonly git: GitRepo,
    private readonly server: Server,
    readonly url: string,
  ) {
    this.routes = this.buildRoutes();
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
    const sim = new GitHubSim(
      { owner: options.owner, repo: options.repo, token: options.token, defaultBranch, login: options.login ?? 'agentruns-bot' },
      git,
      server,
      url,
    );
    holder.sim = sim;
    return sim;
  }

  // --- programmatic API -----------------------------------------------------------------------

  /** The file's text at a branch, tag or sha; null when the ref or the file does not exist. */
  async fileAt(ref: string, path: string): Promise<string | null> {
    const commit = await this.git.resolveCommit(ref);
    const entry = commit ? await this.git.entry(commit, path) : null;
    return entry?.type === 'blob' ? (await this.git.blob(entry.sha)).toString('utf8') : null;
  }

  /** The commit a branch points at (null when it does not exist). */
  branchSha(branch: string): Promise<string | null> {
    return this.git.branchSha(branch);
  }

  /** Commits reachable from a ref, newest first. */
  commits(ref: string): Promise<Array<{ sha: string; parents: string[]; subject: string }>> {
    return this.git.log(ref);
  }

  /** A snapshot of every PR, oldest first. */
  pulls(): SimPullRequest[] {
    return this.pullRequests.map((pr) => ({ ...pr }));
  }

  /** Comments posted on the PRs' conversations (all, or one PR's), oldest first. */
  comments(prNumber?: number): SimComment[] {
    return this.issueComments.filter((c) => prNumber === undefined || c.issue === prNumber).map((c) => ({ ...c }));
  }

  /** The PR's unified diff against the point where it left its base (as the GitHub PR page shows it). */
  async diff(prNumber: number): Promise<string> {
    const pr = this.pullRequests.find((p) => p.number === prNumber);
    if (!pr) throw new Error(`no pull request #${prNumber}`);
    const { from, to } = await this.diffRange(pr);
    return this.git.diff(from, to);
  }

  /** Merges the PR as a human would with the green button. */
  mergePullRequest(prNumber: number, method: 'merge' | 'squash' = 'merge'): Promise<{ sha: string }> {
    return this.exclusive(() => this.merge(prNumber, { merge_method: method }, HUMAN));
  }

  /** Closes the PR without merging, as a human would. */
  closePullRequest(prNumber: number): Promise<void> {
    return this.exclusive(async () => {
      const pr = this.pullRequests.find((p) => p.number === prNumber);
      if (!pr) throw new Error(`no pull request #${prNumber}`);
      if (pr.state === 'open') await this.closePull(pr);
    });
  }

  /** Someone commits straight to a branch (e.g. a colleague edits the manifest on main). */
  commitFile(input: { branch: string; path: string; content: string; message: string }): Promise<string> {
    return this.exclusive(async () => {
      const parent = await this.git.branchSha(input.branch);
      if (!parent) throw new Error(`no branch ${input.branch}`);
      const commit = await this.git.commitFiles(parent, { [input.path]: input.content }, input.message, HUMAN);
      if (!(await this.git.updateRef(`refs/heads/${input.branch}`, commit.sha, parent))) throw new Error('branch moved');
      return commit.sha;
    });
  }

  /** The next matching API requests fail with this status (rate limits, outages, …). */
  failNext(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Called after every merge to the repository (the simulated Argo CD subscribes). */
  onMerge(listener: (event: MergeEvent) => void | Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when every merge listener started so far has finished. */
  async settled(): Promise<void> {
    while (this.pendingListeners.size > 0) await Promise.all([...this.pendingListeners]);
  }

  /** Requests that change something (everything but GET/HEAD). */
  writes(): GitHubRequest[] {
    return this.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
  }

  async close(): Promise<void> {
    await closeServer(this.server);
    await this.queue;
    await this.settled();
    await this.git.destroy();
  }

  // --- HTTP -----------------------------------------------------------------------------------

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://github.sim');
    const method = req.method ?? 'GET';
    const log = (status: number) => this.requests.push({ method, path: safeDecode(url.pathname), query: safeDecode(url.search), at: Date.now(), status });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}, contentType = 'application/json; charset=utf-8') => {
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

    void this.exclusive(async () => {
      try {
        // The PR's web page (its html_url): a plain-text view for the demo, no token needed.
        const page = /^\/([^/]+)\/([^/]+)\/pull\/(\d+)$/.exec(url.pathname);
        if (page && method === 'GET') {
          const text = await this.pullRequestPage(decodeURIComponent(page[1]!), decodeURIComponent(page[2]!), Number(page[3]));
          return send(200, text, {}, 'text/plain; charset=utf-8');
        }
        this.authenticate(req.headers.authorization);
        this.rateRemaining = Math.max(0, this.rateRemaining - 1);
        const fault = this.takeFault(method, url.pathname);
        if (fault) {
          const headers = { ...fault.headers };
          return send(fault.status, { message: fault.message ?? `Simulated failure (${fault.status})`, documentation_url: 'https://docs.github.com/rest' }, headers);
        }
        const { handler, params } = this.route(method, url.pathname);
        let parsed: Json | undefined;
        const body = async (): Promise<Json> => {
          if (parsed) return parsed;
          const raw = (await readBody(req)).toString('utf8');
          let value: unknown;
          try {
            value = raw.trim() === '' ? {} : JSON.parse(raw);
          } catch {
            throw new HttpError(400, { message: 'Problems parsing JSON', documentation_url: 'https://docs.github.com/rest' });
          }
          if (typeof value !== 'object' || value === null || Array.isArray(value)) {
            throw new HttpError(400, { message: 'Body should be a JSON object', documentation_url: 'https://docs.github.com/rest' });
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
  }

  private authenticate(header: string | undefined): void {
    const doc = 'https://docs.github.com/rest';
    if (!header) throw new HttpError(401, { message: 'Requires authentication', documentation_url: doc });
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim());
    if (!match || match[1] !== this.options.token) throw new HttpError(401, { message: 'Bad credentials', documentation_url: doc });
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const index = this.faults.findIndex(
      (f) =>
        (!f.method || f.method.toUpperCase() === method) &&
        (!f.path || (typeof f.path === 'string' ? path.includes(f.path) : f.path.test(path))),
    );
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.left -= 1;
    if (fault.left <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private route(method: string, path: string): { handler: Handler; params: string[] } {
    const repoMatch = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (!repoMatch) throw notFound();
    const [owner, repo] = [decodeURIComponent(repoMatch[1]!), decodeURIComponent(repoMatch[2]!)];
    if (owner.toLowerCase() !== this.options.owner.toLowerCase() || repo.toLowerCase() !== this.options.repo.toLowerCase()) throw notFound();
    const rest = repoMatch[3] ?? '';
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const m = r.pattern.exec(rest);
      if (m) return { handler: r.handler, params: m.slice(1).map((p) => decodeURIComponent(p ?? '')) };
    }
    throw notFound();
  }

  private buildRoutes(): Array<{ method: string; pattern: RegExp; handler: Handler }> {
    return [
      { method: 'GET', pattern: /^$/, handler: () => Promise.resolve({ status: 200, body: this.repoJson() }) },
      { method: 'GET', pattern: /^\/git\/ref\/(.+)$/, handler: (c) => this.getRef(c.params[0]!) },
      { method: 'POST', pattern: /^\/git\/refs$/, handler: async (c) => this.createRef(await c.body()) },
      { method: 'GET', pattern: /^\/git\/commits\/([^/]+)$/, handler: (c) => this.getCommit(c.params[0]!) },
      { method: 'GET', pattern: /^\/contents(?:\/(.*))?$/, handler: (c) => this.getContents(c.params[0] ?? '', c.query.get('ref')) },
      { method: 'PUT', pattern: /^\/contents\/(.+)$/, handler: async (c) => this.putContents(c.params[0]!, await c.body()) },
      { method: 'GET', pattern: /^\/pulls$/, handler: (c) => this.listPulls(c.query) },
      { method: 'POST', pattern: /^\/pulls$/, handler: async (c) => this.createPull(await c.body()) },
      { method: 'GET', pattern: /^\/pulls\/(\d+)$/, handler: (c) => this.getPull(Number(c.params[0]), c.accept) },
      { method: 'PATCH', pattern: /^\/pulls\/(\d+)$/, handler: async (c) => this.updatePull(Number(c.params[0]), await c.body()) },
      { method: 'GET', pattern: /^\/issues\/(\d+)\/comments$/, handler: (c) => this.listComments(Number(c.params[0]), c.query) },
      { method: 'POST', pattern: /^\/issues\/(\d+)\/comments$/, handler: async (c) => this.createComment(Number(c.params[0]), await c.body()) },
      { method: 'GET', pattern: /^\/pulls\/(\d+)\/files$/, handler: (c) => this.pullFiles(Number(c.params[0])) },
      { method: 'GET', pattern: /^\/pulls\/(\d+)\/merge$/, handler: (c) => this.checkMerged(Number(c.params[0])) },
      {
        method: 'PUT',
        pattern: /^\/pulls\/(\d+)\/merge$/,
        handler: async (c) => ({ status: 200, body: await this.mergeViaApi(Number(c.params[0]), await c.body()) }),
      },
    ];
  }

  // --- endpoints --------------------------------------------------------------------------------

  private async getRef(ref: string): Promise<{ status: number; body: unknown }> {
    const full = `refs/${ref}`;
    if (!ref.startsWith('heads/') && !ref.startsWith('tags/')) throw notFound();
    const sha = await this.git.resolveCommit(full);
    const exact = sha ? (await this.git.git(['show-ref', '--verify', '--quiet', full], { allowCodes: [1] })).code === 0 : false;
    if (!sha || !exact) throw notFound();
    return { status: 200, body: this.refJson(full, sha) };
  }

  private async createRef(body: Json): Promise<{ status: number; body: unknown }> {
    const ref = requireString(body, 'ref', DOCS.refs);
    const sha = requireString(body, 'sha', DOCS.refs);
    if (!ref.startsWith('refs/') || ref.split('/').length < 3 || !(await this.git.validRefName(ref))) {
      throw new HttpError(422, { message: 'Reference name is invalid', documentation_url: DOCS.refs });
    }
    const commit = /^[0-9a-f]{40}$/.test(sha) ? await this.git.resolveCommit(sha) : null;
    if (!commit) throw new HttpError(422, { message: 'Object does not exist', documentation_url: DOCS.refs });
    if (!(await this.git.updateRef(ref, commit, null))) {
      throw new HttpError(422, { message: 'Reference already exists', documentation_url: DOCS.refs });
    }
    return { status: 201, body: this.refJson(ref, commit) };
  }

  private async getCommit(sha: string): Promise<{ status: number; body: unknown }> {
    const info = /^[0-9a-f]{40}$/.test(sha) ? await this.git.commitInfo(sha) : null;
    if (!info) throw notFound();
    return { status: 200, body: this.commitJson(info) };
  }

  private async getContents(path: string, ref: string | null): Promise<{ status: number; body: unknown }> {
    const refName = ref ?? this.options.defaultBranch;
    const commit = await this.git.resolveCommit(refName);
    if (!commit) throw new HttpError(404, { message: `No commit found for the ref ${refName}`, documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content' });
    const clean = path.replace(/\/+$/, '');
    if (clean === '') return { status: 200, body: await this.treeJson(commit, '', refName) };
    const entry = await this.git.entry(commit, clean);
    if (!entry) throw notFound();
    if (entry.type === 'tree') return { status: 200, body: await this.treeJson(commit, clean, refName) };
    const content = await this.git.blob(entry.sha);
    return {
      status: 200,
      body: {
        ...this.contentMeta(clean, entry.sha, content.length, refName),
        encoding: 'base64',
        content: (content.toString('base64').match(/.{1,60}/g) ?? []).join('\n') + '\n',
      },
    };
  }

  private async putContents(path: string, body: Json): Promise<{ status: number; body: unknown }> {
    const message = requireString(body, 'message', DOCS.contents);
    const content = requireString(body, 'content', DOCS.contents);
    const sha = optionalString(body, 'sha', DOCS.contents);
    const branch = optionalString(body, 'branch', DOCS.contents) ?? this.options.defaultBranch;
    if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(content)) throw invalid('content is not valid Base64', DOCS.contents);
    const parent = await this.git.branchSha(branch);
    if (!parent) throw new HttpError(404, { message: `Branch ${branch} not found`, documentation_url: DOCS.contents });
    const existing = await this.git.entry(parent, path);
    if (existing?.type === 'tree') throw invalid(`"${path}" is a directory`, DOCS.contents);
    if (existing) {
      if (sha === undefined) throw invalid('"sha" wasn\'t supplied.', DOCS.contents);
      if (sha !== existing.sha) throw new HttpError(409, { message: `${path} does not match ${sha}`, documentation_url: DOCS.contents });
    }
    const who = identityFrom(body.committer) ?? identityFrom(body.author) ?? { name: this.options.login, email: `${this.options.login}@users.noreply.github.com` };
    const commit = await this.git.commitFiles(parent, { [path]: Buffer.from(content, 'base64') }, message, who);
    if (!(await this.git.updateRef(`refs/heads/${branch}`, commit.sha, parent))) {
      throw new HttpError(409, { message: `${path} does not match ${sha ?? 'the branch head'}`, documentation_url: DOCS.contents });
    }
    const blob = await this.git.entry(commit.sha, path);
    const size = blob ? (await this.git.blob(blob.sha)).length : 0;
    return {
      status: existing ? 200 : 201,
      body: { content: this.contentMeta(path, blob?.sha ?? '', size, branch), commit: this.commitJson(commit) },
    };
  }

  private async listPulls(query: URLSearchParams): Promise<{ status: number; body: unknown }> {
    const state = query.get('state') ?? 'open';
    if (!['open', 'closed', 'all'].includes(state)) {
      throw validation([{ resource: 'Issue', field: 'state', code: 'invalid' }], 'https://docs.github.com/rest/pulls/pulls#list-pull-requests');
    }
    const head = query.get('head');
    const base = query.get('base');
    let list = this.pullRequests.filter((pr) => state === 'all' || pr.state === state);
    if (head) {
      // GitHub filters by `user:ref-name`; a bare branch name matches nothing.
      const [user, ...branch] = head.split(':');
      list = branch.length === 0 ? [] : list.filter((pr) => user?.toLowerCase() === this.options.owner.toLowerCase() && pr.head === branch.join(':'));
    }
    if (base) list = list.filter((pr) => pr.base === base);
    const direction = query.get('direction') ?? 'desc';
    list = [...list].sort((a, b) => (direction === 'asc' ? a.number - b.number : b.number - a.number));
    const perPage = Math.min(Number(query.get('per_page') ?? 30) || 30, 100);
    const page = Math.max(Number(query.get('page') ?? 1) || 1, 1);
    const slice = list.slice((page - 1) * perPage, page * perPage);
    return { status: 200, body: await Promise.all(slice.map((pr) => this.pullJson(pr, false))) };
  }

  private async createPull(body: Json): Promise<{ status: number; body: unknown }> {
    const title = optionalString(body, 'title', DOCS.pulls);
    const headInput = requireString(body, 'head', DOCS.pulls);
    const base = requireString(body, 'base', DOCS.pulls);
    const prBody = optionalString(body, 'body', DOCS.pulls) ?? null;
    if (!title) throw validation([{ resource: 'Issue', field: 'title', code: 'missing_field' }], DOCS.pulls);
    const [headOwner, headBranch] = headInput.includes(':') ? (headInput.split(/:(.*)/s) as [string, string]) : [this.options.owner, headInput];
    if (headOwner.toLowerCase() !== this.options.owner.toLowerCase()) {
      throw validation([{ resource: 'PullRequest', field: 'head', code: 'invalid' }], DOCS.pulls);
    }
    const baseSha = await this.git.branchSha(base);
    if (!baseSha) throw validation([{ resource: 'PullRequest', field: 'base', code: 'invalid' }], DOCS.pulls);
    const headSha = await this.git.branchSha(headBranch);
    if (!headSha) throw validation([{ resource: 'PullRequest', field: 'head', code: 'invalid' }], DOCS.pulls);
    if (this.pullRequests.some((pr) => pr.state === 'open' && pr.head === headBranch && pr.base === base)) {
      throw validation([{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${this.options.owner}:${headBranch}.` }], DOCS.pulls);
    }
    if ((await this.git.countCommits(`${baseSha}..${headSha}`)) === 0) {
      throw validation([{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${headBranch}` }], DOCS.pulls);
    }
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const pr: SimPullRequest = {
      number: this.pullRequests.length + 1,
      title,
      body: prBody,
      head: headBranch,
      base,
      state: 'open',
      merged: false,
      user: this.options.login,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      mergedAt: null,
      mergedBy: null,
      mergeSha: null,
      frozenHeadSha: null,
      frozenBaseSha: null,
    };
    this.pullRequests.push(pr);
    return { status: 201, body: await this.pullJson(pr, true) };
  }

  private async getPull(n: number, accept: string): Promise<{ status: number; body: unknown; contentType?: string }> {
    const pr = this.pull(n);
    if (/\.diff\b|vnd\.github\.diff/.test(accept)) {
      return { status: 200, body: await this.diff(n), contentType: 'text/plain; charset=utf-8' };
    }
    return { status: 200, body: await this.pullJson(pr, true) };
  }

  private async updatePull(n: number, body: Json): Promise<{ status: number; body: unknown }> {
    const pr = this.pull(n);
    const state = optionalString(body, 'state', DOCS.update);
    const title = optionalString(body, 'title', DOCS.update);
    const text = optionalString(body, 'body', DOCS.update);
    if (state !== undefined && state !== 'open' && state !== 'closed') {
      throw validation([{ resource: 'PullRequest', field: 'state', code: 'invalid' }], DOCS.update);
    }
    if (title !== undefined) pr.title = title;
    if (text !== undefined) pr.body = text;
    if (state === 'closed' && pr.state === 'open') await this.closePull(pr);
    if (state === 'open' && pr.state === 'closed') {
      if (pr.merged) throw validation([{ resource: 'PullRequest', code: 'custom', message: 'state cannot be changed. The pull request has been merged.' }], DOCS.update);
      pr.state = 'open';
      pr.closedAt = null;
      pr.frozenHeadSha = null;
      pr.frozenBaseSha = null;
    }
    pr.updatedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { status: 200, body: await this.pullJson(pr, true) };
  }

  private listComments(n: number, query: URLSearchParams): Promise<{ status: number; body: unknown }> {
    this.pull(n);
    const perPage = Math.min(Number(query.get('per_page') ?? 30) || 30, 100);
    const page = Math.max(Number(query.get('page') ?? 1) || 1, 1);
    const list = this.issueComments.filter((c) => c.issue === n).slice((page - 1) * perPage, page * perPage);
    return Promise.resolve({ status: 200, body: list.map((c) => this.commentJson(c)) });
  }

  private createComment(n: number, body: Json): Promise<{ status: number; body: unknown }> {
    this.pull(n);
    const text = requireString(body, 'body', DOCS.comments);
    if (text.trim() === '') throw validation([{ resource: 'IssueComment', field: 'body', code: 'missing_field' }], DOCS.comments);
    if (text.length > 65_536) throw validation([{ resource: 'IssueComment', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' }], DOCS.comments);
    const comment: SimComment = {
      id: 5000 + this.issueComments.length + 1,
      issue: n,
      body: text,
      user: this.options.login,
      createdAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    this.issueComments.push(comment);
    return Promise.resolve({ status: 201, body: this.commentJson(comment) });
  }

  private commentJson(c: SimComment): Json {
    const { owner, repo } = this.options;
    return {
      id: c.id,
      node_id: `IC_sim${c.id}`,
      url: `${this.apiBase}/issues/comments/${c.id}`,
      html_url: `${this.url}/${owner}/${repo}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${this.apiBase}/issues/${c.issue}`,
      body: c.body,
      user: this.userJson(c.user),
      created_at: c.createdAt,
      updated_at: c.createdAt,
      author_association: 'MEMBER',
    };
  }

  private async pullFiles(n: number): Promise<{ status: number; body: unknown }> {
    const pr = this.pull(n);
    const { from, to } = await this.diffRange(pr);
    const files = await this.git.diffFiles(from, to);
    const body = await Promise.all(
      files.map(async (f) => {
        const patch = await this.git.diff(from, to, f.path);
        const hunks = patch.indexOf('\n@@');
        return {
          sha: f.sha,
          filename: f.path,
          status: f.status,
          additions: f.additions,
          deletions: f.deletions,
          changes: f.additions + f.deletions,
          blob_url: `${this.url}/${this.options.owner}/${this.options.repo}/blob/${to}/${f.path}`,
          raw_url: `${this.url}/${this.options.owner}/${this.options.repo}/raw/${to}/${f.path}`,
          contents_url: `${this.apiBase}/contents/${f.path}?ref=${to}`,
          patch: hunks === -1 ? '' : patch.slice(hunks + 1).replace(/\n$/, ''),
        };
      }),
    );
    return { status: 200, body };
  }

  private checkMerged(n: number): Promise<{ status: number; body: unknown }> {
    const pr = this.pull(n);
    if (!pr.merged) throw notFound();
    return Promise.resolve({ status: 204, body: '' });
  }

  private async mergeViaApi(n: number, body: Json): Promise<Json> {
    const sha = optionalString(body, 'sha', DOCS.merge);
    const method = optionalString(body, 'merge_method', DOCS.merge) ?? 'merge';
    const title = optionalString(body, 'commit_title', DOCS.merge);
    const message = optionalString(body, 'commit_message', DOCS.merge);
    if (method !== 'merge' && method !== 'squash' && method !== 'rebase') {
      throw validation([{ resource: 'PullRequest', field: 'merge_method', code: 'invalid' }], DOCS.merge);
    }
    const result = await this.merge(n, { sha, merge_method: method, commit_title: title, commit_message: message }, {
      name: this.options.login,
      email: `${this.options.login}@users.noreply.github.com`,
    });
    return { sha: result.sha, merged: true, message: 'Pull Request successfully merged' };
  }

  // --- merge and close ------------------------------------------------------------------------

  private async merge(
    n: number,
    input: { sha?: string; merge_method: 'merge' | 'squash' | 'rebase'; commit_title?: string; commit_message?: string },
    by: Identity,
  ): Promise<{ sha: string }> {
    const pr = this.pull(n);
    if (pr.state !== 'open') throw new HttpError(405, { message: 'Pull Request is not mergeable', documentation_url: DOCS.merge });
    const baseSha = await this.git.branchSha(pr.base);
    const headSha = await this.git.branchSha(pr.head);
    if (!baseSha || !headSha) throw new HttpError(405, { message: 'Pull Request is not mergeable', documentation_url: DOCS.merge });
    if (input.sha !== undefined && input.sha !== headSha) {
      throw new HttpError(409, { message: 'Head branch was modified. Review and try the merge again.', documentation_url: DOCS.merge });
    }
    const { tree, clean } = await this.git.mergeTree(baseSha, headSha);
    if (!clean) throw new HttpError(405, { message: 'Pull Request is not mergeable', documentation_url: DOCS.merge });
    const diffFrom = (await this.git.mergeBase(baseSha, headSha)) ?? baseSha;
    const commit =
      input.merge_method === 'merge'
        ? await this.git.commitTree(
            tree,
            [baseSha, headSha],
            `${input.commit_title ?? `Merge pull request #${n} from ${this.options.owner}/${pr.head}`}\n\n${input.commit_message ?? pr.title}\n`,
            by,
          )
        : await this.git.commitTree(tree, [baseSha], `${input.commit_title ?? `${pr.title} (#${n})`}\n\n${input.commit_message ?? pr.body ?? ''}\n`, by);
    if (!(await this.git.updateRef(`refs/heads/${pr.base}`, commit.sha, baseSha))) {
      throw new HttpError(409, { message: 'Base branch was modified. Review and try the merge again.', documentation_url: DOCS.merge });
    }
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    Object.assign(pr, {
      state: 'closed',
      merged: true,
      mergedAt: now,
      closedAt: now,
      updatedAt: now,
      mergedBy: by.name === HUMAN.name ? 'oncall-human' : this.options.login,
      mergeSha: commit.sha,
      frozenHeadSha: headSha,
      frozenBaseSha: diffFrom,
    } satisfies Partial<SimPullRequest>);
    const files = (await this.git.diffFiles(diffFrom, headSha)).map((f) => f.path);
    this.notify({ number: n, base: pr.base, mergeSha: commit.sha, headSha, files });
    return { sha: commit.sha };
  }

  private async closePull(pr: SimPullRequest): Promise<void> {
    const headSha = await this.git.branchSha(pr.head);
    const baseSha = await this.git.branchSha(pr.base);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    pr.state = 'closed';
    pr.closedAt = now;
    pr.updatedAt = now;
    pr.frozenHeadSha = headSha;
    pr.frozenBaseSha = headSha && baseSha ? await this.git.mergeBase(baseSha, headSha) : baseSha;
  }

  private notify(event: MergeEvent): void {
    for (const listener of this.listeners) {
      const run: Promise<void> = Promise.resolve()
        .then(() => listener(event))
        .catch((err: unknown) => {
          this.listenerErrors.push(err instanceof Error ? err : new Error(String(err)));
        })
        .finally(() => this.pendingListeners.delete(run));
      this.pendingListeners.add(run);
    }
  }

  // --- representations --------------------------------------------------------------------------

  private get apiBase(): string {
    return `${this.url}/repos/${this.options.owner}/${this.options.repo}`;
  }

  private pull(n: number): SimPullRequest {
    const pr = this.pullRequests.find((p) => p.number === n);
    if (!pr) throw notFound();
    return pr;
  }

  private async diffRange(pr: SimPullRequest): Promise<{ from: string; to: string }> {
    if (pr.frozenHeadSha && pr.frozenBaseSha) return { from: pr.frozenBaseSha, to: pr.frozenHeadSha };
    const head = (await this.git.branchSha(pr.head)) ?? pr.frozenHeadSha;
    const base = await this.git.branchSha(pr.base);
    if (!head || !base) throw new Error(`pull request #${pr.number} lost its branches`);
    return { from: (await this.git.mergeBase(base, head)) ?? base, to: head };
  }

  private repoJson(): Json {
    const { owner, repo, defaultBranch } = this.options;
    return {
      id: 1,
      node_id: 'R_sim',
      name: repo,
      full_name: `${owner}/${repo}`,
      private: true,
      owner: this.userJson(owner),
      html_url: `${this.url}/${owner}/${repo}`,
      url: this.apiBase,
      default_branch: defaultBranch,
      allow_merge_commit: true,
      allow_squash_merge: true,
      allow_rebase_merge: true,
    };
  }

  private userJson(login: string): Json {
    return { login, id: login.length, node_id: `U_${login}`, type: 'User', site_admin: false };
  }

  private refJson(ref: string, sha: string): Json {
    return {
      ref,
      node_id: `REF_${Buffer.from(ref).toString('base64url')}`,
      url: `${this.apiBase}/git/${ref}`,
      object: { sha, type: 'commit', url: `${this.apiBase}/git/commits/${sha}` },
    };
  }

  private commitJson(info: CommitInfo): Json {
    return {
      sha: info.sha,
      node_id: `C_${info.sha}`,
      url: `${this.apiBase}/git/commits/${info.sha}`,
      html_url: `${this.url}/${this.options.owner}/${this.options.repo}/commit/${info.sha}`,
      author: info.author,
      committer: info.committer,
      message: info.message.replace(/\n+$/, ''),
      tree: { sha: info.tree, url: `${this.apiBase}/git/trees/${info.tree}` },
      parents: info.parents.map((sha) => ({
        sha,
        url: `${this.apiBase}/git/commits/${sha}`,
        html_url: `${this.url}/${this.options.owner}/${this.options.repo}/commit/${sha}`,
      })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    };
  }

  private contentMeta(path: string, sha: string, size: number, ref: string): Json {
    const { owner, repo } = this.options;
    const self = `${this.apiBase}/contents/${path}?ref=${encodeURIComponent(ref)}`;
    const html = `${this.url}/${owner}/${repo}/blob/${ref}/${path}`;
    const git = `${this.apiBase}/git/blobs/${sha}`;
    return {
      type: 'file',
      size,
      name: path.split('/').pop() ?? path,
      path,
      sha,
      url: self,
      git_url: git,
      html_url: html,
      download_url: `${this.url}/${owner}/${repo}/raw/${ref}/${path}`,
      _links: { self, git, html },
    };
  }

  private async treeJson(commit: string, path: string, ref: string): Promise<Json[]> {
    const entries = await this.git.listTree(commit, path);
    return entries.map((e) => ({ ...this.contentMeta(e.path, e.sha, e.size, ref), type: e.type === 'tree' ? 'dir' : 'file' }));
  }

  private async pullJson(pr: SimPullRequest, single: boolean): Promise<Json> {
    const { owner, repo } = this.options;
    const headSha = pr.frozenHeadSha ?? (await this.git.branchSha(pr.head));
    const baseSha = await this.git.branchSha(pr.base);
    const html = `${this.url}/${owner}/${repo}/pull/${pr.number}`;
    const repoRef = { id: 1, name: repo, full_name: `${owner}/${repo}`, owner: this.userJson(owner) };
    const json: Json = {
      url: `${this.apiBase}/pulls/${pr.number}`,
      id: 1000 + pr.number,
      node_id: `PR_sim${pr.number}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      number: pr.number,
      state: pr.state,
      locked: false,
      title: pr.title,
      user: this.userJson(pr.user),
      body: pr.body,
      labels: [],
      created_at: pr.createdAt,
      updated_at: pr.updatedAt,
      closed_at: pr.closedAt,
      merged_at: pr.mergedAt,
      merge_commit_sha: pr.mergeSha,
      draft: false,
      head: { label: `${owner}:${pr.head}`, ref: pr.head, sha: headSha, user: this.userJson(owner), repo: repoRef },
      base: { label: `${owner}:${pr.base}`, ref: pr.base, sha: baseSha, user: this.userJson(owner), repo: repoRef },
      author_association: 'MEMBER',
    };
    if (!single) return json;
    // Only the single-PR endpoint reports merge state and size, as on GitHub.
    const { from, to } = await this.diffRange(pr);
    const files = await this.git.diffFiles(from, to);
    const mergeable = pr.state === 'open' && baseSha && headSha ? (await this.git.mergeTree(baseSha, headSha)).clean : null;
    return {
      ...json,
      merged: pr.merged,
      mergeable,
      mergeable_state: pr.state !== 'open' ? 'unknown' : mergeable ? 'clean' : 'dirty',
      merged_by: pr.mergedBy ? this.userJson(pr.mergedBy) : null,
      comments: this.issueComments.filter((c) => c.issue === pr.number).length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: await this.git.countCommits(`${from}..${to}`),
      additions: files.reduce((n, f) => n + f.additions, 0),
      deletions: files.reduce((n, f) => n + f.deletions, 0),
      changed_files: files.length,
    };
  }

  private async pullRequestPage(owner: string, repo: string, n: number): Promise<string> {
    if (owner !== this.options.owner || repo !== this.options.repo) throw notFound();
    const pr = this.pull(n);
    const state = pr.merged ? `merged by ${pr.mergedBy ?? '?'} at ${pr.mergedAt ?? '?'}` : pr.state;
    const comments = this.issueComments.filter((c) => c.issue === n).map((c) => `--- ${c.user} commented at ${c.createdAt}\n${c.body}\n`);
    return `#${pr.number} ${pr.title}\n${pr.head} → ${pr.base} (${state})\n\n${pr.body ?? ''}\n\n${comments.length ? `${comments.join('\n')}\n` : ''}${await this.diff(n)}`;
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

// ---------------------------------------------------------------------------------------------------
// Request body checks with GitHub's wording

function requireString(body: Json, key: string, doc: string): string {
  const value = body[key];
  if (value === undefined) throw invalid(`"${key}" wasn't supplied.`, doc);
  if (typeof value !== 'string') throw invalid(`For 'properties/${key}', ${JSON.stringify(value)} is not a string.`, doc);
  return value;
}

function optionalString(body: Json, key: string, doc: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`For 'properties/${key}', ${JSON.stringify(value)} is not a string.`, doc);
  return value;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function identityFrom(value: unknown): Identity | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, email } = value as { name?: unknown; email?: unknown };
  return typeof name === 'string' && typeof email === 'string' ? { name, email } : undefined;
}
