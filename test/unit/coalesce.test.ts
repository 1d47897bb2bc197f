/**
 * The ingress' per-target coalescing of Temporal calls (ingress/coalesce.ts), with a send the test
 * controls: one call in flight per target, every waiting fingerprint on the next call with its
 * count, re-sends moments after a delivery answered at once and counted on the next call, and the
 * counts a failed call loses reported.
 */
import { describe, expect, it } from 'vitest';
import { TargetCoalescer, type Batch } from '../../ingress/coalesce';

type Sent = Array<Pick<Batch<string>, 'alert' | 'repeats'>>;

function controlled() {
  const calls: Array<{ batches: Sent; settle: (ok: boolean) => void }> = [];
  let clock = 1_000_000;
  const lost: number[] = [];
  const coalescer = new TargetCoalescer<string, string>(
    (batches) =>
      new Promise<string>((resolve, reject) => {
        calls.push({ batches: batches.map((b) => ({ alert: b.alert, repeats: b.repeats })), settle: (ok) => (ok ? resolve(`call ${calls.length}`) : reject(new Error('Temporal down'))) });
      }),
    { freshMs: 10_000, now: () => clock, lost: (n) => lost.push(n) },
  );
  const tick = () => new Promise((r) => setImmediate(r));
  return { coalescer, calls, lost, tick, advance: (ms: number) => (clock += ms) };
}

describe('TargetCoalescer', () => {
  it('one call in flight per target; what arrives meanwhile rides on the next call, one entry per fingerprint with its count', async () => {
    const { coalescer, calls, tick } = controlled();
    const first = coalescer.deliver('t1', 'fp-a', 'a1');
    await tick();
    expect(calls).toHaveLength(1);
    const waiting = [coalescer.deliver('t1', 'fp-a', 'a2'), coalescer.deliver('t1', 'fp-b', 'b1'), coalescer.deliver('t1', 'fp-a', 'a3')];
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]!.settle(true);
    expect(await first).toEqual({ result: 'call 1', first: true, repeats: 1 });
    await tick();
    expect(calls[1]!.batches).toEqual([
      { alert: 'a3', repeats: 2 },
      { alert: 'b1', repeats: 1 },
    ]);
    calls[1]!.settle(true);
    const answers = await Promise.all(waiting);
    expect(answers.map((a) => [a.result, a.first, a.repeats])).toEqual([
      ['call 2', true, 3],
      ['call 2', false, 3],
      ['call 2', false, 3],
    ]);
  });

  it('a re-send moments after its delivery is answered at once and counted on the next call; after freshMs it waits again', async () => {
    const { coalescer, calls, tick, advance } = controlled();
    const first = coalescer.deliver('t1', 'fp-a', 'a1');
    await tick();
    calls[0]!.settle(true);
    await first;
    advance(5_000);
    expect(await coalescer.deliver('t1', 'fp-a', 'a2')).toEqual({ result: 'call 1', first: false, repeats: 1, deferred: true });
    await tick();
    expect(calls[1]!.batches).toEqual([{ alert: 'a2', repeats: 1 }]);
    calls[1]!.settle(true);
    await tick();
    // Another fingerprint is news: it waits for its call.
    let answered = false;
    void coalescer.deliver('t1', 'fp-b', 'b1').then(() => (answered = true));
    await tick();
    expect(answered).toBe(false);
    calls[2]!.settle(true);
    await tick();
    expect(answered).toBe(true);
    // fp-a was delivered again by call 2 (at +5 s): fresh until +15 s.
    advance(10_001);
    let late = false;
    void coalescer.deliver('t1', 'fp-a', 'a3').then(() => (late = true));
    await tick();
    expect(late).toBe(false);
    calls[3]!.settle(true);
    await tick();
    expect(late).toBe(true);
  });

  it('a failed call rejects its waiters and leaves its deferred counts to the next call; only after five failed calls are they reported lost', async () => {
    const { coalescer, calls, lost, tick } = controlled();
    const nextCall = async (n: number) => {
      for (let i = 0; i < 300 && calls.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      expect(calls).toHaveLength(n);
    };
    const first = coalescer.deliver('t1', 'fp-a', 'a1');
    await tick();
    calls[0]!.settle(true);
    await first;
    await coalescer.deliver('t1', 'fp-a', 'a2');
    await tick();
    const waiter = coalescer.deliver('t1', 'fp-b', 'b1');
    calls[1]!.settle(false);
    // Call 3 (after a pause) carries the deferred count again, and the new alert.
    await nextCall(3);
    expect([...calls[2]!.batches].sort((x, y) => x.alert.localeCompare(y.alert))).toEqual([
      { alert: 'a2', repeats: 1 },
      { alert: 'b1', repeats: 1 },
    ]);
    calls[2]!.settle(true);
    await waiter;
    expect(lost).toEqual([]);

    // A deferred count given up after five failed calls, and said.
    await coalescer.deliver('t1', 'fp-a', 'a3');
    for (let n = 4; n <= 8; n++) {
      await nextCall(n);
      calls[n - 1]!.settle(false);
      await tick();
    }
    expect(lost).toEqual([1]);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toHaveLength(8);
  });

  it('targets do not wait for each other', async () => {
    const { coalescer, calls, tick } = controlled();
    void coalescer.deliver('t1', 'fp-a', 'a1');
    void coalescer.deliver('t2', 'fp-a', 'a1');
    await tick();
    expect(calls).toHaveLength(2);
  });
});
