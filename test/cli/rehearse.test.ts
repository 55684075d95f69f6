/**
 * The release chain rehearsed from the templates `toolkit init` writes, against the real parts
 * that run here, started as `npm run demo` starts them: docker-registry (the build pushes a real
 * image, sign resolves its digest there), dockerd (docker build) and sshd + dockerd (the releases
 * are deployed and curl sees them); trivy, syft and cosign are replay shims. A part that cannot
 * start fails every test that needs it, loudly.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type DockerDaemon,
  type DockerRegistry,
  type LocalParts,
  type SshServer,
  demo,
  freePort,
  initRepository,
  prepareRehearsal,
  shimCalls,
  startLocalParts,
} from '@toolkit/cli';
import { Git, parseVersionsFile } from '@toolkit/shared';
import { parse } from 'yaml';
import { ROOT, node24 } from '../support/harness.js';
import { inspectDigest } from '../support/registry.js';
import { makeRepo, tempDir } from '../support/temp.js';

interface Rig {
  registry: DockerRegistry;
  daemon: DockerDaemon;
  ssh: SshServer;
}

let parts: LocalParts | undefined;

// The parts `npm run demo` starts where the machine has them, started the same way.
beforeAll(async () => {
  parts = await startLocalParts(await mkdtemp(path.join(os.tmpdir(), 'rehearse-')));
  if (parts.missing.length > 0) console.error(`rehearsal rig is missing parts: ${parts.missing.join('; ')}`);
}, 180_000);

afterAll(async () => {
  await parts?.close();
}, 60_000);

/** Every real part, or a loud failure naming what is missing: never a silent pass. */
function requireRig(): Rig {
  if (!parts?.registry || !parts.daemon || !parts.ssh)
    throw new Error(`the rehearsal rig did not start: ${parts?.missing.join('; ') ?? 'not started'}`);
  return { registry: parts.registry, daemon: parts.daemon, ssh: parts.ssh };
}

describe('the release chain, rehearsed against the real parts', () => {
  it('UAT-1.0.0 builds, records and deploys one digest; PROD-1.0.0 releases exactly it; an untested PROD tag writes nothing', async () => {
    const { registry, daemon, ssh } = requireRig();
    const sandbox = await tempDir('rehearse-demo-');
    const appPort = await freePort();
    const lines: string[] = [];
    const result = await demo({
      root: ROOT,
      keep: false,
      sandbox,
      node: node24(),
      registry: { address: registry.address, kind: 'docker-registry', close: async () => {} },
      dockerHost: daemon.host,
      server: { host: ssh.host, port: ssh.port, user: ssh.user, knownHosts: ssh.knownHosts, key: ssh.clientKey, appPort },
      log: (line) => lines.push(line),
    });
    const log = lines.join('\n');
    expect({ code: result.exitCode, failed: /Demo FAILED: (.*)/.exec(log)?.[1] }).toEqual({ code: 0, failed: undefined });
    const [uat, prod, refused] = result.reports;

    // The digest the build pushed is the registry's, and the one every later step used.
    const digest = uat?.jobs.find((job) => job.id === 'release/build/build')?.outputs.digest ?? '';
    expect(digest).toBe(await inspectDigest(registry, 'acme/shop', '1.0.0'));
    expect(log).toMatch(/deployed: http:\/\/127\.0\.0\.1:\d+\/ answers "shop 1\.0\.0\\n"/);
    const { data } = parseVersionsFile(result.versions);
    expect(data.environments.uat?.services?.shop).toMatchObject({ version: '1.0.0', image: `${registry.address}/acme/shop`, digest });
    expect(data.environments.prod?.services?.shop).toMatchObject({ version: '1.0.0', digest });

    // The uat umbrella chart pins it (same commit as versions.yaml).
    const environments = new Git({ cwd: path.join(sandbox, 'rehearsal', 'repos', 'acme', 'environments.git') });
    const values = parse(await environments.output(['show', 'main:umbrella/uat/values.yaml'])) as Record<
      string,
      { image?: { digest?: string } }
    >;
    expect(values.shop?.image?.digest).toBe(digest);
    // One commit a release, versions.yaml and the chart together; the refused tag wrote none.
    const commits = (await environments.output(['log', '--format=%H', 'main'])).split('\n');
    expect(commits).toHaveLength(2);
    for (const commit of commits) {
      const changed = (await environments.output(['show', '--name-only', '--format=', commit])).split('\n');
      expect(changed).toEqual(expect.arrayContaining(['versions.yaml', expect.stringMatching(/^umbrella\/(uat|prod)\/Chart\.yaml$/)]));
    }

    // Deployed: the server runs exactly that digest, and serves the page the Dockerfile copied in.
    const container = (await daemon.docker(['ps', '-q', '--filter', 'label=com.docker.compose.service=shop'])).trim();
    expect(container).toMatch(/^[0-9a-f]+$/);
    const runningImage = (await daemon.docker(['inspect', '--format', '{{.Image}}', container])).trim();
    const builtImage = (await daemon.docker(['image', 'inspect', '--format', '{{.Id}}', `${registry.address}/acme/shop@${digest}`])).trim();
    expect(runningImage).toBe(builtImage);
    expect(execFileSync('curl', ['-sf', `http://127.0.0.1:${appPort}/`], { encoding: 'utf8' })).toBe('shop 1.0.0\n');

    // Sign was given the digest, never a tag.
    const signs = (await shimCalls(path.join(sandbox, 'rehearsal', 'bin'), 'cosign')).filter((call) => call.args[0] === 'sign');
    expect(signs.map((call) => call.args.at(-1))).toEqual([`${registry.address}/acme/shop@${digest}`]);
    // And deployed only once cosign verified that digest against build-scan-sign.yml's identity: UAT
    // checks before recording and again at the deploy; PROD at its deploy.
    const verifies = (await shimCalls(path.join(sandbox, 'rehearsal', 'bin'), 'cosign')).filter((call) =>
      call.args.some((arg) => arg.startsWith('--certificate-identity-regexp=')),
    );
    expect(verifies).toHaveLength(3);
    for (const call of verifies) {
      expect(call.args.at(-1)).toBe(`${registry.address}/acme/shop@${digest}`);
      expect(call.args).toContainEqual(
        expect.stringMatching(
          /^--certificate-identity-regexp=\^http:\/\/127\\\.0\\\.0\\\.1:\d+\/acme\/toolkit\/\\\.github\/workflows\/build-scan-sign\\\.yml@\.\+\$$/,
        ),
      );
    }

    expect(prod?.approvals).toEqual([{ job: 'release/release', environment: 'prod' }]);
    expect(refused?.jobs.find((job) => job.id === 'release/release')?.result).toBe('skipped');
    for (const report of result.reports) expect(report.denials).toEqual([]);
    // No step had more than its job was granted: the build job's token is exactly its permissions:.
    expect(uat?.jobs.find((job) => job.id === 'release/build/build')?.permissions).toMatchObject({
      contents: 'read',
      packages: 'write',
      'id-token': 'write',
      'security-events': 'write',
      actions: 'read',
      deployments: 'none',
    });
  }, 300_000);
});

/** An app repository set up by toolkit init, with one commit of a Dockerfile and a page. */
async function initApp(options: { devBranch?: string } = {}): Promise<{ dir: string; git: Git }> {
  const dir = path.join(await tempDir('rehearse-app-'), 'shop');
  const git = await makeRepo(dir);
  await writeFile(path.join(dir, 'Dockerfile'), 'FROM busybox\nCOPY index.html /www/index.html\n');
  await writeFile(path.join(dir, 'index.html'), 'shop\n');
  await initRepository({
    root: ROOT,
    dir,
    org: 'acme/toolkit',
    ref: 'v1',
    envRepo: 'acme/environments',
    chartRepository: 'https://charts.acme.example',
    ...options,
  });
  await git.run(['add', '--all']);
  await git.run(['commit', '--quiet', '-m', 'feat: the shop']);
  return { dir, git };
}

describe('the rehearsal engine on the toolkit workflows', () => {
  it('a push to the development branch records dev with the digest it built', async () => {
    const { registry } = requireRig();
    const { dir } = await initApp({ devBranch: 'main' });
    const rehearsal = await prepareRehearsal({
      root: ROOT,
      appDir: dir,
      node: node24(),
      registry: { address: registry.address, kind: 'docker-registry', close: async () => {} },
    });
    try {
      const report = await rehearsal.run({ name: 'push', ref: 'refs/heads/main' });
      expect(report.runs.map((run) => run.workflow)).toEqual(['acme/shop/.github/workflows/ci.yml@refs/heads/main']);
      const digest = report.jobs.find((job) => job.id === 'dev/build/build')?.outputs.digest;
      expect(digest).toMatch(/^sha256:/);
      const versions = await new Git({ cwd: rehearsal.world.repositories.get('acme/environments')?.bareDir ?? '' }).output([
        'show',
        'main:versions.yaml',
      ]);
      const shop = parseVersionsFile(versions).data.environments.dev?.services?.shop;
      expect(shop?.digest).toBe(digest);
      expect(shop?.version).toMatch(/^0\.0\.0-dev\.\d+\.g[0-9a-f]{12}$/);
      // dev has no compose host here: the deploy said so and did not run.
      expect(report.jobs.find((job) => job.id === 'dev/release')?.summary).toContain(
        'No deploy: the dev environment has no TOOLKIT_COMPOSE_HOST variable.',
      );
      expect(report.denials).toEqual([]);
    } finally {
      await rehearsal.close();
    }
  }, 240_000);

  it('with a dev compose host, a push deploys there; a repository named Acme/MyShop gives lower-case names', async () => {
    const { registry, daemon, ssh } = requireRig();
    const { dir, git } = await initApp({ devBranch: 'main' });
    const port = await freePort();
    await writeFile(
      path.join(dir, 'compose.yaml'),
      `services:\n  myshop:\n    image: busybox\n    network_mode: host\n    command: ["httpd", "-f", "-p", "127.0.0.1:${port}", "-h", "/www"]\n    healthcheck:\n      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${port}/"]\n      interval: 1s\n      retries: 10\n`,
    );
    await git.run(['add', 'compose.yaml']);
    await git.run(['commit', '--quiet', '-m', 'feat: run with compose']);
    const rehearsal = await prepareRehearsal({
      root: ROOT,
      appDir: dir,
      appRepository: 'Acme/MyShop',
      node: node24(),
      registry: { address: registry.address, kind: 'docker-registry', close: async () => {} },
      dockerHost: daemon.host,
      vars: {
        TOOLKIT_COMPOSE_HOST: ssh.host,
        TOOLKIT_COMPOSE_PORT: String(ssh.port),
        TOOLKIT_COMPOSE_USER: ssh.user,
        TOOLKIT_KNOWN_HOSTS: ssh.knownHosts,
      },
      secrets: { TOOLKIT_SSH_KEY: ssh.clientKey },
    });
    try {
      const report = await rehearsal.run({ name: 'push', ref: 'refs/heads/main' });
      expect(report.conclusion).toBe('success');
      const digest = report.jobs.find((job) => job.id === 'dev/build/build')?.outputs.digest ?? '';
      const versions = await new Git({ cwd: rehearsal.world.repositories.get('acme/environments')?.bareDir ?? '' }).output([
        'show',
        'main:versions.yaml',
      ]);
      expect(parseVersionsFile(versions).data.environments.dev?.services?.myshop).toMatchObject({
        image: `${registry.address}/acme/myshop`,
        digest,
      });
      expect(execFileSync('curl', ['-sf', `http://127.0.0.1:${port}/`], { encoding: 'utf8' })).toBe('shop\n');
      const container = (await daemon.docker(['ps', '-q', '--filter', 'label=com.docker.compose.project=myshop'])).trim();
      expect((await daemon.docker(['inspect', '--format', '{{.Image}}', container])).trim()).toBe(
        (await daemon.docker(['image', 'inspect', '--format', '{{.Id}}', `${registry.address}/acme/myshop@${digest}`])).trim(),
      );
      await daemon.docker(['rm', '-f', container]);
    } finally {
      await rehearsal.close();
    }
  }, 300_000);

  it('a toolkit pinned by commit SHA runs at that commit, nested calls and actions included', async () => {
    const sha = await new Git({ cwd: ROOT }).output(['rev-parse', 'HEAD']);
    const dir = path.join(await tempDir('rehearse-pinned-'), 'shop');
    const git = await makeRepo(dir);
    await writeFile(path.join(dir, 'Dockerfile'), 'FROM busybox\nCOPY index.html /www/index.html\n');
    await writeFile(path.join(dir, 'index.html'), 'shop\n');
    await initRepository({
      root: ROOT,
      dir,
      org: 'acme/toolkit',
      ref: sha,
      envRepo: 'acme/environments',
      chartRepository: 'https://charts.acme.example',
    });
    await git.run(['add', '--all']);
    await git.run(['commit', '--quiet', '-m', 'feat: the shop']);
    await git.run(['tag', 'UAT-1.0.0']);
    const rehearsal = await prepareRehearsal({ root: ROOT, appDir: dir, node: node24() });
    try {
      const report = await rehearsal.run({ name: 'push', ref: 'refs/tags/UAT-1.0.0' });
      expect(report.conclusion).toBe('success');
      // release.yml calls build-scan-sign.yml by ./: the pin reaches it.
      expect(report.jobs.find((job) => job.id === 'release/build/build')?.workflow).toBe(
        `acme/toolkit/.github/workflows/build-scan-sign.yml@${sha}`,
      );
      expect(report.jobs.find((job) => job.id === 'release/release')?.workflow).toBe(`acme/toolkit/.github/workflows/release.yml@${sha}`);
      // The actions ran from that commit: every checkout is of the app at the tag, or of the toolkit at the pin.
      const appCommit = await new Git({ cwd: rehearsal.appRemote }).output(['rev-parse', 'UAT-1.0.0^{commit}']);
      const checkouts = report.jobs.flatMap((job) => job.steps.filter((step) => step.uses?.startsWith('actions/checkout')));
      expect(checkouts.length).toBeGreaterThanOrEqual(7);
      expect(new Set(checkouts.map((step) => step.outputs.commit))).toEqual(new Set([appCommit, sha]));
    } finally {
      await rehearsal.close();
    }
  }, 240_000);

  it('a private toolkit cannot be checked out with the caller GITHUB_TOKEN, and can with TOOLKIT_READ_TOKEN', async () => {
    const { dir, git } = await initApp();
    await git.run(['tag', 'UAT-1.0.0']);
    const refusedRun = await prepareRehearsal({ root: ROOT, appDir: dir, node: node24(), toolkitPrivate: true });
    try {
      const report = await refusedRun.run({ name: 'push', ref: 'refs/tags/UAT-1.0.0' }, { jobs: ['release'] });
      expect(report.conclusion).toBe('failure');
      expect(report.denials[0]).toMatchObject({ needed: expect.stringContaining('contents: read on acme/toolkit') });
      // The token for the toolkit: an App installation token that reads it (as a company sets up).
      const readToken = refusedRun.world.github.issueToken({
        holder: 'toolkit reader',
        repositories: ['acme/toolkit'],
        permissions: { contents: 'read' },
      });
      const allowed = await refusedRun.run(
        { name: 'push', ref: 'refs/tags/UAT-1.0.0' },
        { jobs: ['release'], secrets: { TOOLKIT_READ_TOKEN: readToken } },
      );
      expect(allowed.jobs.find((job) => job.id === 'release/context')).toMatchObject({
        result: 'success',
        outputs: { environment: 'uat', version: '1.0.0' },
      });
      expect(allowed.denials).toEqual([]);
    } finally {
      await refusedRun.close();
    }
  }, 240_000);

  it('"Cut a release" tags the next version, and the release workflow it dispatches releases it to UAT', async () => {
    const { dir, git } = await initApp();
    await git.run(['commit', '--quiet', '--allow-empty', '-m', 'fix: an empty basket']);
    await git.run(['tag', 'UAT-1.0.0', 'HEAD~1']); // the README's first step, by hand
    const rehearsal = await prepareRehearsal({ root: ROOT, appDir: dir, node: node24() });
    try {
      const report = await rehearsal.run(
        { name: 'workflow_dispatch', ref: 'main', inputs: { 'dry-run': 'false' } },
        { workflows: ['.github/workflows/cut-release.yml'] },
      );
      expect(report.runs.map((run) => [run.workflow, run.event, run.conclusion])).toEqual([
        ['acme/shop/.github/workflows/cut-release.yml@refs/heads/main', 'workflow_dispatch', 'success'],
        ['acme/shop/.github/workflows/release-on-tag.yml@refs/tags/UAT-1.0.1', 'workflow_dispatch', 'success'],
      ]);
      // After the hand-pushed UAT-1.0.0, a fix is 1.0.1: the environment tag counted as the last release.
      expect(report.jobs.find((job) => job.id === 'cut/tag')?.outputs).toMatchObject({ version: '1.0.1' });
      const app = new Git({ cwd: rehearsal.appRemote });
      expect((await app.output(['tag', '--list'])).split('\n')).toEqual(['UAT-1.0.0', 'UAT-1.0.1', 'v1.0.1']);
      // semantic-tag's release of v1.0.1, its changelog kept, with the release's evidence attached.
      const releases = rehearsal.world.github.releases('acme/shop');
      expect(releases.map((release) => release.tag_name)).toEqual(['v1.0.1']);
      expect(releases[0]?.body).toMatch(/an empty basket[\s\S]*sha256:[0-9a-f]{64}/);
      expect(releases[0]?.assets.map((asset) => asset.name).sort()).toEqual(['sbom.spdx.json', 'trivy.sarif']);
      const versions = await new Git({ cwd: rehearsal.world.repositories.get('acme/environments')?.bareDir ?? '' }).output([
        'show',
        'main:versions.yaml',
      ]);
      expect(parseVersionsFile(versions).data.environments.uat?.services?.shop?.version).toBe('1.0.1');
      expect(report.denials).toEqual([]);
    } finally {
      await rehearsal.close();
    }
  }, 240_000);

  it('fails, naming it, when a workflow calls a repository the rehearsal does not have', async () => {
    const { dir, git } = await initApp();
    const file = path.join(dir, '.github', 'workflows', 'release-on-tag.yml');
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace(
        'acme/toolkit/.github/workflows/release.yml@v1',
        'somebody/else/.github/workflows/release.yml@v1',
      ),
    );
    await git.run(['commit', '--quiet', '--all', '-m', 'ci: call another toolkit']);
    await git.run(['tag', 'UAT-1.0.0']);
    const rehearsal = await prepareRehearsal({ root: ROOT, appDir: dir, node: node24() });
    try {
      await expect(rehearsal.run({ name: 'push', ref: 'refs/tags/UAT-1.0.0' })).rejects.toThrow(
        /release-on-tag\.yml@refs\/tags\/UAT-1\.0\.0:\d+: uses: somebody\/else\/\.github\/workflows\/release\.yml@v1 names somebody\/else, which this rehearsal does not have/,
      );
    } finally {
      await rehearsal.close();
    }
  }, 120_000);
});
