/**
 * The simulated GitHub's state model: the repository (a real git repository, ./git-repo.ts), its
 * pull requests and their conversation comments, and the merge listeners (the simulated Argo CD
 * applies what was merged). Merging and closing live here because both the API and the
 * programmatic side ("a human clicks Merge") do them; neither checks a token.
 */
import { DOCS, HttpError, notFound } from './errors';
import type { GitRepo, Identity } from './git-repo';

export interface RepoOptions {
  owner: string;
  repo: string;
  defaultBranch: string;
  /** Login of the token's user (the PR author). */
  login: string;
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

export interface MergeInput {
  sha?: string;
  merge_method: 'merge' | 'squash' | 'rebase';
  commit_title?: string;
  commit_message?: string;
}

/** Who merges "as a human" through the programmatic API. */
export const HUMAN: Identity = { name: 'On-call Human', email: 'oncall@example.com' };

/** GitHub's timestamps: UTC, whole seconds. */
export const nowStamp = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export class GitHubState {
  readonly pullRequests: SimPullRequest[] = [];
  readonly issueComments: SimComment[] = [];
  /** Errors thrown by onMerge listeners (a merge never fails because a listener did). */
  readonly listenerErrors: Error[] = [];
  private readonly listeners = new Set<(event: MergeEvent) => void | Promise<void>>();
  private readonly pendingListeners = new Set<Promise<void>>();

  constructor(
    readonly options: RepoOptions,
    readonly git: GitRepo,
  ) {}

  pull(n: number): SimPullRequest {
    const pr = this.pullRequests.find((p) => p.number === n);
    if (!pr) throw notFound();
    return pr;
  }

  /** The commits the PR's diff spans: from where it left its base to its head (frozen once closed). */
  async diffRange(pr: SimPullRequest): Promise<{ from: string; to: string }> {
    if (pr.frozenHeadSha && pr.frozenBaseSha) return { from: pr.frozenBaseSha, to: pr.frozenHeadSha };
    const head = (await this.git.branchSha(pr.head)) ?? pr.frozenHeadSha;
    const base = await this.git.branchSha(pr.base);
    if (!head || !base) throw new Error(`pull request #${pr.number} lost its branches`);
    return { from: (await this.git.mergeBase(base, head)) ?? base, to: head };
  }

  async diff(pr: SimPullRequest): Promise<string> {
    const { from, to } = await this.diffRange(pr);
    return this.git.diff(from, to);
  }

  /**
   * Merges an open PR: 405 when it is not open or not mergeable, 409 when `sha` is not its head or
   * the base moved meanwhile. Merge listeners are told afterwards.
   */
  async merge(n: number, input: MergeInput, by: Identity): Promise<{ sha: string }> {
    const pr = this.pull(n);
    const notMergeable = () => new HttpError(405, { message: 'Pull Request is not mergeable', documentation_url: DOCS.merge });
    if (pr.state !== 'open') throw notMergeable();
    const baseSha = await this.git.branchSha(pr.base);
    const headSha = await this.git.branchSha(pr.head);
    if (!baseSha || !headSha) throw notMergeable();
    if (input.sha !== undefined && input.sha !== headSha) {
      throw new HttpError(409, { message: 'Head branch was modified. Review and try the merge again.', documentation_url: DOCS.merge });
    }
    const { tree, clean } = await this.git.mergeTree(baseSha, headSha);
    if (!clean) throw notMergeable();
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
    const now = nowStamp();
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

  /** Closes without merging; the diff is frozen where the branches were. */
  async close(pr: SimPullRequest): Promise<void> {
    const headSha = await this.git.branchSha(pr.head);
    const baseSha = await this.git.branchSha(pr.base);
    const now = nowStamp();
    pr.state = 'closed';
    pr.closedAt = now;
    pr.updatedAt = now;
    pr.frozenHeadSha = headSha;
    pr.frozenBaseSha = headSha && baseSha ? await this.git.mergeBase(baseSha, headSha) : baseSha;
  }

  onMerge(listener: (event: MergeEvent) => void | Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when every merge listener started so far has finished. */
  async settled(): Promise<void> {
    while (this.pendingListeners.size > 0) await Promise.all([...this.pendingListeners]);
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
}
