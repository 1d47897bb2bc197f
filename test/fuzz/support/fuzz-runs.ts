/**
 * How hard the fuzz tests push: one seed per run of the suite (printed, so a failure can be
 * replayed with AGENTRUNS_FUZZ_SEED=<seed>), and a number of runs per property from
 * AGENTRUNS_FUZZ_RUNS (default small, for CI; `npm run fuzz` raises it). AGENTRUNS_FUZZ_SECONDS
 * additionally bounds each pure property by time (runs stop early, never fail, when it is spent).
 */
import type { Parameters as FcParameters } from 'fast-check';

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Runs per pure property (the HTTP and incident suites derive theirs from it). */
export const FUZZ_RUNS = positiveInt('AGENTRUNS_FUZZ_RUNS', 200);
/** The seed of this run of the suite. */
export const FUZZ_SEED = positiveInt('AGENTRUNS_FUZZ_SEED', (Date.now() ^ (process.pid << 8)) >>> 1);
const SECONDS = process.env.AGENTRUNS_FUZZ_SECONDS ? positiveInt('AGENTRUNS_FUZZ_SECONDS', 1) : undefined;

let announced = false;
function announce(): void {
  if (announced) return;
  announced = true;
  console.log(`[fuzz] seed ${FUZZ_SEED}, ${FUZZ_RUNS} runs per property${SECONDS ? `, at most ${SECONDS} s each` : ''} (replay: AGENTRUNS_FUZZ_SEED=${FUZZ_SEED})`);
}

/** fast-check parameters of one property: this run's seed, `scale` × the runs (at least `min`). */
export function fuzzParams<T>(options: { scale?: number; min?: number; max?: number } = {}): FcParameters<T> {
  announce();
  const runs = Math.min(options.max ?? Number.MAX_SAFE_INTEGER, Math.max(options.min ?? 1, Math.round(FUZZ_RUNS * (options.scale ?? 1))));
  return {
    seed: FUZZ_SEED,
    numRuns: runs,
    ...(SECONDS ? { interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false } : {}),
  };
}

/** A count derived from the runs, for suites whose cases are expensive (HTTP requests, incidents). */
export function fuzzCount(options: { scale: number; min: number; max: number }): number {
  announce();
  return Math.min(options.max, Math.max(options.min, Math.round(FUZZ_RUNS * options.scale)));
}
