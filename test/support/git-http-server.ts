import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveGitHttpBackend } from '@toolkit/cli';

export interface GitHttpServer {
  url: string;
  /** The Authorization header of every request, in order ('' where there was none). */
  authorizations: string[];
  close(): Promise<void>;
}

/**
 * Serves the bare repositories under `root` over smart HTTP on 127.0.0.1 through the real
 * `git http-backend`, and refuses (401) any request whose Authorization is not `expected`.
 */
export async function startGitHttpServer(root: string, expected: string): Promise<GitHttpServer> {
  const authorizations: string[] = [];
  const server = http.createServer((request, response) => {
    const authorization = request.headers.authorization ?? '';
    authorizations.push(authorization);
    if (authorization !== expected) {
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' });
      response.end('unauthorized');
      return;
    }
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    serveGitHttpBackend(request, response, { projectRoot: root, pathInfo: decodeURIComponent(url.pathname), query: url.search.slice(1) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    authorizations,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
