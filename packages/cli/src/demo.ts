import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Git } from '@toolkit/shared';
import { type LocalRunResult, formatRunReport, runActionLocally } from './local-runner.js';

export interface DemoOptions {
  /** The toolkit repository, whose built actions are run. */
  root: string;
  /** Leave the sandbox on disk and print where it is. */
  keep: boolean;
  /** Work in this directory (kept) instead of a new temporary one. */
  sandbox?: string;
  log: (line: string) => void;
  /** A server for deploy-compose: planned against (or deployed to, with `deploy`). Without it the step is skipped, said so. */
  server?: DemoServer;
}

export interface DemoServer {
  host: string;
  port?: number;
  user?: string;
  /** The server's known_hosts lines. */
  knownHosts: string;
  /** The private key to log in with. */
  key: string;
  /** Deploy for real instead of planning. */
  deploy?: boolean;
}

/** The compose project the demo deploys: one busybox httpd on the host's port 8080. */
const DEMO_COMPOSE = `services:
  app:
    image: busybox:1.36
    network_mode: host
    init: true
    command: ["sh", "-c", "mkdir -p /tmp/www && echo demo > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /tmp/www"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 2s
      retries: 5
`;

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Demo Developer',
  GIT_AUTHOR_EMAIL: 'developer@demo.invalid',
  GIT_COMMITTER_NAME: 'Demo Developer',
  GIT_COMMITTER_EMAIL: 'developer@demo.invalid',
};

/**
 * Rehearses a release on this machine, with nothing but Node and git: an app repository with
 * Conventional Commits and a bare `origin`, an environment repository, then each step of the chain
 * run by the real built action through the local runner (release-context in a fresh tag checkout,
 * as actions/checkout makes it): semantic-tag, release-context, promote and umbrella-chart for
 * UAT, then for PROD, then a PROD tag the gate refuses. Exits 0 when every step did what a release
 * should, including the refusal.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const { log } = options;
  const sandbox = options.sandbox ?? (await mkdtemp(path.join(os.tmpdir(), 'toolkit-demo-')));
  const failures: string[] = [];
  const action = (name: string) => path.join(options.root, 'actions', name);
  try {
    const origin = path.join(sandbox, 'origin.git');
    const environments = path.join(sandbox, 'environments.git');
    const app = new Git({ cwd: path.join(sandbox, 'app'), env: IDENTITY });
    const here = app.at(sandbox);
    await here.run(['init', '--quiet', '--bare', '--initial-branch=main', origin]);
    await here.run(['init', '--quiet', '--bare', '--initial-branch=main', environments]);
    await here.run(['init', '--quiet', '--initial-branch=main', app.cwd]);
    await app.run(['remote', 'add', 'origin', origin]);
    for (const message of ['feat: first screen', 'fix(api): handle empty lists', 'feat(ui): dark mode']) {
      await app.run(['commit', '--quiet', '--allow-empty', '-m', message]);
    }
    await app.run(['push', '--quiet', 'origin', 'main']);
    log(`Sandbox: ${sandbox}`);
    log('An app repository with 3 Conventional Commits and its bare origin; an empty environment repository.');

    const step = async (title: string, expectSuccess: boolean, run: () => Promise<LocalRunResult>) => {
      log('');
      log(`== ${title}`);
      const result = await run();
      for (const line of formatRunReport(result)) log(`  ${line}`);
      const ok = (result.exitCode === 0) === expectSuccess;
      log(ok ? `  -> ${expectSuccess ? 'done' : 'refused, as it must be'}` : `  -> UNEXPECTED exit code ${result.exitCode}`);
      if (!ok) failures.push(title);
      return result;
    };
    const runStep = (name: string, inputs: Record<string, string>, workspace: string, env: Record<string, string> = {}) =>
      runActionLocally({
        actionDir: action(name),
        inputs,
        workspace,
        env: { GITHUB_REPOSITORY: 'demo/app', GITHUB_ACTOR: 'demo-developer', GITHUB_RUN_ID: '1', ...env },
        onLine: (line) => log(`  ${line}`),
      });
    /** A checkout as actions/checkout makes it for a tag push: depth 1, only that tag. */
    const tagCheckout = async (tag: string) => {
      const checkout = path.join(sandbox, `checkout-${tag}`);
      await here.run(['clone', '--quiet', '--depth=1', '--no-tags', '--branch', tag, `file://${origin}`, checkout]);
      return checkout;
    };
    const releaseContext = async (tag: string) =>
      runStep('release-context', { ref: `refs/tags/${tag}` }, await tagCheckout(tag), { GITHUB_REF: `refs/tags/${tag}` });
    const environmentRepository = { repository: `file://${environments}` };
    const umbrella = (environment: string) =>
      runStep(
        'umbrella-chart',
        {
          environment,
          repository: 'https://charts.demo.example',
          commit: 'true',
          'environment-repository': `file://${environments}`,
          argocd: 'true',
        },
        sandbox,
      );

    const cut = await step('semantic-tag: the next version from the commits; pushes v0.2.0 and UAT-0.2.0', true, () =>
      runStep('semantic-tag', { 'environment-tag': 'UAT', token: '' }, app.cwd),
    );
    if (cut.outputs['environment-tag'] !== 'UAT-0.2.0')
      failures.push(`semantic-tag gave ${cut.outputs['environment-tag'] || 'no environment tag'}, not UAT-0.2.0`);

    const uat = await step('release-context for UAT-0.2.0: the UAT release starts', true, () => releaseContext('UAT-0.2.0'));
    // The image digest a build of this commit would have (the demo builds no image).
    const digest = `sha256:${createHash('sha256')
      .update(uat.outputs.commit ?? '')
      .digest('hex')}`;
    await step('promote (bump): uat runs app 0.2.0', true, () =>
      runStep(
        'promote',
        {
          ...environmentRepository,
          environment: 'uat',
          service: 'app',
          version: '0.2.0',
          digest,
          image: 'ghcr.io/demo/app',
          'chart-version': '0.1.0',
          'source-commit': uat.outputs.commit ?? '',
        },
        sandbox,
      ),
    );
    await step('umbrella-chart for uat: the chart Argo CD deploys, committed to the environment repository', true, () => umbrella('uat'));

    const server = options.server;
    if (server) {
      await writeFile(path.join(app.cwd, 'compose.yaml'), DEMO_COMPOSE);
      const operation = server.deploy ? 'deploy' : 'plan';
      await step(`deploy-compose (${operation}) of app 0.2.0 to ${server.host}`, true, () =>
        runStep(
          'deploy-compose',
          {
            host: server.host,
            port: String(server.port ?? 22),
            user: server.user ?? 'deploy',
            'ssh-key': server.key,
            'known-hosts': server.knownHosts,
            project: 'toolkit-demo',
            release: '0.2.0',
            env: 'DEMO_GREETING=hello-from-the-toolkit-demo',
            operation,
          },
          app.cwd,
        ),
      );
    } else {
      log('');
      log('== deploy-compose: skipped. Give --host, --known-hosts and --key to plan a deploy against a server (and --deploy to deploy).');
    }

    await app.run(['tag', 'PROD-0.2.0', 'v0.2.0']);
    await app.run(['push', '--quiet', 'origin', 'PROD-0.2.0']);
    await step('release-context for PROD-0.2.0: the same commit passed UAT', true, () => releaseContext('PROD-0.2.0'));
    await step('promote: prod gets exactly what uat runs (version and digest)', true, () =>
      runStep('promote', { ...environmentRepository, operation: 'promote', from: 'uat', to: 'prod' }, sandbox),
    );
    await step('umbrella-chart for prod', true, () => umbrella('prod'));

    await app.run(['commit', '--quiet', '--allow-empty', '-m', 'feat: export to CSV']);
    await app.run(['tag', 'PROD-0.3.0']);
    await app.run(['push', '--quiet', 'origin', 'main', 'PROD-0.3.0']);
    await step('release-context for PROD-0.3.0: never released to UAT, so the gate refuses it', false, () => releaseContext('PROD-0.3.0'));

    const record = new Git({ cwd: environments });
    log('');
    log('== The environment repository now holds:');
    for (const line of (await record.output(['ls-tree', '-r', '--name-only', 'main'])).split('\n')) log(`  ${line}`);
    log('');
    log('== versions.yaml:');
    for (const line of (await record.output(['show', 'main:versions.yaml'])).split('\n')) log(`  ${line}`);
    log('');
    log(failures.length === 0 ? 'Demo finished: every step behaved as a release should.' : `Demo FAILED at: ${failures.join('; ')}`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    if (options.keep || options.sandbox) log(`Sandbox kept at ${sandbox}`);
    else await rm(sandbox, { recursive: true, force: true });
  }
}
