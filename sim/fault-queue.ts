/**
 * Injected failures of a simulated API: each fault matches requests by method and path and is used
 * up after `times` matching requests (default 1), oldest fault first. The simulators' fault
 * switches (sim/github/faults.ts, sim/argocd/faults.ts, sim/slack/faults.ts) decide what a matched
 * request answers; the wire faults below are common to all three:
 *
 * - `delayMs`: the answer comes that much later (a slow API);
 * - `hang`: no answer at all, the connection stays open until the client gives up (a hung API);
 * - `dropAfterWrite`: the request is performed — the write happens — and then the connection is
 *   destroyed instead of answering (the answer to a successful write is lost).
 */

export interface FaultMatch {
  method?: string;
  /** Matched against the request path (string: substring). */
  path?: RegExp | string;
  /** How many matching requests fail (default 1). */
  times?: number;
}

/** How a matched request misbehaves on the wire. */
export interface WireFault {
  /** Answer only after this many milliseconds. */
  delayMs?: number;
  /** Never answer. */
  hang?: boolean;
  /** Perform the request, then destroy the connection instead of answering. */
  dropAfterWrite?: boolean;
}

/** The matching request(s) are answered `ms` later. */
export function delay<M extends FaultMatch>(ms: number, match: M): M & WireFault {
  return { ...match, delayMs: ms };
}

/** The matching request(s) are never answered. */
export function hang<M extends FaultMatch>(match: M): M & WireFault {
  return { ...match, hang: true };
}

/** The matching request(s) are performed, then their connection is destroyed before the answer. */
export function dropAfterWrite<M extends FaultMatch>(match: M): M & WireFault {
  return { ...match, dropAfterWrite: true };
}

export class FaultQueue<F extends FaultMatch> {
  private readonly faults: Array<{ fault: F; left: number }> = [];

  add(fault: F): void {
    this.faults.push({ fault, left: fault.times ?? 1 });
  }

  /** The first fault matching the request, counted as used; undefined when none matches. */
  take(method: string, path: string): F | undefined {
    const index = this.faults.findIndex(
      ({ fault: f }) =>
        (!f.method || f.method.toUpperCase() === method) && (!f.path || (typeof f.path === 'string' ? path.includes(f.path) : f.path.test(path))),
    );
    const entry = this.faults[index];
    if (!entry) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) this.faults.splice(index, 1);
    return entry.fault;
  }

  get pending(): number {
    return this.faults.length;
  }
}
