import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Git } from '@toolkit/shared';
import { initRepository } from './init.js';
import { type RehearsalReport, type Rehearsal, formatJobLine, formatReport, prepareRehearsal } from './rehearse/index.js';
import type { GitHubRelease, ImageRegistry } from './rehearse/types.js';

export interface DemoOptions {
  /** The toolkit repository, whose workflows and built actions are rehearsed. */
  root: string;
  /** Leave the sandbox on disk and print where it is. */
  keep: boolean;
  /** Print every step's log, not only the runs' headings. */
  verbose?: boolean;
  /** Work in this directory (kept) instead of a new temporary one. */
  sandbox?: string;
  log: (line: string) => void;
  /** A server the releases deploy to (the environments' compose host). Without it the deploy steps say they were skipped. */
  server?: DemoServer;
  /** A registry to push to (the real docker-registry); the rehearsal's stand-in otherwise. */
  registry?: ImageRegistry;
  /** A Docker engine to build with (DOCKER_HOST). */
  dockerHost?: string;
  node?: string;
}

export interface DemoServer {
  host: string;
  port?: number;
  user?: string;
  /** The server's known_hosts lines. */
  knownHosts: string;
  /** The private key to log in with. */
  key: string;
  /** The port the app serves on, on the server (default 8080). */
  appPort?: number;
}

/** What the demo's app serves: a busybox httpd on the host's port, with a healthcheck the deploy waits for. */
const demoCompose = (port: number) => `services:
  shop:
    image: busybox
    network_mode: host
    init: true
    command: ["httpd", "-f", "-p", "127.0.0.1:${port}", "-h", "/www"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${port}/"]
      interval: 1s
      retries: 10
`;

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Demo Developer',
  GIT_AUTHOR_EMAIL: 'developer@demo.invalid',
  GIT_COMMITTER_NAME: 'Demo Developer',
  GIT_COMMITTER_EMAIL: 'developer@demo.invalid',
};

export interface DemoResult {
  exitCode: number;
  /** The rehearsal of each push, in order: UAT-1.0.0, PROD-1.0.0, the refused PROD-1.1.0. */
  reports: RehearsalReport[];
  /** versions.yaml of the environment repository at the end. */
  versions: string;
  /** The scheduled release report (release-report.yml run by hand) on the environment repository, after the releases. */
  releaseReport?: RehearsalReport;
  /** The app's GitHub Releases at the end, as the GitHub stand-in holds them. */
  releases: GitHubRelease[];
  sandbox: string;
}

/**
 * The README's first release, rehearsed from the real files: an app repository set up by
 * `toolkit init`, then pushes of UAT-1.0.0, PROD-1.0.0 and a PROD tag UAT never had, each run
 * through the templates, the toolkit's reusable workflows and its built actions. Exits 0 when
 * UAT and PROD released and the third was refused before anything was written.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  return (await demo(options)).exitCode;
}

export async function demo(options: DemoOptions): Promise<DemoResult> {
  const { log } = options;
  const sandbox = options.sandbox ?? (await mkdtemp(path.join(os.tmpdir(), 'toolkit-demo-')));
  const failures: string[] = [];
  const reports: RehearsalReport[] = [];
  let rehearsal: Rehearsal | undefined;
  try {
    const appDir = path.join(sandbox, 'shop');
    const app = new Git({ cwd: appDir, env: IDENTITY });
    await mkdir(path.join(appDir, 'www'), { recursive: true });
    await app.run(['init', '--quiet', '--initial-branch=main']);
    await writeFile(path.join(appDir, 'compose.yaml'), demoCompose(options.server?.appPort ?? 8080));
    await writeFile(path.join(appDir, 'Dockerfile'), 'FROM busybox\nCOPY www /www\n');
    await writeFile(path.join(appDir, 'www', 'index.html'), 'shop 1.0.0\n');
    await app.run(['add', '--all']);
    await app.run(['commit', '--quiet', '-m', 'feat: first screen']);
    const init = await initRepository({
      root: options.root,
      dir: appDir,
      org: 'acme/toolkit',
      ref: 'v1',
      envRepo: 'acme/environments',
      chartVersion: '0.1.0',
      chartRepository: 'https://charts.acme.example',
    });
    await app.run(['add', '--all']);
    await app.run(['commit', '--quiet', '-m', 'ci: release with the toolkit']);
    log(`Sandbox: ${sandbox}`);
    log(`toolkit init wrote ${init.written.join(', ')} into the app repository acme/shop.`);

    const server = options.server;
    rehearsal = await prepareRehearsal({
      root: options.root,
      appDir,
      appRepository: 'acme/shop',
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.dockerHost ? { dockerHost: options.dockerHost } : {}),
      ...(options.node ? { node: options.node } : {}),
      scratch: path.join(sandbox, 'rehearsal'),
      vars: server
        ? {
            TOOLKIT_COMPOSE_HOST: server.host,
            TOOLKIT_COMPOSE_PORT: String(server.port ?? 22),
            TOOLKIT_COMPOSE_USER: server.user ?? 'deploy',
            TOOLKIT_KNOWN_HOSTS: server.knownHosts,
          }
        : {},
      secrets: server ? { TOOLKIT_SSH_KEY: server.key, TOOLKIT_COMPOSE_ENV: 'DEMO_GREETING=hello-from-the-toolkit-demo' } : {},
    });
    const world = rehearsal;
    const envGit = new Git({ cwd: world.world.repositories.get('acme/environments')?.bareDir ?? sandbox });
    const envHead = () => envGit.output(['rev-parse', '--verify', '--quiet', 'refs/heads/main']).catch(() => '');

    const push = async (title: string, tag: string, expect: 'success' | 'failure') => {
      log('');
      log(`== git push origin ${tag}: ${title}`);
      await app.run(['tag', tag]);
      const report = await world.run(
        { name: 'push', ref: `refs/tags/${tag}` },
        {
          log: (line) => {
            if (line.startsWith('▶') || options.verbose) log(line);
          },
        },
      );
      for (const job of report.jobs) log(`  ${formatJobLine(job)}`);
      reports.push(report);
      const port = options.server?.appPort;
      if (port !== undefined && expect === 'success') {
        // The compose host is this machine: what it serves now is what was released.
        const page = await fetch(`http://127.0.0.1:${port}/`).then(
          (response) => (response.ok ? response.text() : `HTTP ${response.status}`),
          (error: Error) => error.message,
        );
        log(`  deployed: http://127.0.0.1:${port}/ answers ${JSON.stringify(page)}`);
        if (page !== 'shop 1.0.0\n') failures.push(`after ${tag} the compose host answered ${JSON.stringify(page)}`);
      }
      if (report.conclusion !== expect) failures.push(`${tag} ended in ${report.conclusion}, not ${expect}`);
      log(
        report.conclusion === expect
          ? `  -> ${expect === 'success' ? 'released' : 'refused, as it must be'}`
          : `  -> UNEXPECTED: ${report.conclusion}`,
      );
      return report;
    };

    await push('the first release, to UAT: build, scan, sign, record, chart, deploy', 'UAT-1.0.0', 'success');
    await push('the same commit to production: exactly the digest UAT recorded, no rebuild', 'PROD-1.0.0', 'success');
    await writeFile(path.join(appDir, 'www', 'index.html'), 'shop 1.1.0\n');
    await app.run(['commit', '--quiet', '--all', '-m', 'feat: export to CSV']);
    const before = await envHead();
    const refused = await push('a commit UAT never had, straight to production: the gate refuses it', 'PROD-1.1.0', 'failure');
    if ((await envHead()) !== before) failures.push('the refused PROD-1.1.0 changed the environment repository');
    const versions = await envGit.output(['show', 'main:versions.yaml']).catch(() => '');

    // The weekly release report (the template toolkit init wrote), run by hand: the delivery
    // metrics of acme/environments from the history the releases above wrote.
    log('');
    log('== Actions → Release report → Run workflow: the delivery metrics of acme/environments');
    const releaseReport = await world.run(
      { name: 'workflow_dispatch', ref: 'refs/heads/main', inputs: { since: '90d' } },
      {
        workflows: ['.github/workflows/release-report.yml'],
        log: (line) => {
          if (line.startsWith('▶') || options.verbose) log(line);
        },
      },
    );
    for (const job of releaseReport.jobs) log(`  ${formatJobLine(job)}`);
    if (releaseReport.conclusion !== 'success') failures.push(`the release report ended in ${releaseReport.conclusion}`);
    const summary = releaseReport.jobs.find((job) => job.summary)?.summary ?? '';
    for (const line of summary.split('\n')) log(`  ${line}`);
    log('');
    log('== The last rehearsal in full:');
    for (const line of formatReport(refused)) log(`  ${line}`);
    log('');
    log('== versions.yaml of acme/environments:');
    for (const line of versions.split('\n')) log(`  ${line}`);
    log('');
    log(
      failures.length === 0
        ? 'Demo finished: UAT and PROD released from the real templates, the untested PROD tag was refused, and the release report read it all back.'
        : `Demo FAILED: ${failures.join('; ')}`,
    );
    const releases = world.world.github.releases('acme/shop');
    return { exitCode: failures.length === 0 ? 0 : 1, reports, versions, releaseReport, releases, sandbox };
  } finally {
    await rehearsal?.close();
    if (options.keep || options.sandbox) log(`Sandbox kept at ${sandbox}`);
    else await rm(sandbox, { recursive: true, force: true });
  }
}
