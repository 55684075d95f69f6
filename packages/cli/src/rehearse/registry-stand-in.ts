/**
 * An image registry of the rehearsal's own, where docker-registry is not installed: the OCI
 * distribution API (Docker Registry v2) on 127.0.0.1, anonymous, storing under a directory. It
 * speaks the push protocol `docker push` and image-build.ts use (blob uploads, cross-repository
 * mounts, manifest PUT) and the reads a tag-to-digest resolver makes (manifest HEAD/GET with
 * Docker-Content-Digest, tag lists), and answers what it does not hold with the OCI error JSON.
 *
 * On disk, as the CNCF registry lays it out in spirit: content-addressed blobs shared by all
 * repositories, and per repository the blobs it may see, its manifests (with their media type)
 * and its tags.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ImageRegistry } from './types.js';

const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:([a-f0-9]{64})$/;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** The error codes of the distribution spec this registry answers with, and their HTTP status. */
const ERRORS = {
  BLOB_UNKNOWN: [404, 'blob unknown to registry'],
  BLOB_UPLOAD_UNKNOWN: [404, 'blob upload unknown to registry'],
  DIGEST_INVALID: [400, 'provided digest did not match uploaded content'],
  MANIFEST_BLOB_UNKNOWN: [400, 'manifest references a blob unknown to the registry'],
  MANIFEST_INVALID: [400, 'manifest invalid'],
  MANIFEST_UNKNOWN: [404, 'manifest unknown'],
  NAME_INVALID: [400, 'invalid repository name'],
  NAME_UNKNOWN: [404, 'repository name not known to registry'],
  TAG_INVALID: [400, 'manifest tag did not match URI'],
  UNSUPPORTED: [405, 'the operation is unsupported'],
} as const;

class RegistryError extends Error {
  constructor(
    readonly code: keyof typeof ERRORS,
    readonly detail?: Record<string, string>,
    message?: string,
  ) {
    super(message ?? ERRORS[code][1]);
  }
}

/** Starts the stand-in registry on 127.0.0.1 at a free port, storing under `dir`. */
export async function startRegistryStandIn(dir: string): Promise<ImageRegistry> {
  const storage = new RegistryStorage(dir);
  await storage.prepare();
  const server = http.createServer((request, response) => {
    handle(storage, request, response).catch((error: unknown) => {
      if (error instanceof RegistryError) return sendError(response, error);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`registry stand-in failed: ${(error as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    address,
    kind: 'stand-in',
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Blobs, uploads, manifests and tags under one directory. */
class RegistryStorage {
  constructor(private readonly dir: string) {}

  async prepare(): Promise<void> {
    await mkdir(path.join(this.dir, 'blobs', 'sha256'), { recursive: true });
    await mkdir(path.join(this.dir, 'uploads'), { recursive: true });
  }

  private repositoryDir(name: string): string {
    return path.join(this.dir, 'repositories', name);
  }

  blobFile(digest: string): string {
    return path.join(this.dir, 'blobs', 'sha256', hexOf(digest));
  }

  uploadFile(uuid: string): string {
    return path.join(this.dir, 'uploads', uuid);
  }

  async repositoryExists(name: string): Promise<boolean> {
    return exists(this.repositoryDir(name));
  }

  /** The size of a blob `name` may see, or undefined. */
  async blobSize(name: string, digest: string): Promise<number | undefined> {
    if (!(await exists(path.join(this.repositoryDir(name), 'blobs', hexOf(digest))))) return undefined;
    return (await stat(this.blobFile(digest)).catch(() => undefined))?.size;
  }

  async linkBlob(name: string, digest: string): Promise<void> {
    await mkdir(path.join(this.repositoryDir(name), 'blobs'), { recursive: true });
    await writeFile(path.join(this.repositoryDir(name), 'blobs', hexOf(digest)), '');
  }

  /** Moves a finished upload into the blob store if its content has `digest`. */
  async commitUpload(name: string, uuid: string, digest: string): Promise<void> {
    const upload = this.uploadFile(uuid);
    const hash = createHash('sha256');
    await pipeline(createReadStream(upload), hash);
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) throw new RegistryError('DIGEST_INVALID', { expected: digest, actual });
    await rename(upload, this.blobFile(digest));
    await this.linkBlob(name, digest);
  }

  async putManifest(name: string, reference: string, body: Buffer, mediaType: string, digest: string): Promise<void> {
    await writeAtomically(this.blobFile(digest), body);
    await this.linkBlob(name, digest);
    const revisions = path.join(this.repositoryDir(name), 'manifests', 'revisions');
    await mkdir(revisions, { recursive: true });
    await writeFile(path.join(revisions, hexOf(digest)), mediaType);
    if (!DIGEST.test(reference)) {
      const tags = path.join(this.repositoryDir(name), 'manifests', 'tags');
      await mkdir(tags, { recursive: true });
      await writeAtomically(path.join(tags, reference), digest);
    }
  }

  /** A manifest by tag or digest, with its media type and digest; undefined when `name` has none such. */
  async manifest(name: string, reference: string): Promise<{ digest: string; mediaType: string; body: Buffer } | undefined> {
    const digest = DIGEST.test(reference)
      ? reference
      : await readFile(path.join(this.repositoryDir(name), 'manifests', 'tags', reference), 'utf8').catch(() => undefined);
    if (!digest) return undefined;
    const mediaType = await readFile(path.join(this.repositoryDir(name), 'manifests', 'revisions', hexOf(digest)), 'utf8').catch(
      () => undefined,
    );
    if (mediaType === undefined) return undefined;
    return { digest, mediaType, body: await readFile(this.blobFile(digest)) };
  }

  async tags(name: string): Promise<string[]> {
    return (await readdir(path.join(this.repositoryDir(name), 'manifests', 'tags')).catch(() => [] as string[])).sort();
  }
}

async function handle(storage: RegistryStorage, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://registry');
  const method = request.method ?? 'GET';
  response.setHeader('docker-distribution-api-version', 'registry/2.0');
  if (url.pathname === '/v2/' || url.pathname === '/v2') {
    return void response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  }
  const route =
    /^\/v2\/(.+)\/(blobs\/uploads)\/([^/]*)$/.exec(url.pathname) ??
    /^\/v2\/(.+)\/(blobs|manifests)\/([^/]+)$/.exec(url.pathname) ??
    /^\/v2\/(.+)\/(tags)\/(list)$/.exec(url.pathname);
  if (!route) return sendError(response, new RegistryError('NAME_UNKNOWN', { path: url.pathname }, `no route for ${url.pathname}`));
  const [, name, kind, reference] = route as unknown as [string, string, string, string];
  if (!REPOSITORY_NAME.test(name)) throw new RegistryError('NAME_INVALID', { name });
  const base = `http://${request.headers.host ?? 'registry'}`;

  if (kind === 'tags') {
    if (!(await storage.repositoryExists(name))) throw new RegistryError('NAME_UNKNOWN', { name });
    const all = await storage.tags(name);
    const last = url.searchParams.get('last');
    const after = last === null ? all : all.filter((tag) => tag > last);
    const n = Number(url.searchParams.get('n') ?? Number.NaN);
    const page = Number.isInteger(n) && n > 0 ? after.slice(0, n) : after;
    if (page.length < after.length)
      response.setHeader('link', `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(page.at(-1) as string)}>; rel="next"`);
    return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, tags: page }));
  }

  if (kind === 'blobs/uploads') return handleUpload(storage, request, response, { name, uuid: reference, url, base, method });

  if (kind === 'blobs') {
    if (!DIGEST.test(reference)) throw new RegistryError('DIGEST_INVALID', { digest: reference }, 'invalid digest');
    if (method !== 'GET' && method !== 'HEAD') throw new RegistryError('UNSUPPORTED');
    const size = await storage.blobSize(name, reference);
    if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', { digest: reference });
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size, 'docker-content-digest': reference });
    if (method === 'HEAD') return void response.end();
    return pipeline(createReadStream(storage.blobFile(reference)), response);
  }

  // manifests
  if (!DIGEST.test(reference) && !TAG.test(reference)) throw new RegistryError('TAG_INVALID', { tag: reference }, 'invalid tag');
  if (method === 'PUT') {
    const body = await readBody(request);
    const mediaType = manifestMediaType(request.headers['content-type'], body);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (DIGEST.test(reference) && reference !== digest) throw new RegistryError('DIGEST_INVALID', { expected: reference, actual: digest });
    await checkReferences(storage, name, body, mediaType);
    await storage.putManifest(name, reference, body, mediaType, digest);
    return void response
      .writeHead(201, { location: `${base}/v2/${name}/manifests/${digest}`, 'docker-content-digest': digest, 'content-length': 0 })
      .end();
  }
  if (method !== 'GET' && method !== 'HEAD') throw new RegistryError('UNSUPPORTED');
  if (!(await storage.repositoryExists(name))) throw new RegistryError('NAME_UNKNOWN', { name });
  const manifest = await storage.manifest(name, reference);
  if (!manifest) throw new RegistryError('MANIFEST_UNKNOWN', DIGEST.test(reference) ? { digest: reference } : { tag: reference });
  // As the CNCF registry does: an OCI manifest is not served to a client that says it cannot read one.
  if (!accepts(request.headers.accept, manifest.mediaType))
    throw new RegistryError('MANIFEST_UNKNOWN', { tag: reference }, `${manifest.mediaType} found, but the Accept header does not allow it`);
  response.writeHead(200, {
    'content-type': manifest.mediaType,
    'content-length': manifest.body.length,
    'docker-content-digest': manifest.digest,
    etag: `"${manifest.digest}"`,
  });
  response.end(method === 'HEAD' ? undefined : manifest.body);
}

/** POST starts an upload (or mounts, or takes the blob whole), PATCH appends, PUT finishes, GET reports, DELETE cancels. */
async function handleUpload(
  storage: RegistryStorage,
  request: http.IncomingMessage,
  response: http.ServerResponse,
  at: { name: string; uuid: string; url: URL; base: string; method: string },
): Promise<void> {
  const { name, url, base, method } = at;
  const blobCreated = (digest: string) =>
    void response
      .writeHead(201, { location: `${base}/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest, 'content-length': 0 })
      .end();
  const uploadState = async (uuid: string, status: number) => {
    const size = (await stat(storage.uploadFile(uuid))).size;
    response
      .writeHead(status, {
        location: `${base}/v2/${name}/blobs/uploads/${uuid}`,
        'docker-upload-uuid': uuid,
        range: `0-${Math.max(size - 1, 0)}`,
        'content-length': 0,
      })
      .end();
  };

  if (method === 'POST') {
    if (at.uuid !== '') throw new RegistryError('UNSUPPORTED');
    const mount = url.searchParams.get('mount');
    const from = url.searchParams.get('from');
    if (mount && DIGEST.test(mount) && from && REPOSITORY_NAME.test(from) && (await storage.blobSize(from, mount)) !== undefined) {
      await storage.linkBlob(name, mount);
      return blobCreated(mount);
    }
    const uuid = randomUUID();
    await pipeline(request, createWriteStream(storage.uploadFile(uuid)));
    const digest = url.searchParams.get('digest');
    if (digest !== null) {
      if (!DIGEST.test(digest)) throw new RegistryError('DIGEST_INVALID', { digest });
      await storage.commitUpload(name, uuid, digest);
      return blobCreated(digest);
    }
    return uploadState(uuid, 202);
  }

  const uuid = at.uuid;
  if (!/^[0-9a-f-]{36}$/.test(uuid) || !(await exists(storage.uploadFile(uuid)))) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { uuid });
  if (method === 'GET') return uploadState(uuid, 204);
  if (method === 'DELETE') {
    await rm(storage.uploadFile(uuid), { force: true });
    return void response.writeHead(204).end();
  }
  if (method === 'PATCH' || method === 'PUT') {
    await pipeline(request, createWriteStream(storage.uploadFile(uuid), { flags: 'a' }));
    if (method === 'PATCH') return uploadState(uuid, 202);
    const digest = url.searchParams.get('digest') ?? '';
    if (!DIGEST.test(digest)) throw new RegistryError('DIGEST_INVALID', { digest });
    await storage.commitUpload(name, uuid, digest);
    return blobCreated(digest);
  }
  throw new RegistryError('UNSUPPORTED');
}

/** The manifest's media type: as the client sent it, else as the manifest says, else OCI's. */
function manifestMediaType(contentType: string | undefined, body: Buffer): string {
  const sent = contentType?.split(';')[0]?.trim();
  if (sent && sent !== 'application/octet-stream' && sent !== 'application/json') return sent;
  try {
    const { mediaType } = JSON.parse(body.toString('utf8')) as { mediaType?: unknown };
    if (typeof mediaType === 'string') return mediaType;
  } catch {
    // checkReferences says what is wrong with it.
  }
  return OCI_MANIFEST;
}

/** A manifest is refused unless every blob (config, layers) or manifest (of an index) it names is here. */
async function checkReferences(storage: RegistryStorage, name: string, body: Buffer, mediaType: string): Promise<void> {
  let parsed: { config?: { digest?: unknown }; layers?: { digest?: unknown }[]; manifests?: { digest?: unknown }[] };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch (error) {
    throw new RegistryError('MANIFEST_INVALID', { mediaType }, `manifest is not JSON: ${(error as Error).message}`);
  }
  const referenced = [
    ...(parsed.config ? [parsed.config] : []),
    ...(Array.isArray(parsed.layers) ? parsed.layers : []),
    ...(Array.isArray(parsed.manifests) ? parsed.manifests : []),
  ];
  for (const { digest } of referenced) {
    if (typeof digest !== 'string' || !DIGEST.test(digest))
      throw new RegistryError('MANIFEST_INVALID', { digest: String(digest) }, 'manifest names an invalid digest');
    if ((await storage.blobSize(name, digest)) === undefined) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', { digest });
  }
}

function accepts(accept: string | undefined, mediaType: string): boolean {
  if (!accept) return true;
  const types = accept.split(',').map((entry) => entry.split(';')[0]?.trim() ?? '');
  // A client that names no manifest type at all (curl's */*, a bare application/json) gets whatever is stored.
  if (!types.some((type) => type.startsWith('application/vnd.'))) return true;
  return types.includes(mediaType) || types.includes('*/*');
}

function sendError(response: http.ServerResponse, error: RegistryError): void {
  if (response.headersSent) return void response.end();
  const [status] = ERRORS[error.code];
  response
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ errors: [{ code: error.code, message: error.message, detail: error.detail ?? {} }] }));
}

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function hexOf(digest: string): string {
  return digest.slice('sha256:'.length);
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function writeAtomically(file: string, content: string | Buffer): Promise<void> {
  const temporary = `${file}.${randomUUID()}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}
