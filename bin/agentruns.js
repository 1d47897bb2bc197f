#!/usr/bin/env node
// The `agentruns` command: runs the TypeScript CLI through tsx's loader (a runtime dependency),
// so the same sources serve the CLI, the worker and the tests without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
