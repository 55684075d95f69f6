import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { type Git, InputError, InputReader, UserError } from '@toolkit/shared';
import { getInputs } from '../../actions/release-context/src/main.js';
import {
  parseEnvironmentPrefixes,
  parseEnvironmentTag,
  parsePromotionOrder,
  resolveReleaseContext,
} from '../../actions/release-context/src/release-context.js';
import { node24, runBuiltAction } from '../support/harness.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const PREFIXES = [
  { prefix: 'UAT-', environment: 'uat' },
  { prefix: 'PROD-', environment: 'prod' },
];
const ORDER = ['dev', 'uat', 'prod'];
const config = (ref: string, overrides = {}) => ({
  ref,
  environmentPrefixes: PREFIXES,
  promotionOrder: ORDER,
  promotionGate: true,
  ...overrides,
});
const tags = (entries: Record<string, string>) => async (names: string[]) => new Map(names.map((name) => [name, entries[name]]));

describe('release-context core', () => {
  it('reads environment, version and tag from a ref or a bare tag name', () => {
    expect(parseEnvironmentTag('refs/tags/UAT-1.4.0', PREFIXES)).toEqual({ tag: 'UAT-1.4.0', environment: 'uat', version: '1.4.0' });
    expect(parseEnvironmentTag('PROD-2.0.0-rc.1', PREFIXES)).toEqual({
      tag: 'PROD-2.0.0-rc.1',
      environment: 'prod',
      version: '2.0.0-rc.1',
    });
  });

  it('takes the longest matching prefix', () => {
    const prefixes = [...PREFIXES, { prefix: 'PROD-EU-', environment: 'prod-eu' }];
    expect(parseEnvironmentTag('PROD-EU-1.0.0', prefixes).environment).toBe('prod-eu');
  });

  it('refuses a ref that is not a tag, a tag of no environment, and a version that is not semver', () => {
    expect(() => parseEnvironmentTag('refs/heads/main', PREFIXES)).toThrow(
      'Invalid input "ref": "refs/heads/main" is not a tag; a release starts from a pushed environment tag such as UAT-1.4.0 or PROD-1.4.0.',
    );
    expect(() => parseEnvironmentTag('refs/tags/v1.4.0', PREFIXES)).toThrow(
      '"v1.4.0" is not an environment tag; expected a tag starting with one of: UAT- (uat), PROD- (prod)',
    );
    for (const bad of ['UAT-1.4', 'UAT-v1.4.0', 'UAT-latest', 'UAT-01.2.3']) {
      expect(() => parseEnvironmentTag(bad, PREFIXES)).toThrow(InputError);
      expect(() => parseEnvironmentTag(bad, PREFIXES)).toThrow('is not semantic versioning; expected MAJOR.MINOR.PATCH');
    }
  });

  it('validates the promotion order and the prefixes against it', () => {
    expect(parsePromotionOrder(['dev', 'uat', 'prod'])).toEqual(ORDER);
    expect(() => parsePromotionOrder(['uat', 'uat'])).toThrow('Invalid input "promotion-order": "uat" appears twice');
    expect(() => parsePromotionOrder(['UAT'])).toThrow('"UAT" is not an environment name');
    expect(() => parsePromotionOrder([])).toThrow('a value is required');
    expect(parseEnvironmentPrefixes(['UAT-=uat', 'PROD-=prod'], ORDER)).toEqual(PREFIXES);
    expect(() => parseEnvironmentPrefixes(['STAGE-=staging'], ORDER)).toThrow(
      'Invalid input "environment-prefixes": "STAGE-=staging" names environment "staging", which is not in the promotion order (dev, uat, prod).',
    );
    expect(() => parseEnvironmentPrefixes(['UAT-'], ORDER)).toThrow('expected prefix=environment');
    expect(() => parseEnvironmentPrefixes(['A-=uat', 'B-=uat'], ORDER)).toThrow('environment "uat" appears twice');
  });

  it('reads every input through one getInputs, naming the input in every refusal', () => {
    const values: Record<string, string> = {
      ref: 'refs/tags/UAT-1.0.0',
      'environment-prefixes': 'UAT-=uat\nPROD-=prod',
      'promotion-order': 'dev, uat, prod',
      'promotion-gate': 'false',
      'repository-path': '/checkout',
      token: 'ghs_job_token',
    };
    const reader = () => new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined });
    expect(getInputs(reader())).toEqual({
      ref: 'refs/tags/UAT-1.0.0',
      environmentPrefixes: PREFIXES,
      promotionOrder: ORDER,
      promotionGate: false,
      remote: 'origin',
      repositoryPath: '/checkout',
      token: 'ghs_job_token',
    });
    values['promotion-gate'] = 'maybe';
    expect(() => getInputs(reader())).toThrow('Invalid input "promotion-gate": "maybe" is not a boolean');
  });

  it('passes the gate when the previous environment has the same version at the same commit', async () => {
    const context = await resolveReleaseContext(config('refs/tags/PROD-1.4.0'), tags({ 'PROD-1.4.0': 'c1', 'UAT-1.4.0': 'c1' }));
    expect(context).toEqual({
      environment: 'prod',
      version: '1.4.0',
      tag: 'PROD-1.4.0',
      commit: 'c1',
      isProduction: true,
      previousEnvironment: 'uat',
      previousTag: 'UAT-1.4.0',
      gate: { status: 'passed', tag: 'UAT-1.4.0', commit: 'c1' },
    });
  });

  it('needs no gate where the previous environment is not released by tags', async () => {
    const context = await resolveReleaseContext(config('UAT-1.4.0'), tags({ 'UAT-1.4.0': 'c1' }));
    expect(context.gate).toEqual({ status: 'not-required', reason: 'dev, the environment before uat, is not released by tags' });
    expect(context.isProduction).toBe(false);
    expect(context.previousTag).toBeUndefined();
  });

  it('refuses production when UAT lacks the version, or has it at another commit', async () => {
    await expect(resolveReleaseContext(config('PROD-1.4.0'), tags({ 'PROD-1.4.0': 'c1aaaaaaaaaaaaaa' }))).rejects.toThrow(
      'PROD-1.4.0 is refused: prod only takes a version that uat has, and UAT-1.4.0 does not exist. Release 1.4.0 to uat first by pushing UAT-1.4.0 at c1aaaaaaaaaa; or set promotion-gate: false.',
    );
    await expect(
      resolveReleaseContext(config('PROD-1.4.0'), tags({ 'PROD-1.4.0': 'c1aaaaaaaaaaaaaa', 'UAT-1.4.0': 'c2bbbbbbbbbbbbbb' })),
    ).rejects.toThrow(
      'PROD-1.4.0 is refused: it points at c1aaaaaaaaaa, but UAT-1.4.0 points at c2bbbbbbbbbb; prod must release exactly the commit that uat released.',
    );
  });

  it('lets the gate be turned off, and then does not look the previous tag up', async () => {
    const looked: string[][] = [];
    const context = await resolveReleaseContext(config('PROD-1.4.0', { promotionGate: false }), async (names) => {
      looked.push(names);
      return new Map([['PROD-1.4.0', 'c1']]);
    });
    expect(context.gate).toEqual({ status: 'off', tag: 'UAT-1.4.0' });
    expect(looked).toEqual([['PROD-1.4.0']]);
  });

  it('refuses a tag that does not exist', async () => {
    const attempt = resolveReleaseContext(config('UAT-9.9.9'), tags({}));
    await expect(attempt).rejects.toThrow(UserError);
    await expect(resolveReleaseContext(config('UAT-9.9.9'), tags({}))).rejects.toThrow('Tag UAT-9.9.9 was not found');
  });
});

describe('release-context built dist under Node 24, against real git tags', () => {
  let dir: string;
  let upstream: Git;
  let released: string;
  let later: string;

  /** A checkout as actions/checkout makes it for a tag push: depth 1, only that tag. */
  async function checkout(tag: string): Promise<string> {
    const target = path.join(dir, `checkout-${tag}-${Math.random().toString(36).slice(2)}`);
    await upstream.run(['clone', '--quiet', '--depth=1', '--no-tags', '--branch', tag, `file://${upstream.cwd}`, target]);
    return target;
  }

  beforeAll(async () => {
    dir = await tempDir();
    upstream = await makeRepo(path.join(dir, 'upstream'));
    released = await commit(upstream, 'feat: first');
    await upstream.run(['tag', 'UAT-1.0.0']);
    await upstream.run(['tag', '-a', '-m', 'production', 'PROD-1.0.0']);
    later = await commit(upstream, 'fix: later');
    await upstream.run(['tag', 'UAT-1.1.0']);
    await upstream.run(['tag', 'PROD-1.2.0']);
    await upstream.run(['tag', 'PROD-1.0.1', released]);
    await upstream.run(['tag', 'UAT-1.0.1', later]);
  });

  it('runs under Node 24', () => {
    expect(execFileSync(node24(), ['--version']).toString()).toMatch(/^v24\./);
  });

  it('releases UAT-1.0.0 to uat, with its outputs and summary', async () => {
    const result = await runBuiltAction('release-context', {
      workspace: await checkout('UAT-1.0.0'),
      env: { GITHUB_REF: 'refs/tags/UAT-1.0.0' },
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toEqual({
      environment: 'uat',
      version: '1.0.0',
      tag: 'UAT-1.0.0',
      commit: released,
      'is-production': 'false',
      'previous-environment': 'dev',
      'previous-tag': '',
    });
    expect(result.summary).toContain('<h3>Release 1.0.0 to uat</h3>');
    expect(result.summary).toContain(`<code>${released}</code>`);
  });

  it('releases PROD-1.0.0 (annotated) because UAT-1.0.0, found only on the remote, is at the same commit', async () => {
    const workspace = await checkout('PROD-1.0.0');
    expect(execFileSync('git', ['tag', '--list'], { cwd: workspace }).toString().trim()).toBe('PROD-1.0.0');
    const result = await runBuiltAction('release-context', { workspace, inputs: { ref: 'refs/tags/PROD-1.0.0' } });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ environment: 'prod', commit: released, 'is-production': 'true', 'previous-tag': 'UAT-1.0.0' });
    expect(result.summary).toContain('passed: UAT-1.0.0 is at the same commit');
  });

  it('refuses PROD-1.2.0, which UAT never had, with one clear line', async () => {
    const result = await runBuiltAction('release-context', {
      workspace: await checkout('PROD-1.2.0'),
      inputs: { ref: 'refs/tags/PROD-1.2.0' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toEqual({});
    expect(result.log).toContain(
      `Error: PROD-1.2.0 is refused: prod only takes a version that uat has, and UAT-1.2.0 does not exist. Release 1.2.0 to uat first by pushing UAT-1.2.0 at ${later.slice(0, 12)}; or set promotion-gate: false.`,
    );
  });

  it('refuses PROD-1.0.1, whose UAT tag is on another commit, unless the gate is off', async () => {
    const refused = await runBuiltAction('release-context', { workspace: await checkout('PROD-1.0.1'), inputs: { ref: 'PROD-1.0.1' } });
    expect(refused.exitCode).toBe(1);
    expect(refused.log.join('\n')).toContain(`it points at ${released.slice(0, 12)}, but UAT-1.0.1 points at ${later.slice(0, 12)}`);

    const allowed = await runBuiltAction('release-context', {
      workspace: await checkout('PROD-1.0.1'),
      inputs: { ref: 'PROD-1.0.1', 'promotion-gate': 'false' },
    });
    expect(allowed.exitCode).toBe(0);
    expect(allowed.outputs.commit).toBe(released);
  });

  it('refuses a branch ref and bad inputs by name', async () => {
    const workspace = await checkout('UAT-1.1.0');
    const branch = await runBuiltAction('release-context', { workspace, inputs: { ref: 'refs/heads/main' } });
    expect(branch.exitCode).toBe(1);
    expect(branch.log).toContain(
      'Error: Invalid input "ref": "refs/heads/main" is not a tag; a release starts from a pushed environment tag such as UAT-1.4.0 or PROD-1.4.0.',
    );
    const order = await runBuiltAction('release-context', { workspace, inputs: { ref: 'UAT-1.1.0', 'promotion-order': 'uat,Prod' } });
    expect(order.log).toContain(
      'Error: Invalid input "promotion-order": "Prod" is not an environment name; expected lower-case letters, digits, - and _.',
    );
  });

  it('follows custom prefixes and order', async () => {
    await upstream.run(['tag', 'STAGE-3.0.0', later]);
    await upstream.run(['tag', 'LIVE-3.0.0', later]);
    const result = await runBuiltAction('release-context', {
      workspace: await checkout('LIVE-3.0.0'),
      inputs: { ref: 'LIVE-3.0.0', 'environment-prefixes': 'STAGE-=staging\nLIVE-=live', 'promotion-order': 'staging,live' },
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ environment: 'live', 'previous-environment': 'staging', 'previous-tag': 'STAGE-3.0.0' });
  });
});
