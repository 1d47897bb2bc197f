/**
 * How every process reaches Temporal: address plus, for a production cluster or Temporal Cloud,
 * TLS (system CAs, a custom CA, mTLS client certificate) and/or an API key — the same options for
 * the worker's NativeConnection and the clients' Connection.
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Settings } from './settings';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

export function temporalConnectionOptions(
  settings: Pick<
    Settings,
    'TEMPORAL_ADDRESS' | 'TEMPORAL_TLS' | 'TEMPORAL_TLS_CERT' | 'TEMPORAL_TLS_KEY' | 'TEMPORAL_TLS_CA' | 'TEMPORAL_TLS_SERVER_NAME' | 'TEMPORAL_API_KEY'
  >,
): TemporalConnectionOptions {
  const files = Boolean(settings.TEMPORAL_TLS_CERT || settings.TEMPORAL_TLS_CA || settings.TEMPORAL_TLS_SERVER_NAME);
  const tlsOn = settings.TEMPORAL_TLS === 'true' || files || Boolean(settings.TEMPORAL_API_KEY);
  if (settings.TEMPORAL_TLS === 'false' && (files || settings.TEMPORAL_API_KEY)) {
    throw new Error('TEMPORAL_TLS=false contradicts TEMPORAL_TLS_* files or TEMPORAL_API_KEY, which need TLS');
  }
  const tls: TLSConfig | boolean = files
    ? {
        ...(settings.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: settings.TEMPORAL_TLS_SERVER_NAME } : {}),
        ...(settings.TEMPORAL_TLS_CA ? { serverRootCACertificate: readFileSync(settings.TEMPORAL_TLS_CA) } : {}),
        ...(settings.TEMPORAL_TLS_CERT && settings.TEMPORAL_TLS_KEY
          ? { clientCertPair: { crt: readFileSync(settings.TEMPORAL_TLS_CERT), key: readFileSync(settings.TEMPORAL_TLS_KEY) } }
          : {}),
      }
    : tlsOn;
  return {
    address: settings.TEMPORAL_ADDRESS,
    ...(tls ? { tls } : {}),
    ...(settings.TEMPORAL_API_KEY ? { apiKey: settings.TEMPORAL_API_KEY } : {}),
  };
}
