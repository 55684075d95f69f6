import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { type Problem, formatProblem, validateRepository } from '@toolkit/cli';
import { ROOT } from '../support/harness.js';
import { tempDir } from '../support/temp.js';

const GOOD_ACTION = `name: Good
description: A good action.
inputs:
  name:
    description: A name.
outputs:
  result:
    description: A result.
runs:
  using: node24
  main: dist/index.js
`;

const CALLED = `name: Called
on:
  workflow_call:
    inputs:
      environment:
        type: string
        required: true
jobs:
  work:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - run: echo "\${{ inputs.environment }}"
`;

const CALLER = `name: Caller
on: push
permissions:
  contents: read
jobs:
  call:
    uses: ./.github/workflows/called.yml
    with:
      environment: uat
`;

/** A repository with one action and a caller/called pair of workflows, all valid; `files` overrides. */
async function repository(files: Record<string, string> = {}): Promise<string> {
  const root = await tempDir();
  const all: Record<string, string> = {
    'actions/good/action.yml': GOOD_ACTION,
    'actions/good/dist/index.js': '',
    '.github/workflows/called.yml': CALLED,
    '.github/workflows/caller.yml': CALLER,
    ...files,
  };
  for (const [file, content] of Object.entries(all)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), content);
  }
  return root;
}

const summary = (problems: Problem[]) =>
  problems.map((problem) => ({ file: problem.file, check: problem.check, message: problem.message }));

describe('toolkit validate', () => {
  it('finds nothing wrong with valid actions and workflows', async () => {
    expect(await validateRepository(await repository())).toEqual([]);
  });

  it('catches an action.yml that breaks the action schema', async () => {
    const root = await repository({
      'actions/good/action.yml': GOOD_ACTION.replace('runs:\n  using: node24\n  main: dist/index.js\n', 'runs: fast\n'),
    });
    const problems = await validateRepository(root);
    expect(problems.some((problem) => problem.check === 'workflow-parser' && problem.file === 'actions/good/action.yml')).toBe(true);
  });

  it('catches our own rules: node24, an existing main, and descriptions for every input and output', async () => {
    const root = await repository({
      'actions/good/action.yml': GOOD_ACTION.replace('using: node24', 'using: node20')
        .replace('main: dist/index.js', 'main: dist/missing.js')
        .replace('    description: A name.\n', '    required: false\n')
        .replace('    description: A result.\n', "    value: ''\n"),
    });
    expect(summary(await validateRepository(root))).toEqual([
      { file: 'actions/good/action.yml', check: 'toolkit', message: 'runs.using is "node20"; toolkit actions run on node24.' },
      { file: 'actions/good/action.yml', check: 'toolkit', message: 'runs.main dist/missing.js does not exist; run `pnpm build`.' },
      { file: 'actions/good/action.yml', check: 'toolkit', message: 'Input "name" has no description.' },
      { file: 'actions/good/action.yml', check: 'toolkit', message: 'Output "result" has no description.' },
    ]);
  });

  it('catches a workflow that breaks the workflow schema', async () => {
    const root = await repository({ '.github/workflows/caller.yml': CALLER.replace('on: push', 'on: push\nbogus-key: 1') });
    const problems = await validateRepository(root);
    expect(problems.find((problem) => problem.check === 'workflow-parser')).toMatchObject({
      file: '.github/workflows/caller.yml',
      line: 3,
      message: "Unexpected value 'bogus-key'",
    });
  });

  it("catches a caller's inputs that the local reusable workflow does not declare, or misses", async () => {
    const root = await repository({ '.github/workflows/caller.yml': CALLER.replace('environment: uat', 'enviroment: uat') });
    const messages = (await validateRepository(root))
      .filter((problem) => problem.check === 'workflow-parser')
      .map((problem) => problem.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'Input environment is required, but not provided while calling.',
        'Invalid input, enviroment is not defined in the referenced workflow.',
      ]),
    );
  });

  it('checks templates against this repository’s reusable workflows, as org/toolkit', async () => {
    const template = CALLER.replace('./.github/workflows/called.yml', 'org/toolkit/.github/workflows/called.yml@v1').replace(
      'environment: uat',
      'other: 1',
    );
    const root = await repository({ 'workflows-templates/release.yml': template });
    const problems = (await validateRepository(root)).filter((problem) => problem.file === 'workflows-templates/release.yml');
    expect(problems.map((problem) => problem.message)).toEqual(
      expect.arrayContaining(['Invalid input, other is not defined in the referenced workflow.']),
    );
  });

  it('catches what actionlint catches, such as an undefined expression property', async () => {
    const root = await repository({ '.github/workflows/called.yml': CALLED.replace('inputs.environment', 'github.nonexistent') });
    const problem = (await validateRepository(root)).find((found) => found.check === 'actionlint');
    expect(problem).toMatchObject({ file: '.github/workflows/called.yml', line: 14 });
    expect(problem?.message).toContain('property "nonexistent" is not defined');
    expect(formatProblem(problem as Problem)).toMatch(
      /^\.github\/workflows\/called\.yml:14:\d+: property "nonexistent" .* \(actionlint\)$/s,
    );
  });

  it('passes on this repository', async () => {
    expect((await validateRepository(ROOT)).map(formatProblem)).toEqual([]);
  });
});
