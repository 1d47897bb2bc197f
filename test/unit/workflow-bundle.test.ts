/** Which workflow code a worker process runs: a prebuilt bundle when built or configured, else the sources bundled at start. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../../runtime/settings';
import { PREBUILT_WORKFLOW_BUNDLE, prebuiltWorkflowBundle } from '../../worker/create-worker';

describe('the workflow bundle a worker loads', () => {
  it('from the sources: none prebuilt, so the current workflow code is bundled at start (never a stale build)', () => {
    expect(PREBUILT_WORKFLOW_BUNDLE).toMatch(/\/worker\/workflow-bundle\.js$/);
    expect(prebuiltWorkflowBundle()).toBeUndefined();
  });

  it('AGENTRUNS_WORKFLOW_BUNDLE names the bundle to load; a missing file is refused at start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentruns-bundle-'));
    const file = join(dir, 'workflow-bundle.js');
    writeFileSync(file, '// bundle');
    expect(prebuiltWorkflowBundle(loadSettings({ AGENTRUNS_WORKFLOW_BUNDLE: file }).AGENTRUNS_WORKFLOW_BUNDLE)).toBe(file);
    expect(() => loadSettings({ AGENTRUNS_WORKFLOW_BUNDLE: join(dir, 'missing.js') })).toThrow(SettingsError);
    expect(() => loadSettings({ AGENTRUNS_WORKFLOW_BUNDLE: join(dir, 'missing.js') })).toThrow(/AGENTRUNS_WORKFLOW_BUNDLE: no such file/);
  });
});
