/**
 * Injected failures of a simulated API: each fault matches requests by method and path and is used
 * up after `times` matching requests (default 1), oldest fault first. The simulators' fault
 * switches (sim/github/faults.ts, sim/argocd/faults.ts) decide what a matched request answers.
 */

export interface FaultMatch {
  method?: string;
  /** Matched against the request path (string: substring). */
  path?: RegExp | string;
  /** How many matching requests fail (default 1). */
  times?: number;
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
