/**
 * The GitHub activities through the real Octokit client against the simulated GitHub (a real git
 * repository behind GitHub's REST wire format). No Temporal server needed: activities are called
 * directly, or inside MockActivityEnvironment where heartbeats and cancellation matter.
 */
import { Octokit } from '@octokit/rest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createGitHubActivities, createOctokit, incidentBranch, type OpenRestartPullRequestInput } from '../../activities/github';
import { GitHubSim, TORGHUT_CONFIGMAP_PATH, TORGHUT_DEPLOYMENT_PATH, TORGHUT_KAFKA_BOOTSTRAP, type MergeEvent } from '../../sim/github';
import { failureOf } from '../support/failures';

const OWNER = 'proompteng';
const REPO = 'lab';
const TOKEN = 'sim-token-for-tests';
const WORKFLOW_ID = 'agentruns-torghut-ws-torghut';
/** Temporal run IDs are UUIDs; the branch takes the first 8 characters. */
const RUN_ID = '0f8e2a1b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
const BRANCH = `agentruns/${WORKFLOW_ID}/0f8e2a1b`;
const RESTARTED_AT = '2026-02-08T10:00:00Z';
const SEEDED_RESTART = '2026-01-01T09:30:00Z';

let sim: GitHubSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function setup(options: { replicas?: number; pace?: boolean; token?: string } = {}) {
  sim = await GitHubSim.start({ owner: OWNER, repo: REPO, token: TOKEN, replicas: options.replicas ?? 2 });
  const octokit = createOctokit({ baseUrl: sim.url, token: options.token ?? TOKEN, pace: options.pace ?? false, retryAfterBaseValue: 1 });
  const github = createGitHubActivities({ octokit, owner: OWNER, repo: REPO, baseBranch: 'main' });
  return { sim, octokit, github };
}

function restartInput(overrides: Partial<OpenRestartPullRequestInput> = {}): OpenRestartPullRequestInput {
  return {
    workflowId: WORKFLOW_ID,
    runId: RUN_ID,
    deploymentPath: TORGHUT_DEPLOYMENT_PATH,
    restartedAt: RESTARTED_AT,
    expectedReplicas: 1,
    title: 'Restart torghut/torghut-ws (alpaca_406_second_connection)',
    body: 'Diagnosis: alpaca_406_second_connection, procedure A.\nApproved by oncall-alice.',
    ...overrides,
  };
}

/** The -/+ lines of a unified diff, without the ---/+++ file headers. */
function changedLines(diff: string): string[] {
  return diff.split('\n').filter((line) => /^[-+]/.test(line) && !/^(---|\+\+\+) /.test(line));
}

async function commitsAhead(s: GitHubSim, branch: string): Promise<number> {
  const onMain = new Set((await s.commits('main')).map((c) => c.sha));
  return (await s.commits(branch)).filter((c) => !onMain.has(c.sha)).length;
}

describe('restart PR (procedure A)', () => {
  it('406 with two replicas → one PR whose diff is the restartedAt bump and replicas reset to 1, nothing else', async () => {
    const { sim, octokit, github } = await setup({ replicas: 2 });
    const before = await sim.fileAt('main', TORGHUT_DEPLOYMENT_PATH);

    const pr = await github.openRestartPullRequest(restartInput());

    expect(pr).toMatchObject({ number: 1, branch: BRANCH, merged: false, url: `${sim.url}/${OWNER}/${REPO}/pull/1` });
    expect(pr.changes).toEqual(['replicas: 2 → 1', `restartedAt: ${SEEDED_RESTART} → ${RESTARTED_AT}`]);
    const diff = await sim.diff(pr.number);
    expect(diff.match(/^diff --git /gm)).toHaveLength(1);
    expect(diff).toContain(`diff --git a/${TORGHUT_DEPLOYMENT_PATH} b/${TORGHUT_DEPLOYMENT_PATH}`);
    expect(changedLines(diff)).toEqual([
      '-  replicas: 2',
      '+  replicas: 1',
      `-        kubectl.kubernetes.io/restartedAt: "${SEEDED_RESTART}" # last GitOps restart`,
      `+        kubectl.kubernetes.io/restartedAt: "${RESTARTED_AT}" # last GitOps restart`,
    ]);
    const { data: files } = await octokit.rest.pulls.listFiles({ owner: OWNER, repo: REPO, pull_number: pr.number });
    expect(files.map((f) => [f.filename, f.status, f.additions, f.deletions])).toEqual([[TORGHUT_DEPLOYMENT_PATH, 'modified', 2, 2]]);
    // The base branch is untouched until someone merges, and the branch is one commit ahead of it.
    expect(await sim.fileAt('main', TORGHUT_DEPLOYMENT_PATH)).toBe(before);
    expect(await commitsAhead(sim, BRANCH)).toBe(1);
    expect(pr.headSha).toBe(await sim.branchSha(BRANCH));
  });

  it('replicas already 1 → the PR changes the annotation line only', async () => {
    const { sim, github } = await setup({ replicas: 1 });
    const pr = await github.openRestartPullRequest(restartInput());
    expect(pr.changes).toEqual([`restartedAt: ${SEEDED_RESTART} → ${RESTARTED_AT}`]);
    expect(changedLines(await sim.diff(pr.number))).toEqual([
      `-        kubectl.kubernetes.io/restartedAt: "${SEEDED_RESTART}" # last GitOps restart`,
      `+        kubectl.kubernetes.io/restartedAt: "${RESTARTED_AT}" # last GitOps restart`,
    ]);
  });

  it('secrets in the PR title, body and commit message are redacted before they reach GitHub', async () => {
    const { sim, github } = await setup();
    const leaked = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
    await github.openRestartPullRequest(restartInput({ title: `Restart (token ${leaked})`, body: `log: Authorization: Bearer ${leaked}` }));
    const [pull] = sim.pulls();
    expect(`${pull?.title} ${pull?.body}`).not.toContain(leaked);
    expect(pull?.body).toContain('[REDACTED]');
    const [commit] = await sim.commits(BRANCH);
    expect(commit?.subject).not.toContain(leaked);
  });

  it('activity retried after the PR was opened → the same PR back, still one PR and one commit, no writes', async () => {
    const { sim, github } = await setup();
    const first = await github.openRestartPullRequest(restartInput());
    const writes = sim.writes().length;

    const second = await github.openRestartPullRequest(restartInput());

    expect(second).toEqual(first);
    expect(sim.pulls()).toHaveLength(1);
    expect(await commitsAhead(sim, BRANCH)).toBe(1);
    expect(sim.writes()).toHaveLength(writes);
  });

  it('attempt that died after committing but before opening the PR → retry reuses the branch and commit', async () => {
    const { sim, github } = await setup();
    // A 502 on every try of the attempt (the request and its two client retries): the attempt fails
    // retryably, its branch and commit stay for the next attempt (a 422 would delete the branch).
    sim.failNext({ method: 'POST', path: /\/pulls$/, status: 502, message: 'Bad Gateway', times: 3 });
    const failure = await failureOf(github.openRestartPullRequest(restartInput()));
    expect(failure.nonRetryable).toBe(false);
    expect(sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls')).map((r) => r.status)).toEqual([502, 502, 502]);
    expect(sim.pulls()).toHaveLength(0);
    expect(await commitsAhead(sim, BRANCH)).toBe(1);

    const pr = await github.openRestartPullRequest(restartInput());

    expect(pr.number).toBe(1);
    expect(await commitsAhead(sim, BRANCH)).toBe(1);
    expect(sim.writes().filter((w) => w.method === 'PUT' && w.path.includes('/contents/'))).toHaveLength(1);
  });

  it('someone committed on the branch between read and write (409) → re-read and commit once more', async () => {
    const { sim, github } = await setup();
    sim.failNext({ method: 'PUT', path: '/contents/', status: 409, message: `${TORGHUT_DEPLOYMENT_PATH} does not match` });
    const pr = await github.openRestartPullRequest(restartInput());
    expect(pr.number).toBe(1);
    expect(sim.requests.filter((r) => r.method === 'PUT' && r.path.includes('/contents/')).map((r) => r.status)).toEqual([409, 200]);
    expect(await commitsAhead(sim, BRANCH)).toBe(1);
  });

  it('dry run → the change is computed and returned, nothing is written (no branch, commit or PR)', async () => {
    const { sim, github } = await setup();
    const pr = await github.openRestartPullRequest(restartInput({ dryRun: true }));
    expect(pr).toEqual({
      number: 0,
      url: '',
      branch: BRANCH,
      merged: false,
      dryRun: true,
      changes: ['replicas: 2 → 1', `restartedAt: ${SEEDED_RESTART} → ${RESTARTED_AT}`],
    });
    expect(sim.requests.length).toBeGreaterThan(0);
    expect(sim.writes()).toEqual([]);
    expect(await sim.branchSha(BRANCH)).toBeNull();
    expect(sim.pulls()).toEqual([]);
  });

  it('a manifest that is not a Deployment → InputError, nothing written', async () => {
    const { sim, github } = await setup();
    const failure = await failureOf(github.openRestartPullRequest(restartInput({ deploymentPath: TORGHUT_CONFIGMAP_PATH })));
    expect(failure.type).toBe('InputError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/holds no Deployment \(it holds ConfigMap\/torghut-ws\)/);
    expect(sim.writes()).toEqual([]);
  });
});

describe('GitHub rejects what it would reject', () => {
  it('stale blob sha → 409, missing sha on an existing file → 422', async () => {
    const { sim, octokit } = await setup();
    const { data } = await octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path: TORGHUT_DEPLOYMENT_PATH, ref: 'main' });
    const staleSha = (data as { sha: string }).sha;
    await sim.commitFile({ branch: 'main', path: TORGHUT_DEPLOYMENT_PATH, content: 'kind: Deployment\n', message: 'a colleague edits' });
    const put = (sha?: string) =>
      octokit.rest.repos.createOrUpdateFileContents({
        owner: OWNER,
        repo: REPO,
        path: TORGHUT_DEPLOYMENT_PATH,
        message: 'bump',
        content: Buffer.from('kind: Deployment\nspec: {}\n').toString('base64'),
        ...(sha ? { sha } : {}),
      });

    await expect(put(staleSha)).rejects.toMatchObject({ status: 409, message: expect.stringContaining(`does not match ${staleSha}`) as unknown });
    await expect(put()).rejects.toMatchObject({ status: 422, message: expect.stringContaining('"sha" wasn\'t supplied') as unknown });
  });

  it('a second PR for the same head → 422 "A pull request already exists"', async () => {
    const { octokit, github } = await setup();
    await github.openRestartPullRequest(restartInput());
    const err: unknown = await octokit.rest.pulls.create({ owner: OWNER, repo: REPO, head: BRANCH, base: 'main', title: 'again' }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      status: 422,
      response: { data: { message: 'Validation Failed', errors: [{ message: `A pull request already exists for ${OWNER}:${BRANCH}.` }] } },
    });
  });

  it('bad token → 401 Bad credentials, surfaced as a non-retryable NotAllowedError', async () => {
    const { sim, github } = await setup({ token: 'ghp_wrongwrongwrongwrongwrongwrong0000' });
    const failure = await failureOf(github.readGitOpsFacts({ deploymentPath: TORGHUT_DEPLOYMENT_PATH }));
    expect(failure.type).toBe('NotAllowedError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('Bad credentials');
    expect(failure.message).not.toContain('ghp_wrong');
    expect(sim.requests.map((r) => r.status)).toEqual([401]);
  });

  it('unknown route and wrong method → 404, malformed JSON → 400 "Problems parsing JSON"', async () => {
    const { sim } = await setup();
    const call = async (method: string, path: string, body?: string) => {
      const res = await fetch(`${sim.url}${path}`, { method, headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' }, body });
      return { status: res.status, body: (await res.json()) as { message: string } };
    };
    expect(await call('GET', `/repos/${OWNER}/${REPO}/nothing-here`)).toEqual({ status: 404, body: expect.objectContaining({ message: 'Not Found' }) as unknown });
    expect(await call('GET', `/repos/${OWNER}/another-repo/pulls`)).toMatchObject({ status: 404 });
    expect(await call('DELETE', `/repos/${OWNER}/${REPO}/pulls`)).toMatchObject({ status: 404, body: { message: 'Not Found' } });
    expect(await call('POST', `/repos/${OWNER}/${REPO}/pulls`, '{"title": "x",')).toMatchObject({ status: 400, body: { message: 'Problems parsing JSON' } });
    expect(await call('POST', `/repos/${OWNER}/${REPO}/git/refs`, '{"ref":"refs/heads/x","sha":"0000000000000000000000000000000000000000"}')).toMatchObject({
      status: 422,
      body: { message: 'Object does not exist' },
    });
    const anonymous = await fetch(`${sim.url}/repos/${OWNER}/${REPO}/pulls`);
    expect(anonymous.status).toBe(401);
  });

  it('secondary rate limit → the throttling plugin waits and retries; a 502 → the retry plugin retries', async () => {
    const { sim, github } = await setup({ pace: true });
    sim.failNext({ method: 'GET', path: '/contents/', status: 403, message: 'You have exceeded a secondary rate limit.', headers: { 'retry-after': '1' } });
    sim.failNext({ method: 'GET', path: '/contents/', status: 502, message: 'Server Error' });
    const facts = await github.readGitOpsFacts({ deploymentPath: TORGHUT_DEPLOYMENT_PATH });
    expect(facts.replicas).toBe(2);
    expect(sim.requests.map((r) => r.status)).toEqual([403, 502, 200]);
  });
});

describe('merge, facts and rollback', () => {
  it('auto-merge → merged record with the merge commit; facts at main then show replicas 1 and the new restartedAt', async () => {
    const { sim, github } = await setup({ replicas: 2 });
    const merges: MergeEvent[] = [];
    sim.onMerge((event) => {
      merges.push(event);
    });
    expect(await github.readGitOpsFacts({ deploymentPath: TORGHUT_DEPLOYMENT_PATH, configMapPath: TORGHUT_CONFIGMAP_PATH })).toEqual({
      ref: 'main',
      replicas: 2,
      restartedAt: SEEDED_RESTART,
      kafkaBootstrap: TORGHUT_KAFKA_BOOTSTRAP,
      liveKafkaBootstrap: null,
    });
    const opened = await github.openRestartPullRequest(restartInput());

    const merged = await github.mergePullRequest({ pr: opened });

    expect(merged).toMatchObject({ number: opened.number, merged: true, changes: opened.changes });
    expect(merged.mergeSha).toBe(await sim.branchSha('main'));
    expect((await sim.commits('main'))[0]?.parents).toHaveLength(2);
    expect(await github.readGitOpsFacts({ deploymentPath: TORGHUT_DEPLOYMENT_PATH, configMapPath: TORGHUT_CONFIGMAP_PATH })).toMatchObject({
      replicas: 1,
      restartedAt: RESTARTED_AT,
      kafkaBootstrap: TORGHUT_KAFKA_BOOTSTRAP,
    });
    await sim.settled();
    expect(merges).toEqual([{ number: 1, base: 'main', mergeSha: merged.mergeSha, headSha: opened.headSha, files: [TORGHUT_DEPLOYMENT_PATH] }]);

    // Merging again (a retried activity) is a no-op returning the same record.
    const writes = sim.writes().length;
    expect(await github.mergePullRequest(opened.number)).toMatchObject({ merged: true, mergeSha: merged.mergeSha });
    expect(sim.writes()).toHaveLength(writes);
    expect(await github.getPullRequest(opened.number)).toMatchObject({
      merged: true,
      changes: [`modified ${TORGHUT_DEPLOYMENT_PATH} (+2 -2)`],
    });
  });

  it('a human merges while the activity waits → merged record, heartbeats between polls', async () => {
    const { sim, github } = await setup();
    const opened = await github.openRestartPullRequest(restartInput());
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => {
      beats.push(details);
      if (beats.length === 3) void sim.mergePullRequest(opened.number);
    });

    const merged = await env.run(() => github.waitForMerge({ pr: opened, pollIntervalMs: 10, timeoutMs: 30_000 }));

    expect(merged).toMatchObject({ number: opened.number, merged: true, changes: opened.changes });
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats[0]).toMatchObject({ polls: 1, state: 'open', startedAt: expect.any(Number) as unknown });
  });

  it('PR closed without merge → PullRequestClosedError; never merged in time → TimeoutError; both non-retryable', async () => {
    const { sim, github } = await setup();
    const opened = await github.openRestartPullRequest(restartInput());

    const timeout = await failureOf(github.waitForMerge({ number: opened.number, pollIntervalMs: 10, timeoutMs: 50 }));
    expect(timeout).toMatchObject({ type: 'TimeoutError', nonRetryable: true });

    await sim.closePullRequest(opened.number);
    const closed = await failureOf(github.waitForMerge({ pr: opened, pollIntervalMs: 10, timeoutMs: 1_000 }));
    expect(closed).toMatchObject({ type: 'PullRequestClosedError', nonRetryable: true });
    await expect(github.mergePullRequest({ pr: opened })).rejects.toMatchObject({ type: 'PullRequestClosedError' });
  });

  it('waiting is cancellable: cancelling the activity ends the wait', async () => {
    const { github } = await setup();
    const opened = await github.openRestartPullRequest(restartInput());
    const env = new MockActivityEnvironment();
    env.once('heartbeat', () => env.cancel());
    await expect(env.run(() => github.waitForMerge({ pr: opened, pollIntervalMs: 60_000, timeoutMs: 120_000 }))).rejects.toMatchObject({ name: 'CancelledFailure' });
  });

  it('rollback → a revert PR whose merge restores the manifest byte for byte; asking again returns the same PR', async () => {
    const { sim, github } = await setup({ replicas: 2 });
    const original = await sim.fileAt('main', TORGHUT_DEPLOYMENT_PATH);
    const restart = await github.mergePullRequest({ pr: await github.openRestartPullRequest(restartInput()) });

    const revert = await github.openRevertPullRequest({
      workflowId: WORKFLOW_ID,
      runId: RUN_ID,
      pr: restart,
      deploymentPath: TORGHUT_DEPLOYMENT_PATH,
      body: `Reverts #${restart.number}: the restart did not help.`,
    });

    expect(revert).toMatchObject({ number: 2, branch: `${BRANCH}-revert`, merged: false });
    expect(revert.changes).toEqual([`replicas: 1 → 2`, `restartedAt: ${RESTARTED_AT} → ${SEEDED_RESTART}`]);
    expect(changedLines(await sim.diff(revert.number))).toEqual([
      '-  replicas: 1',
      '+  replicas: 2',
      `-        kubectl.kubernetes.io/restartedAt: "${RESTARTED_AT}" # last GitOps restart`,
      `+        kubectl.kubernetes.io/restartedAt: "${SEEDED_RESTART}" # last GitOps restart`,
    ]);
    const again = await github.openRevertPullRequest({ workflowId: WORKFLOW_ID, runId: RUN_ID, pr: restart, deploymentPath: TORGHUT_DEPLOYMENT_PATH, body: 'again' });
    expect(again).toEqual(revert);
    expect(sim.pulls()).toHaveLength(2);

    await sim.mergePullRequest(revert.number);
    expect(await sim.fileAt('main', TORGHUT_DEPLOYMENT_PATH)).toBe(original);
  });

  it('rollback after someone else changed the manifest → ConflictError, no revert PR', async () => {
    const { sim, github } = await setup();
    const restart = await github.mergePullRequest({ pr: await github.openRestartPullRequest(restartInput()) });
    const current = (await sim.fileAt('main', TORGHUT_DEPLOYMENT_PATH))!;
    await sim.commitFile({ branch: 'main', path: TORGHUT_DEPLOYMENT_PATH, content: current.replace('revisionHistoryLimit: 5', 'revisionHistoryLimit: 3'), message: 'tune' });

    const failure = await failureOf(
      github.openRevertPullRequest({ workflowId: WORKFLOW_ID, runId: RUN_ID, pr: restart, deploymentPath: TORGHUT_DEPLOYMENT_PATH, body: 'revert' }),
    );
    expect(failure).toMatchObject({ type: 'ConflictError', nonRetryable: true });
    expect(sim.pulls()).toHaveLength(1);
  });

  it('the sim is driven by the stock Octokit too (no plugins), as any GitHub client would be', async () => {
    const { sim } = await setup();
    const plain = new Octokit({ baseUrl: sim.url, auth: TOKEN });
    const { data } = await plain.rest.git.getRef({ owner: OWNER, repo: REPO, ref: 'heads/main' });
    expect(data.object.sha).toBe(await sim.branchSha('main'));
  });
});

describe('one branch per incident run', () => {
  const SECOND_RUN_ID = '7c6b5a49-3827-4160-9f8e-7d6c5b4a3928';
  const SECOND_RESTART = '2026-02-09T16:45:00Z';

  it('names the branch agentruns/<workflowId>/<first 8 of runId> (revert: …-revert); without a run ID as before', () => {
    expect(incidentBranch(WORKFLOW_ID, RUN_ID)).toBe(BRANCH);
    expect(incidentBranch(WORKFLOW_ID)).toBe(`agentruns/${WORKFLOW_ID}`);
    expect(incidentBranch('wf with spaces', 'ab..cd/ef-rest')).toBe('agentruns/wf-with-spaces/ab.cd-e');
    expect(() => incidentBranch(WORKFLOW_ID, '////')).toThrow(/run ID/);
  });

  it('two incidents of the same target (same workflow ID, different runs) → two branches and two PRs; the second is not the first, merged, PR adopted', async () => {
    const { sim, github } = await setup({ replicas: 2 });
    const first = await github.mergePullRequest({ pr: await github.openRestartPullRequest(restartInput()) });
    expect(first).toMatchObject({ number: 1, branch: BRANCH, merged: true });

    const second = await github.openRestartPullRequest(restartInput({ runId: SECOND_RUN_ID, restartedAt: SECOND_RESTART }));

    expect(second).toMatchObject({ number: 2, branch: `agentruns/${WORKFLOW_ID}/7c6b5a49`, merged: false });
    expect(second.mergeSha).toBeUndefined();
    expect(second.changes).toEqual([`restartedAt: ${RESTARTED_AT} → ${SECOND_RESTART}`]);
    expect(sim.pulls().map((p) => [p.number, p.head, p.state, p.merged])).toEqual([
      [1, BRANCH, 'closed', true],
      [2, `agentruns/${WORKFLOW_ID}/7c6b5a49`, 'open', false],
    ]);
    expect(changedLines(await sim.diff(2))).toEqual([
      `-        kubectl.kubernetes.io/restartedAt: "${RESTARTED_AT}" # last GitOps restart`,
      `+        kubectl.kubernetes.io/restartedAt: "${SECOND_RESTART}" # last GitOps restart`,
    ]);
    const [commit] = await sim.commits(second.branch);
    expect(commit?.subject).toContain('Restart torghut/torghut-ws');

    // Its revert branch is its own too.
    const revert = await github.openRevertPullRequest({
      workflowId: WORKFLOW_ID,
      runId: SECOND_RUN_ID,
      pr: await github.mergePullRequest({ pr: second }),
      deploymentPath: TORGHUT_DEPLOYMENT_PATH,
      body: 'revert',
    });
    expect(revert).toMatchObject({ number: 3, branch: `agentruns/${WORKFLOW_ID}/7c6b5a49-revert`, changes: [`restartedAt: ${SECOND_RESTART} → ${RESTARTED_AT}`] });
  });

  it('an existing PR on the branch that does not carry this restartedAt (an earlier incident\'s, merged or open) → ConflictError, nothing written', async () => {
    const { sim, github } = await setup();
    // Without a run ID every incident of the target shares one branch name.
    const legacy = restartInput({ runId: undefined });
    const merged = await github.mergePullRequest({ pr: await github.openRestartPullRequest(legacy) });
    expect(merged.branch).toBe(`agentruns/${WORKFLOW_ID}`);
    let writes = sim.writes().length;

    const adopted = await failureOf(github.openRestartPullRequest({ ...legacy, restartedAt: SECOND_RESTART }));
    expect(adopted).toMatchObject({ type: 'ConflictError', nonRetryable: true });
    expect(adopted.message).toContain(`PR #1 (merged) on branch agentruns/${WORKFLOW_ID} does not carry this incident's restartedAt ${SECOND_RESTART}`);
    expect(sim.writes()).toHaveLength(writes);

    // The same with a stale OPEN PR left on a per-run branch (another workflow ID: the legacy branch
    // agentruns/<WORKFLOW_ID> would block agentruns/<WORKFLOW_ID>/… in git).
    const other = { workflowId: 'agentruns-torghut-ws-other', runId: SECOND_RUN_ID };
    const stale = await github.openRestartPullRequest(restartInput({ ...other, restartedAt: '2026-02-09T12:00:00Z' }));
    writes = sim.writes().length;
    const open = await failureOf(github.openRestartPullRequest(restartInput({ ...other, restartedAt: SECOND_RESTART })));
    expect(open).toMatchObject({ type: 'ConflictError' });
    expect(open.message).toContain(`PR #${stale.number} (open)`);
    expect(sim.writes()).toHaveLength(writes);
    expect(sim.pulls()).toHaveLength(2);
  });

  it('an old per-workflow branch that blocks the per-run one (git: a/b beside a) → ConflictError naming the branch to delete', async () => {
    const { sim, github } = await setup();
    await github.openRestartPullRequest(restartInput({ runId: undefined }));
    const failure = await failureOf(github.openRestartPullRequest(restartInput({ restartedAt: SECOND_RESTART })));
    expect(failure).toMatchObject({ type: 'ConflictError', nonRetryable: true });
    expect(failure.message).toContain(`cannot create branch ${BRANCH}: the branch agentruns/${WORKFLOW_ID} exists`);
    expect(sim.pulls()).toHaveLength(1);
  });
});

describe('closing a PR the incident will not merge', () => {
  it('posts the comment (redacted), closes the PR; asking again changes nothing', async () => {
    const { sim, github } = await setup();
    const opened = await github.openRestartPullRequest(restartInput());
    const leaked = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';

    const closed = await github.closePullRequest({ pr: opened, comment: `Incident rejected by oncall-bob; closing (token ${leaked}).` });

    expect(closed).toMatchObject({ number: opened.number, branch: BRANCH, merged: false, changes: opened.changes });
    expect(sim.pulls()[0]).toMatchObject({ state: 'closed', merged: false });
    expect(sim.comments(opened.number).map((c) => c.body)).toEqual(['Incident rejected by oncall-bob; closing (token [REDACTED]).']);
    expect(sim.writes().slice(-2).map((w) => [w.method, w.path, w.status])).toEqual([
      ['POST', `/repos/${OWNER}/${REPO}/issues/${opened.number}/comments`, 201],
      ['PATCH', `/repos/${OWNER}/${REPO}/pulls/${opened.number}`, 200],
    ]);

    const writes = sim.writes().length;
    expect(await github.closePullRequest({ pr: opened, comment: 'again' })).toEqual(closed);
    expect(sim.writes()).toHaveLength(writes);
    expect(sim.comments()).toHaveLength(1);
  });

  it('a merged PR is returned unchanged, without a comment; a dry-run record has nothing to close', async () => {
    const { sim, github } = await setup();
    const merged = await github.mergePullRequest({ pr: await github.openRestartPullRequest(restartInput()) });
    const writes = sim.writes().length;
    expect(await github.closePullRequest({ pr: merged, comment: 'not needed' })).toEqual(merged);
    expect(sim.writes()).toHaveLength(writes);
    expect(sim.comments()).toEqual([]);

    const dryRun = { number: 0, url: '', branch: BRANCH, merged: false, dryRun: true, changes: [] };
    expect(await github.closePullRequest({ pr: dryRun, comment: 'x' })).toEqual(dryRun);
    expect(sim.writes()).toHaveLength(writes);
  });

  it('an attempt that commented but failed to close → the retry closes it without commenting twice', async () => {
    const { sim, github } = await setup();
    const opened = await github.openRestartPullRequest(restartInput());
    sim.failNext({ method: 'PATCH', path: /\/pulls\/\d+$/, status: 502, message: 'Server Error', times: 4 });
    const failure = await failureOf(github.closePullRequest({ pr: opened, comment: 'Expired: nobody approved within 30 minutes.' }));
    expect(failure).toMatchObject({ type: 'UpstreamError', nonRetryable: false });
    expect(sim.pulls()[0]?.state).toBe('open');

    await github.closePullRequest({ pr: opened, comment: 'Expired: nobody approved within 30 minutes.' });
    expect(sim.pulls()[0]?.state).toBe('closed');
    expect(sim.comments(opened.number)).toHaveLength(1);
  });

  it('an unknown PR → NotFoundError', async () => {
    const { github } = await setup();
    const failure = await failureOf(github.closePullRequest({ pr: { number: 42, url: '', branch: BRANCH, merged: false, changes: [] }, comment: 'x' }));
    expect(failure).toMatchObject({ type: 'NotFoundError', nonRetryable: true });
  });

  it('the sim answers the comment and close endpoints as GitHub does: 401, 404, 422', async () => {
    const { sim, github } = await setup();
    const opened = await github.openRestartPullRequest(restartInput());
    const call = async (method: string, path: string, body?: unknown, token: string | null = TOKEN) => {
      const res = await fetch(`${sim.url}/repos/${OWNER}/${REPO}${path}`, {
        method,
        headers: { ...(token ? { authorization: `token ${token}` } : {}), 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await call('POST', `/issues/${opened.number}/comments`, { body: 'hi' }, null)).toMatchObject({ status: 401, body: { message: 'Requires authentication' } });
    expect(await call('PATCH', `/pulls/${opened.number}`, { state: 'closed' }, 'wrong')).toMatchObject({ status: 401, body: { message: 'Bad credentials' } });
    expect(await call('POST', '/issues/99/comments', { body: 'hi' })).toMatchObject({ status: 404, body: { message: 'Not Found' } });
    expect(await call('PATCH', '/pulls/99', { state: 'closed' })).toMatchObject({ status: 404 });
    expect(await call('POST', `/issues/${opened.number}/comments`, {})).toMatchObject({ status: 422 });
    expect(await call('PATCH', `/pulls/${opened.number}`, { state: 'merged' })).toMatchObject({
      status: 422,
      body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'state', code: 'invalid' }] },
    });
    expect(sim.pulls()[0]?.state).toBe('open');
    expect(sim.comments()).toEqual([]);

    const posted = await call('POST', `/issues/${opened.number}/comments`, { body: 'looks good' });
    expect(posted).toMatchObject({ status: 201, body: { body: 'looks good', user: { login: 'agentruns-bot' } } });
    expect(await call('GET', `/issues/${opened.number}/comments`)).toMatchObject({ status: 200, body: [{ body: 'looks good' }] });
  });
});
