import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UserError, listTags } from '@toolkit/shared';
import { parseImageReference, resolveDigest } from '../../actions/sign/src/sign.js';
import { buildAndPushImage, buildPushStandIn } from '../../packages/cli/src/rehearse/image-build.js';
import { startRegistryStandIn } from '../../packages/cli/src/rehearse/registry-stand-in.js';
import type { ImageRegistry, RehearsalWorld, StepContext } from '../../packages/cli/src/rehearse/types.js';
import { type DockerDaemon, pushBusyboxImage, startDockerd } from '../support/dockerd.js';
import { type Registry, inspectDigest, startRegistry } from '../support/registry.js';
import { tempDir } from '../support/temp.js';

/**
 * The image part of a rehearsal (docker/build-push-action's stand-in): an image built from a
 * context and pushed, checked through the toolkit's own tag resolver and through skopeo, against
 * the in-process registry stand-in, the real docker-registry, and (where dockerd runs) a real build.
 */

const run = promisify(execFile);
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A build context with a Dockerfile, a page, a subdirectory and a .git that must stay out of the image. */
async function makeContext(page = 'hello from the shop\n'): Promise<string> {
  const context = await tempDir('rehearse-image-context-');
  await writeFile(path.join(context, 'Dockerfile'), 'FROM scratch\nCOPY index.html /www/index.html\n');
  await writeFile(path.join(context, 'index.html'), page);
  await mkdir(path.join(context, 'assets'));
  await writeFile(path.join(context, 'assets', 'app.css'), 'body { color: teal; }\n');
  await mkdir(path.join(context, '.git'));
  await writeFile(path.join(context, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  return context;
}

/** The single layer of `repository@digest`, as the names in its tar. */
async function layerEntries(registry: ImageRegistry, repository: string, digest: string): Promise<string[]> {
  const manifest = (await (
    await fetch(`http://${registry.address}/v2/${repository}/manifests/${digest}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    })
  ).json()) as { layers: { digest: string }[] };
  expect(manifest.layers).toHaveLength(1);
  const layer = Buffer.from(
    await (await fetch(`http://${registry.address}/v2/${repository}/blobs/${manifest.layers[0]?.digest}`)).arrayBuffer(),
  );
  const dir = await tempDir('rehearse-image-layer-');
  await writeFile(path.join(dir, 'layer.tar'), layer);
  return (await run('tar', ['-tf', path.join(dir, 'layer.tar')])).stdout.split('\n').filter(Boolean).sort();
}

function asImageRegistry(registry: Registry): ImageRegistry {
  return { address: registry.address, kind: 'docker-registry', close: () => registry.close() };
}

describe('registry stand-in with an image built without docker (oci-layout)', () => {
  let registry: ImageRegistry;
  beforeAll(async () => {
    registry = await startRegistryStandIn(await tempDir('rehearse-registry-'));
  });
  afterAll(() => registry.close());

  it('pushes the context as one layer; the resolver and skopeo find the same digest, twice the same', async () => {
    const context = await makeContext();
    const log: string[] = [];
    const first = await buildAndPushImage({
      context,
      tags: [`${registry.address}/acme/shop:1.0.0`],
      registry,
      log: (line) => log.push(line),
    });
    expect(first.how).toBe('oci-layout');
    expect(first.digest).toMatch(DIGEST);
    expect(first.imageid).toMatch(DIGEST);
    expect(log.join('\n')).toContain(`No Docker engine runs here, so ${path.join(context, 'Dockerfile')} was not executed`);

    expect(await resolveDigest(parseImageReference(`${registry.address}/acme/shop:1.0.0`))).toBe(first.digest);
    expect(await inspectDigest(registry, 'acme/shop', '1.0.0')).toBe(first.digest);
    expect(await layerEntries(registry, 'acme/shop', first.digest)).toEqual([
      './',
      './Dockerfile',
      './assets/',
      './assets/app.css',
      './index.html',
    ]);

    const again = await buildAndPushImage({ context, tags: [`${registry.address}/acme/shop:1.0.1`], registry, log: () => undefined });
    expect(again.digest).toBe(first.digest);
    expect(await listTags({ registry: registry.address, repository: 'acme/shop' })).toEqual(['1.0.0', '1.0.1']);

    const changed = await buildAndPushImage({
      context: await makeContext('another page\n'),
      tags: [`${registry.address}/acme/shop:1.0.2`],
      registry,
      log: () => undefined,
    });
    expect(changed.digest).not.toBe(first.digest);
    expect(await resolveDigest(parseImageReference(`${registry.address}/acme/shop:1.0.2`))).toBe(changed.digest);
  });

  it('answers unknown names and tags with 404 and the OCI error JSON, and the ping with 200', async () => {
    const ping = await fetch(`http://${registry.address}/v2/`);
    expect(ping.status).toBe(200);
    expect(ping.headers.get('docker-distribution-api-version')).toBe('registry/2.0');

    await buildAndPushImage({ context: await makeContext(), tags: [`${registry.address}/acme/known:1`], registry, log: () => undefined });
    const unknownTag = await fetch(`http://${registry.address}/v2/acme/known/manifests/9.9.9`, { method: 'GET' });
    expect(unknownTag.status).toBe(404);
    expect(await unknownTag.json()).toEqual({
      errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { tag: '9.9.9' } }],
    });
    const unknownName = await fetch(`http://${registry.address}/v2/acme/nothing/manifests/1`, { method: 'HEAD' });
    expect(unknownName.status).toBe(404);
    expect(
      ((await (await fetch(`http://${registry.address}/v2/acme/nothing/manifests/1`)).json()) as { errors: { code: string }[] }).errors[0]
        ?.code,
    ).toBe('NAME_UNKNOWN');
    await expect(resolveDigest(parseImageReference(`${registry.address}/acme/known:9.9.9`))).rejects.toThrow(UserError);
    await expect(resolveDigest(parseImageReference(`${registry.address}/acme/nothing:1`))).rejects.toThrow('does not exist');
  });

  it('refuses a manifest whose blobs were never uploaded, and a blob whose digest does not match', async () => {
    const missing = `sha256:${'a'.repeat(64)}`;
    const manifest = await fetch(`http://${registry.address}/v2/acme/broken/manifests/1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: JSON.stringify({ schemaVersion: 2, config: { digest: missing, size: 2 }, layers: [] }),
    });
    expect(manifest.status).toBe(400);
    expect(await manifest.json()).toMatchObject({ errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', detail: { digest: missing } }] });

    const started = await fetch(`http://${registry.address}/v2/acme/broken/blobs/uploads/`, { method: 'POST' });
    expect(started.status).toBe(202);
    const upload = new URL(started.headers.get('location') as string);
    upload.searchParams.set('digest', missing);
    const put = await fetch(upload, { method: 'PUT', body: 'not that content' });
    expect(put.status).toBe(400);
    expect(await put.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
  });

  it('names a missing context, a missing Dockerfile and a tag on another registry', async () => {
    const context = await makeContext();
    const tags = [`${registry.address}/acme/shop:2`];
    const log = () => undefined;
    await expect(buildAndPushImage({ context: path.join(context, 'absent'), tags, registry, log })).rejects.toThrow(
      `The build context ${path.join(context, 'absent')} does not exist`,
    );
    await expect(buildAndPushImage({ context, dockerfile: 'Containerfile', tags, registry, log })).rejects.toThrow(
      `The Dockerfile ${path.join(context, 'Containerfile')} does not exist`,
    );
    await expect(buildAndPushImage({ context, tags: ['ghcr.io/acme/shop:2'], registry, log })).rejects.toThrow(
      `Invalid input "tags": "ghcr.io/acme/shop:2" is not on the rehearsal's registry: a rehearsal has only the registry at ${registry.address}`,
    );
    await expect(buildAndPushImage({ context, tags: [`${registry.address}/Acme/Shop:2`], registry, log })).rejects.toThrow(
      'is not an image tag',
    );
  });
});

describe('docker/build-push-action stand-in', () => {
  let registry: ImageRegistry;
  beforeAll(async () => {
    registry = await startRegistryStandIn(await tempDir('rehearse-registry-'));
  });
  afterAll(() => registry.close());

  function step(workspace: string, inputs: Record<string, string>, world: Partial<RehearsalWorld> = { registry }) {
    const log: string[] = [];
    const context = {
      world: { standIns: [], extraPath: [], ...world } as unknown as RehearsalWorld,
      uses: 'docker/build-push-action@v6',
      inputs,
      env: {},
      workspace,
      token: 'token',
      grant: { holder: 'test', permissions: {} },
      repository: 'acme/shop',
      sha: '0123456789abcdef0123456789abcdef01234567',
      ref: 'refs/heads/main',
      log: (line: string) => log.push(line),
      mask: () => undefined,
    } satisfies StepContext;
    return { context, log };
  }

  it('pushes the tags (newline or comma separated) and gives digest, imageid and metadata as the real action does', async () => {
    const workspace = await tempDir('rehearse-workspace-');
    const context = await makeContext();
    await rm(path.join(context, 'Dockerfile'));
    await writeFile(path.join(context, 'Containerfile'), 'FROM scratch\n');
    const { context: stepContext } = step(workspace, {
      context: path.relative(workspace, context),
      file: path.relative(workspace, path.join(context, 'Containerfile')),
      tags: `${registry.address}/acme/shop:3.0.0\n${registry.address}/acme/shop:latest, ${registry.address}/acme/shop-mirror:3.0.0`,
      push: 'true',
      labels: 'org.opencontainers.image.source=https://github.com/acme/shop\norg.opencontainers.image.revision=0123',
    });
    const result = await buildPushStandIn.run(stepContext);
    expect(result.exitCode).toBe(0);
    expect(result.outputs.digest).toMatch(DIGEST);
    expect(JSON.parse(result.outputs.metadata as string)).toEqual({
      'containerimage.digest': result.outputs.digest,
      'containerimage.config.digest': result.outputs.imageid,
      'image.name': `${registry.address}/acme/shop:3.0.0,${registry.address}/acme/shop:latest,${registry.address}/acme/shop-mirror:3.0.0`,
    });
    for (const reference of ['acme/shop:3.0.0', 'acme/shop:latest', 'acme/shop-mirror:3.0.0'])
      expect(await resolveDigest(parseImageReference(`${registry.address}/${reference}`))).toBe(result.outputs.digest);
    const config = (await (await fetch(`http://${registry.address}/v2/acme/shop/blobs/${result.outputs.imageid}`)).json()) as {
      config: { Labels: Record<string, string> };
    };
    expect(config.config.Labels).toEqual({
      'org.opencontainers.image.source': 'https://github.com/acme/shop',
      'org.opencontainers.image.revision': '0123',
    });
  });

  it('builds only when push is not true, and pushes nothing', async () => {
    const workspace = await makeContext();
    const { context } = step(workspace, { tags: `${registry.address}/acme/unpushed:1` });
    const result = await buildPushStandIn.run(context);
    expect(result.exitCode).toBe(0);
    expect(result.outputs.digest).toMatch(DIGEST);
    expect((await fetch(`http://${registry.address}/v2/acme/unpushed/manifests/1`)).status).toBe(404);
  });

  it('fails the step, saying why, for a tag on another registry, a bad push value, or no registry at all', async () => {
    const workspace = await makeContext();
    const elsewhere = step(workspace, { tags: 'ghcr.io/acme/shop:1.0.0', push: 'true' });
    expect((await buildPushStandIn.run(elsewhere.context)).exitCode).toBe(1);
    expect(elsewhere.log.join('\n')).toContain(`"ghcr.io/acme/shop:1.0.0" is not on the rehearsal's registry`);

    const badPush = step(workspace, { tags: `${registry.address}/acme/shop:1`, push: 'yes' });
    expect((await buildPushStandIn.run(badPush.context)).exitCode).toBe(1);
    expect(badPush.log.join('\n')).toContain('Invalid input "push": "yes" is not a boolean; expected true or false.');

    const badLabel = step(workspace, { tags: `${registry.address}/acme/shop:1`, labels: 'no-equals-sign' });
    expect((await buildPushStandIn.run(badLabel.context)).exitCode).toBe(1);
    expect(badLabel.log.join('\n')).toContain('Invalid input "labels": "no-equals-sign" is not a label');

    const noRegistry = step(workspace, { tags: 'x', push: 'true' }, {});
    expect((await buildPushStandIn.run(noRegistry.context)).exitCode).toBe(1);
    expect(noRegistry.log.join('\n')).toContain('needs an image registry to push to, and this rehearsal has none');
  });
});

describe('the real docker-registry with an image built without docker (oci-layout)', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await startRegistry(await tempDir('rehearse-docker-registry-'));
  });
  afterAll(() => registry.close());

  it('takes the push over the distribution API; skopeo and the resolver read back the pushed digest', async () => {
    const context = await makeContext();
    const built = await buildAndPushImage({
      context,
      tags: [`${registry.address}/acme/shop:1.0.0`, `${registry.address}/acme/shop:stable`],
      registry: asImageRegistry(registry),
      log: () => undefined,
    });
    expect(built.how).toBe('oci-layout');
    expect(await inspectDigest(registry, 'acme/shop', '1.0.0')).toBe(built.digest);
    expect(await inspectDigest(registry, 'acme/shop', 'stable')).toBe(built.digest);
    expect(await resolveDigest(parseImageReference(`${registry.address}/acme/shop:1.0.0`))).toBe(built.digest);
    const again = await buildAndPushImage({
      context,
      tags: [`${registry.address}/acme/shop:1.0.0`],
      registry: asImageRegistry(registry),
      log: () => undefined,
    });
    expect(again.digest).toBe(built.digest);
  });
});

describe('a real docker build and push (dockerd of the test, busybox base in docker-registry)', () => {
  interface Rig {
    daemon: DockerDaemon;
    registry: Registry;
    standIn: ImageRegistry;
    base: string;
  }
  let rig: Rig | undefined;
  let workDir: string | undefined;
  let setupError: Error | undefined;

  beforeAll(async () => {
    try {
      // Not a tempDir: it must outlive dockerd, whose mounts live under it, and is removed after it.
      const work = await mkdtemp(path.join(os.tmpdir(), 'rehearse-image-docker-'));
      workDir = work;
      await mkdir(path.join(work, 'registry'));
      await mkdir(path.join(work, 'stand-in'));
      const registry = await startRegistry(path.join(work, 'registry'));
      const standIn = await startRegistryStandIn(path.join(work, 'stand-in'));
      const daemon = await startDockerd(path.join(work, 'docker'));
      const base = (await pushBusyboxImage(daemon, work, `${registry.address}/busybox:1`, 'base-image')).reference;
      rig = { daemon, registry, standIn, base };
    } catch (error) {
      // Loud, never a silent pass: every test below fails with this.
      setupError = error as Error;
      console.error(`dockerd or docker-registry could not start: ${setupError.message}`);
    }
  }, 120_000);

  afterAll(async () => {
    await rig?.daemon.close();
    await rig?.standIn.close();
    await rig?.registry.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  function requireRig(): Rig {
    if (!rig) throw new Error(`the docker rig (dockerd, docker-registry) did not start: ${setupError?.message}`);
    return rig;
  }

  async function webContext(base: string, page: string, extra = ''): Promise<string> {
    const context = await tempDir('rehearse-image-web-');
    await writeFile(path.join(context, 'Dockerfile'), `FROM ${base}\nCOPY index.html /www/index.html\n${extra}`);
    await writeFile(path.join(context, 'index.html'), page);
    return context;
  }

  it('builds the Dockerfile and pushes it; the digest is the one skopeo reads from the registry', async () => {
    const { daemon, registry, base } = requireRig();
    const log: string[] = [];
    const tag = `${registry.address}/acme/web:1.0.0`;
    const built = await buildAndPushImage({
      context: await webContext(base, 'built by docker\n'),
      tags: [tag],
      registry: asImageRegistry(registry),
      dockerHost: daemon.host,
      labels: { 'org.opencontainers.image.revision': 'abc123' },
      log: (line) => log.push(line),
    });
    expect(built.how).toBe('docker');
    expect(built.digest).toBe(await inspectDigest(registry, 'acme/web', '1.0.0'));
    expect(built.imageid).toBe((await daemon.docker(['image', 'inspect', '--format', '{{.Id}}', tag])).trim());
    expect(log.join('\n')).toContain('COPY index.html /www/index.html');
    // The Dockerfile really ran: the page is in the image, and the label on it.
    await daemon.docker(['rmi', tag]);
    expect(
      await daemon.docker(['run', '--rm', '--network', 'host', `${registry.address}/acme/web@${built.digest}`, 'cat', '/www/index.html']),
    ).toBe('built by docker\n');
    expect(
      (
        await daemon.docker([
          'image',
          'inspect',
          '--format',
          '{{index .Config.Labels "org.opencontainers.image.revision"}}',
          `${registry.address}/acme/web@${built.digest}`,
        ])
      ).trim(),
    ).toBe('abc123');
  }, 180_000);

  it('docker push works against the registry stand-in too, and the resolver reads the same digest', async () => {
    const { daemon, standIn, base } = requireRig();
    const built = await buildAndPushImage({
      context: await webContext(base, 'pushed to the stand-in\n'),
      tags: [`${standIn.address}/acme/web:2.0.0`],
      registry: standIn,
      dockerHost: daemon.host,
      log: () => undefined,
    });
    expect(built.how).toBe('docker');
    expect(await resolveDigest(parseImageReference(`${standIn.address}/acme/web:2.0.0`))).toBe(built.digest);
    expect(await inspectDigest(standIn, 'acme/web', '2.0.0')).toBe(built.digest);
  }, 180_000);

  it('fails with the builder’s error when a step of the Dockerfile fails', async () => {
    const { daemon, registry, base } = requireRig();
    await expect(
      buildAndPushImage({
        context: await webContext(base, 'never pushed\n', 'RUN exit 3\n'),
        tags: [`${registry.address}/acme/web:broken`],
        registry: asImageRegistry(registry),
        dockerHost: daemon.host,
        log: () => undefined,
      }),
    ).rejects.toThrow(/returned a non-zero code: 3/);
    await expect(inspectDigest(registry, 'acme/web', 'broken')).rejects.toThrow();
  }, 180_000);
});
