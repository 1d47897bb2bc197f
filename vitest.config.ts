import { defineConfig } from 'vitest/config';

// Five projects: pure unit tests; contract tests that hold our artifacts to real components and
// published API descriptions (promtool on the alert rule, GitHub's OpenAPI and Argo CD's swagger on
// the simulators) without Temporal; integration / end-to-end tests that share ONE real Temporal dev
// server started by test/support/temporal-global-setup.ts (never a mock of Temporal); and `kube`, the
// Kubernetes behaviour on ONE real control plane (etcd, kube-apiserver, kube-controller-manager)
// started by test/support/kube-global-setup.ts, with its own Temporal dev server for the GitOps
// restart end to end. With AGENTRUNS_KUBECONFIG=<file> the kube project instead runs only the
// read-only smoke test against that cluster. `fuzz`: property-based hostile input (fast-check) against
// every parser, the ingress over HTTP as a child process and real incidents, on its own Temporal dev
// server; bounded by AGENTRUNS_FUZZ_RUNS (small by default, `npm run fuzz` for long runs).
const smokeCluster = process.env.AGENTRUNS_KUBECONFIG;

export default defineConfig({
  test: {
    // Two test files at a time: most of a file's time is waiting (retry back-offs, watch windows,
    // the dev server), so two overlap well on the 2-core machine — CI's tests in about 9 minutes
    // instead of 17. Every test owns its task queue, runbook and target, so files never share state.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/temporal-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'fuzz',
          include: ['test/fuzz/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/temporal-global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'kube',
          include: smokeCluster ? ['test/kube/smoke.test.ts'] : ['test/kube/**/*.test.ts'],
          environment: 'node',
          globalSetup: smokeCluster ? ['test/support/kube-global-setup.ts'] : ['test/support/kube-global-setup.ts', 'test/support/temporal-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
