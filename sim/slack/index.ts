/**
 * Simulated Slack: the Web API methods the automation calls (chat.postMessage, chat.update,
 * chat.postEphemeral, and conversations.list / conversations.history to find a message already
 * posted) and the `response_url` hooks the ingress answers button clicks through, plus
 * builders of correctly signed interaction requests for tests and the demo.
 *
 * - server.ts: HTTP, authentication (`not_authed`, `invalid_auth`), response_urls;
 * - web-api.ts: the methods, answering as Slack does (HTTP 200 with `{ ok: false, error }`);
 * - faults.ts: injected failures (error answers, rate limits, slow, hung or lost answers);
 * - block-kit.ts: the Block Kit limits it enforces (`invalid_blocks`);
 * - state.ts: channels, messages with their update history, ephemerals, response_url posts;
 * - interactions.ts: what Slack sends the ingress on a click (payload, v0 signature).
 */
export { blockKitProblem } from './block-kit';
export { apiMethod, ratelimited, slackError, type SlackFault } from './faults';
export { blockActionsPayload, buttonValue, signedInteraction, type BlockActionsOptions, type SignedRequest } from './interactions';
export { startSlackSim, type SlackSim, type SlackSimOptions } from './server';
export type { SlackSimEphemeral, SlackSimMessage, SlackSimResponse } from './state';
