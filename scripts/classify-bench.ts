/**
 * How long the classifier takes on hostile logs, by shipped runbook: `npx tsx scripts/classify-bench.ts`.
 * Prints figures only (timing goals live here, never in test assertions). The log is the one the
 * bounded-time test classifies (test/support/hostile-log.ts): 50,000 lines whose scanned window is
 * full of near-misses of every signature, some lines 32 KiB long.
 */
import { classify } from '../domain/classify';
import { loadRunbookConfig } from '../config/load-runbook';
import { hostileLog } from '../test/support/hostile-log';

const lines = hostileLog();
for (const name of ['torghut-ws', 'quote-api']) {
  const runbook = await loadRunbookConfig(new URL(`../config/runbooks/${name}.yaml`, import.meta.url).pathname);
  if (!runbook.failures) throw new Error(`${name} declares no failures`);
  classify(runbook.failures, { logLines: lines.slice(0, 100) });
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const result = classify(runbook.failures, { readiness: null, logLines: lines });
    runs.push(performance.now() - started);
    if (i === 0) console.log(`${name}: class ${result.class}, ${result.evidence.length} evidence lines`);
  }
  const chars = lines.slice(-5000).reduce((n, l) => n + Math.min(l.length, 32_768), 0);
  console.log(`${name}: ${lines.length} lines (${(chars / 1e6).toFixed(1)} M characters scanned): ${runs.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`);
}
