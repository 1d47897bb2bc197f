/**
 * Redaction of secrets from any text that leaves an activity: evidence, logs, PR bodies, Slack.
 *
 * Patterns follow the secrets known to appear in torghut-ws logs (shared/reference/failure-signatures):
 * Alpaca auth frames and APCA-* headers, Authorization headers, Kafka `sasl.jaas.config` passwords,
 * GitHub and Slack tokens, JWTs, credentials in URLs and long high-entropy blobs. The value is
 * replaced by `[REDACTED]`; the name around it stays, and so does everything an engineer needs to
 * read the evidence (error classes, codes, topic and pod names, timestamps, commit SHAs).
 *
 * The central rule is "a value after a credential name" ({@link isSecretName}: `password`,
 * `KAFKA_PASSWORD`, `ssl.key.passphrase`, `pwd`, `auth`, `basic.auth.user.info`, `apiKey`, …). How
 * far that value runs depends on its syntax, because a password may contain anything its syntax
 * allows:
 * - quoted (`"…"`, `'…'`, or JSON-escaped `\"…\"` inside a JSON log line): to the closing quote of
 *   the same escaping level, so escaped quotes inside the secret do not end it. A quote still open
 *   at the end of a line carries over to the next lines (see "Lines" below);
 * - `key: value` / `key = value` (YAML, headers, Java config dumps): the rest of the line, spaces
 *   included (`password: correct horse battery`);
 * - `KEY=value` (env vars, logfmt, JAAS without quotes): up to whitespace, so `;`, `&` and `,`
 *   belong to the secret (`KAFKA_PASSWORD=Xy7;kLm9&Qw2,zz`);
 * - inside a JSON string (an odd number of unescaped `"` before the name) an unquoted value also
 *   ends at the next quote or `\n` escape, and after a quoted JSON key at `,` `}` `]`, so JSON stays
 *   JSON.
 * Kafka's own placeholders (`[hidden]`), `null`, empty values and `[REDACTED]` are left as they are.
 *
 * Lines: {@link redactLines} carries a small state from one line to the next — "a quoted secret is
 * open (which quote, how many backslashes)" or "inside a PEM private key" — so a JAAS
 * `password="…` split over two log lines is masked on both. A carried quote lasts at most
 * {@link MAX_QUOTE_CONTINUATION} more lines (a password is not longer than that; an unterminated
 * quote is more likely a cut line), a PEM block at most {@link MAX_PEM_LINES}. A value already
 * masked (`"[REDACTED]` cut by an excerpt) carries nothing, so re-redacting a composed text (a PR
 * body quoting evidence) never masks the lines after it. {@link redact} treats a multi-line text
 * the same way, line by line.
 *
 * Rules run in a fixed order, each on the output of the previous one; a line whose shaped tokens
 * were masked is scanned again (a credential name glued to a token shows only then), and a PEM block
 * inside a quoted value is masked with the rest of that value. Redacting twice gives the same text
 * as redacting once: test/fuzz/redaction.test.ts checks it on generated secrets and hostile text.
 */
export const REDACTED = '[REDACTED]';

/** Further lines a quoted secret left open may continue over. */
export const MAX_QUOTE_CONTINUATION = 3;
/** Further lines a PEM private key may continue over before its END line. */
export const MAX_PEM_LINES = 200;

/** Extra scans of a line after its shaped tokens were masked (see {@link redactFresh}). */
const MAX_RESCANS = 3;

/** What a line leaves open for the next one. */
type Carry =
  | { kind: 'quote'; quote: '"' | "'"; backslashes: number; lines: number }
  | { kind: 'pem'; lines: number }
  | null;

// ---------------------------------------------------------------------------------------------------
// Credential names
// ---------------------------------------------------------------------------------------------------

/** Names ending in one of these hold a secret whatever comes before: `dbpassword`, `client_secret`, `apikey`. */
const SECRET_SUFFIX = /(?:password|passwd|passphrase|secret|token|credentials?|key|key[-_.]?id)$/i;
/** Short words that hold a secret only as a whole segment of the name: `pass`, `DB_PASS`, `dbPass`, but not `bypass`. */
const SECRET_SEGMENTS = new Set(['pass', 'pwd', 'auth', 'userinfo']);

/** The segments of a name: split at `.`, `_`, `-` and camelCase humps, lower-cased. */
function segments(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s._-]+/)
    .filter(Boolean)
    .map((s) => s.toLowerCase());
}

/**
 * True when `name` (a key in `name=value`, `name: value`, `"name":"value"`) holds a secret:
 * `password`, `sasl.password`, `KAFKA_PASSWORD`, `ssl.key.passphrase`, `client_secret`,
 * `access_token`, `X-Api-Key`, `APCA-API-KEY-ID`, `credentials`, `pass`, `pwd`, `auth` (docker
 * `auths` entries), `basic.auth.user.info`.
 */
function isSecretName(name: string): boolean {
  if (SECRET_SUFFIX.test(name)) return true;
  const parts = segments(name);
  const last = parts.at(-1) ?? '';
  if (SECRET_SEGMENTS.has(last)) return true;
  return last === 'info' && parts.at(-2) === 'user';
}

// ---------------------------------------------------------------------------------------------------
// Quoted values
// ---------------------------------------------------------------------------------------------------

/** Backslashes immediately before `at`, not looking before `from`. */
function backslashesBefore(text: string, at: number, from: number): number {
  let n = 0;
  while (at - n - 1 >= from && text[at - n - 1] === '\\') n++;
  return n;
}

/** Where a quoted value ends. `close` is the closing sequence (backslashes and quote) or '' when none. */
interface QuoteEnd {
  /** End of the secret content (exclusive). */
  valueEnd: number;
  /** End of the closing sequence; equal to valueEnd when the value ended without one. */
  closeEnd: number;
  /** False when the text ended with the quote still open. */
  closed: boolean;
}

/**
 * The end of a value opened by `backslashes` backslashes and `quote`, searched from `from`.
 *
 * A value opened at escaping level k (k = 0 for `"`, 1 for `\"`, 3 for `\\\"`: JSON inside JSON)
 * is closed by a quote preceded by k backslashes, or by k plus a multiple of 2k+2 (escaped
 * backslashes before the closing quote); any other count is a quote escaped inside the secret.
 * Fewer than k backslashes is the end of the string that encloses the value (a line cut inside it):
 * the value ends there, unclosed.
 */
function findQuoteEnd(text: string, from: number, quote: '"' | "'", k: number, inString: boolean): QuoteEnd {
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c !== quote && !(quote === "'" && inString && c === '"')) continue;
    const run = backslashesBefore(text, i, from);
    // YAML escapes a single quote by doubling it: 'it''s'.
    if (quote === "'" && c === "'" && k === 0 && run === 0 && text[i + 1] === "'" && i > from) {
      i++;
      continue;
    }
    if (c === '"' && quote === "'") {
      // A single-quoted value inside a JSON string: an unescaped " ends the enclosing string.
      if (run % 2 === 0) return { valueEnd: i - run, closeEnd: i - run, closed: false };
      continue;
    }
    if (run < k) return { valueEnd: i - run, closeEnd: i - run, closed: false };
    if ((run - k) % (2 * k + 2) === 0) return { valueEnd: i - k, closeEnd: i + 1, closed: true };
  }
  return { valueEnd: text.length, closeEnd: text.length, closed: false };
}

/** Values that are not secrets: Kafka's placeholder, nothing, or what we already masked (once or more). */
function isPlaceholder(value: string): boolean {
  return value === '' || value === '[hidden]' || value === 'null' || (value.startsWith(REDACTED) && value.split(REDACTED).every((rest) => rest === ''));
}

/**
 * An open value that only holds our masks, possibly cut by an excerpt (`[REDACTED]…`, `[REDAC…`,
 * `…[REDACTED]`, `[REDAC…[REDACTED]`, `[REDACTED][REDACTED]` where a PEM block followed the value).
 */
function isAlreadyMasked(content: string): boolean {
  if (content === '') return false;
  // Our masks, whole or cut (a prefix of one, at the end or before an excerpt's ellipsis), and
  // ellipses, in any order: `"password":"[REDAC…[REDACTED]` is a cut mask before a PEM key's mask.
  let rest = content;
  while (rest !== '') {
    if (rest.startsWith(REDACTED)) rest = rest.slice(REDACTED.length);
    else if (rest.startsWith('…')) rest = rest.slice(1);
    else {
      const cut = /^\[[A-Z]*/.exec(rest)?.[0] ?? '';
      if (cut.length < 2 || !REDACTED.startsWith(cut) || (cut.length < rest.length && rest[cut.length] !== '…')) return false;
      rest = rest.slice(cut.length);
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// key = value
// ---------------------------------------------------------------------------------------------------

/** `name` `=`/`:` with the quotes and spaces around it; the name is checked by {@link isSecretName}. */
const KEY_VALUE = /(\\*["']?)\b([A-Za-z0-9_][A-Za-z0-9_.-]{0,79})(\\*["']?)([ \t]*[:=])([ \t]*)/g;

/** `, Next-Name: ` after a spaced value: a list of `name: value` pairs on one line. */
const NEXT_KEY = /^[ \t]+[A-Za-z][A-Za-z0-9_.-]*[ \t]*[:=][ \t]/;

/** The end of an unquoted value starting at `from`; see the module comment for the syntax rules. */
function unquotedEnd(text: string, from: number, o: { quotedKey: boolean; inString: boolean; spaced: boolean }): number {
  let i = from;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n' || c === '\r') break;
    if (o.quotedKey && /[\s,}\]"\\]/.test(c)) break;
    if (o.inString && (c === '"' || (c === '\\' && /["nrt]/.test(text[i + 1] ?? '')))) break;
    if (!o.spaced && /\s/.test(c)) break;
    // A header list on one line: `APCA-API-KEY-ID: …, APCA-API-SECRET-KEY: …` — the next name ends it.
    if (o.spaced && (c === ',' || c === ';') && NEXT_KEY.test(text.slice(i + 1, i + 100))) break;
  }
  let end = i;
  while (end > from && /[ \t]/.test(text[end - 1]!)) end--;
  if (o.inString) while (end > from && text[end - 1] === '\\') end--;
  return end;
}

/**
 * Masks every value after a credential name in one line. Returns the line and what it leaves open:
 * a quoted secret not closed by the end of the line.
 */
function maskKeyValues(line: string): { text: string; carry: Carry } {
  let out = '';
  let copied = 0;
  let quotes = 0; // unescaped " seen in the original line before `scanned`
  let scanned = 0;
  let carry: Carry = null;
  KEY_VALUE.lastIndex = 0;
  for (let m = KEY_VALUE.exec(line); m; m = KEY_VALUE.exec(line)) {
    const [whole, open = '', name = '', close = ''] = m;
    const spaced = (m[5] ?? '') !== '' || /^[ \t]/.test(m[4] ?? '');
    const from = m.index + whole.length;
    if (!isSecretName(name)) continue;
    // A quoted key's own opening quote does not put it inside a string; `"password: x"` does.
    const quotedKey = /["']/.test(open) && /["']/.test(close);
    for (const end = m.index + (quotedKey ? 0 : open.length); scanned < end; scanned++) {
      if (line[scanned] === '"' && backslashesBefore(line, scanned, 0) % 2 === 0) quotes++;
    }
    const inString = quotes % 2 === 1;
    const quoted = /^(\\*)(["'])/.exec(line.slice(from, from + 16));
    let end: number;
    let replacement: string;
    if (quoted) {
      const slashes = quoted[1]!;
      const quote = quoted[2] as '"' | "'";
      const contentStart = from + quoted[0].length;
      const found = findQuoteEnd(line, contentStart, quote, slashes.length, inString);
      const content = line.slice(contentStart, found.valueEnd);
      const closing = line.slice(found.valueEnd, found.closeEnd);
      end = found.closeEnd;
      const masked = !found.closed && isAlreadyMasked(content);
      replacement = isPlaceholder(content) || masked ? line.slice(from, end) : `${quoted[0]}${REDACTED}${closing}`;
      if (!found.closed && found.closeEnd === line.length && !masked) {
        carry = { kind: 'quote', quote, backslashes: slashes.length, lines: 0 };
      }
    } else if (line.startsWith(REDACTED, from)) {
      end = from + REDACTED.length;
      replacement = REDACTED;
    } else {
      end = unquotedEnd(line, from, { quotedKey, inString, spaced });
      const value = line.slice(from, end);
      replacement = isPlaceholder(value) ? value : REDACTED;
    }
    out += line.slice(copied, from) + replacement;
    copied = end;
    KEY_VALUE.lastIndex = Math.max(end, from);
  }
  return { text: out + line.slice(copied), carry };
}

// ---------------------------------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------------------------------

const URL_USERINFO = /\b([a-z][a-z0-9+.-]{0,31}:\/\/[^\s:/?#@"'\\]*):([^\s"'\\<>]*@[^\s"'\\<>]*)/gi;

/**
 * `scheme://user:password@host` keeps the user and the host. The password may hold `/` and `@`
 * (`postgres://u:pa/ss@db`, `https://u:p@ss@host`): it runs to the last `@` before the first `/`,
 * `?` or `#` that follows an `@`, so a later `@` in the path or query is not taken for it.
 */
function maskUrlPassword(_m: string, head: string, rest: string): string {
  const firstAt = rest.indexOf('@');
  const afterAt = rest.slice(firstAt + 1).search(/[/?#]/);
  const authorityEnd = afterAt === -1 ? rest.length : firstAt + 1 + afterAt;
  const lastAt = rest.lastIndexOf('@', authorityEnd - 1);
  return `${head}:${REDACTED}${rest.slice(lastAt)}`;
}

// ---------------------------------------------------------------------------------------------------
// A credential word followed by a token, without `=` or `:`
// ---------------------------------------------------------------------------------------------------

/** Words that follow "bearer" in prose, not tokens. */
const BEARER_PROSE = new Set(['authentication', 'authorization', 'credential', 'credentials', 'required', 'expected', 'missing', 'invalid', 'expired']);

/** Base64 or base64url that does not read as a word or a Kubernetes name: padding, `+` or `/`, digits, inner capitals. */
function looksEncoded(run: string): boolean {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(run)) return false;
  if (/^[a-z0-9]+(?:-[a-z0-9]+)+$/.test(run)) return false;
  return /=$/.test(run) || /[+/]/.test(run) || (/\d/.test(run) && /[A-Za-z]/.test(run)) || /[a-z][A-Z]/.test(run);
}

/** `bearer <token>` (any token but a prose word), `basic dXNlcjpwYXNz`, `secret c2VjcmV0MQ==`. */
function maskWordToken(match: string, word: string, space: string, token: string): string {
  const isBearer = word.toLowerCase() === 'bearer';
  if (isBearer ? BEARER_PROSE.has(token.toLowerCase()) : !looksEncoded(token)) return match;
  return `${word}${space}${REDACTED}`;
}

// ---------------------------------------------------------------------------------------------------
// The rules of one line
// ---------------------------------------------------------------------------------------------------

/** High-entropy test for long token-like runs: upper and lower case letters and a digit. */
function looksLikeSecretBlob(run: string): boolean {
  return /[A-Z]/.test(run) && /[a-z]/.test(run) && /\d/.test(run);
}

/** A pattern and its replacer; capture groups arrive as arguments. */
type Rule = [RegExp, (match: string, ...groups: string[]) => string];

const PEM_BEGIN = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const PEM_END = /-----END [A-Z ]*PRIVATE KEY-----/;

/** Rules before the key = value scan: they keep their own names (Authorization, Cookie) and hosts. */
const BEFORE_KEYS: Rule[] = [
  [URL_USERINFO, (m, head = '', rest = '') => maskUrlPassword(m, head, rest)],
  // Authorization / Proxy-Authorization headers: keep the scheme, drop the credentials. A value that
  // already starts with our mask was masked before (a token, then a PEM block glued to it): kept, so
  // redacting again changes nothing.
  [
    /(authorization\\*["']?\s*[:=]\s*\\*["']?)(?:(bearer|basic|token|digest|negotiate)\s+)?([^\s"'\\,;)}]+)/gi,
    (m, head = '', scheme, value = '') => (value.startsWith(REDACTED) ? m : `${head}${scheme ? `${scheme} ` : ''}${REDACTED}`),
  ],
  // Cookies carry session secrets.
  [/((?:set-)?cookie\\*["']?\s*[:=]\s*)([^\r\n"\\]+)/gi, (m, head = '', value = '') => (value.startsWith(REDACTED) ? m : `${head}${REDACTED}`)],
];

/** Rules after it: secrets recognised by their shape, wherever they stand. */
const AFTER_KEYS: Rule[] = [
  // JSON Web Tokens (Argo CD, Kubernetes service accounts).
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, () => REDACTED],
  [
    /\b(bearer|basic|token|secret|password|passwd|passphrase|auth|api[-_]?key)(\s+)([A-Za-z0-9._~+/-]{8,}={0,2})(?![A-Za-z0-9._~+/=-])/gi,
    (m, word = '', space = '', token = '') => maskWordToken(m, word, space, token),
  ],
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

function applyRules(text: string, rules: readonly Rule[]): string {
  let out = text;
  for (const [pattern, replace] of rules) out = out.replace(pattern, replace);
  return out;
}

/** One line without a carry: PEM keys, then the rules; returns what the line leaves open. */
function redactFresh(line: string): { text: string; carry: Carry } {
  const begin = PEM_BEGIN.exec(line);
  if (begin) {
    const head = redactFresh(line.slice(0, begin.index));
    const rest = line.slice(begin.index);
    // Inside a quoted value left open (`password="…-----BEGIN`), the block belongs to that value:
    // masked to its closing quote like any other part of it.
    if (head.carry?.kind === 'quote') {
      const inside = redactLine(rest, head.carry);
      return { text: `${head.text}${inside.text}`, carry: inside.carry };
    }
    const before = head.text;
    const end = PEM_END.exec(rest);
    if (!end) return { text: `${before}${REDACTED}`, carry: { kind: 'pem', lines: 0 } };
    const after = redactFresh(rest.slice(end.index + end[0].length));
    return { text: `${before}${REDACTED}${after.text}`, carry: after.carry };
  }
  const keyed = maskKeyValues(applyRules(line, BEFORE_KEYS));
  let text = applyRules(keyed.text, AFTER_KEYS);
  let carry = keyed.carry;
  // A token masked by its shape may uncover a credential name glued to it (`xapp-…0KAFKA_PASSWORD: x`
  // is one 90-character word until the token is masked), or change where a URL's userinfo ends (a
  // base64 run masked in its path leaves a later `@`): scan again, every rule, until nothing
  // changes, so the value is masked now and a second redaction finds nothing more to do.
  for (let round = 0; round < MAX_RESCANS; round++) {
    const again = maskKeyValues(applyRules(text, BEFORE_KEYS));
    const next = applyRules(again.text, AFTER_KEYS);
    carry = carry ?? again.carry;
    if (next === text) break;
    text = next;
  }
  return { text, carry };
}

/** One line, given what the line before left open. */
function redactLine(line: string, carry: Carry): { text: string; carry: Carry } {
  if (carry === null) return redactFresh(line);
  if (carry.kind === 'pem') {
    const end = PEM_END.exec(line);
    if (!end) return { text: REDACTED, carry: carry.lines + 1 < MAX_PEM_LINES ? { ...carry, lines: carry.lines + 1 } : null };
    const after = redactFresh(line.slice(end.index + end[0].length));
    return { text: `${REDACTED}${after.text}`, carry: after.carry };
  }
  const found = findQuoteEnd(line, 0, carry.quote, carry.backslashes, false);
  if (!found.closed && found.closeEnd === line.length) {
    const next = carry.lines + 1 < MAX_QUOTE_CONTINUATION ? { ...carry, lines: carry.lines + 1 } : null;
    return { text: REDACTED, carry: next };
  }
  const after = redactFresh(line.slice(found.closeEnd));
  return { text: `${REDACTED}${line.slice(found.valueEnd, found.closeEnd)}${after.text}`, carry: after.carry };
}

/**
 * Replace every secret value in each line with `[REDACTED]`, carrying an open quoted secret or PEM
 * key from one line to the next. Same count and order of lines. Pure and idempotent.
 */
export function redactLines(lines: readonly string[]): string[] {
  let carry: Carry = null;
  return lines.map((line) => {
    const done = redactLine(line, carry);
    carry = done.carry;
    return done.text;
  });
}

/** Replace every secret value in `text` with `[REDACTED]`, line by line as {@link redactLines}. Pure and idempotent. */
export function redact(text: string): string {
  return redactLines(text.split('\n')).join('\n');
}

/**
 * A map of names to values (alert labels and annotations) with every secret redacted: each value
 * read as `name: value`, so a value under a credential name (`password`, `token`, …) is masked
 * whole, and a secret inside any value (a pasted log line, a URL with userinfo) as in a log line.
 */
export function redactStringMap(map: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(map)) {
    const key = redact(name);
    const redacted = redact(`${name}: ${value}`);
    out[key] = redacted.startsWith(`${key}: `) ? redacted.slice(key.length + 2) : REDACTED;
  }
  return out;
}
