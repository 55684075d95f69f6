import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string;
  body: unknown;
}

export type Responder = (request: RecordedRequest) => { status: number; body?: unknown } | undefined;

export interface FakeGitHub {
  /** For `GITHUB_API_URL`. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * GitHub's REST API as far as a test needs it, on 127.0.0.1, for built actions running in a child
 * process (where nock cannot reach). Unanswered requests get a 404 and are recorded like the rest.
 */
export async function startFakeGitHub(respond: Responder): Promise<FakeGitHub> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: request.method ?? 'GET',
        path: request.url ?? '/',
        authorization: request.headers.authorization ?? '',
        body: text ? JSON.parse(text) : undefined,
      };
      requests.push(recorded);
      const answer = respond(recorded) ?? { status: 404, body: { message: 'Not Found' } };
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
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
