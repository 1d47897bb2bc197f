/**
 * What the simulated GitHub answers: the JSON representations of the repository, users, refs,
 * commits, contents, pull requests, their files and comments, built from the state model; and the
 * PR's web page (its html_url) as plain text for the demo.
 */
import type { Json } from './errors';
import type { CommitInfo } from './git-repo';
import type { GitHubState, SimComment, SimPullRequest } from './state';

export class GitHubResponses {
  constructor(
    private readonly state: GitHubState,
    /** Base URL of the simulator (the API root and the web root alike). */
    private readonly url: string,
  ) {}

  private get git() {
    return this.state.git;
  }

  get apiBase(): string {
    return `${this.url}/repos/${this.state.options.owner}/${this.state.options.repo}`;
  }

  private get webBase(): string {
    return `${this.url}/${this.state.options.owner}/${this.state.options.repo}`;
  }

  repo(): Json {
    const { owner, repo, defaultBranch } = this.state.options;
    return {
      id: 1,
      node_id: 'R_sim',
      name: repo,
      full_name: `${owner}/${repo}`,
      private: true,
      owner: this.user(owner),
      html_url: this.webBase,
      url: this.apiBase,
      default_branch: defaultBranch,
      allow_merge_commit: true,
      allow_squash_merge: true,
      allow_rebase_merge: true,
    };
  }

  user(login: string): Json {
    return { login, id: login.length, node_id: `U_${login}`, type: 'User', site_admin: false };
  }

  ref(ref: string, sha: string): Json {
    return {
      ref,
      node_id: `REF_${Buffer.from(ref).toString('base64url')}`,
      url: `${this.apiBase}/git/${ref}`,
      object: { sha, type: 'commit', url: `${this.apiBase}/git/commits/${sha}` },
    };
  }

  commit(info: CommitInfo): Json {
    return {
      sha: info.sha,
      node_id: `C_${info.sha}`,
      url: `${this.apiBase}/git/commits/${info.sha}`,
      html_url: `${this.webBase}/commit/${info.sha}`,
      author: info.author,
      committer: info.committer,
      message: info.message.replace(/\n+$/, ''),
      tree: { sha: info.tree, url: `${this.apiBase}/git/trees/${info.tree}` },
      parents: info.parents.map((sha) => ({
        sha,
        url: `${this.apiBase}/git/commits/${sha}`,
        html_url: `${this.webBase}/commit/${sha}`,
      })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    };
  }

  contentMeta(path: string, sha: string, size: number, ref: string): Json {
    const self = `${this.apiBase}/contents/${path}?ref=${encodeURIComponent(ref)}`;
    const html = `${this.webBase}/blob/${ref}/${path}`;
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
      download_url: `${this.webBase}/raw/${ref}/${path}`,
      _links: { self, git, html },
    };
  }

  async tree(commit: string, path: string, ref: string): Promise<Json[]> {
    const entries = await this.git.listTree(commit, path);
    return entries.map((e) => ({ ...this.contentMeta(e.path, e.sha, e.size, ref), type: e.type === 'tree' ? 'dir' : 'file' }));
  }

  comment(c: SimComment): Json {
    return {
      id: c.id,
      node_id: `IC_sim${c.id}`,
      url: `${this.apiBase}/issues/comments/${c.id}`,
      html_url: `${this.webBase}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${this.apiBase}/issues/${c.issue}`,
      body: c.body,
      user: this.user(c.user),
      created_at: c.createdAt,
      updated_at: c.createdAt,
      author_association: 'MEMBER',
    };
  }

  async pullFiles(pr: SimPullRequest): Promise<Json[]> {
    const { from, to } = await this.state.diffRange(pr);
    const files = await this.git.diffFiles(from, to);
    return Promise.all(
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
          blob_url: `${this.webBase}/blob/${to}/${f.path}`,
          raw_url: `${this.webBase}/raw/${to}/${f.path}`,
          contents_url: `${this.apiBase}/contents/${f.path}?ref=${to}`,
          patch: hunks === -1 ? '' : patch.slice(hunks + 1).replace(/\n$/, ''),
        };
      }),
    );
  }

  /** A pull request as the list endpoint shows it, or (`single`) with merge state and size as the single-PR endpoint does. */
  async pull(pr: SimPullRequest, single: boolean): Promise<Json> {
    const { owner, repo } = this.state.options;
    const headSha = pr.frozenHeadSha ?? (await this.git.branchSha(pr.head));
    const baseSha = await this.git.branchSha(pr.base);
    const html = `${this.webBase}/pull/${pr.number}`;
    const repoRef = { id: 1, name: repo, full_name: `${owner}/${repo}`, owner: this.user(owner) };
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
      user: this.user(pr.user),
      body: pr.body,
      labels: [],
      created_at: pr.createdAt,
      updated_at: pr.updatedAt,
      closed_at: pr.closedAt,
      merged_at: pr.mergedAt,
      merge_commit_sha: pr.mergeSha,
      draft: false,
      head: { label: `${owner}:${pr.head}`, ref: pr.head, sha: headSha, user: this.user(owner), repo: repoRef },
      base: { label: `${owner}:${pr.base}`, ref: pr.base, sha: baseSha, user: this.user(owner), repo: repoRef },
      author_association: 'MEMBER',
    };
    if (!single) return json;
    const { from, to } = await this.state.diffRange(pr);
    const files = await this.git.diffFiles(from, to);
    const mergeable = pr.state === 'open' && baseSha && headSha ? (await this.git.mergeTree(baseSha, headSha)).clean : null;
    return {
      ...json,
      merged: pr.merged,
      mergeable,
      mergeable_state: pr.state !== 'open' ? 'unknown' : mergeable ? 'clean' : 'dirty',
      merged_by: pr.mergedBy ? this.user(pr.mergedBy) : null,
      comments: this.state.issueComments.filter((c) => c.issue === pr.number).length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: await this.git.countCommits(`${from}..${to}`),
      additions: files.reduce((n, f) => n + f.additions, 0),
      deletions: files.reduce((n, f) => n + f.deletions, 0),
      changed_files: files.length,
    };
  }

  /** The PR's web page as text: title, branches, state, body, comments and diff. */
  async pullPage(pr: SimPullRequest): Promise<string> {
    const state = pr.merged ? `merged by ${pr.mergedBy ?? '?'} at ${pr.mergedAt ?? '?'}` : pr.state;
    const comments = this.state.issueComments.filter((c) => c.issue === pr.number).map((c) => `--- ${c.user} commented at ${c.createdAt}\n${c.body}\n`);
    return `#${pr.number} ${pr.title}\n${pr.head} → ${pr.base} (${state})\n\n${pr.body ?? ''}\n\n${comments.length ? `${comments.join('\n')}\n` : ''}${await this.state.diff(pr)}`;
  }
}
