/** Process settings: validated at start with one message per problem; secrets never shown. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSettings, loadSettings, SettingsError } from '../../runtime/settings';
import { temporalConnectionOptions } from '../../runtime/temporal-connection';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsError);
    return (err as SettingsError).problems;
  }
  throw new Error('expected the settings to be refused');
}

describe('settings from the environment', () => {
  it('an empty environment gives the local defaults', () => {
    const s = loadSettings({});
    expect(s).toMatchObject({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_NAMESPACE: 'default', TEMPORAL_TASK_QUEUE: 'agentruns', INGRESS_PORT: 8080 });
    expect(temporalConnectionOptions(s)).toEqual({ address: '127.0.0.1:7233' });
  });

  it('every bad value is named, and nothing starts', () => {
    const problems = problemsOf({ INGRESS_PORT: 'eighty', TEMPORAL_UI_URL: 'not a url', INGRESS_BODY_LIMIT_BYTES: '10' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['INGRESS_BODY_LIMIT_BYTES', 'INGRESS_PORT', 'TEMPORAL_UI_URL']);
  });

  it('half-configured integrations are refused: Argo without a token, a client certificate without its key, a missing file', () => {
    expect(problemsOf({ ARGOCD_SERVER: 'https://argocd.example.com' })).toEqual(['ARGOCD_AUTH_TOKEN: required when ARGOCD_SERVER is set']);
    expect(problemsOf({ TEMPORAL_TLS_CERT: '/nonexistent/client.pem' })).toEqual([
      'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: give both (mTLS client certificate and its key) or neither',
      'TEMPORAL_TLS_CERT: no such file /nonexistent/client.pem',
    ]);
  });

  it('Temporal Cloud with an API key connects over TLS; mTLS files are read; TLS off with a key is a contradiction', () => {
    expect(temporalConnectionOptions(loadSettings({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'key-123' }))).toEqual({
      address: 'ns.acct.tmprl.cloud:7233',
      tls: true,
      apiKey: 'key-123',
    });
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    for (const name of ['client.pem', 'client.key', 'ca.pem']) writeFileSync(join(dir, name), `-----BEGIN ${name}-----\n`);
    const mtls = temporalConnectionOptions(
      loadSettings({
        TEMPORAL_ADDRESS: 'temporal.internal:7233',
        TEMPORAL_TLS_CERT: join(dir, 'client.pem'),
        TEMPORAL_TLS_KEY: join(dir, 'client.key'),
        TEMPORAL_TLS_CA: join(dir, 'ca.pem'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal',
      }),
    );
    expect(mtls.tls).toMatchObject({ serverNameOverride: 'temporal' });
    const tls = mtls.tls as { clientCertPair: { crt: Buffer; key: Buffer }; serverRootCACertificate: Buffer };
    expect(tls.clientCertPair.crt.toString()).toContain('client.pem');
    expect(tls.clientCertPair.key.toString()).toContain('client.key');
    expect(tls.serverRootCACertificate.toString()).toContain('ca.pem');
    expect(() => temporalConnectionOptions(loadSettings({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }))).toThrow(/contradicts/);
  });

  it('the start-up description names the secrets that are set, never their values', () => {
    const described = JSON.stringify(
      describeSettings(loadSettings({ GITHUB_TOKEN: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', TEMPORAL_API_KEY: 'cloud-key-value', ALERTMANAGER_TOKEN: 'am-token-value' })),
    );
    expect(described).not.toMatch(/ghp_abcdef|cloud-key-value|am-token-value/);
    expect(described).toContain('"presentKeys":["TEMPORAL_API_KEY","GITHUB_TOKEN","ALERTMANAGER_TOKEN"]');
  });
});
