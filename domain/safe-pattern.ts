/**
 * Regular expressions written in a runbook, checked before they are compiled. A log line is
 * untrusted input up to 32 KiB long and the classifier runs over thousands of them, so a pattern
 * that can backtrack without bound (nested or unbounded quantifiers) would hang the classify
 * activity. The rules keep every pattern linear in the line's length times a small constant:
 *
 * - no unbounded quantifier (`*`, `+`, `{n,}`): write a bound, e.g. `\d{1,12}`, `.{0,200}`;
 * - a bound at most 1,000, and at most 2 ranges wider than 10 per pattern;
 * - a group may only be made optional (`(?:…)?`), never repeated (`(?:…){2,5}`);
 * - no backreferences (`\1`, `\k<name>`) and no lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`);
 * - at most 300 characters.
 *
 * Plain substrings (`text:`) and exception names are preferred; a regex is for what they cannot say.
 */

const MAX_LENGTH = 300;
const MAX_BOUND = 1000;
const MAX_WIDE_RANGES = 2;

/** Why the pattern is refused, or null when it is safe to compile (and it compiles). */
export function unsafePatternReason(source: string): string | null {
  if (source.length > MAX_LENGTH) return `longer than ${MAX_LENGTH} characters`;
  let wide = 0;
  let inClass = false;
  let lastWasGroupEnd = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && /[1-9]/.test(next)) return `backreference \\${next} (not allowed: it can backtrack without bound)`;
      if (!inClass && next === 'k') return 'named backreference \\k<…> (not allowed)';
      i += 1;
      lastWasGroupEnd = false;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      lastWasGroupEnd = false;
      continue;
    }
    if (ch === '(' && source[i + 1] === '?') {
      const kind = source.slice(i + 2, i + 4);
      if (kind.startsWith('=') || kind.startsWith('!') || kind === '<=' || kind === '<!') return `lookaround (${source.slice(i, i + 4)}…) is not allowed`;
    }
    if (ch === '*' || ch === '+') return `unbounded quantifier "${ch}" at ${i}: write a bound such as {0,200}`;
    if (ch === '{') {
      const bound = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
      if (bound) {
        const min = Number(bound[1]);
        const max = bound[2] === undefined ? min : bound[3] === '' ? Infinity : Number(bound[3]);
        if (max === Infinity) return `unbounded quantifier "${bound[0]}" at ${i}: write an upper bound`;
        if (max > MAX_BOUND) return `quantifier "${bound[0]}" at ${i} exceeds ${MAX_BOUND}`;
        if (lastWasGroupEnd) return `a repeated group "${bound[0]}" at ${i}: only "?" may follow a group`;
        if (max - min > 10) wide += 1;
        if (wide > MAX_WIDE_RANGES) return `more than ${MAX_WIDE_RANGES} quantifier ranges wider than 10`;
        i += bound[0].length - 1;
        lastWasGroupEnd = false;
        continue;
      }
    }
    lastWasGroupEnd = ch === ')';
  }
  try {
    new RegExp(source, 'i');
  } catch (err) {
    return `not a valid regular expression: ${(err as Error).message}`;
  }
  return null;
}
