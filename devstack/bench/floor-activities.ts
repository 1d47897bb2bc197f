/**
 * The floor's activities: each diagnosis source is one simulated API call (the same per-call delay
 * the simulated cluster answers with, so the floor pays the network once per source, as the best
 * parallel diagnosis would), classify does nothing, and the post is a real chat.postMessage to the
 * simulated Slack — which is how the bench sees the floor "ready", as it sees an incident.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WebClient } from '@slack/web-api';

export interface FloorActivities {
  floorSource(index: number): Promise<number>;
  floorClassify(facts: number[]): Promise<string>;
  floorPost(input: { workflowId: string; verdict: string }): Promise<void>;
}

export function createFloorActivities(options: { callDelayMs: number; slack: { apiUrl: string; token: string }; channel: string }): FloorActivities {
  const slack = new WebClient(options.slack.token, { slackApiUrl: options.slack.apiUrl, retryConfig: { retries: 0 } });
  return {
    async floorSource(index) {
      if (options.callDelayMs > 0) await sleep(options.callDelayMs);
      return index;
    },
    floorClassify: (facts) => Promise.resolve(`classified ${facts.length} sources`),
    async floorPost({ workflowId, verdict }) {
      await slack.chat.postMessage({ channel: options.channel, text: `floor ${workflowId}: ${verdict}` });
    },
  };
}
