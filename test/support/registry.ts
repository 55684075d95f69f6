import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { freePort } from './net.js';
import path from 'node:path';

export interface Registry {
  /** host:port on 127.0.0.1 */
  address: string;
  close(): Promise<void>;
}

function requireTool(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (existsSync(path.join(dir, name))) return path.join(dir, name);
  throw new Error(
    `${name} is not installed: \`npm test\` installs it (apt-get install docker-registry skopeo); these tests need the real registry.`,
  );
}

/** The real docker-registry (Debian's, the CNCF distribution) on 127.0.0.1, storing under `dir`. */
export async function startRegistry(dir: string): Promise<Registry> {
  const binary = requireTool('docker-registry');
  const port = await freePort();
  const config = path.join(dir, 'registry.yml');
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'storage')}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const child: ChildProcess = spawn(binary, ['serve', config], { stdio: 'ignore' });
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined);
    if (response?.ok) break;
    if (attempt > 100 || child.exitCode !== null) throw new Error(`docker-registry did not start on 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Pushes a small OCI artifact to `registry/repository:tag` with skopeo, from an OCI image layout
 * written here (a config and one layer), as `helm push` leaves a chart: under the chart's name,
 * tagged with its version. Returns the digest the registry now serves for it, as skopeo reports it.
 */
export async function pushArtifact(registry: Registry, dir: string, repository: string, tag: string): Promise<string> {
  const skopeo = requireTool('skopeo');
  const layout = path.join(dir, `layout-${repository.replace(/\W/g, '-')}-${tag}`);
  await mkdir(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  const blob = async (content: string) => {
    const digest = createHash('sha256').update(content).digest('hex');
    await writeFile(path.join(layout, 'blobs', 'sha256', digest), content);
    return { digest: `sha256:${digest}`, size: Buffer.byteLength(content) };
  };
  const layer = await blob(`chart ${repository} ${tag}\n`);
  const config = await blob(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
  const manifest = await blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    }),
  );
  await writeFile(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } },
      ],
    }),
  );
  execFileSync(
    skopeo,
    ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:${tag}`, `docker://${registry.address}/${repository}:${tag}`],
    { stdio: 'pipe' },
  );
  // skopeo may re-encode on the way (compressing the layer), so the registry's digest is asked for.
  return inspectDigest(registry, repository, tag);
}

/** The digest the registry serves for `repository:tag`, as skopeo (not our code) sees it. */
export function inspectDigest(registry: Registry, repository: string, tag: string): string {
  const output = execFileSync(requireTool('skopeo'), [
    'inspect',
    '--tls-verify=false',
    '--format',
    '{{.Digest}}',
    `docker://${registry.address}/${repository}:${tag}`,
  ]);
  return output.toString().trim();
}
