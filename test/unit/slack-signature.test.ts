import { describe, expect, it } from 'vitest';
import { parseInteraction, slackSignature, verifySlackSignature } from '../../ingress/slack-interactions';
import { blockActionsPayload, signedInteraction } from '../../sim/slack';

// The worked example of Slack's "Verifying requests from Slack" guide (a slash command body).
const SLACK_DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const SLACK_DOC_TIMESTAMP = '1531420618';
const SLACK_DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
  '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
  '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
  '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SLACK_DOC_SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const AT_DOC_TIME = Number(SLACK_DOC_TIMESTAMP) * 1000;

const check = (over: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) =>
  verifySlackSignature({
    signingSecret: SLACK_DOC_SECRET,
    timestamp: SLACK_DOC_TIMESTAMP,
    signature: SLACK_DOC_SIGNATURE,
    rawBody: SLACK_DOC_BODY,
    nowMs: AT_DOC_TIME + 10_000,
    ...over,
  });

describe('Slack v0 request signature', () => {
  it("computes the signature of Slack's own worked example", () => {
    expect(slackSignature(SLACK_DOC_SECRET, SLACK_DOC_TIMESTAMP, SLACK_DOC_BODY)).toBe(SLACK_DOC_SIGNATURE);
  });

  it("accepts Slack's worked example, as a string or as the raw bytes", () => {
    expect(check()).toEqual({ ok: true });
    expect(check({ rawBody: Buffer.from(SLACK_DOC_BODY) })).toEqual({ ok: true });
  });

  it('refuses a body changed by one character', () => {
    expect(check({ rawBody: SLACK_DOC_BODY.replace('roadrunner', 'roadrunnex') })).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('is computed over the raw bytes: the same form encoded differently does not verify', () => {
    const equivalent = SLACK_DOC_BODY.replace('command=%2Fwebhook-collect', 'command=/webhook-collect');
    expect(Object.fromEntries(new URLSearchParams(equivalent))).toEqual(Object.fromEntries(new URLSearchParams(SLACK_DOC_BODY)));
    expect(check({ rawBody: equivalent })).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a signature made with another secret', () => {
    const forged = slackSignature('not-the-secret', SLACK_DOC_TIMESTAMP, SLACK_DOC_BODY);
    expect(check({ signature: forged })).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('refuses signatures of the wrong shape or length without throwing', () => {
    for (const signature of ['v0=abc', 'v1=' + SLACK_DOC_SIGNATURE.slice(3), SLACK_DOC_SIGNATURE.toUpperCase(), SLACK_DOC_SIGNATURE + '00']) {
      expect(check({ signature })).toMatchObject({ ok: false, reason: 'bad_signature' });
    }
  });

  it('a replay older than five minutes is refused even with a valid signature; just inside the window passes', () => {
    expect(check({ nowMs: AT_DOC_TIME + 301_000 })).toMatchObject({ ok: false, reason: 'stale_timestamp' });
    expect(check({ nowMs: AT_DOC_TIME + 299_000 })).toEqual({ ok: true });
  });

  it('a timestamp more than five minutes in the future is refused too', () => {
    expect(check({ nowMs: AT_DOC_TIME - 301_000 })).toMatchObject({ ok: false, reason: 'stale_timestamp' });
  });

  it('a timestamp that is not Unix seconds is refused before any HMAC', () => {
    expect(check({ timestamp: '2018-07-12T18:36:58Z' })).toMatchObject({ ok: false, reason: 'stale_timestamp' });
  });

  it('missing headers are refused', () => {
    expect(check({ signature: undefined })).toMatchObject({ ok: false, reason: 'missing_headers' });
    expect(check({ timestamp: undefined })).toMatchObject({ ok: false, reason: 'missing_headers' });
  });

  it('the simulator signs interactions the way the verifier expects (independent implementations agree)', () => {
    const request = signedInteraction({
      signingSecret: 'sim-secret',
      payload: blockActionsPayload({ userId: 'U0ALICE01', actionId: 'agentruns_approve', value: '{}' }),
    });
    const result = verifySlackSignature({
      signingSecret: 'sim-secret',
      timestamp: request.headers['x-slack-request-timestamp'],
      signature: request.headers['x-slack-signature'],
      rawBody: request.body,
    });
    expect(result).toEqual({ ok: true });
  });
});

describe('Slack interaction payload', () => {
  it('a button click parses into the user, the action and the response_url', () => {
    const { body } = signedInteraction({
      signingSecret: 's',
      payload: blockActionsPayload({ userId: 'U0ALICE01', actionId: 'agentruns_approve', value: 'v', responseUrl: 'https://hooks.slack.com/actions/T/1/x' }),
    });
    const parsed = parseInteraction(body);
    expect(parsed.kind).toBe('block_actions');
    if (parsed.kind !== 'block_actions') return;
    expect(parsed.payload.user.id).toBe('U0ALICE01');
    expect(parsed.payload.actions[0]).toMatchObject({ action_id: 'agentruns_approve', value: 'v' });
    expect(parsed.payload.response_url).toBe('https://hooks.slack.com/actions/T/1/x');
  });

  it('a form without payload, or with payload that is not JSON, is invalid with the reason', () => {
    expect(parseInteraction('foo=bar')).toEqual({ kind: 'invalid', message: 'the form has no "payload" field' });
    const bad = parseInteraction('payload=%7Bnope');
    expect(bad.kind === 'invalid' && bad.message).toMatch(/^"payload" is not valid JSON: /);
  });

  it('a block_actions payload without a user is invalid, naming the field', () => {
    const payload = { ...blockActionsPayload({ userId: 'U1', actionId: 'a', value: 'v' }), user: undefined };
    const parsed = parseInteraction(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    expect(parsed.kind === 'invalid' && parsed.message).toContain('user');
  });

  it('a response_url that is not http(s) is refused (the ingress will POST to it)', () => {
    const payload = blockActionsPayload({ userId: 'U1', actionId: 'a', value: 'v', responseUrl: 'file:///etc/passwd' });
    const parsed = parseInteraction(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    expect(parsed.kind === 'invalid' && parsed.message).toContain('response_url');
  });

  it('other interaction types are recognised and left alone', () => {
    const parsed = parseInteraction(new URLSearchParams({ payload: JSON.stringify({ type: 'view_submission' }) }).toString());
    expect(parsed).toEqual({ kind: 'other', type: 'view_submission' });
  });
});
