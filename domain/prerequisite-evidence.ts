/**
 * Evidence for the prerequisite a human confirms before approving a restart of procedure B or C. The
 * automation never fixes credentials or Kafka itself, and the human still confirms; the evidence
 * makes that confirmation informed instead of blind:
 *
 * - Procedure B (Alpaca 401/403): did the sealed credentials (`gitops.sealedSecretsPath`, the
 *   runbook's sealed-secrets.yaml) change in Git since the failure began — which commits, by whom,
 *   when. None means the rotation has not reached Git yet.
 * - Procedure C (Kafka): KAFKA_BOOTSTRAP in Git (the ConfigMap's file), in the live ConfigMap, and as
 *   the runbook expects it (`prerequisites.kafkaBootstrap`), side by side, each difference named.
 *
 * Each source is read on its own: one that cannot be read is recorded with the reason and the rest
 * is still shown. Pure: the activities read, this describes.
 */
import type { SourceResult } from './diagnosis';

/** A commit that touched the sealed credentials. */
export interface SecretFileCommit {
  sha: string;
  author: string;
  at: string;
  subject: string;
  url?: string;
}

export interface SealedSecretsEvidence {
  path: string;
  branch: string;
  /** Commits since this moment (ISO 8601)… */
  since: string;
  /** …which is when the failure began by this account (e.g. the alert's startsAt). */
  sinceFrom: string;
  /** Newest first. */
  commits: SecretFileCommit[];
  /** More commits than listed. */
  truncated: boolean;
}

export interface KafkaBootstrapEvidence {
  /** In the GitOps ConfigMap file (`gitops.configMapPath`). */
  git: SourceResult<string | null> & { path?: string };
  /** In the live ConfigMap (`target.configMap`). */
  live: SourceResult<string | null> & { configMap?: string };
  /** What the runbook says it must be (`prerequisites.kafkaBootstrap`); null when it does not say. */
  expected: string | null;
  /** Each difference between the values that could be read, in a sentence; empty when they agree. */
  mismatches: string[];
}

export interface PrerequisiteEvidence {
  procedure: 'B' | 'C';
  collectedAt: string;
  /** Procedure B: absent when the runbook names no sealedSecretsPath (`unavailable` says so). */
  sealedSecrets?: SourceResult<SealedSecretsEvidence>;
  /** Procedure C. */
  kafkaBootstrap?: KafkaBootstrapEvidence;
  /** The evidence as lines for the approval message and the notes. */
  summary: string[];
}

/** When the failure began: the earliest alert start known, else the incident's own start. */
export function failureBegan(alertStarts: Array<string | undefined>, incidentStartedAt: string): { since: string; sinceFrom: string } {
  const starts = alertStarts.filter((s): s is string => typeof s === 'string' && !Number.isNaN(Date.parse(s))).map((s) => Date.parse(s));
  // Alertmanager sends 0001-01-01T00:00:00Z for an alert without a start: not a start.
  const real = starts.filter((at) => at > Date.parse('2000-01-01T00:00:00Z'));
  if (real.length > 0) return { since: new Date(Math.min(...real)).toISOString(), sinceFrom: "the alert's startsAt" };
  return { since: incidentStartedAt, sinceFrom: 'the incident start (no alert start known)' };
}

/** The differences between Git, the live ConfigMap and the runbook's value, among those known. */
export function compareKafkaBootstrap(git: SourceResult<string | null>, live: SourceResult<string | null>, expected: string | null): string[] {
  const known: Array<[string, string | null]> = [];
  if (git.ok) known.push(['Git', git.value]);
  if (live.ok) known.push(['the live ConfigMap', live.value]);
  if (expected !== null) known.push(['the runbook', expected]);
  const show = (v: string | null) => (v === null ? '(not set)' : v);
  const mismatches: string[] = [];
  for (let i = 0; i < known.length; i++) {
    for (let j = i + 1; j < known.length; j++) {
      const [a, va] = known[i]!;
      const [b, vb] = known[j]!;
      if (va !== vb) mismatches.push(`KAFKA_BOOTSTRAP differs: ${a} has ${show(va)}, ${b} has ${show(vb)}`);
    }
  }
  return mismatches;
}

/** The lines the approval message shows. */
export function summarizeEvidence(evidence: Omit<PrerequisiteEvidence, 'summary'>): string[] {
  const lines: string[] = [];
  const secrets = evidence.sealedSecrets;
  if (secrets && !secrets.ok) lines.push(`Sealed credentials in Git: not checked (${secrets.error})`);
  if (secrets?.ok) {
    const { path, branch, since, sinceFrom, commits, truncated } = secrets.value;
    if (commits.length === 0) {
      lines.push(`${path} has NOT changed on ${branch} since ${since} (${sinceFrom}): the credential rotation is not in Git yet`);
    } else {
      lines.push(`${path} changed on ${branch} since ${since} (${sinceFrom}): ${commits.length}${truncated ? '+' : ''} commit${commits.length === 1 ? '' : 's'}`);
      for (const c of commits) lines.push(`  ${c.sha.slice(0, 7)} by ${c.author} at ${c.at}: ${c.subject}`);
    }
  }
  const kafka = evidence.kafkaBootstrap;
  if (kafka) {
    const side = (what: string, r: SourceResult<string | null>) => (r.ok ? `${what} ${r.value ?? '(not set)'}` : `${what} unknown (${r.error})`);
    lines.push(`KAFKA_BOOTSTRAP — ${side('Git:', kafka.git)}; ${side('live ConfigMap:', kafka.live)}; runbook expects: ${kafka.expected ?? '(not stated)'}`);
    if (kafka.mismatches.length > 0) lines.push(...kafka.mismatches.map((m) => `MISMATCH: ${m}`));
    else if (kafka.git.ok && kafka.live.ok) lines.push('KAFKA_BOOTSTRAP agrees everywhere it could be read');
  }
  return lines;
}
