/**
 * The shipped Dockerfile read as data, for the tests that cannot build it (no Docker engine here):
 * its stages, what each copies from where, and the runtime stage's command. Only the instructions
 * deploy/Dockerfile uses are understood (FROM … AS, COPY [--from=…], RUN, WORKDIR, ENV, USER,
 * ENTRYPOINT/CMD in exec form).
 */
import { readFileSync } from 'node:fs';

export const DOCKERFILE = 'deploy/Dockerfile';

export interface DockerInstruction {
  op: string;
  args: string;
}

export interface DockerStage {
  /** The `AS` name; undefined for the last (runtime) stage when it has none. */
  name?: string;
  image: string;
  instructions: DockerInstruction[];
}

export interface DockerCopy {
  /** The `--from` stage; undefined: the build context (the repository). */
  from?: string;
  sources: string[];
  dest: string;
}

export function dockerStages(text: string = readFileSync(DOCKERFILE, 'utf8')): DockerStage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [, image = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ image, instructions: [], ...(name ? { name } : {}) });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${DOCKERFILE}: ${op} before the first FROM`);
      stage.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

export function stageNamed(stages: DockerStage[], name: string): DockerStage {
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new Error(`${DOCKERFILE} has no stage ${name}`);
  return stage;
}

export function copiesOf(stage: DockerStage): DockerCopy[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
      const dest = words.pop()!;
      return { ...(from ? { from } : {}), sources: words, dest };
    });
}

export function runsOf(stage: DockerStage): string[] {
  return stage.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
}

/** An exec-form instruction (`["node", "x.js"]`) as its words; undefined when absent. */
export function execForm(stage: DockerStage, op: 'ENTRYPOINT' | 'CMD'): string[] | undefined {
  const instruction = stage.instructions.filter((i) => i.op === op).at(-1);
  return instruction ? (JSON.parse(instruction.args) as string[]) : undefined;
}

export function workdirOf(stage: DockerStage): string | undefined {
  return stage.instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.args;
}
