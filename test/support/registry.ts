import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate, createHash, randomUUID, sign } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { startDockerRegistry } from '@toolkit/cli';
import { requireTool } from './system-tools.js';
import path from 'node:path';

/**
 * skopeo, asynchronously (a token service in this process must answer it meanwhile) and with
 * stdin closed: skopeo waits on an open stdin.
 */
function skopeo(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(requireTool('skopeo'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`skopeo ${args[0]} exited ${code}: ${stderr}`))));
  });
}

export interface Registry {
  /** host:port on 127.0.0.1 */
  address: string;
  /** What skopeo logs in with, when the registry wants tokens. */
  credentials?: TokenAuth;
  close(): Promise<void>;
}

export interface TokenAuth {
  username: string;
  password: string;
}

/**
 * A token service for docker-registry's token authentication, in this process: it checks basic
 * credentials and issues RS256 JWTs carrying its certificate (x5c), which the registry trusts
 * through its root certificate bundle.
 */
async function startTokenService(
  dir: string,
  auth: TokenAuth,
): Promise<{ realm: string; certificate: string; close: () => Promise<void> }> {
  const key = path.join(dir, 'token.key');
  const certificate = path.join(dir, 'token.crt');
  execFileSync(
    requireTool('openssl'),
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', certificate, '-days', '1', '-subj', '/CN=toolkit-test-token'],
    { stdio: 'pipe' },
  );
  const privateKey = await readFile(key, 'utf8');
  const der = new X509Certificate(await readFile(certificate)).raw.toString('base64');
  const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.headers.authorization !== `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`)
      return void response.writeHead(401).end();
    const access = url.searchParams
      .getAll('scope')
      .flatMap((scope) => scope.split(' '))
      .map((scope) => {
        const [type, name, actions] = scope.split(':') as [string, string, string];
        return { type, name, actions: actions.split(',') };
      });
    const now = Math.floor(Date.now() / 1000);
    const header = base64url({ alg: 'RS256', typ: 'JWT', x5c: [der] });
    const claims = base64url({
      iss: 'toolkit-test-issuer',
      sub: auth.username,
      aud: url.searchParams.get('service'),
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    });
    const signature = sign('RSA-SHA256', Buffer.from(`${header}.${claims}`), privateKey).toString('base64url');
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${header}.${claims}.${signature}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    realm: `http://127.0.0.1:${(server.address() as { port: number }).port}/token`,
    certificate,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The real docker-registry (Debian's, the CNCF distribution) on 127.0.0.1, storing under `dir`;
 * with `tokenAuth`, it wants bearer tokens from a token service the test runs.
 */
export async function startRegistry(dir: string, options: { tokenAuth?: TokenAuth } = {}): Promise<Registry> {
  const tokens = options.tokenAuth ? await startTokenService(dir, options.tokenAuth) : undefined;
  const auth = tokens
    ? `auth:\n  token:\n    realm: ${tokens.realm}\n    service: toolkit-test-registry\n    issuer: toolkit-test-issuer\n    rootcertbundle: ${tokens.certificate}\n`
    : '';
  const registry = await startDockerRegistry(dir, { auth });
  return {
    address: registry.address,
    ...(options.tokenAuth ? { credentials: options.tokenAuth } : {}),
    close: async () => {
      await tokens?.close();
      await registry.close();
    },
  };
}

/**
 * Pushes a small OCI artifact to `registry/repository:tag` with skopeo, from an OCI image layout
 * written here (a config and one layer), as `helm push` leaves a chart: under the chart's name,
 * tagged with its version. Returns the digest the registry now serves for it, as skopeo reports it.
 */
export async function pushArtifact(registry: Registry, dir: string, repository: string, tag: string): Promise<string> {
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
  await skopeo([
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    ...(registry.credentials ? ['--dest-creds', `${registry.credentials.username}:${registry.credentials.password}`] : []),
    `oci:${layout}:${tag}`,
    `docker://${registry.address}/${repository}:${tag}`,
  ]);
  // skopeo may re-encode on the way (compressing the layer), so the registry's digest is asked for.
  return await inspectDigest(registry, repository, tag);
}

/** The digest the registry serves for `repository:tag`, as skopeo (not our code) sees it. */
export async function inspectDigest(registry: Registry, repository: string, tag: string): Promise<string> {
  const creds = registry.credentials ? ['--creds', `${registry.credentials.username}:${registry.credentials.password}`] : [];
  return (
    await skopeo([
      'inspect',
      '--tls-verify=false',
      ...creds,
      '--format',
      '{{.Digest}}',
      `docker://${registry.address}/${repository}:${tag}`,
    ])
  ).trim();
}
