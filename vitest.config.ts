import { defineConfig } from 'vitest/config';

// Three projects: pure unit tests; contract tests that hold our artifacts to real components and
// published API descriptions (promtool on the alert rule, GitHub's OpenAPI and Argo CD's swagger on
// the simulators) without Temporal; and integration / end-to-end tests that share ONE real Temporal
// dev server started by test/support/temporal-global-setup.ts (never a mock of Temporal).
export default defineConfig({
  test: {
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
    ],
  },
});
