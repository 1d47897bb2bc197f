/**
 * What the simulated GitHub answers: the JSON representations of the repository, users, refs,
 * commits, contents, pull requests, their files and comments, built from the state model; and the
 * PR's web page (its html_url) as plain text for the demo.
 */
import type { Json } from './errors';
import type { CommitInfo } from './git-repo';
import type { GitHubState, SimComment, SimPullRequest } from './state';

/** The simulated repository's id and creation time. */
const REPO_ID = 1296269;
const REPO_CREATED_AT = '2026-01-01T09:00:00Z';

/** A stable positive account id for a login (GitHub ids are integers; equal logins, equal ids). */
function accountId(login: string): number {
  let hash = 0;
  for (const ch of login.toLowerCase()) hash = (hash * 31 + ch.charCodeAt(0)) % 90_000_000;
  return 10_000_000 + hash;
}

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

  /**
   * The repository as GitHub embeds it (`repository`: in a PR's head and base), or with `full` as
   * GET /repos/{owner}/{repo} answers it (`full-repository`).
   */
  repo(full = false): Json {
    const { owner, repo, defaultBranch } = this.state.options;
    const api = this.apiBase;
    const host = new URL(this.url).host;
    const openIssues = this.state.pullRequests.filter((pr) => pr.state === 'open').length;
    const json: Json = {
      id: REPO_ID,
      node_id: 'R_kgDOSim0001',
      name: repo,
      full_name: `${owner}/${repo}`,
      private: true,
      owner: this.user(owner, 'Organization'),
      html_url: this.webBase,
      description: 'GitOps manifests (simulated)',
      fork: false,
      url: api,
      archive_url: `${api}/{archive_format}{/ref}`,
      assignees_url: `${api}/assignees{/user}`,
      blobs_url: `${api}/git/blobs{/sha}`,
      branches_url: `${api}/branches{/branch}`,
      collaborators_url: `${api}/collaborators{/collaborator}`,
      comments_url: `${api}/comments{/number}`,
      commits_url: `${api}/commits{/sha}`,
      compare_url: `${api}/compare/{base}...{head}`,
      contents_url: `${api}/contents/{+path}`,
      contributors_url: `${api}/contributors`,
      deployments_url: `${api}/deployments`,
      downloads_url: `${api}/downloads`,
      events_url: `${api}/events`,
      forks_url: `${api}/forks`,
      git_commits_url: `${api}/git/commits{/sha}`,
      git_refs_url: `${api}/git/refs{/sha}`,
      git_tags_url: `${api}/git/tags{/sha}`,
      git_url: `git://${host}/${owner}/${repo}.git`,
      issue_comment_url: `${api}/issues/comments{/number}`,
      issue_events_url: `${api}/issues/events{/number}`,
      issues_url: `${api}/issues{/number}`,
      keys_url: `${api}/keys{/key_id}`,
      labels_url: `${api}/labels{/name}`,
      languages_url: `${api}/languages`,
      merges_url: `${api}/merges`,
      milestones_url: `${api}/milestones{/number}`,
      notifications_url: `${api}/notifications{?since,all,participating}`,
      pulls_url: `${api}/pulls{/number}`,
      releases_url: `${api}/releases{/id}`,
      ssh_url: `git@${host}:${owner}/${repo}.git`,
      stargazers_url: `${api}/stargazers`,
      statuses_url: `${api}/statuses/{sha}`,
      subscribers_url: `${api}/subscribers`,
      subscription_url: `${api}/subscription`,
      tags_url: `${api}/tags`,
      teams_url: `${api}/teams`,
      trees_url: `${api}/git/trees{/sha}`,
      clone_url: `${this.webBase}.git`,
      mirror_url: null,
      hooks_url: `${api}/hooks`,
      svn_url: this.webBase,
      homepage: null,
      language: null,
      forks_count: 0,
      stargazers_count: 0,
      watchers_count: 0,
      size: 0,
      default_branch: defaultBranch,
      open_issues_count: openIssues,
      is_template: false,
      topics: [],
      has_issues: true,
      has_projects: false,
      has_wiki: false,
      has_pages: false,
      has_downloads: true,
      has_discussions: false,
      archived: false,
      disabled: false,
      visibility: 'private',
      pushed_at: REPO_CREATED_AT,
      created_at: REPO_CREATED_AT,
      updated_at: REPO_CREATED_AT,
      allow_forking: false,
      web_commit_signoff_required: false,
      license: null,
      forks: 0,
      open_issues: openIssues,
      watchers: 0,
    };
    if (!full) return json;
    return {
      ...json,
      permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
      allow_merge_commit: true,
      allow_squash_merge: true,
      allow_rebase_merge: true,
      allow_auto_merge: false,
      delete_branch_on_merge: false,
      network_count: 0,
      subscribers_count: 0,
    };
  }

  /** A user or organisation as GitHub embeds it (`simple-user`), with GitHub's URL templates. */
  user(login: string, type: 'User' | 'Organization' | 'Bot' = 'User'): Json {
    const api = `${this.url}/users/${login}`;
    const id = accountId(login);
    return {
      login,
      id,
      node_id: `${type === 'Organization' ? 'O' : 'U'}_kgDOSim${id}`,
      avatar_url: `${this.url}/avatars/u/${id}?v=4`,
      gravatar_id: '',
      url: api,
      html_url: `${this.url}/${login}`,
      followers_url: `${api}/followers`,
      following_url: `${api}/following{/other_user}`,
      gists_url: `${api}/gists{/gist_id}`,
      starred_url: `${api}/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/subscriptions`,
      organizations_url: `${api}/orgs`,
      repos_url: `${api}/repos`,
      events_url: `${api}/events{/privacy}`,
      received_events_url: `${api}/received_events`,
      type,
      user_view_type: 'public',
      site_admin: false,
    };
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

  /**
   * An entry of `GET /repos/{o}/{r}/commits` (the `commit` schema): the git commit under `commit`, and
   * the GitHub accounts of author and committer — null here, as GitHub answers for an e-mail address
   * no account claims.
   */
  listedCommit(info: CommitInfo): Json {
    return {
      sha: info.sha,
      node_id: `C_${info.sha}`,
      url: `${this.apiBase}/commits/${info.sha}`,
      html_url: `${this.webBase}/commit/${info.sha}`,
      comments_url: `${this.apiBase}/commits/${info.sha}/comments`,
      commit: {
        url: `${this.apiBase}/git/commits/${info.sha}`,
        author: info.author,
        committer: info.committer,
        message: info.message.replace(/\n+$/, ''),
        comment_count: 0,
        tree: { sha: info.tree, url: `${this.apiBase}/git/trees/${info.tree}` },
        verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
      },
      author: null,
      committer: null,
      parents: info.parents.map((sha) => ({ sha, url: `${this.apiBase}/commits/${sha}`, html_url: `${this.webBase}/commit/${sha}` })),
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

  /**
   * A pull request as the list endpoint shows it (`pull-request-simple`), or with `single` as the
   * single-PR, create and update endpoints do (`pull-request`: merge state and size added).
   */
  async pull(pr: SimPullRequest, single: boolean): Promise<Json> {
    const { owner } = this.state.options;
    const headSha = pr.frozenHeadSha ?? (await this.git.branchSha(pr.head));
    const baseSha = await this.git.branchSha(pr.base);
    const api = `${this.apiBase}/pulls/${pr.number}`;
    const html = `${this.webBase}/pull/${pr.number}`;
    const issue = `${this.apiBase}/issues/${pr.number}`;
    const statuses = `${this.apiBase}/statuses/${headSha ?? ''}`;
    const repo = this.repo();
    const branch = (ref: string, sha: string | null) => ({ label: `${owner}:${ref}`, ref, sha, user: this.user(owner, 'Organization'), repo });
    const json: Json = {
      url: api,
      id: 1_000_000 + pr.number,
      node_id: `PR_kwDOSim${pr.number}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: issue,
      commits_url: `${api}/commits`,
      review_comments_url: `${api}/comments`,
      review_comment_url: `${this.apiBase}/pulls/comments{/number}`,
      comments_url: `${issue}/comments`,
      statuses_url: statuses,
      number: pr.number,
      state: pr.state,
      locked: false,
      title: pr.title,
      user: this.user(pr.user),
      body: pr.body,
      labels: [],
      milestone: null,
      active_lock_reason: null,
      created_at: pr.createdAt,
      updated_at: pr.updatedAt,
      closed_at: pr.closedAt,
      merged_at: pr.mergedAt,
      merge_commit_sha: pr.mergeSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: branch(pr.head, headSha),
      base: branch(pr.base, baseSha),
      _links: {
        self: { href: api },
        html: { href: html },
        issue: { href: issue },
        comments: { href: `${issue}/comments` },
        review_comments: { href: `${api}/comments` },
        review_comment: { href: `${this.apiBase}/pulls/comments{/number}` },
        commits: { href: `${api}/commits` },
        statuses: { href: statuses },
      },
      author_association: 'MEMBER',
      auto_merge: null,
      draft: false,
    };
    if (!single) return json;
    const { from, to } = await this.state.diffRange(pr);
    const files = await this.git.diffFiles(from, to);
    const mergeable = pr.state === 'open' && baseSha && headSha ? (await this.git.mergeTree(baseSha, headSha)).clean : null;
    return {
      ...json,
      merged: pr.merged,
      mergeable,
      rebaseable: mergeable,
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
