import { describe, expect, it } from '@jest/globals';
import { InputError, InputReader } from '@toolkit/shared';
import parseVersion from 'semver/functions/parse.js';
import { getInputs } from '../../actions/semantic-tag/src/main.js';
import {
  type ClassifiedCommit,
  cancelReverts,
  changelogSections,
  classifyCommit,
  highestBump,
  nextVersion,
  parseCommit,
  parseInitialVersion,
  parsePrereleaseIdentifier,
  parseReleaseRules,
  parseTagPrefix,
  readVersion,
  releaseEnvironments,
  renderChangelog,
} from '../../actions/semantic-tag/src/semantic-tag.js';

const sha = 'abcdef1234567890abcdef1234567890abcdef12';

describe('parseCommit', () => {
  it('reads type, scope, subject and the ! mark', () => {
    expect(parseCommit(sha, 'feat(api)!: drop v1\n')).toMatchObject({
      type: 'feat',
      scope: 'api',
      subject: 'drop v1',
      breaking: true,
      conventional: true,
    });
    expect(parseCommit(sha, 'fix: handle empty lists')).toMatchObject({ type: 'fix', subject: 'handle empty lists', breaking: false });
    expect(parseCommit(sha, 'Feat: capitalised type')).toMatchObject({ type: 'feat', conventional: true });
  });

  it('finds BREAKING CHANGE and BREAKING-CHANGE footers, keeping their text', () => {
    const footer = parseCommit(sha, 'refactor: rename config\n\nLong body.\n\nBREAKING CHANGE: `port` is now `listen-port`\n');
    expect(footer).toMatchObject({ type: 'refactor', breaking: true, breakingNotes: ['`port` is now `listen-port`'] });
    expect(parseCommit(sha, 'chore: x\n\nBREAKING-CHANGE: gone').breaking).toBe(true);
    expect(parseCommit(sha, 'chore: x\n\nThis is not a BREAKING CHANGE: mid-line').breaking).toBe(false);
  });

  it('reads git’s own revert subject as a revert, and knows commits that are not Conventional', () => {
    expect(parseCommit(sha, 'Revert "feat: dark mode"\n\nThis reverts commit 123.')).toMatchObject({
      type: 'revert',
      subject: 'feat: dark mode',
    });
    expect(parseCommit(sha, 'Update README.md')).toMatchObject({ conventional: false, subject: 'Update README.md' });
    expect(parseCommit(sha, 'feat:no space')).toMatchObject({ conventional: false });
    expect(parseCommit(sha, "Merge branch 'next'", 2)).toMatchObject({ conventional: false, merge: true });
  });
});

describe('parseCommit and reverts', () => {
  const target = '0123456789abcdef0123456789abcdef01234567';
  const parent = 'fedcba9876543210fedcba9876543210fedcba98';

  it('reads the commits a revert names in git’s own lines: full, merge and --reference forms', () => {
    expect(parseCommit(sha, `Revert "feat: dark mode"\n\nThis reverts commit ${target}.\n`)).toMatchObject({
      type: 'revert',
      subject: 'feat: dark mode',
      reverts: [{ commit: target }],
      revertOnly: true,
    });
    expect(
      parseCommit(sha, `Revert "Merge pull request #7 from a/b"\n\nThis reverts commit ${target}, reversing\nchanges made to ${parent}.\n`)
        .reverts,
    ).toEqual([{ commit: target, mainline: parent }]);
    // git revert --reference: abbreviated, and a title of one's own.
    expect(
      parseCommit(sha, 'Drop dark mode, it breaks login\n\nThis reverts commit 0123456 (feat: dark mode, 2024-05-01).\n'),
    ).toMatchObject({
      type: 'revert',
      subject: 'Drop dark mode, it breaks login',
      conventional: true,
      reverts: [{ commit: '0123456' }],
      revertOnly: true,
    });
    expect(
      parseCommit(
        sha,
        'Drop a merge\n\nThis reverts commit 0123456 (Merge branch x, 2024-05-01), reversing\nchanges made to fedcba9 (base, 2024-04-30).',
      ).reverts,
    ).toEqual([{ commit: '0123456', mainline: 'fedcba9' }]);
    // Mentioning a revert mid-line is not git's line; a merge's own message never reverts.
    expect(parseCommit(sha, `fix: x\n\nSee: This reverts commit ${target}.`).reverts).toBeUndefined();
    expect(parseCommit(sha, `Merge branch 'x'\n\nThis reverts commit ${target}.`, 2).reverts).toBeUndefined();
  });

  it('reads GitHub’s squashed revert (#123) as a revert, and a Conventional commit that also reverts as its own type', () => {
    expect(parseCommit(sha, `Revert "fix: bump release-please" (#847)\n\nThis reverts commit ${target}.`)).toMatchObject({
      type: 'revert',
      subject: 'fix: bump release-please',
      revertOnly: true,
    });
    expect(parseCommit(sha, 'Revert "fix: bump release-please" (#847)')).toMatchObject({ type: 'revert', conventional: true });
    expect(parseCommit(sha, `feat: new login (#12)\n\n* Revert "feat: old login"\n\nThis reverts commit ${target}.`)).toMatchObject({
      type: 'feat',
      subject: 'new login (#12)',
      reverts: [{ commit: target }],
      revertOnly: false,
    });
  });

  it('reads the revert of a revert as the commit it applies again, in both of git’s spellings', () => {
    for (const subject of [
      'Revert "Revert "feat(ui)!: dark mode""',
      'Reapply "feat(ui)!: dark mode"',
      'Revert "Revert "feat(ui)!: dark mode" (#9)" (#10)',
    ])
      expect(parseCommit(sha, `${subject}\n\nThis reverts commit ${target}.`)).toMatchObject({
        type: 'feat',
        scope: 'ui',
        subject: 'dark mode',
        breaking: true,
        revertOnly: true,
      });
    expect(parseCommit(sha, 'Revert "Reapply "feat: dark mode""')).toMatchObject({ type: 'revert', subject: 'feat: dark mode' });
    expect(parseCommit(sha, 'Reapply "Update README"')).toMatchObject({ conventional: false, subject: 'Update README' });
    expect(parseCommit(sha, 'Revert ""')).toMatchObject({ conventional: false, subject: 'Revert ""' });
    // A deep nest of quotes is read in linear time.
    const deep = `${'Revert "'.repeat(50_000)}feat: x${'"'.repeat(50_000)}`;
    const started = Date.now();
    expect(parseCommit(sha, deep)).toMatchObject({ type: 'feat', subject: 'x' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('cancelReverts', () => {
  /** Commits as git log gives them, newest first, with 40-hex SHAs made from their names. */
  const hex = (name: string) => Buffer.from(name).toString('hex').padEnd(40, '0').slice(0, 40);
  const range = (...messages: [name: string, message: string][]): ClassifiedCommit[] =>
    messages.map(([name, message]) => {
      const commit = parseCommit(
        hex(name),
        message.replace(/<(\w+)>/g, (_all, other: string) => hex(other)),
      );
      return { ...commit, bump: classifyCommit(commit, [], 'none') };
    });
  const noGit = {
    run: () => {
      throw new Error('git is not needed for full SHAs');
    },
  };
  const summary = (commits: readonly ClassifiedCommit[]) => commits.map((commit) => [commit.bump, commit.cancelledBy !== undefined]);

  it('cancels a feat and its revert in the same range: no bump, no changelog entry', async () => {
    const commits = range(
      ['fix', 'fix: crash'],
      ['rev', 'Revert "feat: dark mode"\n\nThis reverts commit <feat>.'],
      ['feat', 'feat: dark mode'],
    );
    const log: string[] = [];
    await cancelReverts(noGit, commits, (line) => log.push(line));
    expect(summary(commits)).toEqual([
      ['patch', false],
      ['none', true],
      ['none', true],
    ]);
    expect(commits[1]?.cancelledBy).toBe(hex('feat'));
    expect(commits[2]?.cancelledBy).toBe(hex('rev'));
    expect(highestBump(commits.map((commit) => commit.bump))).toBe('patch');
    expect(renderChangelog(changelogSections(commits))).toBe(`### Fixes\n\n- crash (${hex('fix').slice(0, 7)})\n`);
    expect(log).toEqual([
      `${hex('rev').slice(0, 7)} reverts ${hex('feat').slice(0, 7)} of the same range: they cancel out, and none of them is bumped or listed.`,
    ]);
  });

  it('keeps the revert of a commit released before the range as a patch', async () => {
    const commits = range(['rev', 'Revert "feat: dark mode"\n\nThis reverts commit <released>.']);
    await cancelReverts(noGit, commits);
    expect(summary(commits)).toEqual([['patch', false]]);
  });

  it('lets a revert of a revert bring the commit back, and a third revert take it away again', async () => {
    const reapplied = range(
      ['rev2', 'Revert "Revert "feat: dark mode""\n\nThis reverts commit <rev1>.'],
      ['rev1', 'Revert "feat: dark mode"\n\nThis reverts commit <feat>.'],
      ['feat', 'feat: dark mode'],
    );
    await cancelReverts(noGit, reapplied);
    expect(summary(reapplied)).toEqual([
      ['none', true],
      ['none', true],
      ['minor', false],
    ]);
    expect(renderChangelog(changelogSections(reapplied))).toBe(`### Features\n\n- dark mode (${hex('feat').slice(0, 7)})\n`);

    const removed = range(
      ['rev3', 'Revert "Reapply "feat: dark mode""\n\nThis reverts commit <rev2>.'],
      ...reapplied.map(
        (c, i) =>
          [
            ['rev2', 'rev1', 'feat'][i] as string,
            [
              'Reapply "feat: dark mode"\n\nThis reverts commit <rev1>.',
              'Revert "feat: dark mode"\n\nThis reverts commit <feat>.',
              'feat: dark mode',
            ][i] as string,
          ] as [string, string],
      ),
    );
    await cancelReverts(noGit, removed);
    expect(summary(removed)).toEqual([
      ['none', true],
      ['none', true],
      ['none', true],
      ['none', true],
    ]);
  });

  it('cancels a released commit’s revert and its reapply against each other, and counts a lone reapply as the commit', async () => {
    const both = range(
      ['rev2', 'Reapply "feat: dark mode"\n\nThis reverts commit <rev1>.'],
      ['rev1', 'Revert "feat: dark mode"\n\nThis reverts commit <released>.'],
    );
    await cancelReverts(noGit, both);
    expect(summary(both)).toEqual([
      ['none', true],
      ['none', true],
    ]);
    // The revert was released (a patch); re-applying the feature brings it back: a minor.
    const reapply = range(['rev2', 'Reapply "feat: dark mode"\n\nThis reverts commit <rev1>.']);
    await cancelReverts(noGit, reapply);
    expect(summary(reapply)).toEqual([['minor', false]]);
  });

  it('takes back the reverted commit of a Conventional commit that also reverts, and keeps that commit as its type', async () => {
    const commits = range(
      ['squash', 'fix: new login (#12)\n\n* Revert "feat: old login"\n\nThis reverts commit <feat>.'],
      ['feat', 'feat: old login'],
    );
    await cancelReverts(noGit, commits);
    expect(summary(commits)).toEqual([
      ['patch', false],
      ['none', true],
    ]);
  });

  it('cancels only the commits of the range when one revert names several, keeping it where one was released', async () => {
    const commits = range(['rev', 'Revert two\n\nThis reverts commit <feat>.\n\nThis reverts commit <released>.'], ['feat', 'feat: one']);
    await cancelReverts(noGit, commits);
    expect(summary(commits)).toEqual([
      ['patch', false],
      ['none', true],
    ]);
  });

  it('decides a long chain of reverts of reverts without recursion, and cuts a forged cycle', async () => {
    const chain: [string, string][] = [];
    for (let n = 20_000; n >= 1; n--) chain.push([`r${n}`, `Revert "x ${n}"\n\nThis reverts commit <${n === 1 ? 'feat' : `r${n - 1}`}>.`]);
    const commits = range(...chain, ['feat', 'feat: x']);
    await cancelReverts(noGit, commits);
    // An even number of reverts re-applies the feat.
    expect(commits.at(-1)).toMatchObject({ bump: 'minor' });
    expect(commits.filter((commit) => commit.cancelledBy)).toHaveLength(20_000);

    const cycle = range(
      ['a', 'Revert "b"\n\nThis reverts commit <b>.'],
      ['b', 'Revert "a"\n\nThis reverts commit <a>.'],
      ['feat', 'feat: y'],
    );
    await cancelReverts(noGit, cycle);
    expect(cycle.at(-1)).toMatchObject({ bump: 'minor' });
  });
});

describe('readVersion', () => {
  // What semver itself reads, strictly and as the whole text: the regular expressions that pass
  // plain releases and pass over moving tags before semver must never decide otherwise.
  const bySemver = (text: string) => {
    const parsed = parseVersion(text);
    if (!parsed || parsed.raw !== text) return undefined;
    return { version: parsed.version, ...(parsed.prerelease.length === 0 ? { release: [parsed.major, parsed.minor, parsed.patch] } : {}) };
  };
  const texts = [
    ...['1.2.3', '0.0.0', '10.20.30', '999999999999999.0.0', '9007199254740991.1.1', '9007199254740992.0.0', '1.2.3.4'],
    ...['1.0.0-rc.1', '1.0.0-0', '1.0.0-alpha.beta-1', '1.0.0+build.5', '1.0.0-rc.1+sha.abc', '1.0.0-', '1.0.0+', '1.0.0-01'],
    ...['1', '1.2', '1.2-latest', '1.2.x', '01.2.3', '1.02.3', '1.2.03', '-1.2.3', 'latest', ''],
    ...['1.2.3-rc.1 ', '1.2.3_rc', '1.2.3.rc1', '١.٢.٣', '1.2.3-ünïcode'],
  ];
  it.each(texts)('reads %j exactly as semver does', (text) => {
    expect(readVersion(text)).toEqual(bySemver(text));
  });
  it('reads no version where whitespace is around it, which semver would trim (no git ref name holds whitespace)', () => {
    for (const text of [' 1.2.3', '1.2.3 ', '1.2.3\n', '1.2.3\t']) expect(readVersion(text)).toBeUndefined();
  });
});

describe('classifyCommit and highestBump', () => {
  const rules = parseReleaseRules(['build:patch', 'docs(readme):patch', 'chore:none', 'feat(internal):patch']);
  const bump = (message: string, parents = 1, defaultBump: 'none' | 'patch' = 'none') =>
    classifyCommit(parseCommit(sha, message, parents), rules, defaultBump);

  it('bumps by type, with rules for other types and scopes', () => {
    expect(bump('feat: x')).toBe('minor');
    expect(bump('fix: x')).toBe('patch');
    expect(bump('perf: x')).toBe('patch');
    expect(bump('revert: x')).toBe('patch');
    expect(bump('docs: x')).toBe('none');
    expect(bump('docs(readme): x')).toBe('patch');
    expect(bump('build: x')).toBe('patch');
    expect(bump('feat(internal): x')).toBe('patch');
    expect(bump('style: x')).toBe('none');
  });

  it('makes a breaking change major whatever the rules say', () => {
    expect(bump('chore!: drop node 18')).toBe('major');
    expect(bump('feat(internal)!: x')).toBe('major');
  });

  it('applies default-bump to commits that are not Conventional, but never to a merge commit’s own subject', () => {
    expect(bump('Update README.md', 1, 'none')).toBe('none');
    expect(bump('Update README.md', 1, 'patch')).toBe('patch');
    expect(bump('Merge pull request #12 from a/b', 2, 'patch')).toBe('none');
  });

  it('takes the highest bump', () => {
    expect(highestBump(['patch', 'none', 'minor', 'patch'])).toBe('minor');
    expect(highestBump([])).toBe('none');
  });
});

describe('nextVersion', () => {
  const options = { majorZero: 'breaking-is-minor' as const, prerelease: '', existing: [] };

  it('bumps, with breaking changes minor while 0.x unless asked otherwise', () => {
    expect(nextVersion('1.2.3', 'major', options)).toBe('2.0.0');
    expect(nextVersion('1.2.3', 'minor', options)).toBe('1.3.0');
    expect(nextVersion('1.2.3', 'patch', options)).toBe('1.2.4');
    expect(nextVersion('1.2.3', 'none', options)).toBe('1.2.3');
    expect(nextVersion('0.4.1', 'major', options)).toBe('0.5.0');
    expect(nextVersion('0.4.1', 'major', { ...options, majorZero: 'breaking-is-major' })).toBe('1.0.0');
  });

  it('numbers pre-releases after the highest existing one of the same series', () => {
    const prerelease = { ...options, prerelease: 'rc' };
    expect(nextVersion('1.2.0', 'minor', prerelease)).toBe('1.3.0-rc.1');
    expect(nextVersion('1.2.0', 'minor', { ...prerelease, existing: ['1.3.0-rc.1', '1.3.0-rc.10', '1.3.0-beta.4', '1.4.0-rc.7'] })).toBe(
      '1.3.0-rc.11',
    );
    expect(nextVersion('1.2.0', 'major', { ...prerelease, existing: ['1.3.0-rc.2'] })).toBe('2.0.0-rc.1');
  });
});

describe('inputs', () => {
  it('refuses a malformed release rule, naming the input and the form', () => {
    expect(() => parseReleaseRules(['build:patch', 'docs=patch'])).toThrow(InputError);
    expect(() => parseReleaseRules(['docs=patch'])).toThrow(
      'Invalid input "release-rules": "docs=patch" is not a rule; expected type:bump, type(scope):bump or type:bump:section with bump one of major, minor, patch, none',
    );
    expect(() => parseReleaseRules(['chore:huge'])).toThrow('"chore:huge" is not a rule');
  });

  it('refuses an initial version that is not a release version', () => {
    expect(parseInitialVersion('0.1.0')).toBe('0.1.0');
    for (const bad of ['1.0', 'v1.0.0', 'one', '1.0.0-rc.1']) {
      expect(() => parseInitialVersion(bad)).toThrow(`Invalid input "initial-version": ${JSON.stringify(bad)} is not a release version`);
    }
  });

  it('refuses a pre-release identifier that semver would not take', () => {
    expect(parsePrereleaseIdentifier('rc')).toBe('rc');
    expect(parsePrereleaseIdentifier('')).toBe('');
    for (const bad of ['rc.1', 'r c', '01', '123', 'ü']) {
      expect(() => parsePrereleaseIdentifier(bad)).toThrow(
        `Invalid input "prerelease": ${JSON.stringify(bad)} is not a pre-release identifier`,
      );
    }
  });

  it('refuses a tag prefix git cannot take', () => {
    expect(parseTagPrefix('api/v')).toBe('api/v');
    expect(() => parseTagPrefix('v ')).toThrow('Invalid input "tag-prefix"');
    expect(() => parseTagPrefix('a..b')).toThrow('Invalid input "tag-prefix"');
  });

  it('reads everything through one getInputs, masking the token', () => {
    const masked: string[] = [];
    const values: Record<string, string> = {
      'tag-prefix': 'api/v',
      'initial-version': '1.0.0',
      'release-rules': 'build:patch\nchore:none',
      'default-bump': 'patch',
      'major-zero': 'breaking-is-major',
      prerelease: 'beta',
      paths: 'api/**, shared/**',
      annotate: 'false',
      'environment-tag': 'UAT',
      'environment-tags': 'UAT, PROD\nQA',
      'dry-run': 'true',
      'github-release': 'true',
      'dispatch-workflow': 'release.yml',
      token: 'ghs_secret',
      'repository-path': '/repo',
    };
    const inputs = getInputs(new InputReader({ source: (name) => values[name] ?? '', mask: (secret) => masked.push(secret) }));
    expect(inputs).toEqual({
      tagPrefix: 'api/v',
      initialVersion: '1.0.0',
      releaseRules: [
        { type: 'build', bump: 'patch' },
        { type: 'chore', bump: 'none' },
      ],
      defaultBump: 'patch',
      majorZero: 'breaking-is-major',
      prerelease: 'beta',
      paths: ['api/**', 'shared/**'],
      annotate: false,
      environmentTag: 'UAT',
      environmentTags: ['UAT', 'PROD', 'QA'],
      dryRun: true,
      remote: 'origin',
      githubRelease: true,
      dispatchWorkflow: 'release.yml',
      token: 'ghs_secret',
      repositoryPath: '/repo',
    });
    expect(masked).toEqual(['ghs_secret']);
    values['environment-tag'] = 'UAT-';
    expect(() => getInputs(new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined }))).toThrow(
      'Invalid input "environment-tag": "UAT-" is not allowed; expected a tag prefix without the hyphen, such as UAT.',
    );
    values['environment-tag'] = 'UAT';
    values['environment-tags'] = 'UAT,PROD-';
    expect(() => getInputs(new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined }))).toThrow(
      'Invalid input "environment-tags": "PROD-" is not allowed; expected tag prefixes without the hyphen, separated by commas or newlines, such as UAT,PROD.',
    );
  });

  it('counts the environment-tag given among the release environments, once', () => {
    expect(releaseEnvironments({ environmentTag: 'UAT', environmentTags: ['UAT', 'PROD'] })).toEqual(['UAT', 'PROD']);
    expect(releaseEnvironments({ environmentTag: 'QA', environmentTags: [] })).toEqual(['QA']);
    expect(releaseEnvironments({ environmentTag: '', environmentTags: [] })).toEqual([]);
  });
});

describe('changelog', () => {
  it('groups breaking changes, features, fixes and other counted changes, with short SHAs and scopes', () => {
    const rules = parseReleaseRules(['build:patch']);
    const commits = [
      parseCommit('1111111aaaa', 'feat(ui)!: new layout\n\nBREAKING CHANGE: the sidebar is gone'),
      parseCommit('2222222bbbb', 'feat: export to CSV'),
      parseCommit('3333333cccc', 'fix(api): handle empty lists'),
      parseCommit('4444444dddd', 'build: pin node'),
      parseCommit('5555555eeee', 'chore: tidy'),
      parseCommit('6666666ffff', 'Revert "feat: beta flag"'),
    ].map((commit) => ({ ...commit, bump: classifyCommit(commit, rules, 'none') }));
    expect(renderChangelog(changelogSections(commits))).toBe(
      [
        '### Breaking changes\n\n- **ui:** the sidebar is gone (1111111)\n',
        '### Features\n\n- **ui:** new layout (1111111)\n- export to CSV (2222222)\n',
        '### Fixes\n\n- **api:** handle empty lists (3333333)\n- revert: feat: beta flag (6666666)\n',
        '### Other changes\n\n- build: pin node (4444444)\n',
      ].join('\n'),
    );
    expect(renderChangelog([])).toBe('No notable changes.\n');
  });
});

describe('github-tag-action’s custom_release_rules and default_bump, pasted as they are', () => {
  it('reads type:bump:section, the section naming the changelog heading, with spaces kept in it', () => {
    expect(parseReleaseRules(['hotfix:patch:Hotfixes', 'perf : patch : Performance work', 'chore:none', 'docs(readme):patch'])).toEqual([
      { type: 'hotfix', bump: 'patch', section: 'Hotfixes' },
      { type: 'perf', bump: 'patch', section: 'Performance work' },
      { type: 'chore', bump: 'none' },
      { type: 'docs', scope: 'readme', bump: 'patch' },
    ]);
  });

  it('refuses a pre-release bump with where pre-releases come from here, and an empty or multi-line section', () => {
    expect(() => parseReleaseRules(['pre-feat:preminor'])).toThrow(
      'Invalid input "release-rules": "pre-feat:preminor" asks for a preminor bump; here a rule\'s bump is major, minor, patch or none, and pre-releases come from the prerelease input',
    );
    expect(() => parseReleaseRules(['hotfix:patch:'])).toThrow('"hotfix:patch:" is not a rule');
    expect(() => parseReleaseRules(['hotfix:patch:Fixes # x'])).toThrow('is not a rule');
  });

  it('lists a rule’s commits under its section, after Fixes and in the rules’ order; a fixed heading gets them added', () => {
    const rules = parseReleaseRules([
      'hotfix:patch:Hotfixes',
      'perf:patch:Performance',
      'chore:none:Chores',
      'build:patch:Fixes',
      'ci:patch',
    ]);
    const commits = [
      parseCommit('1111111aaaa', 'perf(db): index users'),
      parseCommit('2222222bbbb', 'hotfix: restore login'),
      parseCommit('3333333cccc', 'chore: tidy'),
      parseCommit('4444444dddd', 'build: pin node'),
      parseCommit('5555555eeee', 'fix: crash'),
      parseCommit('6666666ffff', 'ci: cache'),
    ].map((commit) => ({ ...commit, bump: classifyCommit(commit, rules, 'none') }));
    expect(commits.map((commit) => commit.bump)).toEqual(['patch', 'patch', 'none', 'patch', 'patch', 'patch']);
    expect(renderChangelog(changelogSections(commits, rules))).toBe(
      [
        '### Fixes\n\n- build: pin node (4444444)\n- crash (5555555)\n',
        '### Hotfixes\n\n- hotfix: restore login (2222222)\n',
        '### Performance\n\n- **db:** index users (1111111)\n',
        '### Chores\n\n- chore: tidy (3333333)\n',
        '### Other changes\n\n- ci: cache (6666666)\n',
      ].join('\n'),
    );
    // Without the rules, the same commits fall back to the fixed headings.
    expect(renderChangelog(changelogSections(commits))).not.toContain('Hotfixes');
  });

  it('accepts default-bump: minor for commits that are not Conventional, and still refuses major', () => {
    const read = (value: string) =>
      getInputs(
        new InputReader({ source: (name) => ({ 'initial-version': '0.1.0', 'default-bump': value })[name] ?? '', mask: () => undefined }),
      ).defaultBump;
    expect(read('minor')).toBe('minor');
    expect(read('')).toBe('none');
    expect(() => read('major')).toThrow('Invalid input "default-bump": "major" is not allowed; expected one of: none, patch, minor.');
    expect(classifyCommit(parseCommit('7777777', 'Update things'), [], 'minor')).toBe('minor');
    expect(classifyCommit(parseCommit('7777777', 'Merge pull request #3 from a/b', 2), [], 'minor')).toBe('none');
  });
});
