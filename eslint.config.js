// Lint rules are guard rails: no floating promises, type-only imports where possible,
// no import cycles, and no Node built-ins or I/O libraries inside deterministic workflow code.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['eslint.config.js', '.*', '.*/**', 'node_modules/**', '.temporal/**', 'dist/**', 'coverage/**', 'test/fixtures/**', 'bin/**', 'scripts/*.mjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'http', 'https', 'net', 'child_process', 'os', 'crypto'], message: 'Workflow code must be deterministic: no Node built-ins.' },
          { group: ['@kubernetes/*', '@octokit/*', '@slack/*', '@temporalio/client', '@temporalio/worker', '../activities/*', '../sim/*'], message: 'Workflow code does no I/O; use activities (import type only).', allowTypeImports: true },
        ],
      }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
