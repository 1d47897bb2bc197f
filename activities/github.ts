/**
 * GitHub activities: the GitOps side of the restart. Read the manifests at a ref, open the one PR per
 * incident that bumps restartedAt (and resets replicas), merge it or wait for a human to, close it
 * with a comment when the incident ends without it, and open the revert PR for a rollback.
 *
 * Every write is idempotent, because Temporal may run an activity again after it already acted:
 * - the branch is named per incident RUN (`agentruns/<workflowId>/<first 8 of runId>`; every incident
 *   of a target shares the workflow ID) and reused when it exists;
 * - the commit is skipped when the branch's file already carries this restartedAt, and made with the
 *   file's blob sha as precondition (GitHub answers 409 to a stale sha: re-read and retry once);
 * - an open (or merged) PR for the branch is returned instead of opening a second one — but only when
 *   its head carries this incident's change: another incident's PR on the same branch name is a
 *   ConflictError, never adopted;
 * - a close comment is posted once (an identical comment already there is not posted again).
 *
 * Octokit errors become the named failures of ./errors by HTTP status (404 NotFoundError, 401/403
 * NotAllowedError, 409/405 ConflictError, 400/422 InputError, anything else UpstreamError, retryable),
 * each message naming the operation and the status. A rate limit is never a NotAllowedError: the
 * throttling plugin waits it out inside the client (heartbeating), and one too long to wait here is
 * a retryable RateLimitedError whose retry delay is GitHub's `retry-after`. Transient 5xx and network
 * errors are retried inside the client by the retry plugin first; every request has a deadline.
 * PR titles, bodies and commit messages are redacted before they leave the worker.
 */
import { retry } from '@octokit/plugin-retry';
import { throttling, type ThrottlingOptions } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { GitOpsFacts } from '../domain/diagnosis';
import type { PullRequestRecord } from '../domain/incident';
import { redact } from '../domain/redact';
import { applyRestartPatch, ManifestError, readConfigMapValue, readGitOpsFacts as readManifestFacts } from '../domain/restart-patch';
import type { ManifestNames } from '../domain/restart-patch';
import type { RestartPatch } from '../domain/restart-patch';
import { activityContext, heartbeat, pause } from './context';
import { failureFromStatus, namedFailure, rateLimitFailure } from './errors';

// ---------------------------------------------------------------------------------------------------
// The client

export interface OctokitOptions {
  /** API root; default https://api.github.com (GitHub Enterprise: https://HOST/api/v3). */
  baseUrl?: string;
  token: string;
  /** How often a request failing with 5xx or a network error is retried inside the client. Default 2. */
  retries?: number;
  /** How often a rate-limited request is waited out and retried inside the client. Default 5. */
  rateLimitRetries?: number;
  /**
   * The longest single rate-limit wait inside the client (GitHub's `retry-after`, or the primary
   * limit's reset), in milliseconds; default 30 s (so five waits fit an attempt of the writes'
   * 3-minute start-to-close). A longer one fails the activity with a retryable RateLimitedError
   * whose retry delay is GitHub's own figure: Temporal waits it out, no worker does.
   */
  maxRateLimitWaitMs?: number;
  /** Milliseconds per second of back-off the plugins compute: 1000 in production, small in tests. */
  retryAfterBaseValue?: number;
  /** Per request: no answer within this many milliseconds is a failed attempt. Default 10 s. */
  requestTimeoutMs?: number;
  /**
   * GitHub's pacing of content-creating requests (writes at least 1 s apart, PRs, comments and
   * merges 3 s). Default true; tests against the simulator, which does not ask for it, turn it off
   * to stay fast. Rate limits are waited out either way.
   */
  pace?: boolean;
  userAgent?: string;
  /**
   * Where the client logs. Default: rate-limit warnings to the console; per-request error lines are
   * dropped because every failure already surfaces as a named activity failure.
   */
  log?: { debug(message: string): void; info(message: string): void; warn(message: string): void; error(message: string): void };
}

const QUIET_LOG = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: () => undefined,
};

/** Statuses a retry cannot fix; 409/405 need a re-read, 403/429 rate limits are the throttling plugin's. */
const DO_NOT_RETRY = [400, 401, 403, 404, 405, 409, 410, 422, 429, 451];

const ResilientOctokit = Octokit.plugin(throttling, retry);

/**
 * A limiter that lets every request through at once: the throttling plugin's pacing switched off
 * while its rate-limit handling stays on (the plugin only calls `key(id).schedule(options, job)`).
 */
const UNPACED = {
  key: () => ({ schedule: (_options: unknown, job: (...args: unknown[]) => unknown, ...args: unknown[]) => Promise.resolve(job(...args)) }),
} as unknown as NonNullable<ThrottlingOptions['write']>;

/**
 * An Octokit with the throttling and retry plugins: rate limits (GitHub's secondary limit with its
 * `retry-after`, the primary limit until its reset) are waited out — the activity keeps heartbeating
 * meanwhile (./context.ts) — up to `rateLimitRetries` times and `maxRateLimitWaitMs` each; 5xx and
 * network errors are retried `retries` times; every request has `requestTimeoutMs` to answer.
 */
export function createOctokit(options: OctokitOptions): Octokit {
  const retries = options.retries ?? 2;
  const rateLimitRetries = options.rateLimitRetries ?? 5;
  const retryAfterBaseValue = options.retryAfterBaseValue ?? 1000;
  const maxWaitMs = options.maxRateLimitWaitMs ?? 30_000;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const onLimit = (kind: string) => (retryAfter: number, request: { method: string; url: string }, octokit: { log: { warn(message: string): void } }, retryCount: number) => {
    const again = retryCount < rateLimitRetries && retryAfter * retryAfterBaseValue <= maxWaitMs;
    octokit.log.warn(`GitHub ${kind} on ${request.method} ${request.url}: ${again ? `waiting ${retryAfter} s (${retryCount + 1}/${rateLimitRetries})` : `not waiting ${retryAfter} s here`}`);
    return again;
  };
  const paced = options.pace ?? true;
  const octokit = new ResilientOctokit({
    auth: options.token,
    ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/$/, '') } : {}),
    userAgent: options.userAgent ?? 'agentruns',
    log: options.log ?? QUIET_LOG,
    request: { fetch: fetchWithTimeout(timeoutMs) },
    retry: { retries, retryAfterBaseValue, doNotRetry: DO_NOT_RETRY },
    throttle: {
      enabled: true,
      retryAfterBaseValue,
      onRateLimit: onLimit('rate limit'),
      onSecondaryRateLimit: onLimit('secondary rate limit'),
      ...(paced ? {} : { write: UNPACED, notifications: UNPACED, search: UNPACED }),
    },
  });
  // The retry plugin counts a request's retries in `options.request`, which Octokit shares between
  // all requests of a client (the client's defaults): each request gets its own copy first, or every
  // later request would start with the count of the earlier ones — a longer back-off, fewer retries.
  octokit.hook.before('request', (requestOptions) => {
    requestOptions.request = { ...requestOptions.request };
  });
  return octokit;
}

/** fetch with a per-request deadline (beside any signal the caller gave, e.g. the activity's cancellation). */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init = {}) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    return fetch(input, { ...init, signal: init.signal ? AbortSignal.any([init.signal, deadline]) : deadline });
  };
}

// ---------------------------------------------------------------------------------------------------
// Inputs and outputs

/** Which repository; each falls back to the activity factory's default. */
export interface RepoSelector {
  owner?: string;
  repo?: string;
  baseBranch?: string;
}

export interface GitHubActivityDeps extends RepoSelector {
  octokit: Octokit;
}

export interface ReadGitOpsFactsInput extends RepoSelector {
  deploymentPath: string;
  configMapPath?: string;
  /** `metadata.name` of the Deployment / ConfigMap in their files (several documents may share a file). */
  names?: ManifestNames;
  /** Branch, tag or commit; default the base branch. */
  ref?: string;
}

export interface OpenRestartPullRequestInput extends RepoSelector {
  workflowId: string;
  /**
   * The incident's run ID: the branch becomes `agentruns/<workflowId>/<first 8 chars>`, unique per
   * incident. Without it (direct callers) the branch is `agentruns/<workflowId>`, shared by every
   * incident of the target.
   */
  runId?: string;
  deploymentPath: string;
  /** `metadata.name` of the Deployment in its file; unset: the file's only Deployment. */
  deploymentName?: string;
  /** ISO-8601; decided once by the workflow so every attempt writes the same value. */
  restartedAt: string;
  expectedReplicas?: number;
  title: string;
  body: string;
  /** Compute the change and return it without writing anything. */
  dryRun?: boolean;
}

/** A PR by number, or by the record an earlier activity returned (its `changes` are kept). */
export interface PullRequestSelector extends RepoSelector {
  number?: number;
  pr?: PullRequestRecord;
}

export interface WaitForMergeInput extends PullRequestSelector {
  pollIntervalMs: number;
  timeoutMs: number;
}

export interface OpenRevertPullRequestInput extends RepoSelector {
  workflowId: string;
  /** As for the restart PR: the branch becomes `agentruns/<workflowId>/<first 8 chars>-revert`. */
  runId?: string;
  /** The merged restart PR to revert. */
  pr: PullRequestRecord;
  deploymentPath: string;
  /** `metadata.name` of the Deployment in its file; unset: the file's only Deployment. */
  deploymentName?: string;
  body: string;
  title?: string;
}

export interface ClosePullRequestInput {
  owner?: string;
  repo?: string;
  /** The PR to close, as an earlier activity returned it (its `changes` are kept). */
  pr: PullRequestRecord;
  /** Why it is closed; posted as a comment (redacted) before closing. */
  comment: string;
}

/** Failure types thrown by waitForMerge besides the named ones of ./errors (both non-retryable). */
export const PULL_REQUEST_CLOSED = 'PullRequestClosedError';
export const MERGE_TIMEOUT = 'TimeoutError';

const GITHUB_BODY_LIMIT = 60_000;
const GITHUB_TITLE_LIMIT = 250;

// Response shapes this code relies on, checked at the boundary.
const fileSchema = z.object({ type: z.literal('file'), sha: z.string(), encoding: z.string(), content: z.string() });
const pullSchema = z.object({
  number: z.number().int(),
  html_url: z.string(),
  state: z.enum(['open', 'closed']),
  merged: z.boolean().optional(),
  merged_at: z.string().nullable().optional(),
  merge_commit_sha: z.string().nullable().optional(),
  head: z.object({ ref: z.string(), sha: z.string() }),
});
type Pull = z.infer<typeof pullSchema>;
const commentSchema = z.object({ id: z.number(), body: z.string().nullable().optional() });
const listedCommitSchema = z.object({
  sha: z.string(),
  html_url: z.string().optional(),
  commit: z.object({
    message: z.string(),
    author: z.object({ name: z.string().optional(), email: z.string().optional(), date: z.string().optional() }).nullable(),
    committer: z.object({ name: z.string().optional(), date: z.string().optional() }).nullable(),
  }),
  author: z.object({ login: z.string() }).nullable().optional(),
});

/** A commit that touched a file, as the prerequisite evidence shows it. */
export interface FileCommit {
  sha: string;
  /** The GitHub login when GitHub maps the author's e-mail to an account, else the git author name. */
  author: string;
  /** The author date (ISO 8601). */
  at: string;
  /** The first line of the message, redacted. */
  subject: string;
  url?: string;
}

export interface ListFileCommitsInput extends RepoSelector {
  path: string;
  /** ISO 8601: only commits since then. */
  since: string;
  /** Branch to read; default the base branch. */
  ref?: string;
  /** At most this many, newest first; default 20. */
  limit?: number;
}

// ---------------------------------------------------------------------------------------------------
// The activities

export function createGitHubActivities(deps: GitHubActivityDeps) {
  const { octokit } = deps;

  const repoOf = (input: RepoSelector): { owner: string; repo: string; baseBranch: string } => {
    const owner = input.owner ?? deps.owner;
    const repo = input.repo ?? deps.repo;
    const baseBranch = input.baseBranch ?? deps.baseBranch ?? 'main';
    if (!owner || !repo) throw namedFailure('InputError', 'GitHub activity needs an owner and a repo (from the runbook or the worker)');
    return { owner, repo, baseBranch };
  };
  type Repo = ReturnType<typeof repoOf>;

  const branchSha = async (r: Repo, branch: string): Promise<string | null> => {
    try {
      const { data } = await octokit.rest.git.getRef({ owner: r.owner, repo: r.repo, ref: `heads/${branch}` });
      return data.object.sha;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw toFailure(`read branch ${branch}`, err);
    }
  };

  const readFile = async (r: Repo, path: string, ref: string): Promise<{ text: string; sha: string }> => {
    const { data } = await call(`read ${path} at ${ref}`, () => octokit.rest.repos.getContent({ owner: r.owner, repo: r.repo, path, ref }));
    const file = fileSchema.safeParse(data);
    if (!file.success) throw namedFailure('InputError', `${path} at ${ref} is not a file GitHub returns inline (is it a directory, or over 1 MB?)`);
    if (file.data.encoding !== 'base64') throw namedFailure('InputError', `${path} at ${ref}: unexpected encoding ${file.data.encoding}`);
    return { text: Buffer.from(file.data.content, 'base64').toString('utf8'), sha: file.data.sha };
  };

  const ensureBranch = async (r: Repo, branch: string, fromSha: string): Promise<void> => {
    if (await branchSha(r, branch)) return;
    try {
      await octokit.rest.git.createRef({ owner: r.owner, repo: r.repo, ref: `refs/heads/${branch}`, sha: fromSha });
    } catch (err) {
      // Another attempt created it between our read and our write: that is the branch we want.
      if (statusOf(err) === 422 && /already exists/i.test(messageOf(err)) && (await branchSha(r, branch))) return;
      // Git cannot hold `a/b` beside a branch `a`: an old per-workflow branch blocks the per-run one.
      const blocking = statusOf(err) === 422 ? await blockingBranch(r, branch) : null;
      if (blocking) {
        throw namedFailure('ConflictError', `cannot create branch ${branch}: the branch ${blocking} exists (left by an earlier incident?); delete it and retry`);
      }
      throw toFailure(`create branch ${branch}`, err);
    }
  };

  /**
   * Writes `next(current)` to the file on the branch with the current blob sha as precondition;
   * `next` returning null means the branch already holds the wanted content. A 409 (someone committed
   * in between) is re-read and retried once.
   */
  const commitFile = async (r: Repo, branch: string, path: string, message: string, next: (current: string) => string | null): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const current = await readFile(r, path, branch);
      const text = next(current.text);
      if (text === null) return;
      try {
        await octokit.rest.repos.createOrUpdateFileContents({
          owner: r.owner,
          repo: r.repo,
          path,
          branch,
          message,
          sha: current.sha,
          content: Buffer.from(text, 'utf8').toString('base64'),
        });
        return;
      } catch (err) {
        if (statusOf(err) === 409 && attempt < 2) continue;
        throw toFailure(`commit ${path} on ${branch}`, err);
      }
    }
  };

  /**
   * After a permanent refusal of the PR (422, 403, 404: retrying cannot help), deletes the incident's
   * own branch, which no PR uses, and says so in the failure; a retryable failure keeps it for the retry.
   */
  const withoutBranch = async (r: Repo, branch: string, err: unknown): Promise<unknown> => {
    if (!(err instanceof ApplicationFailure) || !err.nonRetryable) return err;
    let outcome: string;
    try {
      await octokit.rest.git.deleteRef({ owner: r.owner, repo: r.repo, ref: `heads/${branch}` });
      outcome = `branch ${branch} deleted`;
    } catch (deleteErr) {
      outcome = `branch ${branch} left behind: ${toFailure(`delete branch ${branch}`, deleteErr).message}`;
    }
    return ApplicationFailure.create({ type: err.type ?? undefined, message: `${err.message}; ${outcome}`, nonRetryable: true, cause: err.cause, details: err.details ?? undefined });
  };

  /** A branch that is a path prefix of `branch` (git refuses `a/b` while `a` exists). */
  const blockingBranch = async (r: Repo, branch: string): Promise<string | null> => {
    const parts = branch.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (await branchSha(r, prefix)) return prefix;
    }
    return null;
  };

  /**
   * An existing PR for the branch may be reused only when its head holds what this incident writes;
   * anything else (another incident's PR, merged or stale, on the same branch name) is a conflict: a
   * different branch is not possible without a different name.
   */
  const reusable = async (r: Repo, pull: Pull, path: string, isOurs: (text: string) => boolean, what: string): Promise<Pull> => {
    const head = await readFile(r, path, pull.head.sha);
    if (isOurs(head.text)) return pull;
    throw namedFailure(
      'ConflictError',
      `PR #${pull.number} (${isMerged(pull) ? 'merged' : pull.state}) on branch ${pull.head.ref} does not carry ${what}: it belongs to another incident. ` +
        'Not reusing it; pass this incident\'s runId so it gets its own branch, or close/delete the old PR and branch.',
    );
  };

  /** The open PR for the branch, else a merged one; a PR closed without merge does not count. */
  const findPull = async (r: Repo, branch: string): Promise<Pull | null> => {
    const { data } = await call(`list pull requests for ${branch}`, () =>
      octokit.rest.pulls.list({ owner: r.owner, repo: r.repo, head: `${r.owner}:${branch}`, base: r.baseBranch, state: 'all', per_page: 100 }),
    );
    const pulls = z.array(pullSchema).parse(data);
    return pulls.find((p) => p.state === 'open') ?? pulls.find((p) => p.merged_at) ?? null;
  };

  const openPull = async (r: Repo, branch: string, title: string, body: string): Promise<Pull> => {
    try {
      const { data } = await octokit.rest.pulls.create({ owner: r.owner, repo: r.repo, head: branch, base: r.baseBranch, title, body });
      return pullSchema.parse(data);
    } catch (err) {
      if (statusOf(err) === 422 && /already exists/i.test(messageOf(err))) {
        const existing = await findPull(r, branch);
        if (existing) return existing;
      }
      throw toFailure(`open pull request ${branch} → ${r.baseBranch}`, err);
    }
  };

  const getPull = async (r: Repo, number: number, signal?: AbortSignal): Promise<Pull> => {
    const { data } = await call(`read pull request #${number}`, () =>
      octokit.rest.pulls.get({ owner: r.owner, repo: r.repo, pull_number: number, ...(signal ? { request: { signal } } : {}) }),
    );
    return pullSchema.parse(data);
  };

  const fileSummary = async (r: Repo, number: number): Promise<string[]> => {
    const { data } = await call(`list files of pull request #${number}`, () =>
      octokit.rest.pulls.listFiles({ owner: r.owner, repo: r.repo, pull_number: number, per_page: 100 }),
    );
    return data.map((f) => `${f.status} ${f.filename} (+${f.additions} -${f.deletions})`);
  };

  const selected = (input: number | PullRequestSelector): { r: Repo; number: number; prior?: PullRequestRecord } => {
    const sel: PullRequestSelector = typeof input === 'number' ? { number: input } : input;
    const number = sel.number ?? sel.pr?.number;
    if (number === undefined || !Number.isInteger(number) || number <= 0) {
      throw namedFailure('InputError', `not a pull request number: ${String(number)} (a dry-run record has number 0)`);
    }
    return { r: repoOf(sel), number, prior: sel.pr };
  };

  return {
    /** The commits on the branch that touched `path` since `since`, newest first (GET /repos/{o}/{r}/commits). */
    async listFileCommits(input: ListFileCommitsInput): Promise<{ commits: FileCommit[]; truncated: boolean }> {
      const r = repoOf(input);
      const ref = input.ref ?? r.baseBranch;
      const limit = Math.min(Math.max(input.limit ?? 20, 1), 100);
      const { data } = await call(`list commits of ${input.path} on ${ref} since ${input.since}`, () =>
        octokit.rest.repos.listCommits({ owner: r.owner, repo: r.repo, sha: ref, path: input.path, since: input.since, per_page: limit + 1 }),
      );
      const listed = z.array(listedCommitSchema).safeParse(data);
      if (!listed.success) throw namedFailure('UpstreamError', `list commits of ${input.path}: unexpected answer: ${redact(listed.error.message).slice(0, 300)}`);
      const commits = listed.data.slice(0, limit).map((c): FileCommit => ({
        sha: c.sha,
        author: c.author?.login ?? c.commit.author?.name ?? '(unknown)',
        at: c.commit.author?.date ?? c.commit.committer?.date ?? '',
        subject: redact(c.commit.message.split('\n')[0] ?? '').slice(0, 200),
        ...(c.html_url ? { url: c.html_url } : {}),
      }));
      return { commits, truncated: listed.data.length > limit };
    },

    /** One key of a ConfigMap as Git declares it (the file may hold several documents); null when absent. */
    async readGitConfigMapValue(input: RepoSelector & { path: string; key: string; name?: string; ref?: string }): Promise<{ ref: string; value: string | null }> {
      const r = repoOf(input);
      const ref = input.ref ?? r.baseBranch;
      const file = await readFile(r, input.path, ref);
      return { ref, value: manifest(() => readConfigMapValue(file.text, input.key, input.name), input.path) };
    },

    /** replicas, restartedAt (deployment.yaml) and KAFKA_BOOTSTRAP (configmap.yaml) as Git declares them. */
    async readGitOpsFacts(input: ReadGitOpsFactsInput): Promise<GitOpsFacts> {
      const r = repoOf(input);
      const ref = input.ref ?? r.baseBranch;
      // Both files at once: one GitHub round trip on the way to approval, not two. Both settle
      // before a failure is thrown, so no read of this activity outlives it.
      const [deploymentRead, configMapRead] = await Promise.allSettled([
        readFile(r, input.deploymentPath, ref),
        input.configMapPath ? readFile(r, input.configMapPath, ref) : Promise.resolve(undefined),
      ]);
      if (deploymentRead.status === 'rejected') throw deploymentRead.reason;
      if (configMapRead.status === 'rejected') throw configMapRead.reason;
      const deployment = deploymentRead.value;
      const configMap = configMapRead.value;
      const facts = manifest(() => readManifestFacts(deployment.text, configMap?.text, input.names), input.deploymentPath);
      // The live value is the Kubernetes activities' to read; the diagnosis puts the two side by side.
      return { ref, ...facts, liveKafkaBootstrap: null };
    },

    /** The restart PR of this incident: opened once, found again on every later attempt. */
    async openRestartPullRequest(input: OpenRestartPullRequestInput): Promise<PullRequestRecord> {
      const r = repoOf(input);
      const branch = incidentBranch(input.workflowId, input.runId);
      const patchOf = (text: string): RestartPatch =>
        manifest(() => applyRestartPatch(text, { restartedAt: input.restartedAt, expectedReplicas: input.expectedReplicas, name: input.deploymentName }), input.deploymentPath);

      const baseSha = await branchSha(r, r.baseBranch);
      if (!baseSha) throw namedFailure('NotFoundError', `base branch ${r.baseBranch} of ${r.owner}/${r.repo} not found`);
      const base = await readFile(r, input.deploymentPath, baseSha);
      const planned = patchOf(base.text);
      if (input.dryRun) return { number: 0, url: '', branch, merged: false, dryRun: true, changes: planned.changes };

      const found = await findPull(r, branch);
      if (found) {
        const existing = await reusable(r, found, input.deploymentPath, (text) => carriesRestartedAt(text, input.restartedAt, input.deploymentPath, input.deploymentName), `this incident's restartedAt ${input.restartedAt}`);
        const changes = planned.changes.length > 0 ? planned.changes : await mergedChanges(existing);
        return toRecord(existing, changes);
      }
      if (planned.changes.length === 0) {
        throw namedFailure('InputError', `${input.deploymentPath} on ${r.baseBranch} already has restartedAt ${input.restartedAt}: nothing to change`);
      }

      await ensureBranch(r, branch, baseSha);
      const message = redact(`${input.title}\n\n${planned.changes.map((c) => `- ${c}`).join('\n')}\n\nAgentRuns-Workflow: ${input.workflowId}\n${input.runId ? `AgentRuns-Run: ${input.runId}\n` : ''}`);
      await commitFile(r, branch, input.deploymentPath, message, (current) => {
        const patch = patchOf(current);
        return patch.changes.length === 0 ? null : patch.text;
      });
      let pull: Pull;
      try {
        pull = await openPull(r, branch, clip(redact(input.title), GITHUB_TITLE_LIMIT), clip(redact(input.body), GITHUB_BODY_LIMIT));
      } catch (err) {
        // GitHub refused the PR for good: the branch this incident made for it goes too (it closes what it opened).
        throw await withoutBranch(r, branch, err);
      }
      return toRecord(pull, planned.changes);

      async function mergedChanges(pull: Pull): Promise<string[]> {
        // Merged already (an earlier attempt's PR, merged quickly): describe it against the base it left.
        if (!pull.merge_commit_sha) return [];
        const { data } = await call(`read commit ${pull.merge_commit_sha}`, () =>
          octokit.rest.git.getCommit({ owner: r.owner, repo: r.repo, commit_sha: pull.merge_commit_sha! }),
        );
        const parent = data.parents[0]?.sha;
        return parent ? patchOf((await readFile(r, input.deploymentPath, parent)).text).changes : [];
      }
    },

    /** Merged state of a PR now. */
    async getPullRequest(input: number | PullRequestSelector): Promise<PullRequestRecord> {
      const { r, number, prior } = selected(input);
      const pull = await getPull(r, number);
      return toRecord(pull, prior?.changes ?? (await fileSummary(r, number)));
    },

    /** Auto-merge mode: merge the PR at the head that was reviewed; a merged PR is returned as is. */
    async mergePullRequest(input: number | PullRequestSelector): Promise<PullRequestRecord> {
      const { r, number, prior } = selected(input);
      const changes = async () => prior?.changes ?? (await fileSummary(r, number));
      const pull = await getPull(r, number);
      if (isMerged(pull)) return toRecord(pull, await changes());
      if (pull.state === 'closed') throw closedFailure(number);
      if (prior?.headSha && prior.headSha !== pull.head.sha) {
        throw namedFailure('ConflictError', `PR #${number} changed after it was opened (head ${pull.head.sha}, expected ${prior.headSha}): review it before merging`);
      }
      try {
        await octokit.rest.pulls.merge({ owner: r.owner, repo: r.repo, pull_number: number, sha: pull.head.sha, merge_method: 'merge' });
      } catch (err) {
        // 405/409: maybe merged by someone else meanwhile, which is what we wanted.
        const again = await getPull(r, number);
        if (isMerged(again)) return toRecord(again, await changes());
        throw toFailure(`merge pull request #${number}`, err);
      }
      return toRecord(await getPull(r, number), await changes());
    },

    /**
     * Wait-for-human mode: poll until merged, heartbeating between polls. The deadline survives
     * retries (it travels in the heartbeat details). Closed without merge → PullRequestClosedError,
     * deadline passed → TimeoutError; both non-retryable.
     */
    async waitForMerge(input: WaitForMergeInput): Promise<PullRequestRecord> {
      const { r, number, prior } = selected(input);
      const ctx = activityContext();
      const previous: unknown = ctx?.info.heartbeatDetails;
      const startedAt =
        typeof previous === 'object' && previous !== null && typeof (previous as { startedAt?: unknown }).startedAt === 'number'
          ? (previous as { startedAt: number }).startedAt
          : Date.now();
      const deadline = startedAt + input.timeoutMs;
      for (let polls = 1; ; polls++) {
        const pull = await getPull(r, number, ctx?.cancellationSignal);
        if (isMerged(pull)) return toRecord(pull, prior?.changes ?? (await fileSummary(r, number)));
        if (pull.state === 'closed') throw closedFailure(number);
        const left = deadline - Date.now();
        if (left <= 0) {
          throw ApplicationFailure.create({
            type: MERGE_TIMEOUT,
            message: `PR #${number} was not merged within ${Math.round(input.timeoutMs / 1000)} s`,
            nonRetryable: true,
          });
        }
        heartbeat({ startedAt, polls, state: pull.state });
        await pause(Math.min(input.pollIntervalMs, left));
      }
    },

    /**
     * Closes a PR this incident opened and will not merge, after posting `comment` on it (redacted).
     * Idempotent: a PR already closed is returned as it is (nothing posted), a merged PR is returned
     * unchanged (no comment: it did its work), and a comment identical to one already on the PR (an
     * earlier attempt's) is not posted twice. A dry-run record (number 0) has nothing to close.
     */
    async closePullRequest(input: ClosePullRequestInput): Promise<PullRequestRecord> {
      if (input.pr.dryRun || input.pr.number === 0) return input.pr;
      const { r, number, prior } = selected({ owner: input.owner, repo: input.repo, pr: input.pr });
      const changes = prior?.changes ?? [];
      const pull = await getPull(r, number);
      if (isMerged(pull) || pull.state === 'closed') return toRecord(pull, changes);

      const body = clip(redact(input.comment), GITHUB_BODY_LIMIT);
      const { data: comments } = await call(`list comments of pull request #${number}`, () =>
        octokit.rest.issues.listComments({ owner: r.owner, repo: r.repo, issue_number: number, per_page: 100 }),
      );
      if (!z.array(commentSchema).parse(comments).some((c) => c.body === body)) {
        await call(`comment on pull request #${number}`, () => octokit.rest.issues.createComment({ owner: r.owner, repo: r.repo, issue_number: number, body }));
      }
      try {
        const { data } = await octokit.rest.pulls.update({ owner: r.owner, repo: r.repo, pull_number: number, state: 'closed' });
        return toRecord(pullSchema.parse(data), changes);
      } catch (err) {
        // Merged or closed by someone else meanwhile: the PR is in a final state either way.
        const again = await getPull(r, number);
        if (isMerged(again) || again.state === 'closed') return toRecord(again, changes);
        throw toFailure(`close pull request #${number}`, err);
      }
    },

    /**
     * Posts `body` (redacted) as a comment on a PR, once: a comment already there that begins with
     * `marker` (an earlier attempt's, whose answer was lost) is returned instead of a second one.
     * Comments on a merged or closed PR too: the incident report lands where its change is.
     */
    async commentOnPullRequest(input: { owner?: string; repo?: string; number: number; marker: string; body: string }): Promise<{ id: number; url: string }> {
      const r = repoOf(input);
      const { number } = input;
      const listed = z.array(commentSchema.extend({ html_url: z.string().optional() }));
      // A restart PR's conversation is short: its first hundred comments hold an earlier report.
      const { data: comments } = await call(`list comments of pull request #${number}`, () =>
        octokit.rest.issues.listComments({ owner: r.owner, repo: r.repo, issue_number: number, per_page: 100 }),
      );
      const earlier = listed.parse(comments).find((c) => c.body?.startsWith(input.marker));
      if (earlier) return { id: earlier.id, url: earlier.html_url ?? '' };
      const body = clip(`${input.marker}\n${redact(input.body)}`, GITHUB_BODY_LIMIT);
      const { data } = await call(`comment on pull request #${number}`, () => octokit.rest.issues.createComment({ owner: r.owner, repo: r.repo, issue_number: number, body }));
      return { id: data.id, url: data.html_url };
    },

    /**
     * Rollback: a PR restoring the deployment manifest as it was before the restart PR merged. Refused
     * (ConflictError) when the file changed since, so a revert never undoes someone else's change.
     */
    async openRevertPullRequest(input: OpenRevertPullRequestInput): Promise<PullRequestRecord> {
      const r = repoOf(input);
      const branch = `${incidentBranch(input.workflowId, input.runId)}-revert`;
      const found = await findPull(r, branch);

      const restart = input.pr.merged && input.pr.mergeSha ? input.pr : toRecord(await getPull(r, input.pr.number), input.pr.changes);
      if (!restart.merged || !restart.mergeSha) {
        throw namedFailure('InputError', `PR #${restart.number} is not merged: close it instead of reverting it`);
      }
      const mergeSha = restart.mergeSha;
      const { data: mergeCommit } = await call(`read commit ${mergeSha}`, () =>
        octokit.rest.git.getCommit({ owner: r.owner, repo: r.repo, commit_sha: mergeSha }),
      );
      const parent = mergeCommit.parents[0]?.sha;
      if (!parent) throw namedFailure('InputError', `merge commit ${mergeSha} of PR #${restart.number} has no parent`);
      const before = await readFile(r, input.deploymentPath, parent);
      const after = await readFile(r, input.deploymentPath, mergeSha);
      const changes = describeRevert(after.text, before.text, input.deploymentPath, input.deploymentName);
      if (found) {
        const existing = await reusable(r, found, input.deploymentPath, (text) => text === before.text, `the manifest as it was before PR #${restart.number}`);
        return toRecord(existing, changes);
      }

      const baseSha = await branchSha(r, r.baseBranch);
      if (!baseSha) throw namedFailure('NotFoundError', `base branch ${r.baseBranch} of ${r.owner}/${r.repo} not found`);
      const current = await readFile(r, input.deploymentPath, baseSha);
      if (current.text === before.text) {
        throw namedFailure('InputError', `${input.deploymentPath} on ${r.baseBranch} is already as it was before PR #${restart.number}: nothing to revert`);
      }
      if (current.text !== after.text) {
        throw namedFailure('ConflictError', `${input.deploymentPath} changed on ${r.baseBranch} since PR #${restart.number} merged: revert it by hand`);
      }

      await ensureBranch(r, branch, baseSha);
      const title = clip(redact(input.title ?? `Revert #${restart.number}: restore ${input.deploymentPath}`), GITHUB_TITLE_LIMIT);
      const message = redact(`${title}\n\nThis reverts the restart of PR #${restart.number} (${mergeSha}).\n\nAgentRuns-Workflow: ${input.workflowId}\n${input.runId ? `AgentRuns-Run: ${input.runId}\n` : ''}`);
      await commitFile(r, branch, input.deploymentPath, message, (text) => (text === before.text ? null : before.text));
      const pull = await openPull(r, branch, title, clip(redact(input.body), GITHUB_BODY_LIMIT));
      return toRecord(pull, changes);
    },
  };
}

export type GitHubActivities = ReturnType<typeof createGitHubActivities>;

// ---------------------------------------------------------------------------------------------------
// Helpers

/**
 * `agentruns/<workflowId>/<first 8 chars of runId>` — one branch per incident run — or, without a run
 * ID, `agentruns/<workflowId>`; anything git refuses in a branch name is replaced by `-`.
 */
export function incidentBranch(workflowId: string, runId?: string): string {
  const safe = branchPart(workflowId);
  if (!safe) throw namedFailure('InputError', `workflow ID ${JSON.stringify(workflowId)} gives no usable branch name`);
  if (runId === undefined) return `agentruns/${safe}`;
  const run = branchPart(runId.slice(0, 8));
  if (!run) throw namedFailure('InputError', `run ID ${JSON.stringify(runId)} gives no usable branch name`);
  return `agentruns/${safe}/${run}`;
}

function branchPart(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+|[.-]+$/g, '')
    .replace(/\.lock$/i, '-lock');
}

/** The manifest's restartedAt is this instant (same text, or the same time written differently). */
function carriesRestartedAt(text: string, restartedAt: string, path: string, name: string | undefined): boolean {
  const current = manifest(() => readManifestFacts(text, undefined, { deployment: name }), path).restartedAt;
  if (current === null || current === undefined) return false;
  if (current === restartedAt) return true;
  const [a, b] = [Date.parse(current), Date.parse(restartedAt)];
  return !Number.isNaN(a) && a === b;
}

function isMerged(pull: Pull): boolean {
  return pull.merged ?? Boolean(pull.merged_at);
}

function toRecord(pull: Pull, changes: string[]): PullRequestRecord {
  const merged = isMerged(pull);
  return {
    number: pull.number,
    url: pull.html_url,
    branch: pull.head.ref,
    headSha: pull.head.sha,
    merged,
    ...(merged && pull.merged_at ? { mergedAt: pull.merged_at } : {}),
    ...(merged && pull.merge_commit_sha ? { mergeSha: pull.merge_commit_sha } : {}),
    ...(!merged && pull.state === 'closed' ? { closed: true } : {}),
    changes,
  };
}

function closedFailure(number: number): ApplicationFailure {
  return ApplicationFailure.create({
    type: PULL_REQUEST_CLOSED,
    message: `PR #${number} was closed without being merged: nothing was restarted`,
    nonRetryable: true,
  });
}

function describeRevert(afterText: string, beforeText: string, path: string, name: string | undefined): string[] {
  const after = manifest(() => readManifestFacts(afterText, undefined, { deployment: name }), path);
  const before = manifest(() => readManifestFacts(beforeText, undefined, { deployment: name }), path);
  const changes: string[] = [];
  if (after.replicas !== before.replicas) changes.push(`replicas: ${after.replicas ?? '(unset)'} → ${before.replicas ?? '(unset)'}`);
  if (after.restartedAt !== before.restartedAt) changes.push(`restartedAt: ${after.restartedAt ?? '(unset)'} → ${before.restartedAt ?? '(unset)'}`);
  return changes;
}

/** Runs pure manifest code; a ManifestError is bad input, never worth a retry. */
function manifest<T>(fn: () => T, path: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ManifestError) throw namedFailure('InputError', `${path}: ${err.message}`, err);
    throw err;
  }
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 20)}\n\n…(truncated)`;
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toFailure(what, err);
  }
}

function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number') return err.status;
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A named failure carrying only the redacted message (never the request, whose headers hold the token). */
function toFailure(what: string, err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof Error && err.name === 'AbortError') return err;
  const status = statusOf(err);
  const cause = new Error(redact(messageOf(err)));
  const limited = rateLimitOf(err);
  if (limited !== null) return rateLimitFailure(`GitHub ${what}`, status ?? 403, limited, cause);
  if (status === 405) return namedFailure('ConflictError', `GitHub ${what}: not possible (405): ${cause.message}`, cause);
  // Octokit reports a request without an answer (refused, reset, timed out) as status 500 without a response.
  if (status === undefined || !hasResponse(err)) return failureFromStatus(undefined, `GitHub ${what}`, new Error(redact(networkMessage(err))));
  return failureFromStatus(status, `GitHub ${what}`, cause);
}

/**
 * Seconds GitHub asks us to wait when `err` is one of its rate limits (the marks the throttling
 * plugin recognises: a 403/429 saying "secondary rate limit" with `retry-after`, or no requests left
 * until `x-ratelimit-reset`); null for any other error — a 403 that is not a rate limit is a refusal.
 */
export function rateLimitOf(err: unknown): number | null {
  const status = statusOf(err);
  if (status !== 403 && status !== 429) return null;
  const headers = (err as { response?: { headers?: Record<string, string | number | undefined> } }).response?.headers ?? {};
  const retryAfter = Number(headers['retry-after']);
  if (/secondary rate limit/i.test(messageOf(err)) || (status === 429 && Number.isFinite(retryAfter))) {
    return Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 60;
  }
  if (String(headers['x-ratelimit-remaining']) === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    return Number.isFinite(reset) ? Math.max(1, Math.ceil(reset - Date.now() / 1000) + 1) : 60;
  }
  return status === 429 ? 60 : null;
}

function hasResponse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'response' in err && (err as { response?: unknown }).response !== undefined;
}

/** Why a request got no answer: a timeout, or the network error under fetch's "fetch failed". */
function networkMessage(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current.name === 'TimeoutError') return 'no answer in time (request timed out)';
    if (!(current.cause instanceof Error)) break;
    current = current.cause;
  }
  return current instanceof Error ? current.message : messageOf(err);
}
