/**
 * Log signatures, compiled from a runbook's failure knowledge (./failure-knowledge.ts) and tried on
 * one log line at a time. A line is read as written and, when it is a JSON log line, once more as
 * its values unescaped (`key=value …`), so an error frame escaped inside a JSON message reads
 * plainly; stack frames (`at …`, `... 12 more`) are skipped, the exception and `Caused by:` lines
 * are not. The first signature that matches names the line's class.
 *
 * Every regular expression here is either a runbook pattern that passed ./safe-pattern.ts or one of
 * the fixed error-frame patterns below, each anchored on a literal word.
 */
import type { CodeSignature, ErrorCodes, FailureKnowledge, Matcher, PatternSignature } from './failure-knowledge';

/** Characters scanned per line: a longer line is read up to here. */
export const SCAN_CHARS = 32_768;

export interface LineSignal {
  /** The class the line points at; null for a signal that is not an outage (then `note` says why). */
  cls: string | null;
  label: string;
  note?: string;
  /** Where the signature is in a text (for centring a long line's excerpt), or -1. */
  locate: (text: string) => number;
}

export interface LogSignal extends LineSignal {
  index: number;
  /** The log line as written. */
  line: string;
  /** The text that matched: the line itself, or a JSON line's values unescaped. */
  text: string;
}

interface ScanText {
  text: string;
  /** The parsed JSON log line, for `json:` matchers (null: not a JSON line). */
  json: unknown;
}

type Test = (t: ScanText) => boolean;
type LineTest = (t: ScanText) => LineSignal | null;

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function fieldAt(value: unknown, path: string): unknown {
  let node = value;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The pattern a positional matcher finds (text, exception, regex), or null for the others. */
function patternOf(m: Matcher): RegExp | null {
  if ('text' in m) return new RegExp(escapeRegex(m.text), m.caseSensitive ? '' : 'i');
  if ('exception' in m) return new RegExp(escapeRegex(m.exception));
  if ('regex' in m) return new RegExp(m.regex, m.caseSensitive ? '' : 'i');
  return null;
}

class Compiler {
  private readonly contexts = new Map<string, Test>();

  constructor(private readonly knowledge: FailureKnowledge) {}

  context(name: string): Test {
    let test = this.contexts.get(name);
    if (!test) {
      // Declared before compiled, so a context used by another resolves lazily (no cycles: validated).
      const any = this.any(this.knowledge.contexts[name] ?? []);
      test = any;
      this.contexts.set(name, test);
    }
    return test;
  }

  matcher(m: Matcher): Test {
    const pattern = patternOf(m);
    if (pattern) return (t) => pattern.test(t.text);
    if ('json' in m) {
      const { field, equals, contains } = m.json;
      return (t) => {
        const value = fieldAt(t.json, field);
        if (equals !== undefined) return value === equals;
        return typeof value === 'string' && contains !== undefined && value.includes(contains);
      };
    }
    if ('context' in m) {
      const name = m.context;
      return (t) => this.context(name)(t);
    }
    if ('all' in m) {
      const tests = m.all.map((inner) => this.matcher(inner));
      return (t) => tests.every((test) => test(t));
    }
    if ('any' in m) return this.any(m.any);
    if ('not' in m) {
      const inner = this.matcher(m.not);
      return (t) => !inner(t);
    }
    return () => false;
  }

  any(list: readonly Matcher[]): Test {
    const tests = list.map((m) => this.matcher(m));
    return (t) => tests.some((test) => test(t));
  }

  pattern(s: PatternSignature): LineTest {
    const any = this.any(s.any);
    const all = s.all ? s.all.map((m) => this.matcher(m)) : [];
    const unless = s.unless ? this.any(s.unless) : () => false;
    const positional = s.any.map(patternOf).filter((p): p is RegExp => p !== null);
    const capture = s.capture ? { regex: new RegExp(s.capture.regex, 'i'), values: s.capture.values } : null;
    const locate = capture
      ? (text: string) => text.search(capture.regex)
      : (text: string) => {
          const found = positional.map((p) => text.search(p)).filter((at) => at >= 0);
          return found.length ? Math.min(...found) : -1;
        };
    return (t) => {
      if (!any(t) || !all.every((test) => test(t)) || unless(t)) return null;
      let label = s.label;
      if (capture) {
        const match = capture.regex.exec(t.text);
        if (!match) return null;
        const group = match.findIndex((g, i) => i > 0 && g !== undefined);
        label = label.replace('{value}', capture.values[group - 1] ?? match[group] ?? '');
      }
      return { cls: s.class, label, ...(s.note ? { note: s.note } : {}), locate };
    };
  }

  codes(s: CodeSignature): LineTest {
    const table = this.knowledge.errorCodes[s.codes] as ErrorCodes;
    const { field, value, codeField } = table.frame;
    const frame = new RegExp(`\\b${field}\\\\*"?\\s*[:=]\\s*\\\\*"?${value}\\b`);
    const frameCode = new RegExp(`\\b${codeField}\\\\*"?\\s*[:=]\\s*\\\\*"?(\\d{3})\\b`, 'gi');
    const looseCode = new RegExp(`\\b(?:${table.codeWords.join('|')})\\s*[:=]?\\s*\\(?(\\d{3})\\b|\\((\\d{3})\\)`, 'gi');
    const inContext = this.context(table.context);
    const codes = new Map(table.codes.map((c) => [c.code, c]));
    const byMessage = table.codes
      .filter((c) => !s.only || s.only.includes(c.code))
      .map((c) => ({ code: c.code, test: c.recognise ? this.any(c.recognise) : this.matcher({ text: c.message }) }));

    const firstKnown = (text: string, pattern: RegExp): number | undefined => {
      for (const match of text.matchAll(pattern)) {
        const code = Number(match[1] ?? match[2]);
        if (codes.has(code)) return code;
      }
      return undefined;
    };
    const fromMessage = (t: ScanText) => byMessage.find((c) => c.test(t))?.code;
    const signal = (code: number | undefined, inFrame: boolean): LineSignal | null => {
      const known = code === undefined ? undefined : codes.get(code);
      if (!known) return null;
      const locator = new RegExp(`${known.code}|${escapeRegex(known.message)}`, 'i');
      return {
        cls: known.class,
        label: `${table.name} ${inFrame ? 'error frame' : 'error'} ${known.code} (${known.message})`,
        ...(known.note ? { note: known.note } : {}),
        locate: (text) => text.search(locator),
      };
    };
    switch (s.in) {
      case 'frame':
        return (t) => (frame.test(t.text) ? signal(firstKnown(t.text, frameCode) ?? fromMessage(t), true) : null);
      case 'context':
        return (t) => (inContext(t) ? signal(firstKnown(t.text, frameCode) ?? firstKnown(t.text, looseCode) ?? fromMessage(t), false) : null);
      case 'message':
        return (t) => signal(fromMessage(t), false);
    }
  }
}

/** A runbook's signatures, ready to scan lines. */
export interface CompiledSignatures {
  scanLine(line: string, index: number): LogSignal | null;
}

const compiled = new WeakMap<FailureKnowledge, CompiledSignatures>();

const STACK_FRAME = /^\s*(?:at\s+[\w$.<>/-]+\(.*\)|\.\.\.\s*\d+\s+(?:more|common frames omitted))\s*$/;

/** `key=value` text of a JSON log line, strings unescaped, so frames inside messages read plainly. */
function flattenJson(value: unknown, key: string, out: string[], depth: number): void {
  if (out.length >= 200 || depth > 6) return;
  if (Array.isArray(value)) {
    for (const item of value) flattenJson(item, key, out, depth + 1);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flattenJson(v, k, out, depth + 1);
  } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    out.push(key ? `${key}=${String(value)}` : String(value));
  }
}

function textsToScan(line: string): ScanText[] {
  const brace = line.search(/[[{]/);
  if (brace < 0 || brace > 80) return [{ text: line, json: null }];
  try {
    const parsed: unknown = JSON.parse(line.slice(brace));
    if (parsed === null || typeof parsed !== 'object') return [{ text: line, json: null }];
    const parts: string[] = [];
    flattenJson(parsed, '', parts, 0);
    const prefix = line.slice(0, brace).trim();
    return [
      { text: line, json: parsed },
      { text: `${prefix ? `${prefix} ` : ''}${parts.join(' ')}`, json: parsed },
    ];
  } catch {
    return [{ text: line, json: null }];
  }
}

/** The signatures of a runbook's failure knowledge, compiled once per knowledge object. */
export function signaturesOf(knowledge: FailureKnowledge): CompiledSignatures {
  const cached = compiled.get(knowledge);
  if (cached) return cached;
  const compiler = new Compiler(knowledge);
  const tests = knowledge.signatures.map((s) => ('codes' in s ? compiler.codes(s) : compiler.pattern(s)));
  const result: CompiledSignatures = {
    scanLine(line, index) {
      const scanned = line.length > SCAN_CHARS ? line.slice(0, SCAN_CHARS) : line;
      if (STACK_FRAME.test(scanned)) return null;
      for (const t of textsToScan(scanned)) {
        for (const test of tests) {
          const signal = test(t);
          if (signal) return { ...signal, index, line, text: t.text };
        }
      }
      return null;
    },
  };
  compiled.set(knowledge, result);
  return result;
}
