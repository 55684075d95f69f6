import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  body: Buffer | string;
  /** Answer this many requests with `failStatus` before serving the body. */
  failFirst?: number;
  failStatus?: number;
  headers?: Record<string, string>;
}

export interface FileServer {
  url: string;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** A static HTTP server on 127.0.0.1 whose routes can fail a set number of times first. */
export async function startFileServer(routes: Record<string, Route>): Promise<FileServer> {
  const requests: string[] = [];
  const failures = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    requests.push(pathname);
    const route = routes[pathname];
    if (!route) {
      response.writeHead(404).end('not found');
      return;
    }
    const failed = failures.get(pathname) ?? 0;
    if (failed < (route.failFirst ?? 0)) {
      failures.set(pathname, failed + 1);
      response.writeHead(route.failStatus ?? 503).end('try later');
      return;
    }
    response.writeHead(200, route.headers ?? {}).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
