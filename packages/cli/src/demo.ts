import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Git } from '@toolkit/shared';
import { type LocalRunResult, formatRunReport, runActionLocally } from './local-runner.js';

export interface DemoOptions {
  /** The toolkit repository, whose built actions are run. */
  root: string;
  /** Leave the sandbox on disk and print where it is. */
  keep: boolean;
  log: (line: string) => void;
}

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Demo Developer',
  GIT_AUTHOR_EMAIL: 'developer@demo.invalid',
  GIT_COMMITTER_NAME: 'Demo Developer',
  GIT_COMMITTER_EMAIL: 'developer@demo.invalid',
};

/**
 * Rehearses a release on this machine, with nothing but Node and git: an app repository with
 * Conventional Commits and a bare `origin`, then each step of the chain run by the real built
 * action through the local runner, in a fresh tag checkout as actions/checkout makes it.
 * Exits 0 when every step did what a release should, including the refusals.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const { log } = options;
  const sandbox = await mkdtemp(path.join(os.tmpdir(), 'toolkit-demo-'));
  const failures: string[] = [];
  try {
    const origin = path.join(sandbox, 'origin.git');
    const app = new Git({ cwd: path.join(sandbox, 'app'), env: IDENTITY });
    await app.at(sandbox).run(['init', '--quiet', '--bare', '--initial-branch=main', origin]);
    await app.at(sandbox).run(['init', '--quiet', '--initial-branch=main', app.cwd]);
    await app.run(['remote', 'add', 'origin', origin]);
    for (const message of ['feat: first screen', 'fix(api): handle empty lists', 'feat(ui): dark mode']) {
      await app.run(['commit', '--quiet', '--allow-empty', '-m', message]);
    }
    log(`Sandbox: ${sandbox}`);
    log(`App repository with ${(await app.output(['rev-list', '--count', 'HEAD'])).trim()} Conventional Commits, pushed to a bare origin.`);

    await app.run(['push', '--quiet', 'origin', 'main']);

    const releaseContext = async (tag: string) => {
      const checkout = path.join(sandbox, `checkout-${tag}`);
      await app.at(sandbox).run(['clone', '--quiet', '--depth=1', '--no-tags', '--branch', tag, `file://${origin}`, checkout]);
      return runActionLocally({
        actionDir: path.join(options.root, 'actions', 'release-context'),
        inputs: { ref: `refs/tags/${tag}` },
        workspace: checkout,
        env: { GITHUB_REF: `refs/tags/${tag}`, GITHUB_REPOSITORY: 'demo/app' },
        onLine: (line) => log(`  ${line}`),
      });
    };
    const step = async (title: string, expectSuccess: boolean, run: () => Promise<LocalRunResult>) => {
      log('');
      log(`== ${title}`);
      const result = await run();
      for (const line of formatRunReport(result)) log(`  ${line}`);
      const ok = (result.exitCode === 0) === expectSuccess;
      log(ok ? `  -> ${expectSuccess ? 'released' : 'refused, as it must be'}` : `  -> UNEXPECTED exit code ${result.exitCode}`);
      if (!ok) failures.push(title);
      return result;
    };

    const cut = await step('semantic-tag (the next version from the commits; pushes v0.2.0 and UAT-0.2.0)', true, () =>
      runActionLocally({
        actionDir: path.join(options.root, 'actions', 'semantic-tag'),
        inputs: { 'environment-tag': 'UAT', token: '' },
        workspace: app.cwd,
        env: { GITHUB_REPOSITORY: 'demo/app' },
        onLine: (line) => log(`  ${line}`),
      }),
    );
    if (cut.outputs['environment-tag'] !== 'UAT-0.2.0')
      failures.push(`semantic-tag gave ${cut.outputs['environment-tag'] || 'no environment tag'}, not UAT-0.2.0`);

    await step('release-context for UAT-0.2.0 (the UAT release starts)', true, () => releaseContext('UAT-0.2.0'));

    await app.run(['tag', 'PROD-0.2.0']);
    await app.run(['push', '--quiet', 'origin', 'PROD-0.2.0']);
    await step('release-context for PROD-0.2.0 (the same commit passed UAT)', true, () => releaseContext('PROD-0.2.0'));

    await app.run(['commit', '--quiet', '--allow-empty', '-m', 'feat: export to CSV']);
    await app.run(['tag', 'PROD-0.3.0']);
    await app.run(['push', '--quiet', 'origin', 'main', 'PROD-0.3.0']);
    await step('release-context for PROD-0.3.0 (never released to UAT: the gate refuses it)', false, () => releaseContext('PROD-0.3.0'));

    log('');
    log(failures.length === 0 ? 'Demo finished: every step behaved as a release should.' : `Demo FAILED at: ${failures.join('; ')}`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    if (options.keep) log(`Sandbox kept at ${sandbox}`);
    else await rm(sandbox, { recursive: true, force: true });
  }
}
