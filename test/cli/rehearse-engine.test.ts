/**
 * The rehearsal engine on workflows written for the purpose (only `run:` steps, so no image or
 * toolkit action is involved): the job graph, conditions, matrices, outputs, permissions and what
 * it refuses; and the toolkit's own ci.yml.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type World,
  createWorld,
  expandMatrix,
  filterPatternToRegExp,
  matchesFilters,
  prepareRehearsal,
  rehearse,
  standIns,
} from '@toolkit/cli';
import { Git } from '@toolkit/shared';
import { ROOT, node24 } from '../support/harness.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

let world: World;

beforeAll(async () => {
  world = await createWorld({
    root: ROOT,
    toolkitRepository: 'acme/toolkit',
    toolkitRefs: ['v1'],
    node: node24(),
    scratch: await tempDir('engine-world-'),
  });
}, 60_000);

afterAll(async () => {
  await world?.close();
});

let counter = 0;
/** A repository holding one workflow file; returns its name in the world. */
async function repositoryWith(workflow: string, options: { tag?: string; branch?: string } = {}): Promise<string> {
  const name = `acme/engine-${++counter}`;
  const dir = path.join(await tempDir('engine-app-'), 'app');
  const git = await makeRepo(dir);
  await mkdir(path.join(dir, '.github', 'workflows'), { recursive: true });
  await writeFile(path.join(dir, '.github', 'workflows', 'test.yml'), workflow);
  await git.run(['add', '--all']);
  await commit(git, 'ci: the workflow under test');
  if (options.tag) await git.run(['tag', options.tag]);
  if (options.branch) {
    await git.run(['checkout', '--quiet', '-b', options.branch]);
    await writeFile(path.join(dir, 'feature.txt'), 'a change\n');
    await git.run(['add', '--all']);
    await commit(git, 'feat: on a branch');
  }
  const bare = await world.addRepository(name);
  await git.run(['push', '--quiet', bare, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*']);
  return name;
}

interface TestEvent {
  name: 'push' | 'workflow_dispatch' | 'pull_request';
  ref: string;
  inputs?: Record<string, string>;
  pullRequest?: { number: number; base: string; baseSha: string; head: string; headSha: string };
}

function run(repository: string, event: TestEvent) {
  const workflows = event.name === 'workflow_dispatch' ? { workflows: ['.github/workflows/test.yml'] } : {};
  const lines: string[] = [];
  return rehearse({
    world,
    repository,
    event: { sha: '', actor: 'tester', ...event },
    secrets: { A_SECRET: 'hunter2-not-in-logs' },
    vars: { GREETING: 'hello' },
    standIns: standIns(world.app),
    ...workflows,
    log: (line) => lines.push(line),
  }).then((report) => ({ report, log: lines.join('\n') }));
}

describe('filter patterns and matrices, as GitHub documents them', () => {
  it('matches branch and tag filters with *, **, ? and +, and ! exclusions', () => {
    expect(filterPatternToRegExp('UAT-*').test('UAT-1.0.0')).toBe(true);
    expect(filterPatternToRegExp('feature/*').test('feature/a/b')).toBe(false);
    expect(filterPatternToRegExp('feature/**').test('feature/a/b')).toBe(true);
    expect(filterPatternToRegExp('v[12].[0-9]+.[0-9]+').test('v1.10.3')).toBe(true);
    expect(filterPatternToRegExp('v[12].[0-9]+.[0-9]+').test('v3.1.0')).toBe(false);
    expect(filterPatternToRegExp('colou?r').test('color')).toBe(true);
    expect(filterPatternToRegExp('a.b').test('axb')).toBe(false);
    expect(matchesFilters('release/1.0-rc', ['release/**', '!release/**-rc'])).toBe(false);
    expect(matchesFilters('release/1.0', ['release/**', '!release/**-rc'])).toBe(true);
  });

  it('crosses axes, removes exclude, and merges or adds include', () => {
    expect(
      expandMatrix(
        {
          os: ['linux', 'mac'],
          node: [20, 24],
          exclude: [{ os: 'mac', node: 20 }],
          include: [{ os: 'linux', experimental: true }, { os: 'bsd' }],
        },
        'f',
      ),
    ).toEqual([
      { os: 'linux', node: 20, experimental: true },
      { os: 'linux', node: 24, experimental: true },
      { os: 'mac', node: 24 },
      { os: 'bsd' },
    ]);
    expect(expandMatrix({ include: [{ service: 'a' }, { service: 'b' }] }, 'f')).toEqual([{ service: 'a' }, { service: 'b' }]);
    expect(() => expandMatrix({ os: 'linux' }, 'f.yml', 3)).toThrow('f.yml:3: strategy.matrix.os must be a list');
  });
});

describe('the engine', () => {
  it('runs jobs in needs order with outputs, a fromJSON matrix, status functions, env, vars and masked secrets', async () => {
    const repository = await repositoryWith(`name: graph
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  plan:
    runs-on: ubuntu-latest
    outputs:
      services: \${{ steps.list.outputs.services }}
    steps:
      - id: list
        run: echo 'services=["api","web"]' >> "$GITHUB_OUTPUT"
  build:
    needs: plan
    runs-on: ubuntu-latest
    strategy:
      matrix:
        service: \${{ fromJSON(needs.plan.outputs.services) }}
    env:
      WHO: \${{ vars.GREETING }}
    steps:
      - run: echo "building $SERVICE for $WHO with \${{ secrets.A_SECRET }}"
        env:
          SERVICE: \${{ matrix.service }}
      - if: matrix.service == 'web'
        run: exit 3
  after-failure:
    needs: build
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - run: echo "build failed; cleaning up" >> "$GITHUB_STEP_SUMMARY"
  on-success:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - run: echo never
  always:
    needs: [build, on-success]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - id: seen
        run: |
          echo "build=\${{ needs.build.result }}" >> "$GITHUB_OUTPUT"
          echo "on-success=\${{ needs.on-success.result }}" >> "$GITHUB_OUTPUT"
    outputs:
      build: \${{ steps.seen.outputs.build }}
      on-success: \${{ steps.seen.outputs.on-success }}
`);
    const { report, log } = await run(repository, { name: 'push', ref: 'refs/heads/main' });
    const result = (id: string) => report.jobs.filter((job) => job.id === id).map((job) => job.result);
    expect(result('plan')).toEqual(['success']);
    expect(report.jobs.filter((job) => job.id === 'build').map((job) => [job.matrix, job.result])).toEqual([
      [{ service: 'api' }, 'success'],
      [{ service: 'web' }, 'failure'],
    ]);
    expect(result('after-failure')).toEqual(['success']);
    expect(report.jobs.find((job) => job.id === 'after-failure')?.summary).toBe('build failed; cleaning up\n');
    expect(result('on-success')).toEqual(['skipped']);
    expect(report.jobs.find((job) => job.id === 'always')?.outputs).toEqual({ build: 'failure', 'on-success': 'skipped' });
    expect(log).toContain('building api for hello with ***');
    expect(log).not.toContain('hunter2-not-in-logs');
    expect(report.conclusion).toBe('failure');
  });

  it("follows GitHub's finer points: failure() after a skip, outputs of a failed job, secret outputs, fail-fast, the default shell, multi-line secrets", async () => {
    const repository = await repositoryWith(`on: push
jobs:
  skipped:
    if: false
    runs-on: ubuntu-latest
    steps:
      - run: echo never
  after-skip:
    needs: skipped
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - run: echo "a skipped need is no failure"
  fails:
    runs-on: ubuntu-latest
    outputs:
      before: \${{ steps.early.outputs.value }}
      leak: \${{ steps.early.outputs.secret }}
    steps:
      - id: early
        run: |
          echo "value=set before the failure" >> "$GITHUB_OUTPUT"
          echo "secret=\${{ secrets.KEY }}" | head -1 >> "$GITHUB_OUTPUT"
      - run: |
          false | true
          echo "plain run: steps are bash -e, without pipefail"
      - run: printf '%s\\n' "\${{ secrets.KEY }}"
      - run: exit 1
  reads:
    needs: fails
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: test "\${{ needs.fails.outputs.before }}" = "set before the failure" && test -z "\${{ needs.fails.outputs.leak }}"
  legs:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        n: [1, 2, 3]
    steps:
      - run: exit 1
`);
    const lines: string[] = [];
    const report = await rehearse({
      world,
      repository,
      event: { name: 'push', ref: 'refs/heads/main', sha: '', actor: 'tester' },
      secrets: { KEY: '-----BEGIN KEY-----\nline-two-of-the-key\n-----END KEY-----' },
      standIns: standIns(world.app),
      log: (line) => lines.push(line),
    });
    const log = lines.join('\n');
    const results = report.jobs.map((job) => [job.id, job.result]);
    expect(results).toEqual([
      ['skipped', 'skipped'],
      ['after-skip', 'skipped'],
      ['fails', 'failure'],
      ['reads', 'success'],
      ['legs', 'failure'],
    ]);
    expect(report.jobs.find((job) => job.id === 'fails')?.outputs).toEqual({ before: 'set before the failure' });
    expect(log).toContain("Skip output 'leak' since it may contain secret.");
    expect(log).toContain('plain run: steps are bash -e, without pipefail');
    // fail-fast: the first leg failed, the other two never ran.
    expect(report.jobs.filter((job) => job.id === 'legs')).toHaveLength(1);
    expect(log).toContain('2 matrix combination(s) not run: an earlier one failed (fail-fast)');
    // Each line of a multi-line secret is masked, as the runner masks log lines one at a time.
    expect(log).not.toContain('line-two-of-the-key');
    expect(log).not.toContain('BEGIN KEY');
  });

  it('gives each job a token with exactly its permissions: a push without contents: write is refused and recorded', async () => {
    const repository = await repositoryWith(`on: push
jobs:
  reader:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
      - run: git -c user.name=t -c user.email=t@t.invalid tag not-allowed && git push origin not-allowed
  writer:
    runs-on: ubuntu-latest
    permissions:
      contents: write
    steps:
      - uses: actions/checkout@v4
      - run: git -c user.name=t -c user.email=t@t.invalid tag allowed && git push origin allowed
  no-oidc:
    runs-on: ubuntu-latest
    steps:
      - run: test -z "$ACTIONS_ID_TOKEN_REQUEST_URL"
  oidc:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - run: |
          test -n "$ACTIONS_ID_TOKEN_REQUEST_URL" && curl -sf -H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore" | grep -q '"value"'
`);
    const { report } = await run(repository, { name: 'push', ref: 'refs/heads/main' });
    expect(Object.fromEntries(report.jobs.map((job) => [job.id, job.result]))).toEqual({
      reader: 'failure',
      writer: 'success',
      'no-oidc': 'success',
      oidc: 'success',
    });
    expect(report.denials).toEqual([
      expect.objectContaining({ holder: expect.stringContaining('reader (GITHUB_TOKEN)'), needed: `contents: write on ${repository}` }),
    ]);
    const tags = await new Git({ cwd: world.repositories.get(repository)?.bareDir ?? '' }).output(['tag']);
    expect(tags.split('\n')).toEqual(['allowed']);
  });

  it('passes with:, secrets: and outputs: through a called workflow, and refuses a called job asking for more than its caller', async () => {
    const callable = `on:
  workflow_dispatch:
    inputs:
      name:
        type: string
        required: true
  workflow_call:
    inputs:
      name:
        type: string
        required: true
      called:
        type: boolean
        default: false
    secrets:
      token:
        required: true
    outputs:
      greeting:
        value: \${{ jobs.inner.outputs.greeting }}
jobs:
  call:
    if: \${{ !inputs.called }}
    permissions:
      contents: read
    uses: ./.github/workflows/test.yml
    with:
      name: \${{ inputs.name }}
      called: true
    secrets:
      token: \${{ secrets.A_SECRET }}
  show:
    if: \${{ !inputs.called }}
    needs: call
    runs-on: ubuntu-latest
    steps:
      - run: test "\${{ needs.call.outputs.greeting }}" = "hello \${{ inputs.name }}"
  inner:
    if: \${{ inputs.called }}
    runs-on: ubuntu-latest
    outputs:
      greeting: \${{ steps.say.outputs.greeting }}
    steps:
      - id: say
        run: |
          test "$TOKEN" = "hunter2-not-in-logs"
          echo "greeting=hello \${{ inputs.name }}" >> "$GITHUB_OUTPUT"
        env:
          TOKEN: \${{ secrets.token }}
`;
    const repository = await repositoryWith(callable);
    const bare = world.repositories.get(repository)?.bareDir ?? '';
    const dir = path.join(await tempDir('engine-call-'), 'app');
    await new Git({ cwd: path.dirname(dir) }).run(['clone', '--quiet', bare, dir]);
    const file = path.join(dir, '.github', 'workflows', 'test.yml');
    const git = new Git({
      cwd: dir,
      env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t.invalid' },
    });
    const { report } = await run(repository, { name: 'workflow_dispatch', ref: 'main', inputs: { name: 'shop' } });
    expect(report.jobs.filter((job) => job.result !== 'skipped').map((job) => [job.id, job.result])).toEqual([
      ['call/inner', 'success'],
      ['show', 'success'],
    ]);

    await writeFile(
      file,
      callable.replace(
        '    if: ${{ inputs.called }}\n    runs-on: ubuntu-latest\n',
        '    if: ${{ inputs.called }}\n    runs-on: ubuntu-latest\n    permissions:\n      contents: write\n',
      ),
    );
    await git.run(['commit', '--quiet', '--all', '-m', 'ci: inner asks for more']);
    await git.run(['push', '--quiet', 'origin', 'HEAD:main']);
    await expect(run(repository, { name: 'workflow_dispatch', ref: 'main', inputs: { name: 'shop' } })).rejects.toThrow(
      /the nested job 'inner' is requesting 'contents: write', but is only allowed 'contents: read' by the calling job call/,
    );

    // A secret the called workflow does not declare is refused, as GitHub refuses it.
    await writeFile(
      file,
      callable.replace(
        '      token: ${{ secrets.A_SECRET }}\n  show:',
        '      token: ${{ secrets.A_SECRET }}\n      extra: ${{ secrets.GITHUB_TOKEN }}\n  show:',
      ),
    );
    await git.run(['commit', '--quiet', '--all', '-m', 'ci: an undeclared secret']);
    await git.run(['push', '--quiet', 'origin', 'HEAD:main']);
    await expect(run(repository, { name: 'workflow_dispatch', ref: 'main', inputs: { name: 'shop' } })).rejects.toThrow(
      /secret extra is not defined in the referenced workflow/,
    );
  });

  it("resolves a called workflow's ./ to the caller's repository and $/ to its own, at the commit that is running", async () => {
    const inner = (who: string) => `on:
  workflow_call:
    outputs:
      who:
        value: \${{ jobs.say.outputs.who }}
jobs:
  say:
    runs-on: ubuntu-latest
    outputs:
      who: \${{ steps.say.outputs.who }}
    steps:
      - id: say
        run: echo "who=${who}" >> "$GITHUB_OUTPUT"
`;
    // A library repository: its outer.yml calls inner.yml both ways, and runs its own action by $/.
    const library = path.join(await tempDir('engine-lib-'), 'lib');
    const lib = await makeRepo(library);
    await mkdir(path.join(library, '.github', 'workflows'), { recursive: true });
    await mkdir(path.join(library, 'actions', 'hello'), { recursive: true });
    await writeFile(
      path.join(library, 'actions', 'hello', 'action.yml'),
      'name: hello\ndescription: says hello\noutputs:\n  said:\n    description: what it said\nruns:\n  using: node24\n  main: index.js\n',
    );
    await writeFile(
      path.join(library, 'actions', 'hello', 'index.js'),
      "require('fs').appendFileSync(process.env.GITHUB_OUTPUT, 'said=hello from the library\\n');\n",
    );
    await writeFile(path.join(library, '.github', 'workflows', 'inner.yml'), inner('the library'));
    await writeFile(
      path.join(library, '.github', 'workflows', 'outer.yml'),
      `on:
  workflow_call:
    outputs:
      dot:
        value: \${{ jobs.dot.outputs.who }}
      self:
        value: \${{ jobs.self.outputs.who }}
      action:
        value: \${{ jobs.act.outputs.said }}
jobs:
  dot:
    uses: ./.github/workflows/inner.yml
  self:
    uses: $/.github/workflows/inner.yml
  act:
    runs-on: ubuntu-latest
    outputs:
      said: \${{ steps.hello.outputs.said }}
    steps:
      - id: hello
        uses: $/actions/hello
`,
    );
    await lib.run(['add', '--all']);
    await commit(lib, 'feat: the library');
    await lib.run(['tag', 'v1']);
    const libraryBare = await world.addRepository('acme/library');
    await lib.run(['push', '--quiet', libraryBare, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*']);
    // Its caller has an inner.yml of its own.
    const repository = await repositoryWith(`on: push
jobs:
  call:
    uses: acme/library/.github/workflows/outer.yml@v1
  show:
    needs: call
    runs-on: ubuntu-latest
    outputs:
      seen: \${{ needs.call.outputs.dot }} / \${{ needs.call.outputs.self }} / \${{ needs.call.outputs.action }}
    steps:
      - run: echo shown
`);
    const callerBare = world.repositories.get(repository)?.bareDir ?? '';
    const dir = path.join(await tempDir('engine-caller-'), 'app');
    await new Git({ cwd: path.dirname(dir) }).run(['clone', '--quiet', callerBare, dir]);
    await writeFile(path.join(dir, '.github', 'workflows', 'inner.yml'), inner('the caller'));
    const git = new Git({
      cwd: dir,
      env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t.invalid' },
    });
    await git.run(['add', '--all']);
    await git.run(['commit', '--quiet', '-m', 'ci: an inner.yml of its own']);
    await git.run(['push', '--quiet', 'origin', 'HEAD:main']);
    const { report } = await run(repository, { name: 'push', ref: 'refs/heads/main' });
    expect(report.jobs.find((job) => job.id === 'show')?.outputs).toEqual({ seen: 'the caller / the library / hello from the library' });
  });

  it('refuses what it does not run, naming the file and line, and triggers only matching workflows', async () => {
    const repository = await repositoryWith(
      `on:
  push:
    tags: ['UAT-*']
jobs:
  db:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres
    steps:
      - run: echo hi
`,
      { tag: 'UAT-1.0.0' },
    );
    // A branch push does not match tags: UAT-*, so nothing runs.
    expect((await run(repository, { name: 'push', ref: 'refs/heads/main' })).report.runs).toEqual([]);
    await expect(run(repository, { name: 'push', ref: 'refs/tags/UAT-1.0.0' })).rejects.toThrow(
      /test\.yml@refs\/tags\/UAT-1\.0\.0:7: job db: services: is not run by the rehearsal/,
    );
  });
});

describe('pull requests and the runner files', () => {
  it('runs a pull_request workflow on the test merge, with GITHUB_ENV and GITHUB_PATH carried to later steps', async () => {
    const repository = await repositoryWith(
      `on:
  pull_request:
    branches: [main]
jobs:
  check:
    runs-on: ubuntu-latest
    outputs:
      head: \${{ steps.facts.outputs.head }}
      merged: \${{ steps.facts.outputs.merged }}
    steps:
      - uses: actions/checkout@v4
      - run: |
          echo "GREETING=from an earlier step" >> "$GITHUB_ENV"
          mkdir -p "$RUNNER_TEMP/bin" && printf '#!/bin/sh\\necho tool-on-path\\n' > "$RUNNER_TEMP/bin/pr-tool" && chmod +x "$RUNNER_TEMP/bin/pr-tool"
          echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
      # A script with an expression is the block's value, not its indented source: the heredoc ends.
      - run: |
          cat > event.txt <<EOF
          \${{ github.event_name }} into '\${{ github.base_ref }}' from '\${{ github.head_ref }}'
          EOF
      - run: test "$(cat event.txt)" = "pull_request into 'main' from 'feature'"
      - id: facts
        run: |
          test "$GREETING" = "from an earlier step"
          test "$(pr-tool)" = tool-on-path
          test "$GITHUB_HEAD_REF" = feature && test "$GITHUB_BASE_REF" = main
          echo "head=\${{ github.event.pull_request.head.ref }}" >> "$GITHUB_OUTPUT"
          echo "merged=$(test -f feature.txt && git cat-file -p HEAD | grep -c '^parent ')" >> "$GITHUB_OUTPUT"
`,
      { branch: 'feature' },
    );
    const result = await run(repository, {
      name: 'pull_request',
      ref: '',
      pullRequest: { number: 4, base: 'main', baseSha: '', head: 'feature', headSha: '' },
    });
    const { report } = result;
    expect(report.runs.map((one) => one.ref)).toEqual(['refs/pull/4/merge']);
    // The checkout is the test merge: the branch's file, and a commit with two parents.
    expect(report.jobs.find((job) => job.id === 'check')).toMatchObject({ result: 'success', outputs: { head: 'feature', merged: '2' } });
  });

  it('toolkit rehearse --json prints the conclusion and every job, and exits non-zero when a job failed', async () => {
    const dir = path.join(await tempDir('engine-cli-'), 'app');
    const git = await makeRepo(dir);
    await mkdir(path.join(dir, '.github', 'workflows'), { recursive: true });
    await writeFile(
      path.join(dir, '.github', 'workflows', 'ci.yml'),
      'on: push\njobs:\n  ok:\n    runs-on: ubuntu-latest\n    steps:\n      - id: say\n        run: echo "word=$WORD" >> "$GITHUB_OUTPUT"\n        env:\n          WORD: ${{ vars.WORD }}\n    outputs:\n      word: ${{ steps.say.outputs.word }}\n  broken:\n    needs: ok\n    runs-on: ubuntu-latest\n    steps:\n      - run: exit 1\n',
    );
    await writeFile(path.join(dir, 'vars.env'), '# one per line\nWORD=hello\n');
    await git.run(['add', '.github']);
    await commit(git, 'ci: a workflow');
    const { spawnSync } = await import('node:child_process');
    const cli = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'packages/cli/lib/bin.js'),
        'rehearse',
        '--repo',
        dir,
        '--event',
        'push',
        '--ref',
        'refs/heads/main',
        '--vars-file',
        path.join(dir, 'vars.env'),
        '--json',
      ],
      { encoding: 'utf8' },
    );
    expect(cli.status).toBe(1);
    const printed = JSON.parse(cli.stdout) as {
      conclusion: string;
      jobs: { id: string; workflow: string; result: string; outputs: Record<string, string> }[];
    };
    expect(printed.conclusion).toBe('failure');
    expect(printed.jobs.map((job) => [job.id, job.result, job.outputs])).toEqual([
      ['ok', 'success', { word: 'hello' }],
      ['broken', 'failure', {}],
    ]);
    expect(printed.jobs[0]?.workflow).toBe('org/app/.github/workflows/ci.yml@refs/heads/main');
  }, 60_000);
});

describe("the toolkit's own ci.yml", () => {
  it('runs its release-context job: the gate passes UAT and PROD on one commit and refuses a PROD tag UAT lacks', async () => {
    const rehearsal = await prepareRehearsal({ root: ROOT, appDir: ROOT, node: node24(), appRepository: 'acme/toolkit' });
    try {
      const report = await rehearsal.run({ name: 'push', ref: 'refs/heads/main' }, { jobs: ['release-context'] });
      expect(report.runs.map((run) => run.workflow)).toEqual(['acme/toolkit/.github/workflows/ci.yml@refs/heads/main']);
      expect(Object.fromEntries(report.jobs.map((job) => [job.id, job.result]))).toEqual({
        verify: 'skipped',
        'release-context': 'success',
      });
      const steps = report.jobs.find((job) => job.id === 'release-context')?.steps ?? [];
      expect(steps.map((step) => [step.name, step.outcome])).toEqual([
        ['actions/checkout', 'success'],
        ['Tag HEAD for UAT and PROD, and tag a child commit for PROD only', 'success'],
        ['./actions/release-context', 'success'],
        ['./actions/release-context', 'success'],
        ['./actions/release-context', 'failure'],
        ['Check what the action said', 'success'],
      ]);
    } finally {
      await rehearsal.close();
    }
  }, 120_000);
});
