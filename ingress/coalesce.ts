/**
 * The Alertmanager path's Temporal calls, coalesced per target: at most one signal-with-start per
 * target in flight; alerts of that target that arrive meanwhile all ride on the next call — one
 * entry per fingerprint (Alertmanager's re-sends of one alert, from its HA peers and every
 * `repeat_interval`, are one entry that carries how many deliveries it stands for: `repeats`).
 *
 * Why: in an alert storm (2,000 posts in 10 s for 20 targets) one call per post queues hundreds of
 * calls on the Temporal frontend, each request's budget runs out in the queue and the ingress
 * answers 503 although Temporal is up. Coalesced, the calls per target are bounded by the call's
 * own latency, every post's alert is still counted on its incident, and an answer waits for at most
 * the call in flight plus its own.
 *
 * A re-send of an alert that a call delivered less than `freshMs` ago (default 10 s, far below any
 * Alertmanager `group_interval`) is answered at once: the alert is on the incident already, and the
 * delivery rides on the target's next call as one more count (`deferred`). A call that fails
 * carrying deferred counts leaves them to the next one (up to five calls, a short pause after
 * each); only then are they given up — told to `lost` — never the alert.
 */

export interface Delivered<R> {
  result: R;
  /** This delivery was the batch's first (the one an answer may call "started"). */
  first: boolean;
  /** How many deliveries the call carried (all its fingerprints). */
  repeats: number;
  /** Answered at once: the alert was delivered moments ago, this delivery counts on the next call. */
  deferred?: boolean;
}

export interface CoalescerOptions {
  /** Told of each target's run of calls, so a shutdown can wait for the batches still queued. */
  track?: (run: Promise<void>) => void;
  /** How long after a call delivered an alert its re-sends are answered at once; 0: never. Default 10 s. */
  freshMs?: number;
  /** A call carrying deferred deliveries failed: their counts are lost (the alerts were delivered before). */
  lost?: (deliveries: number, err: unknown) => void;
  now?: () => number;
}

/** One fingerprint's deliveries waiting for the target's next call. */
export interface Batch<A, R = unknown> {
  alert: A;
  repeats: number;
  /** Of `repeats`, the deliveries already answered (see `freshMs`). */
  deferred?: number;
  /** Calls that failed carrying the deferred deliveries (they are tried again, a few times). */
  attempts?: number;
  waiters: Array<{ resolve: (d: Delivered<R>) => void; reject: (err: unknown) => void }>;
}

/** How many calls may fail carrying deferred deliveries before their counts are given up, and the pause after each. */
const DEFERRED_ATTEMPTS = 5;
const DEFERRED_RETRY_MS = 200;

export class TargetCoalescer<A, R> {
  private readonly targets = new Map<string, Map<string, Batch<A, R>>>();
  private readonly running = new Set<string>();
  /** Per target: when a call last delivered each key, and what it answered. */
  private readonly delivered = new Map<string, { result: R; at: Map<string, number> }>();
  private readonly track: (run: Promise<void>) => void;
  private readonly freshMs: number;
  private readonly now: () => number;

  /**
   * `send` makes one call for all of a target's waiting batches (at least one, in arrival order),
   * each standing for its `repeats` deliveries; it must bound itself in time.
   */
  constructor(
    private readonly send: (batches: ReadonlyArray<Pick<Batch<A>, 'alert' | 'repeats'>>) => Promise<R>,
    private readonly options: CoalescerOptions = {},
  ) {
    this.track = options.track ?? (() => undefined);
    this.freshMs = options.freshMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Delivers `alert` (identified by `key` within `target`); resolves when a call carrying it settled. */
  deliver(target: string, key: string, alert: A): Promise<Delivered<R>> {
    let pending = this.targets.get(target);
    if (!pending) this.targets.set(target, (pending = new Map<string, Batch<A, R>>()));
    let batch = pending.get(key);
    if (!batch) pending.set(key, (batch = { alert, repeats: 0, waiters: [] }));
    // The latest copy of a re-sent alert is the one sent (its annotations may have changed).
    batch.alert = alert;
    batch.repeats += 1;
    const recent = this.delivered.get(target);
    const at = recent?.at.get(key);
    if (recent && at !== undefined && this.now() - at < this.freshMs) {
      batch.deferred = (batch.deferred ?? 0) + 1;
      if (!this.running.has(target)) this.track(this.pump(target));
      return Promise.resolve({ result: recent.result, first: false, repeats: 1, deferred: true });
    }
    const delivered = new Promise<Delivered<R>>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (!this.running.has(target)) this.track(this.pump(target));
    return delivered;
  }

  /** Calls in flight or waiting, per target (for tests and metrics). */
  get waiting(): number {
    let n = 0;
    for (const pending of this.targets.values()) n += pending.size;
    return n + this.running.size;
  }

  private async pump(target: string): Promise<void> {
    this.running.add(target);
    try {
      for (;;) {
        const pending = this.targets.get(target);
        if (!pending || pending.size === 0) break;
        const entries = [...pending.entries()];
        pending.clear();
        const batches = entries.map(([, batch]) => batch);
        try {
          const result = await this.send(batches);
          this.remember(target, entries.map(([key]) => key), result);
          const repeats = batches.reduce((n, b) => n + b.repeats, 0);
          batches.forEach((batch, b) => batch.waiters.forEach((w, i) => w.resolve({ result, first: b === 0 && i === 0, repeats })));
        } catch (err) {
          // Deliveries still waiting get the failure (their posts answer 503: Alertmanager retries).
          // Deferred ones were answered already: their counts ride on the next call, a few times.
          for (const batch of batches) for (const w of batch.waiters) w.reject(err);
          let lost = 0;
          let again = 0;
          for (const [key, batch] of entries) {
            const deferred = batch.deferred ?? 0;
            if (deferred === 0) continue;
            const attempts = (batch.attempts ?? 0) + 1;
            if (attempts >= DEFERRED_ATTEMPTS) {
              lost += deferred;
              continue;
            }
            const waiting = pending.get(key);
            if (waiting) {
              waiting.repeats += deferred;
              waiting.deferred = (waiting.deferred ?? 0) + deferred;
              waiting.attempts = Math.max(waiting.attempts ?? 0, attempts);
            } else pending.set(key, { alert: batch.alert, repeats: deferred, deferred, attempts, waiters: [] });
            again = Math.max(again, attempts);
          }
          if (lost > 0) this.options.lost?.(lost, err);
          if (again > 0) await new Promise((r) => setTimeout(r, DEFERRED_RETRY_MS * again));
        }
      }
    } finally {
      this.running.delete(target);
      if (this.targets.get(target)?.size === 0) this.targets.delete(target);
    }
  }

  /** A call delivered these keys of the target now; keys not delivered for `freshMs` are forgotten. */
  private remember(target: string, keys: string[], result: R): void {
    if (this.freshMs <= 0) return;
    const now = this.now();
    let known = this.delivered.get(target);
    if (!known) this.delivered.set(target, (known = { result, at: new Map() }));
    known.result = result;
    for (const key of keys) known.at.set(key, now);
    for (const [key, at] of known.at) if (now - at >= this.freshMs) known.at.delete(key);
  }
}
