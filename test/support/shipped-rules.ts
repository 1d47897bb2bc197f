/**
 * The classifier bound to the failure knowledge of a shipped runbook (config/runbooks/*.yaml), read
 * and validated as the worker reads it, so tests classify by the data the product ships.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { classify as classifyBy, classifyDiagnosis as classifyDiagnosisBy, type ClassifyDiagnosisOptions } from '../../domain/classify';
import type { Classification, ClassifierInput } from '../../domain/classification';
import type { Diagnosis } from '../../domain/diagnosis';
import type { FailureKnowledge } from '../../domain/failure-knowledge';
import { readinessViewOf } from '../../domain/readiness';
import { parseRunbookConfig, type RunbookConfig } from '../../domain/runbook-config';

export { EVIDENCE_LIMITS } from '../../domain/classify';

/** A shipped runbook by file name (without .yaml), validated. */
export function shippedRunbook(name: string): RunbookConfig {
  const path = fileURLToPath(new URL(`../../config/runbooks/${name}.yaml`, import.meta.url));
  return parseRunbookConfig(parse(readFileSync(path, 'utf8')), path);
}

function knowledgeOf(name: string): FailureKnowledge {
  const failures = shippedRunbook(name).failures;
  if (!failures) throw new Error(`config/runbooks/${name}.yaml declares no failures`);
  return failures;
}

/** torghut-ws's failure knowledge, as shipped. */
export const TORGHUT_WS: FailureKnowledge = knowledgeOf('torghut-ws');

/** The classes the torghut-ws runbook declares, and the engine's `healthy`. */
export type FailureClass = 'alpaca_406_second_connection' | 'alpaca_auth' | 'kafka_auth' | 'kafka_metadata' | 'kafka_produce' | 'unknown' | 'healthy';

export const LOG_CLASS_PRECEDENCE: readonly string[] = TORGHUT_WS.precedence;
export const TORGHUT_READINESS = readinessViewOf(TORGHUT_WS);
/** The readiness values the torghut-ws runbook documents. */
export const READINESS_ERROR_CLASSES: readonly string[] = [...TORGHUT_READINESS.classes.keys()];

export function classify(input: ClassifierInput): Classification {
  return classifyBy(TORGHUT_WS, input);
}

export function classifyDiagnosis(diagnosis: Diagnosis, opts: Omit<ClassifyDiagnosisOptions, 'knowledge'>): Classification {
  return classifyDiagnosisBy(diagnosis, { ...opts, knowledge: TORGHUT_WS });
}
