/**
 * One HTTP request served by the real `git http-backend` (git's CGI for smart HTTP): clone, fetch
 * and push against a bare repository, exactly as git speaks them. Whoever calls it has decided
 * that the request may be served; REMOTE_USER is set, so pushes are accepted.
 */
import { spawn } from 'node:child_process';
import type http from 'node:http';

export interface GitHttpBackendTarget {
  /** GIT_PROJECT_ROOT: the bare repository's directory (or a folder of them). */
  projectRoot: string;
  /** PATH_INFO below it: /info/refs, /git-upload-pack, /git-receive-pack (or /<repo>.git/… for a folder). */
  pathInfo: string;
  /** QUERY_STRING, such as service=git-upload-pack. */
  query: string;
}

export function serveGitHttpBackend(request: http.IncomingMessage, response: http.ServerResponse, target: GitHttpBackendTarget): void {
  // The caller's own GIT_* settings (GIT_DIR, GIT_CONFIG_*) must not reach the served repository.
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !name.startsWith('GIT_')) env[name] = value;
  const backend = spawn('git', ['http-backend'], {
    env: {
      ...env,
      GIT_PROJECT_ROOT: target.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      REMOTE_USER: 'x-access-token',
      REMOTE_ADDR: '127.0.0.1',
      REQUEST_METHOD: request.method ?? 'GET',
      PATH_INFO: target.pathInfo,
      QUERY_STRING: target.query,
      CONTENT_TYPE: request.headers['content-type'] ?? '',
      HTTP_CONTENT_ENCODING: request.headers['content-encoding'] ?? '',
      GIT_PROTOCOL: String(request.headers['git-protocol'] ?? ''),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr: Buffer[] = [];
  backend.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  backend.stdin.on('error', () => undefined);
  request.pipe(backend.stdin);
  request.on('aborted', () => backend.kill());
  let buffered = Buffer.alloc(0);
  let headersDone = false;
  backend.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      response.write(chunk);
      return;
    }
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of buffered.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else response.setHeader(name, value);
    }
    response.writeHead(status);
    response.write(buffered.subarray(end + 4));
  });
  backend.on('error', (error) => {
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(`git http-backend could not run: ${error.message}\n`);
  });
  backend.on('close', (code) => {
    if (!headersDone && !response.headersSent) {
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`git http-backend exited with ${code}: ${Buffer.concat(stderr).toString('utf8')}`);
      return;
    }
    response.end();
  });
}
