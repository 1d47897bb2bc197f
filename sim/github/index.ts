/**
 * Simulated GitHub REST API for the GitOps repository, served on 127.0.0.1 and backed by a real
 * bare git repository, so the real `@octokit/rest` client talks to it unchanged.
 *
 * - server.ts: HTTP, authentication, request log, and the programmatic side for tests and the demo;
 * - routes.ts: the REST routes the product calls and what each rejects;
 * - responses.ts: the JSON representations, held to GitHub's OpenAPI description;
 * - state.ts: pull requests, comments, merge and close, merge listeners;
 * - git-repo.ts: the bare git repository; seed-tree.ts: the torghut GitOps files it starts with;
 * - errors.ts: GitHub's error bodies; faults.ts: injected failures.
 */
export { primaryRateLimit, secondaryRateLimit, type Fault } from './faults';
export { TORGHUT_CONFIGMAP_PATH, TORGHUT_DEPLOYMENT_PATH, TORGHUT_KAFKA_BOOTSTRAP, TORGHUT_SEALED_SECRETS_PATH, torghutGitOpsTree, type TorghutTreeOptions } from './seed-tree';
export { GitHubSim, startGitHubSim, type GitHubRequest, type GitHubSimOptions } from './server';
export type { MergeEvent, SimComment, SimPullRequest } from './state';
