/**
 * Redaction of secrets from any text that leaves an activity: evidence, logs, PR bodies, Slack.
 * Patterns follow the secrets known to appear in torghut-ws logs (see shared/reference).
 */
const MASK = '[REDACTED]';

const RULES: Array<[RegExp, string]> = [
  // Authorization headers (Bearer/Basic/token) in any casing.
  [/(authorization["']?\s*[:=]\s*["']?)(bearer|basic|token)\s+[^\s"',}]+/gi, `$1$2 ${MASK}`],
  [/\bbearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, `Bearer ${MASK}`],
  // SASL JAAS configs: password="..." and username="...".
  [/(password\s*=\s*)("[^"]*"|'[^']*'|[^\s;]+)/gi, `$1"${MASK}"`],
  // JSON / key=value secrets: key, secret, password, token, api keys.
  [/(["']?(?:key|secret|password|passwd|token|api[_-]?key|access[_-]?token|client[_-]?secret)["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,}&]+)/gi, `$1"${MASK}"`],
  // Alpaca headers.
  [/(APCA-API-(?:KEY-ID|SECRET-KEY)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, `$1${MASK}`],
  // Well-known token shapes.
  [/\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, MASK],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}\b/g, MASK],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, MASK],
  // Long base64 blobs (encoded credentials, keys).
  [/\b[A-Za-z0-9+/]{40,}={0,2}/g, MASK],
];

export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}

export function redactLines(lines: readonly string[]): string[] {
  return lines.map(redact);
}
