/**
 * The key material of a throw-away control plane, made with openssl into a directory: a CA, the
 * API server's serving certificate (127.0.0.1, localhost and the in-cluster names), the service
 * account signing key pair (TokenRequest tokens), and the test kubelet's serving certificate
 * (127.0.0.1, the Node's InternalIP, which the API server verifies against the CA when it fetches
 * pod logs). EC P-256 keys: instant to make, accepted by Go's TLS and by service-account signing.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ControlPlaneCerts {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  kubeletCert: string;
  kubeletKey: string;
}

const EXTENSIONS = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = agentruns
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::AGENTRUNS_SAN
`;

function openssl(args: string[], env: NodeJS.ProcessEnv = {}): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, AGENTRUNS_SAN: 'IP:127.0.0.1', ...env } });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${(err as Error).message}\n${stderr}`);
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Writes a fresh CA and every certificate and key of the control plane into `dir`. */
export function makeControlPlaneCerts(dir: string): ControlPlaneCerts {
  const config = join(dir, 'openssl.cnf');
  writeFileSync(config, EXTENSIONS);
  const file = (name: string) => join(dir, name);
  const certs: ControlPlaneCerts = {
    dir,
    caCert: file('ca.crt'),
    caKey: file('ca.key'),
    apiserverCert: file('apiserver.crt'),
    apiserverKey: file('apiserver.key'),
    serviceAccountKey: file('sa.key'),
    serviceAccountPub: file('sa.pub'),
    kubeletCert: file('kubelet.crt'),
    kubeletKey: file('kubelet.key'),
  };
  openssl(['req', '-x509', '-config', config, '-extensions', 'ca', ...EC, '-keyout', certs.caKey, '-out', certs.caCert, '-days', '7', '-subj', '/CN=agentruns-test-ca']);
  const leaf = (cert: string, key: string, cn: string, san: string) =>
    openssl(
      ['req', '-x509', '-config', config, '-extensions', 'server', '-CA', certs.caCert, '-CAkey', certs.caKey, ...EC, '-keyout', key, '-out', cert, '-days', '7', '-subj', `/CN=${cn}`],
      { AGENTRUNS_SAN: san },
    );
  leaf(
    certs.apiserverCert,
    certs.apiserverKey,
    'kube-apiserver',
    'IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
  );
  leaf(certs.kubeletCert, certs.kubeletKey, 'agentruns-test-kubelet', 'IP:127.0.0.1,DNS:localhost');
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', certs.serviceAccountKey]);
  openssl(['pkey', '-in', certs.serviceAccountKey, '-pubout', '-out', certs.serviceAccountPub]);
  return certs;
}
