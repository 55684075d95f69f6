/**
 * Conformance against a real release history: googleapis/release-please-action, which releases
 * from Conventional Commits. For every pair of consecutive releases, the commits between them
 * (their subjects, in order, with a BREAKING CHANGE footer where the original had one) are rebuilt
 * on top of a tag of the previous version, and semantic-tag (dry run) must give the version the
 * project actually released next.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Git } from '@toolkit/shared';
import { runSemanticTag } from '../../actions/semantic-tag/src/semantic-tag.js';
import { ROOT } from '../support/harness.js';
import { semanticTagConfig } from '../support/semantic-tag.js';
import { makeRepo, tempDir } from '../support/temp.js';

const HISTORY = path.join(ROOT, '..', 'shared', 'fixtures', 'history');
const RELEASES = path.join(HISTORY, 'googleapis_release-please-action.releases.tsv');
const COMMITS = path.join(HISTORY, 'googleapis_release-please-action.tsv');

/**
 * Pairs that no Conventional Commits rule can explain, by name, with the reason and the version we
 * give instead. The other 132 follow from the default rules (feat minor; fix, perf, revert patch;
 * `!` major).
 */
const UNEXPLAINABLE: Record<string, { reason: string; computed: string }> = {
  'v2.17.0 -> v2.18.1': {
    reason:
      'Two releases apart: 2.18.0 was released ("chore: release 2.18.0 (#214)") but never tagged v2.18.0, so one bump cannot reach 2.18.1.',
    computed: 'v2.18.0',
  },
  'v2.29.0 -> v2.29.2': {
    reason:
      'Two releases apart: 2.29.1 was released ("chore: release 2.29.1 (#335)") but never tagged v2.29.1, so one bump cannot reach 2.29.2.',
    computed: 'v2.29.1',
  },
};

interface Pair {
  name: string;
  previous: string;
  next: string;
  subjects: string[];
  breaking: boolean[];
}

function readTsv(file: string): Record<string, string>[] {
  const [header, ...rows] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const columns = (header as string).split('\t');
  return rows.map((row) => Object.fromEntries(row.split('\t').map((value, index) => [columns[index], value])));
}

/** The pairs, with each commit's BREAKING CHANGE footer taken from the first-parent history between the two tags. */
function readPairs(): Pair[] {
  const history = readTsv(COMMITS);
  const position = (tag: string) => history.findIndex((row) => (row.tags ?? '').split(/[ ,]+/).includes(tag));
  return readTsv(RELEASES).map((row) => {
    const previous = row.prev_version as string;
    const next = row.next_version as string;
    const subjects = JSON.parse(row.subjects_json as string) as string[];
    const between = history.slice(position(previous) + 1, position(next) + 1);
    const sameCommits = between.length === subjects.length && between.every((commit, index) => commit.subject === subjects[index]);
    const breaking = subjects.map((_subject, index) =>
      sameCommits ? between[index]?.breaking_change_footer === 'yes' : row.any_breaking_footer === 'yes',
    );
    return { name: `${previous} -> ${next}`, previous, next, subjects, breaking };
  });
}

/** Builds every pair as its own history (a root tagged with the previous version, then its commits) in one fast-import. */
function importPairs(repo: string, pairs: readonly Pair[]): void {
  const parts: Buffer[] = [];
  let mark = 0;
  let time = 1_600_000_000;
  const data = (text: string) => Buffer.concat([Buffer.from(`data ${Buffer.byteLength(text)}\n`), Buffer.from(text), Buffer.from('\n')]);
  pairs.forEach((pair, index) => {
    const ref = `refs/heads/pair-${index}`;
    const write = (message: string, parent?: number) => {
      mark += 1;
      time += 60;
      parts.push(Buffer.from(`commit ${ref}\nmark :${mark}\ncommitter Release Bot <bot@example.test> ${time} +0000\n`), data(message));
      if (parent) parts.push(Buffer.from(`from :${parent}\n`));
      parts.push(Buffer.from('\n'));
      return mark;
    };
    let parent = write(`chore: release ${pair.previous}`);
    parts.push(Buffer.from(`reset refs/tags/${pair.previous}\nfrom :${parent}\n\n`));
    pair.subjects.forEach((subject, position) => {
      const footer = pair.breaking[position] ? '\n\nBREAKING CHANGE: marked breaking in the original history' : '';
      parent = write(`${subject}${footer}`, parent);
    });
  });
  const result = spawnSync('git', ['fast-import', '--quiet'], { cwd: repo, input: Buffer.concat(parts) });
  if (result.status !== 0) throw new Error(`git fast-import failed: ${result.stderr.toString()}`);
}

const present = existsSync(RELEASES) && existsSync(COMMITS);
if (!present) {
  console.warn(
    `Conformance with a real release history is SKIPPED: ${RELEASES} is absent (../shared/fixtures is not beside this checkout).`,
  );
}

(present ? describe : describe.skip)('semantic-tag conformance: googleapis/release-please-action releases', () => {
  let git: Git;
  let pairs: Pair[];
  const config = semanticTagConfig({ annotate: false, dryRun: true });

  beforeAll(async () => {
    pairs = readPairs();
    git = await makeRepo(path.join(await tempDir(), 'history'));
    importPairs(git.cwd, pairs);
  });

  it('reads all 134 pairs of consecutive releases', () => {
    expect(pairs).toHaveLength(134);
    expect(pairs[0]?.name).toBe('v1.0.0 -> v1.0.1');
  });

  it('gives the version the project actually released next, for every pair that a rule can explain', async () => {
    const mismatches: Record<string, string> = {};
    for (const [index, pair] of pairs.entries()) {
      await git.run(['checkout', '--quiet', `pair-${index}`]);
      const result = await runSemanticTag(config, { git });
      expect(result.previousTag).toBe(pair.previous);
      expect(result.commits).toHaveLength(pair.subjects.length);
      if (`v${result.version}` !== pair.next) mismatches[pair.name] = `v${result.version}`;
    }
    // Exactly the listed pairs differ, each by giving the release that was made but never tagged.
    expect(mismatches).toEqual(Object.fromEntries(Object.entries(UNEXPLAINABLE).map(([name, { computed }]) => [name, computed])));
    expect(pairs.length - Object.keys(mismatches).length).toBe(132);
  });
});
