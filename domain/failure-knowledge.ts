/**
 * A runbook's failure knowledge (`failures:` in its file): the failure classes of the service, how
 * its readiness body names them, the log signatures that show them, the procedure of each, and the
 * precedence between them. The classifier (./classify.ts) is an engine over this data; nothing about
 * a particular service is written in TypeScript. Validated with zod at start-up: every problem is
 * reported with its path (`failures.signatures.3.any.0.regex: …`).
 *
 * Two verdicts are the engine's own: `healthy` (readiness 2xx) and `unknown` (nothing conclusive). A
 * runbook may declare `unknown` too — to name its readiness value, give signatures that point at it
 * (codes with no procedure) and its action text — but its restart is always `forbidden`.
 *
 * Matchers, from the cheapest (preferred) to the most expressive:
 * - `text`: a substring, case-insensitive unless `caseSensitive: true`;
 * - `exception`: a Java/Kotlin exception's simple class name (case-sensitive substring);
 * - `json`: a field of a JSON log line (dotted path) that `equals` or `contains` a value;
 * - `regex`: a restricted regular expression (./safe-pattern.ts: bounded quantifiers only);
 * - `context`: a named list of matchers (`contexts:`), e.g. "this line is about Kafka";
 * - `all` / `any` / `not`: combinations.
 * A signature matches a line when one of `any` matches, every one of `all` matches and none of
 * `unless` does. Error-code signatures (`codes:`) read an upstream's numbered error frames, such as
 * Alpaca's `{"T":"error","code":406,"msg":"connection limit exceeded"}`, by code.
 */
import { z } from 'zod';
import { unsafePatternReason } from './safe-pattern';

const className = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, 'expected a class name: lower-case letters, digits and _ (e.g. kafka_auth)')
  .refine((name) => name !== 'healthy', '"healthy" is the engine\'s own verdict (readiness 2xx), not a failure class');

const fieldPath = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_-]{0,62}(\.[A-Za-z_][A-Za-z0-9_-]{0,62}){0,7}$/, 'expected a dotted field path such as error_class or reason.code');

const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'expected a field name (letters, digits, _)');

const contextName = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'expected a context name (lower-case letters, digits, _ and -)');

const safeRegex = z.string().min(1).superRefine((source, ctx) => {
  const reason = unsafePatternReason(source);
  if (reason) ctx.addIssue({ code: 'custom', message: `regex refused: ${reason}` });
});

/** One test of a log line. See the module comment for each kind. */
export type Matcher =
  | { text: string; caseSensitive?: boolean }
  | { exception: string }
  | { regex: string; caseSensitive?: boolean }
  | { json: { field: string; equals?: string | number | boolean; contains?: string } }
  | { context: string }
  | { all: Matcher[] }
  | { any: Matcher[] }
  | { not: Matcher };

export const matcherSchema: z.ZodType<Matcher> = z.lazy(() =>
  z.union([
    z.object({ text: z.string().min(1).max(300), caseSensitive: z.boolean().optional() }).strict(),
    z.object({ exception: z.string().regex(/^[A-Za-z_$][\w$]{0,120}$/, 'expected an exception class name such as SaslAuthenticationException') }).strict(),
    z.object({ regex: safeRegex, caseSensitive: z.boolean().optional() }).strict(),
    z
      .object({
        json: z
          .object({ field: fieldPath, equals: z.union([z.string(), z.number(), z.boolean()]).optional(), contains: z.string().min(1).optional() })
          .strict()
          .refine((j) => (j.equals === undefined) !== (j.contains === undefined), 'give exactly one of equals and contains'),
      })
      .strict(),
    z.object({ context: contextName }).strict(),
    z.object({ all: z.array(matcherSchema).min(1) }).strict(),
    z.object({ any: z.array(matcherSchema).min(1) }).strict(),
    z.object({ not: matcherSchema }).strict(),
  ]),
);

const matchers = z.array(matcherSchema).min(1);

export const RESTART_POLICIES = ['allowed', 'needs-prerequisite', 'forbidden'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

const procedureSchema = z
  .object({
    /** The runbook's name for the procedure (A, B, C…), shown to humans and recorded. */
    id: z.string().min(1).max(40).optional(),
    /**
     * allowed: the approved restart is the fix; needs-prerequisite: a human confirms `prerequisite`
     * when approving; forbidden: no automated restart, the incident ends as needs-human.
     */
    restart: z.enum(RESTART_POLICIES),
    prerequisite: z.string().min(1).max(500).optional(),
    /**
     * What to do, in words an on-call engineer can act on. Placeholders: {deployment} (its name, or
     * "the deployment"), {kafkaUser} ("KafkaUser NAME", or "the KafkaUser"), {expectedReplicas}.
     */
    action: z.string().min(1).max(500),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.restart === 'needs-prerequisite' && !p.prerequisite) {
      ctx.addIssue({ code: 'custom', path: ['prerequisite'], message: 'a procedure that needs a prerequisite must say what the human confirms' });
    }
    if (p.restart !== 'needs-prerequisite' && p.prerequisite) {
      ctx.addIssue({ code: 'custom', path: ['prerequisite'], message: `only a needs-prerequisite procedure has a prerequisite (restart is ${p.restart})` });
    }
    if (p.restart !== 'forbidden' && !p.id) ctx.addIssue({ code: 'custom', path: ['id'], message: 'a procedure that restarts needs an id' });
  });

const failureClassSchema = z
  .object({
    /** The value of the readiness body's class field that names this class (default: the class name). */
    readiness: z.string().min(1).max(100).optional(),
    /** Readiness gates that fail with this class; a body where all of them pass gets a note. */
    gates: z.array(fieldName).optional(),
    procedure: procedureSchema,
    /**
     * A surplus replica causes this class (a second connection): with more replicas than expected
     * the classifier names it as the likely cause, and with the expected count says what else is.
     */
    surplusReplicas: z
      .object({
        /** e.g. "a second replica causes Alpaca 406". */
        cause: z.string().min(1).max(200),
        /** e.g. "each pod opens its own Alpaca connection, which causes 406". */
        perPod: z.string().min(1).max(200),
        /** The failure in a few words, e.g. "the 406". */
        short: z.string().min(1).max(60),
        /** Said when replicas are as expected, e.g. "the 406 most likely comes from a stale socket…". */
        asExpected: z.string().min(1).max(300),
      })
      .strict()
      .optional(),
    /** A note when the logs show this class together with any of `classes` (e.g. a restart that must wait). */
    seenWith: z.object({ classes: z.array(className).min(1), note: z.string().min(1).max(400) }).strict().optional(),
    /** The diagnosis's Kafka credentials check (KafkaUser status, missing Secrets) is evidence for this class. */
    kafkaCredentials: z.boolean().default(false),
  })
  .strict();

const errorCodeSchema = z
  .object({
    code: z.number().int().min(100).max(999),
    /** The upstream's own message for the code, e.g. "connection limit exceeded". */
    message: z.string().min(1).max(100),
    /** The class the code shows; null: a signal that is not an outage by itself (then `note` says so). */
    class: className.nullable(),
    /** Recognises the code from its message alone (default: the message as text). */
    recognise: matchers.optional(),
    note: z.string().min(1).max(300).optional(),
  })
  .strict()
  .refine((c) => c.class !== null || c.note !== undefined, { message: 'a code that is not an outage (class: null) needs a note saying so', path: ['note'] });

const errorCodesSchema = z
  .object({
    /** The upstream's name, in labels: "Alpaca error frame 406 (connection limit exceeded)". */
    name: z.string().min(1).max(40),
    /** The frame marker, e.g. `"T":"error"`, and the code's field, e.g. `"code":406`. */
    frame: z.object({ field: fieldName, value: fieldName, codeField: fieldName }).strict(),
    /** Words that introduce a code outside a frame ("code=406", "status 401"), on a line in `context`. */
    codeWords: z.array(fieldName).min(1),
    /** The context that makes a line about this upstream. */
    context: contextName,
    /** Known codes; this order is the order in which messages are recognised (most specific first). */
    codes: z.array(errorCodeSchema).min(1),
  })
  .strict();

const patternSignatureSchema = z
  .object({
    /** Shown in notes and evidence; `{value}` is replaced by what `capture` extracted. */
    label: z.string().min(1).max(120),
    class: className.nullable(),
    any: matchers,
    all: matchers.optional(),
    unless: matchers.optional(),
    /** Extracts a value for the label: the first participating group's entry of `values` (null: the group's text). */
    capture: z.object({ regex: safeRegex, values: z.array(z.string().nullable()).min(1) }).strict().optional(),
    /** Needed when class is null: why this is not an outage. */
    note: z.string().min(1).max(300).optional(),
  })
  .strict();

const codeSignatureSchema = z
  .object({
    /** Which `errorCodes:` entry. */
    codes: fieldName,
    /**
     * frame: a line with the frame marker (code from the frame, else from the message);
     * context: a line in the upstream's context (code from a frame, a code word, "(NNN)", or the message);
     * message: the message alone, for the codes in `only`.
     */
    in: z.enum(['frame', 'context', 'message']),
    only: z.array(z.number().int()).min(1).optional(),
  })
  .strict();

export const signatureSchema = z.union([codeSignatureSchema, patternSignatureSchema]);

const failureKnowledgeObject = z
  .object({
    readiness: z
      .object({
        /** Where the not-ready body names the class, e.g. error_class or reason.code. */
        classField: fieldPath.default('error_class'),
        /** An object of boolean readiness gates, e.g. gates. */
        gatesField: fieldPath.default('gates'),
        /** The gates, in order, with what each stands for ("Kafka", "the Alpaca WebSocket session"). */
        gates: z.record(fieldName, z.string().min(1).max(100)).default({}),
      })
      .strict()
      .prefault({}),
    /** Every class, the one that wins first, when the logs show several. */
    precedence: z.array(className).min(1),
    classes: z.record(className, failureClassSchema),
    contexts: z.record(contextName, matchers).default({}),
    errorCodes: z.record(fieldName, errorCodesSchema).default({}),
    /** Tried in order on each line; the first that matches names the line's class. */
    signatures: z.array(signatureSchema).default([]),
  })
  .strict();

export const failureKnowledgeSchema = failureKnowledgeObject.superRefine((knowledge, ctx) => checkReferences(knowledge, ctx));

export type FailureKnowledge = z.infer<typeof failureKnowledgeObject>;
export type FailureKnowledgeInput = z.input<typeof failureKnowledgeSchema>;
export type FailureClassSpec = z.infer<typeof failureClassSchema>;
export type ProcedureSpec = z.infer<typeof procedureSchema>;
export type ErrorCodes = z.infer<typeof errorCodesSchema>;
export type Signature = z.infer<typeof signatureSchema>;
export type PatternSignature = z.infer<typeof patternSignatureSchema>;
export type CodeSignature = z.infer<typeof codeSignatureSchema>;
export type ReadinessSpec = FailureKnowledge['readiness'];

/** Cross-references: every class named is declared, every context and code table exists. */
function checkReferences(data: FailureKnowledge, ctx: z.RefinementCtx): void {
  const declared = new Set(Object.keys(data.classes));
  const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
  const known = (cls: string | null, path: Array<string | number>) => {
    if (cls !== null && !declared.has(cls)) issue(path, `class ${cls} is not declared under failures.classes`);
  };

  const listed = new Set<string>();
  data.precedence.forEach((cls, i) => {
    if (listed.has(cls)) issue(['precedence', i], `${cls} is listed twice`);
    listed.add(cls);
    known(cls, ['precedence', i]);
  });
  for (const cls of declared) if (!listed.has(cls)) issue(['precedence'], `class ${cls} is missing from the precedence`);

  const readinessValues = new Map<string, string>();
  for (const [cls, spec] of Object.entries(data.classes)) {
    const value = (spec.readiness ?? cls).toLowerCase();
    const other = readinessValues.get(value);
    if (other) issue(['classes', cls, 'readiness'], `readiness value ${value} already names class ${other}`);
    readinessValues.set(value, cls);
    if (cls === 'unknown' && spec.procedure.restart !== 'forbidden') issue(['classes', cls, 'procedure', 'restart'], 'unknown is never restarted: restart must be forbidden');
    spec.seenWith?.classes.forEach((c, i) => known(c, ['classes', cls, 'seenWith', 'classes', i]));
    spec.gates?.forEach((gate, i) => {
      if (!(gate in data.readiness.gates)) issue(['classes', cls, 'gates', i], `gate ${gate} is not declared under failures.readiness.gates`);
    });
  }
  if (Object.values(data.classes).filter((c) => c.surplusReplicas).length > 1) issue(['classes'], 'only one class may say that surplus replicas cause it');

  const checkMatchers = (list: readonly Matcher[] | undefined, path: Array<string | number>) =>
    list?.forEach((m, i) => checkMatcher(m, [...path, i]));
  const checkMatcher = (m: Matcher, path: Array<string | number>): void => {
    if ('context' in m && !(m.context in data.contexts)) issue([...path, 'context'], `context ${m.context} is not declared under failures.contexts`);
    if ('all' in m) checkMatchers(m.all, [...path, 'all']);
    if ('any' in m) checkMatchers(m.any, [...path, 'any']);
    if ('not' in m) checkMatcher(m.not, [...path, 'not']);
  };
  for (const [name, list] of Object.entries(data.contexts)) {
    list.forEach((m, i) => {
      if (mentionsContext(m, name, data.contexts, new Set())) issue(['contexts', name, i], `context ${name} refers to itself`);
    });
    checkMatchers(list, ['contexts', name]);
  }
  for (const [name, table] of Object.entries(data.errorCodes)) {
    if (!(table.context in data.contexts)) issue(['errorCodes', name, 'context'], `context ${table.context} is not declared under failures.contexts`);
    const codes = new Set<number>();
    table.codes.forEach((c, i) => {
      if (codes.has(c.code)) issue(['errorCodes', name, 'codes', i, 'code'], `code ${c.code} is listed twice`);
      codes.add(c.code);
      known(c.class, ['errorCodes', name, 'codes', i, 'class']);
      checkMatchers(c.recognise, ['errorCodes', name, 'codes', i, 'recognise']);
    });
  }
  data.signatures.forEach((s, i) => {
    if ('codes' in s) {
      const table = data.errorCodes[s.codes];
      if (!table) issue(['signatures', i, 'codes'], `error codes ${s.codes} are not declared under failures.errorCodes`);
      s.only?.forEach((code, j) => {
        if (table && !table.codes.some((c) => c.code === code)) issue(['signatures', i, 'only', j], `code ${code} is not one of ${s.codes}'s codes`);
      });
      return;
    }
    known(s.class, ['signatures', i, 'class']);
    if (s.class === null && !s.note) issue(['signatures', i, 'note'], 'a signature that is not an outage (class: null) needs a note saying so');
    checkMatchers(s.any, ['signatures', i, 'any']);
    checkMatchers(s.all, ['signatures', i, 'all']);
    checkMatchers(s.unless, ['signatures', i, 'unless']);
  });
}

function mentionsContext(m: Matcher, name: string, contexts: Record<string, Matcher[]>, seen: Set<string>): boolean {
  if ('context' in m) {
    if (m.context === name) return true;
    if (seen.has(m.context)) return false;
    seen.add(m.context);
    return (contexts[m.context] ?? []).some((inner) => mentionsContext(inner, name, contexts, seen));
  }
  if ('all' in m) return m.all.some((inner) => mentionsContext(inner, name, contexts, seen));
  if ('any' in m) return m.any.some((inner) => mentionsContext(inner, name, contexts, seen));
  if ('not' in m) return mentionsContext(m.not, name, contexts, seen);
  return false;
}

/** The knowledge of a runbook that declares none: no class, so every failure is `unknown` (a human decides). */
export const NO_FAILURE_KNOWLEDGE: FailureKnowledge = {
  readiness: { classField: 'error_class', gatesField: 'gates', gates: {} },
  precedence: ['unknown'],
  classes: {
    unknown: {
      procedure: { restart: 'forbidden', action: 'No automated remediation: a human reads the readiness answer, the logs and the events (kubectl describe) and decides' },
      kafkaCredentials: false,
    },
  },
  contexts: {},
  errorCodes: {},
  signatures: [],
};
