/** Reads and parses a YAML (or JSON) file; an unreadable or unparsable file becomes the caller's named error. */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { DocumentIssue } from '../domain/invalid-document';

export async function readYamlDocument(path: string, invalid: (issues: DocumentIssue[]) => Error): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw invalid([{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  try {
    return parse(text, { prettyErrors: true });
  } catch (err) {
    throw invalid([{ path: '', message: `not valid YAML: ${(err as Error).message}` }]);
  }
}
