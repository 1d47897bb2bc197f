/**
 * Which earlier restart the cool-down counts from: the latest moment a restart really took effect
 * among the earlier incidents of the target, within the window.
 */
import { describe, expect, it } from 'vitest';
import { latestRestart } from '../../activities/incident-records';

const run = (runId: string, restart: unknown) => ({ runId, state: { outcome: 'remediated', restart } });
const since = Date.parse('2026-02-09T13:00:00Z');

describe('the restart an earlier incident made', () => {
  it('a PR merged late counts from its merge, the latest of the incidents in the window', () => {
    expect(
      latestRestart(
        [
          run('r1', { how: 'gitops', restartedAt: '2026-02-09T12:00:00Z', happenedAt: '2026-02-09T13:30:00Z' }),
          run('r2', { how: 'emergency', restartedAt: '2026-02-09T13:10:00Z', happenedAt: '2026-02-09T13:10:01Z' }),
        ],
        since,
      ),
    ).toEqual({ runId: 'r1', how: 'gitops', happenedAt: '2026-02-09T13:30:00Z' });
  });

  it('incidents that restarted nothing, before the window, or without a readable moment do not count', () => {
    expect(
      latestRestart(
        [
          run('no-restart', null),
          run('never-merged', { how: 'gitops', restartedAt: '2026-02-09T13:20:00Z' }),
          run('long-ago', { how: 'gitops', restartedAt: '2026-02-09T11:00:00Z', happenedAt: '2026-02-09T12:59:59Z' }),
          run('garbled', { how: 'gitops', happenedAt: 'soon' }),
          { runId: 'v1', state: null },
        ],
        since,
      ),
    ).toBeNull();
  });
});
