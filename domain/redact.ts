/**
 * Redaction of secrets from any text that leaves an activity: evidence, logs, PR bodies, Slack.
 *
 * Patterns follow the secrets known to appear in torghut-ws logs (shared/reference/failure-signatures):
 * Alpaca auth frames and APCA-* headers, Authorization headers, Kafka `sasl.jaas.config` passwords,
 * GitHub and Slack tokens, JWTs, credentials in URLs and long high-entropy blobs. The value is
 * replaced by `[REDACTED]`; the name around it stays, and so does everything an engineer needs to
 * read the evidence (error classes, codes, topic and pod names, timestamps, commit SHAs).
 *
 * Rules run in a fixed order, each on the output of the previous one, and redacting twice gives the
 * same text as redacting once. Quoted values are matched in plain (`"…"`), single-quoted and
 * JSON-escaped (`\"…\"`, a frame logged inside a JSON log line) forms, and an unterminated quote
 * (a line cut by a byte limit) is redacted to the end of the text rather than left alone.
 */
export const REDACTED = '[REDACTED]';

/** A value after `name=` / `name:`: escaped-quoted, quoted, single-quoted, or bare. */
const VALUE = String.raw`(\\+"[^"]*?(?:\\+"|$)|"(?:[^"\\]|\\.)*(?:"|$)|'[^']*(?:'|$)|\[[^\]\s]*\]|[^\s"'\\,;&}\][]+)`;

/** Keep the quoting style of the value it replaces, so JSON stays JSON. */
function maskValue(value: string): string {
  const slashes = /^(\\+)"/.exec(value)?.[1];
  if (slashes) return `${slashes}"${REDACTED}${slashes}"`;
  if (value.startsWith('"')) return `"${REDACTED}"`;
  if (value.startsWith("'")) return `'${REDACTED}'`;
  return REDACTED;
}

/**
 * Names whose value is a secret, as the last part of a longer name: `key`, `secret`, `password`,
 * `passwd`, `token`, `credential(s)`, so `api_key`, `client_secret`, `sasl.password`,
 * `ssl.keystore.password`, `X-Api-Key`, `access_token` and `KAFKA_PASSWORD` are all covered.
 */
const SECRET_NAME = String.raw`[A-Za-z0-9_.-]{0,40}?(?:key|secret|password|passwd|token|credentials?)`;

/** High-entropy test for long token-like runs: upper and lower case letters and a digit. */
function looksLikeSecretBlob(run: string): boolean {
  return /[A-Z]/.test(run) && /[a-z]/.test(run) && /\d/.test(run);
}

/** A pattern and its replacer; capture groups arrive as arguments (undefined when not taken). */
type Rule = [RegExp, (match: string, first?: string, second?: string) => string];

const RULES: Rule[] = [
  // PEM private keys written on one line.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, () => REDACTED],
  // Credentials in URLs: scheme://user:password@host keeps the user and the host.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+):([^\s@/"']+)@/gi, (_m, head = '') => `${head}:${REDACTED}@`],
  // Authorization / Proxy-Authorization headers: keep the scheme, drop the credentials.
  [
    /(authorization\\*["']?\s*[:=]\s*\\*["']?)(?:(bearer|basic|token|digest|negotiate)\s+)?[^\s"'\\,;)}]+/gi,
    (_m, head = '', scheme?: string) => `${head}${scheme ? `${scheme} ` : ''}${REDACTED}`,
  ],
  // Cookies carry session secrets.
  [/((?:set-)?cookie\\*["']?\s*[:=]\s*)[^\r\n"\\]+/gi, (_m, head = '') => `${head}${REDACTED}`],
  // Alpaca API headers, as HTTP headers, env vars or JSON keys (APCA_API_KEY_ID too).
  [
    new RegExp(String.raw`(APCA[-_]API[-_](?:KEY[-_]ID|SECRET[-_]KEY)\\*["']?\s*[:=]\s*)${VALUE}`, 'gi'),
    (_m, head = '', value = '') => `${head}${maskValue(value)}`,
  ],
  // key=value, key: value and "key":"value" secrets (Alpaca auth frames, sasl.jaas.config password="…").
  [
    new RegExp(String.raw`(\\*["']?\b${SECRET_NAME}\\*["']?\s*[:=]\s*)${VALUE}`, 'gi'),
    (_m, head = '', value = '') => `${head}${maskValue(value)}`,
  ],
  // JSON Web Tokens (Argo CD, Kubernetes service accounts).
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, () => REDACTED],
  // A bearer token outside an Authorization header ("using Bearer abc123…").
  [/\b(bearer)\s+(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}/gi, (_m, scheme = '') => `${scheme} ${REDACTED}`],
  // GitHub tokens.
  [/\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, () => REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}\b/g, () => REDACTED],
  // Slack tokens and incoming-webhook URLs.
  [/\bxox[abeoprs]-[A-Za-z0-9-]{10,}/g, () => REDACTED],
  [/\bxapp-[A-Za-z0-9-]{10,}/g, () => REDACTED],
  [/(hooks\.slack\.com\/services\/)[A-Za-z0-9/_-]+/g, (_m, head = '') => `${head}${REDACTED}`],
  // Alpaca key IDs (PK…, AK…, CK…) and AWS access keys on their own.
  [/\b(?:PK|AK|CK)[A-Z0-9]{14,}\b/g, () => REDACTED],
  [/\bAKIA[0-9A-Z]{16}\b/g, () => REDACTED],
  // Long base64 / base64url blobs with mixed case and digits. Lower-case hex (commit SHAs, UUIDs),
  // paths and hyphenated pod names lack upper case and survive.
  [
    /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{32,}={0,2}/g,
    (run) => (looksLikeSecretBlob(run) || run.endsWith('=') ? REDACTED : run),
  ],
];

/** Replace every secret value in `text` with `[REDACTED]`. Pure and idempotent. */
export function redact(text: string): string {
  let out = text;
  for (const [pattern, replace] of RULES) out = out.replace(pattern, replace);
  return out;
}

/** {@link redact} applied to each line. */
export function redactLines(lines: readonly string[]): string[] {
  return lines.map(redact);
}
