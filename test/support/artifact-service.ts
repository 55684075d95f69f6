import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for GitHub's artifact service on 127.0.0.1, as @actions/artifact (v2+) talks to it:
 * the results service's Twirp calls (CreateArtifact, FinalizeArtifact) at ACTIONS_RESULTS_URL, and
 * the blob storage upload (Azure block blob: stage blocks, commit the block list) at the signed URL
 * CreateArtifact answers with. What was uploaded is kept, to be read back.
 */
export interface ArtifactService {
  url: string;
  /** The environment an action needs to upload here (a runtime token whose scope names run and job). */
  env: Record<string, string>;
  created: Record<string, unknown>[];
  finalized: Record<string, unknown>[];
  /** Each artifact's uploaded bytes (a zip), by name. */
  blobs: Map<string, Buffer>;
  close(): Promise<void>;
}

const RUN = 'ce7f54c7-61c7-4aae-887f-30da475f5f1a';
const JOB = 'ca395085-040a-526b-2ce8-bdc85f692774';

function body(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export async function startArtifactService(options: { failCreate?: boolean } = {}): Promise<ArtifactService> {
  const created: Record<string, unknown>[] = [];
  const finalized: Record<string, unknown>[] = [];
  const blobs = new Map<string, Buffer>();
  const blocks = new Map<string, Map<string, Buffer>>();
  let base = '';
  const server = http.createServer((request, response) => {
    void body(request).then((data) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const service = '/twirp/github.actions.results.api.v1.ArtifactService/';
      if (request.method === 'POST' && url.pathname.startsWith(service)) {
        const message = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
        const method = url.pathname.slice(service.length);
        response.setHeader('content-type', 'application/json');
        if (method === 'CreateArtifact') {
          if (options.failCreate) {
            response.writeHead(403).end(JSON.stringify({ code: 'permission_denied', msg: 'artifact storage quota exceeded' }));
            return;
          }
          created.push(message);
          const name = String(message.name);
          response.end(JSON.stringify({ ok: true, signed_upload_url: `${base}/blob/${encodeURIComponent(name)}?sig=signature` }));
          return;
        }
        if (method === 'FinalizeArtifact') {
          finalized.push(message);
          response.end(JSON.stringify({ ok: true, artifact_id: String(finalized.length + 40) }));
          return;
        }
        response.writeHead(404).end(JSON.stringify({ code: 'not_found', msg: method }));
        return;
      }
      if (request.method === 'PUT' && url.pathname.startsWith('/blob/')) {
        const name = decodeURIComponent(url.pathname.slice('/blob/'.length));
        const staged = blocks.get(name) ?? new Map<string, Buffer>();
        blocks.set(name, staged);
        const comp = url.searchParams.get('comp');
        if (comp === 'block') staged.set(url.searchParams.get('blockid') ?? '', data);
        else if (comp === 'blocklist') {
          const ids = [...data.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map(
            (match) => match[1] as string,
          );
          blobs.set(name, Buffer.concat(ids.map((id) => staged.get(id) ?? Buffer.alloc(0))));
        } else blobs.set(name, data);
        response.writeHead(201, {
          etag: '"0x8DC0000000000000"',
          'last-modified': new Date().toUTCString(),
          'x-ms-request-id': '00000000-0000-0000-0000-000000000000',
          'x-ms-version': '2025-01-05',
          'x-ms-request-server-encrypted': 'true',
        });
        response.end();
        return;
      }
      response.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const claims = Buffer.from(JSON.stringify({ scp: `Actions.ExampleScope Actions.Results:${RUN}:${JOB}` })).toString('base64url');
  const token = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${claims}.signature`;
  return {
    url: base,
    env: { ACTIONS_RESULTS_URL: `${base}/`, ACTIONS_RUNTIME_TOKEN: token, GITHUB_SERVER_URL: 'https://github.com' },
    created,
    finalized,
    blobs,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
