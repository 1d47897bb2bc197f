/**
 * Approval from the Temporal Web UI, proven in a real browser: an Alertmanager webhook hits the
 * running ingress, the incident waits for approval, and headless Chromium opens the workflow in the
 * dev server's Web UI and uses More Actions → Send a Signal → `approve` with a JSON input — exactly
 * what an on-call engineer without Slack would do. The incident then goes through the GitOps PR,
 * Argo CD sync and verification to `remediated`, and the Slack message follows every step.
 *
 * The screenshot of the filled signal form is written to a temporary directory; with
 * UPDATE_SCREENSHOTS=1 it replaces docs/images/temporal-ui-approve.png (shown by the README), so an
 * ordinary test run leaves the working tree clean.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { torghutAlertPayload } from '../../devstack/demo-alert';
import { DEMO_SECRETS, demoRunbook, startServices, type Services } from '../../devstack/local-stack';
import { startSimEnvironment } from '../../devstack/sim-environment';
import type { IncidentState } from '../../domain/incident';
import { launchChromium } from '../support/browser';
import { statusQuery } from '../../workflows/messages';
import { uniqueRunbook, waitForPhase } from '../support/incident';
import { connectTemporal, uniqueTaskQueue, type TemporalTestContext } from '../support/temporal';

const UI_TIMEOUT_MS = 60_000;
const APPROVAL = { by: 'oncall-alice', comment: 'approved in the Temporal UI' };

const SCREENSHOT = process.env.UPDATE_SCREENSHOTS
  ? fileURLToPath(new URL('../../docs/images/temporal-ui-approve.png', import.meta.url))
  : join(tmpdir(), 'agentruns-e2e', 'temporal-ui-approve.png');

/** On failure, leaves what the browser showed in the temp directory and names it in the error. */
async function withEvidence<T>(page: Page, step: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const dir = join(tmpdir(), 'agentruns-e2e');
    mkdirSync(dir, { recursive: true });
    const shot = join(dir, 'temporal-ui-failure.png');
    await page.screenshot({ path: shot }).catch(() => undefined);
    throw new Error(`Temporal UI step "${step}" failed (screenshot: ${shot}): ${(err as Error).message}`, { cause: err });
  }
}

/** The Web UI's signal flow: More Actions → Send a Signal → pick the name → JSON input → Submit. */
async function sendSignalInUi(page: Page, workflowUrl: string, workflowId: string, signal: string, input: unknown): Promise<void> {
  await withEvidence(page, 'open the workflow page', async () => {
    await page.goto(workflowUrl);
    await page.getByRole('heading', { name: workflowId }).first().waitFor();
    await page.getByText('Running', { exact: true }).first().waitFor();
  });

  const dialog = page.getByRole('dialog').filter({ hasText: 'Send a Signal' });
  await withEvidence(page, 'More Actions → Send a Signal', async () => {
    await page.getByRole('button', { name: 'More Actions' }).click();
    await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
    await dialog.waitFor();
  });

  await withEvidence(page, `choose the signal "${signal}" and enter its input`, async () => {
    // The names come from the workflow's own metadata query (the worker answers it).
    await dialog.getByTestId('signal-select-button').click();
    await dialog.getByRole('option', { name: signal, exact: true }).click();
    await dialog.getByLabel('json/plain').check();
    // The Data field is a CodeMirror editor (a contenteditable textbox, unlike the signal-name
    // input); insertText types the JSON without its bracket auto-closing.
    const editor = dialog.locator('[role="textbox"][contenteditable="true"]');
    await editor.click();
    await page.keyboard.insertText(JSON.stringify(input));
    await expect.poll(async () => JSON.parse(await editor.innerText()) as unknown, { timeout: UI_TIMEOUT_MS }).toEqual(input);
    await expect.poll(() => dialog.getByRole('button', { name: 'Submit' }).isEnabled(), { timeout: UI_TIMEOUT_MS }).toBe(true);
  });

  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });

  await withEvidence(page, 'submit the signal', async () => {
    // Leaving the editor reformats the JSON over several lines, which moves the Submit button: leave
    // it first (as a person would, reading the input over) so the click lands where the button is.
    const submit = dialog.getByRole('button', { name: 'Submit' });
    await dialog.locator('[role="textbox"][contenteditable="true"]').evaluate((editor) => (editor as unknown as { blur(): void }).blur());
    let at = await submit.boundingBox();
    await expect
      .poll(async () => {
        const now = await submit.boundingBox();
        const still = now?.y === at?.y;
        at = now;
        return still;
      }, { timeout: UI_TIMEOUT_MS, interval: 250 })
      .toBe(true);
    await submit.click();
    await dialog.waitFor({ state: 'hidden' });
  });
}

let ctx: TemporalTestContext;
beforeAll(async () => {
  // Also installs the quiet SDK runtime before the services' worker connects.
  ctx = await connectTemporal();
});
afterAll(async () => {
  await ctx?.close();
});

describe('Temporal Web UI approval, in headless Chromium', () => {
  it('alert → awaiting-approval → UI "Send a Signal" approve → remediated, Slack message updated at every step', { timeout: 180_000 }, async () => {
    const uiUrl = ctx.uiUrl;
    expect(uiUrl, 'the suite dev server must run with its Web UI (not --headless)').toMatch(/^http:\/\//);

    let browser: Browser | undefined;
    let services: Services | undefined;
    const env = await startSimEnvironment({ scenario: 'alpaca-406', adjustRunbook: (r) => uniqueRunbook(demoRunbook(r)), temporalUiUrl: uiUrl });
    try {
      browser = await launchChromium();
      services = await startServices({
        address: inject('temporalAddress'),
        namespace: ctx.namespace,
        taskQueue: uniqueTaskQueue('e2e-ui'),
        temporalUiUrl: uiUrl,
        env,
        workflowBundle: { code: inject('workflowBundleCode') },
      });

      const response = await fetch(`${services.ingressUrl}/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_SECRETS.alertmanagerToken}` },
        body: JSON.stringify(torghutAlertPayload({ namespace: env.runbook.target.namespace })),
      });
      const answer = (await response.json()) as { incidents: { workflowId: string; attached: boolean }[] };
      expect(response.status, JSON.stringify(answer)).toBe(202);
      expect(answer.incidents).toHaveLength(1);
      const { workflowId } = answer.incidents[0]!;
      expect(answer.incidents[0]!.attached).toBe(false);
      const handle = ctx.client.workflow.getHandle(workflowId);

      await waitForPhase(handle, ['awaiting-approval'], UI_TIMEOUT_MS);
      // Until the Slack message is posted the history still grows, and the UI re-renders the open
      // signal form on each refresh: start once the incident is quietly waiting.
      await expect.poll(async () => (await handle.query(statusQuery)).slack, { timeout: UI_TIMEOUT_MS }).toBeTruthy();
      const waiting = await handle.query(statusQuery);
      expect(waiting.classification?.class).toBe('alpaca_406_second_connection');
      expect(waiting.decision).toBeNull();

      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      const workflowUrl = `${uiUrl}/namespaces/${encodeURIComponent(ctx.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
      // The JSON to paste names the run and step it approves, as every decision must.
      await sendSignalInUi(page, workflowUrl, workflowId, 'approve', { ...APPROVAL, runId: waiting.runId, step: 'restart' });

      const final = (await handle.result()) as IncidentState;
      expect(final.outcome, final.notes.join('; ')).toBe('remediated');
      expect(final.decision).toMatchObject({ decision: 'approve', by: APPROVAL.by, comment: APPROVAL.comment, channel: 'temporal' });
      expect(final.pullRequest).toMatchObject({ merged: true });
      expect(final.argoSync).toMatchObject({ status: 'Synced', health: 'Healthy' });
      expect(final.verification?.ok).toBe(true);

      // The signal in the history is the UI's, not one sent by this test's client.
      const history = await handle.fetchHistory();
      const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'approve');
      expect(signals).toHaveLength(1);
      // The UI sends its own identity (empty in UI 2.42), never that of an SDK client of this process.
      expect(signals[0]!.workflowExecutionSignaledEventAttributes?.identity).not.toBe(ctx.client.options.identity);
      // …and the decision records what Temporal recorded (none), not a claim of the sender.
      expect(final.decision?.identity ?? null).toBe(signals[0]!.workflowExecutionSignaledEventAttributes?.identity || null);

      // One Slack message, posted when approval was asked and edited in place at each later step.
      expect(final.notes.filter((n) => n.startsWith('Slack update failed'))).toEqual([]);
      // (Besides it, in its thread, a reply per step and the incident report posted at close.)
      const topLevel = env.slack.messages.filter((m) => !m.threadTs);
      expect(topLevel).toHaveLength(1);
      const message = topLevel[0]!;
      const replies = env.slack.incidentReplies(final.workflowId, final.runId);
      expect(replies.map((r) => r.key)).toEqual(['decision-restart', 'pull-request', 'merged', ...(final.argoSync ? ['synced'] : []), 'report']);
      expect(replies[0]!.text).toMatch(/^:white_check_mark: Approved: the restart by oncall-alice via temporal/);
      expect(env.slack.messages.filter((m) => m.threadTs === message.ts)).toHaveLength(replies.length);
      expect(message.history.length).toBeGreaterThan(0);
      const versions = [...message.history.map((h) => h.text ?? ''), message.text ?? ''];
      expect(versions.map((t) => t.split(' — ').at(-1))).toEqual(['waiting for approval', 'waiting for the PR to be merged', 'remediated']);
      const blocks = JSON.stringify(message.blocks);
      expect(blocks).toContain('remediated');
      expect(blocks).toContain('Approved by *oncall-alice* via temporal');
      expect(blocks).toContain(workflowUrl);
    } finally {
      await browser?.close();
      await services?.stop();
      await env.close();
    }
  });
});
