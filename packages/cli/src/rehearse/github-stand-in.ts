/**
 * GitHub on 127.0.0.1 for a rehearsal: one HTTP server for git over smart HTTP (through the real
 * `git http-backend`), the REST endpoints the toolkit's workflows call (under /api/v3, as GitHub
 * Enterprise serves them, so Octokit takes it as GITHUB_API_URL), and the runner's OIDC token
 * endpoint. Every request is checked against the permissions of the token it carries, as GitHub
 * checks a GITHUB_TOKEN or an App installation token, and every refusal is kept for the report.
 */
import { type KeyObject, generateKeyPair, randomBytes, randomUUID, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { BareRepository, type CommitObject, GitDataError, type RefTarget, type TreeChange, isObjectId } from './bare-repository.js';
import type { Denial, GitHubRelease, GitHubStandIn, PermissionLevel, TokenGrant, WorkflowDispatch } from './types.js';
import { serveGitHttpBackend } from './git-http-backend.js';

const API_PREFIX = '/api/v3';
const DOCUMENTATION_URL = 'https://docs.github.com/rest';
/** Who GitHub names as the author of what a GITHUB_TOKEN writes without an author. */
const BOT = {
  login: 'github-actions[bot]',
  id: 41898282,
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com',
};

interface ServedRepository {
  fullName: string;
  owner: string;
  name: string;
  id: number;
  private: boolean;
  bare: BareRepository;
  releases: StoredRelease[];
  pulls: StoredPull[];
  nextPullNumber: number;
  /** Dependency snapshots submitted (POST dependency-graph/snapshots), in order. */
  snapshots: Record<string, unknown>[];
}

interface StoredAsset {
  id: number;
  name: string;
  label: string;
  size: number;
  content_type: string;
  data: Buffer;
  created_at: string;
}

/** A release as GitHubRelease has it, plus what the API shows of it. */
interface StoredRelease extends GitHubRelease {
  target_commitish: string;
  created_at: string;
  published_at: string | null;
  assets: StoredAsset[];
}

interface StoredPull {
  id: number;
  number: number;
  state: 'open' | 'closed';
  title: string;
  body: string | null;
  /** Branches of the same repository. */
  head: string;
  base: string;
  /** The head's last known commit, shown once the branch is gone. */
  headSha: string;
  draft: boolean;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

/** Who a request comes from, by its Authorization header. */
type Caller = { kind: 'anonymous' } | { kind: 'unknown' } | { kind: 'token'; grant: TokenGrant };

interface Need {
  scope: string;
  level: Exclude<PermissionLevel, 'none'>;
}

type Verdict = { allowed: true } | { allowed: false; status: 401 | 403 | 404; message: string; needed: string };

interface Reply {
  status: number;
  body?: unknown;
  /** Bytes instead of JSON. */
  raw?: { data: Buffer; contentType: string };
  headers?: Record<string, string>;
  /** Runs once the response has been sent. */
  after?: () => void;
}

/** An answer other than 2xx, in GitHub's shape. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message));
  }
}

function notFound(message = 'Not Found'): ApiError {
  return new ApiError(404, { message, documentation_url: DOCUMENTATION_URL });
}

function unprocessable(message: string, errors?: Record<string, unknown>[]): ApiError {
  return new ApiError(422, { message, ...(errors ? { errors } : {}), documentation_url: DOCUMENTATION_URL });
}

function validationFailed(resource: string, field: string, code: string, message?: string): ApiError {
  return unprocessable('Validation Failed', [{ resource, field, code, ...(message ? { message } : {}) }]);
}

/** What a route is given: the repository, the path's captures (decoded), the query and body. */
interface Call {
  repo: ServedRepository;
  params: string[];
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  caller: Caller;
  /** The request's URL, for pagination links. */
  url: URL;
}

interface Route {
  method: string;
  /** Matches the path below /repos/{owner}/{repo} (or /uploads/repos/{owner}/{repo} when `upload`). */
  pattern: RegExp;
  need: Need;
  upload?: boolean;
  handle(call: Call): Promise<Reply>;
}

const RANK: Record<PermissionLevel, number> = { none: 0, read: 1, write: 2 };

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function jsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError(400, { message: 'Problems parsing JSON', documentation_url: DOCUMENTATION_URL });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ApiError(400, { message: 'Body should be a JSON object', documentation_url: DOCUMENTATION_URL });
  return parsed as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw unprocessable(`Invalid request.\n\nFor '${name}', ${JSON.stringify(value)} is not a string.`);
  return value;
}

function requiredString(body: Record<string, unknown>, name: string): string {
  const value = optionalString(body, name);
  if (value === undefined) throw unprocessable(`Invalid request.\n\n"${name}" wasn't supplied.`);
  return value;
}

function optionalBoolean(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw unprocessable(`Invalid request.\n\nFor '${name}', ${JSON.stringify(value)} is not a boolean.`);
  return value;
}

function identityField(body: Record<string, unknown>, name: string): { name: string; email: string; date?: string } | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw unprocessable(`Invalid request.\n\nFor '${name}', ${JSON.stringify(value)} is not an object.`);
  const identity = value as Record<string, unknown>;
  return { name: requiredString(identity, 'name'), email: requiredString(identity, 'email'), date: optionalString(identity, 'date') };
}

/** The Authorization header's token: Basic (x-access-token:<token>, as git sends it), Bearer or token. */
function tokenOf(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const [scheme = '', value = ''] = authorization.trim().split(/\s+/, 2);
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? decoded : decoded.slice(colon + 1) || decoded.slice(0, colon);
  }
  return /^(bearer|token)$/i.test(scheme) ? value : authorization;
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** `items` paged as GitHub pages a list (`page`, `per_page`), with a Link header when there is more. */
function paged<T>(items: T[], call: Call): Reply {
  const perPage = Math.min(Math.max(Number.parseInt(call.query.get('per_page') ?? '30', 10) || 30, 1), 100);
  const page = Math.max(Number.parseInt(call.query.get('page') ?? '1', 10) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const headers: Record<string, string> = {};
  if (page < last) {
    const link = (to: number) => {
      const url = new URL(call.url);
      url.searchParams.set('page', String(to));
      url.searchParams.set('per_page', String(perPage));
      return url.href;
    };
    headers.link = `<${link(page + 1)}>; rel="next", <${link(last)}>; rel="last"`;
  }
  return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers };
}

class StandIn implements GitHubStandIn {
  serverUrl = '';
  apiUrl = '';
  readonly denials: Denial[] = [];
  private readonly repositories = new Map<string, ServedRepository>();
  private readonly tokens = new Map<string, TokenGrant>();
  private readonly oidcTokens = new Map<string, Record<string, string>>();
  private readonly dispatchHandlers: ((dispatch: WorkflowDispatch) => void)[] = [];
  private readonly routes: Route[];
  private nextId = 1;
  private readonly keyId = randomUUID();
  private readonly server: http.Server;

  constructor(
    private readonly scratch: string,
    private readonly signingKey: { privateKey: KeyObject; publicKey: KeyObject },
  ) {
    this.routes = this.defineRoutes();
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (response.headersSent) {
          response.destroy();
          return;
        }
        const message = error instanceof Error ? error.message : String(error);
        this.send(response, { status: 500, body: { message: `The rehearsal's GitHub stand-in failed: ${message}` } });
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.serverUrl = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.serverUrl}${API_PREFIX}`;
  }

  addRepository(fullName: string, bareDir: string, options: { private?: boolean } = {}): void {
    const match = /^([A-Za-z0-9][A-Za-z0-9-]*)\/([A-Za-z0-9._-]+)$/.exec(fullName);
    if (!match || match[2]?.endsWith('.git'))
      throw new Error(`The GitHub stand-in cannot serve ${JSON.stringify(fullName)}: expected owner/name (without .git).`);
    if (!existsSync(path.join(bareDir, 'objects')) || !existsSync(path.join(bareDir, 'HEAD')))
      throw new Error(`The GitHub stand-in cannot serve ${fullName} from ${bareDir}: that is not a bare git repository.`);
    const key = fullName.toLowerCase();
    if (this.repositories.has(key)) throw new Error(`The GitHub stand-in serves ${fullName} already.`);
    this.repositories.set(key, {
      fullName,
      owner: match[1] as string,
      name: match[2] as string,
      id: this.nextId++,
      private: options.private ?? false,
      bare: new BareRepository(bareDir, this.scratch),
      releases: [],
      pulls: [],
      nextPullNumber: 1,
      snapshots: [],
    });
  }

  issueToken(grant: TokenGrant): string {
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    this.tokens.set(token, grant);
    return token;
  }

  onDispatch(handler: (dispatch: WorkflowDispatch) => void): () => void {
    this.dispatchHandlers.push(handler);
    return () => {
      const index = this.dispatchHandlers.indexOf(handler);
      if (index >= 0) this.dispatchHandlers.splice(index, 1);
    };
  }

  dependencySnapshots(fullName: string): Record<string, unknown>[] {
    return [...(this.repositories.get(fullName.toLowerCase())?.snapshots ?? [])];
  }

  releases(fullName: string): GitHubRelease[] {
    return [...(this.repositories.get(fullName.toLowerCase())?.releases ?? [])];
  }

  oidcEndpoint(claims: Record<string, string>): { url: string; token: string } {
    const token = `oidc_${randomBytes(18).toString('hex')}`;
    this.oidcTokens.set(token, { ...claims });
    // @actions/core appends `&audience=…`, so the URL carries a query already (as the runner's does).
    return { url: `${this.serverUrl}/_oidc/token?api-version=2.0`, token };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  // ---- requests ----

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', this.serverUrl);
    const pathname = url.pathname;

    if (method === 'GET' && pathname === '/_oidc/token') return this.send(response, this.oidcToken(request, url));
    if (method === 'GET' && pathname === '/.well-known/openid-configuration') return this.send(response, this.openidConfiguration());
    if (method === 'GET' && pathname === '/.well-known/jwks') return this.send(response, this.jwks());

    const token = tokenOf(request.headers.authorization);
    const grant = token === undefined ? undefined : this.tokens.get(token);
    const caller: Caller = token === undefined ? { kind: 'anonymous' } : grant ? { kind: 'token', grant } : { kind: 'unknown' };

    const git = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/.exec(pathname);
    if (git)
      return this.serveGit(request, response, caller, { owner: git[1] as string, name: git[2] as string, service: git[3] as string, url });

    if (caller.kind === 'unknown') {
      request.resume();
      this.deny(
        caller,
        method,
        pathname.startsWith(API_PREFIX) ? pathname.slice(API_PREFIX.length) : pathname,
        'a token the stand-in issued',
      );
      return this.send(response, { status: 401, body: { message: 'Bad credentials', documentation_url: DOCUMENTATION_URL } });
    }

    const download = /^\/([^/]+)\/([^/]+)\/releases\/download\/([^/]+)\/([^/]+)$/.exec(pathname);
    if (method === 'GET' && download) {
      request.resume();
      return this.send(response, await this.reply(() => this.download(caller, pathname, download.slice(1).map(decodeURIComponent))));
    }

    const repoPath = pathname.startsWith(`${API_PREFIX}/`)
      ? /^\/(uploads\/)?repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(pathname.slice(API_PREFIX.length))
      : null;
    if (repoPath) {
      const [, upload, owner = '', name = '', rest = ''] = repoPath;
      const route = this.routes.find(
        (candidate) => candidate.method === method && !!candidate.upload === !!upload && candidate.pattern.test(rest),
      );
      if (route) {
        const body = await readBody(request);
        const apiPath = pathname.slice(API_PREFIX.length);
        return this.send(
          response,
          await this.reply(async () => {
            const repo = this.repository(decodeURIComponent(owner), decodeURIComponent(name));
            this.authorize(caller, repo, route.need, method, safeDecode(apiPath));
            const params = (route.pattern.exec(rest) ?? []).slice(1).map((param) => decodeURIComponent(param ?? ''));
            return route.handle({ repo, params, query: url.searchParams, headers: request.headers, body, caller, url });
          }),
        );
      }
    }

    request.resume();
    this.send(response, {
      status: 404,
      body: {
        message: `Not Found (the rehearsal's GitHub stand-in does not serve ${method} ${pathname})`,
        documentation_url: DOCUMENTATION_URL,
      },
    });
  }

  /** Runs a handler, turning an ApiError or a GitDataError into GitHub's answer. */
  private async reply(handler: () => Promise<Reply>): Promise<Reply> {
    try {
      return await handler();
    } catch (error) {
      if (error instanceof ApiError) return { status: error.status, body: error.body, headers: error.headers };
      if (error instanceof GitDataError) return { status: 422, body: { message: error.message, documentation_url: DOCUMENTATION_URL } };
      if (error instanceof URIError) return { status: 400, body: { message: 'The path is not valid percent-encoding.' } };
      throw error;
    }
  }

  private send(response: http.ServerResponse, reply: Reply): void {
    const headers: Record<string, string> = { ...reply.headers };
    let payload: Buffer | undefined;
    if (reply.raw) {
      headers['content-type'] = reply.raw.contentType;
      payload = reply.raw.data;
    } else if (reply.body !== undefined && reply.status !== 204) {
      headers['content-type'] = 'application/json; charset=utf-8';
      payload = Buffer.from(JSON.stringify(reply.body));
    }
    response.writeHead(reply.status, headers);
    response.end(payload, () => {
      if (reply.after) setImmediate(reply.after);
    });
  }

  private repository(owner: string, name: string): ServedRepository {
    const repo = this.repositories.get(`${owner}/${name}`.toLowerCase());
    if (repo) return repo;
    const served = [...this.repositories.values()].map((candidate) => candidate.fullName).join(', ') || 'none';
    throw notFound(`Not Found (the rehearsal's GitHub stand-in serves no repository ${owner}/${name}; it serves ${served})`);
  }

  private holder(caller: Caller): string {
    if (caller.kind === 'token') return caller.grant.holder;
    return caller.kind === 'anonymous' ? 'anonymous (no token)' : 'a token the stand-in did not issue';
  }

  private deny(caller: Caller, method: string, where: string, needed: string): void {
    this.denials.push({ holder: this.holder(caller), method, path: where, needed });
  }

  /**
   * GitHub's rules for a token on a repository: a public repository is readable by anyone; a
   * repository outside the token's list is hidden from reads (404) and refused for writes (403);
   * otherwise the token's level for the scope decides. `metadata: read` every token has.
   */
  private judge(caller: Caller, repo: ServedRepository, need: Need): Verdict {
    const needed = `${need.scope}: ${need.level} on ${repo.fullName}`;
    if (need.level === 'read' && !repo.private) return { allowed: true };
    if (caller.kind !== 'token') {
      if (need.level === 'read') return { allowed: false, status: 404, message: 'Not Found', needed: `${needed} (no token was sent)` };
      return { allowed: false, status: 401, message: 'Requires authentication', needed: `${needed} (no token was sent)` };
    }
    const { grant } = caller;
    const key = repo.fullName.toLowerCase();
    if (grant.repositories && !grant.repositories.some((name) => name.toLowerCase() === key)) {
      const limited = `${needed} (the token reaches only ${grant.repositories.join(', ') || 'no repository'})`;
      if (need.level === 'read') return { allowed: false, status: 404, message: 'Not Found', needed: limited };
      return { allowed: false, status: 403, message: 'Resource not accessible by integration', needed: limited };
    }
    if (need.scope === 'metadata') return { allowed: true };
    if (RANK[grant.permissions[need.scope] ?? 'none'] >= RANK[need.level]) return { allowed: true };
    return { allowed: false, status: 403, message: 'Resource not accessible by integration', needed };
  }

  private authorize(caller: Caller, repo: ServedRepository, need: Need, method: string, where: string): void {
    const verdict = this.judge(caller, repo, need);
    if (verdict.allowed) return;
    this.deny(caller, method, where, verdict.needed);
    // GitHub names, with a 403, the permission that would have been enough.
    const headers: Record<string, string> =
      verdict.status === 403 ? { 'x-accepted-github-permissions': `${need.scope}=${need.level}` } : {};
    throw new ApiError(verdict.status, { message: verdict.message, documentation_url: DOCUMENTATION_URL }, headers);
  }

  // ---- git over smart HTTP ----

  private serveGit(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    caller: Caller,
    target: { owner: string; name: string; service: string; url: URL },
  ): void {
    const method = request.method ?? 'GET';
    const service = target.service === 'info/refs' ? target.url.searchParams.get('service') : target.service;
    const where = target.service === 'info/refs' ? `${target.url.pathname}${target.url.search}` : target.url.pathname;
    const refuse = (status: number, message: string, headers: Record<string, string> = {}) => {
      request.resume();
      response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      response.end(`${message}\n`);
    };
    const challenge = { 'www-authenticate': 'Basic realm="GitHub"' };
    if (caller.kind === 'unknown') {
      this.deny(caller, method, where, 'a token the stand-in issued');
      return refuse(401, 'Invalid username or token. Password authentication is not supported for Git operations.', challenge);
    }
    if (service !== 'git-upload-pack' && service !== 'git-receive-pack') return refuse(403, 'Only the smart HTTP protocol is served.');
    const repo = this.repositories.get(`${target.owner}/${target.name}`.toLowerCase());
    if (!repo) return refuse(404, 'Repository not found.');
    const need: Need = { scope: 'contents', level: service === 'git-receive-pack' ? 'write' : 'read' };
    const verdict = this.judge(caller, repo, need);
    if (!verdict.allowed) {
      this.deny(caller, method, where, verdict.needed);
      if (verdict.status === 404)
        return caller.kind === 'anonymous' ? refuse(401, 'Authentication required.', challenge) : refuse(404, 'Repository not found.');
      if (verdict.status === 401) return refuse(401, 'Authentication required.', challenge);
      return refuse(403, `Permission to ${repo.fullName}.git denied to ${this.holder(caller)}: it needs ${verdict.needed}.`);
    }
    // receive-pack is served only to an authenticated user; the token was checked above.
    serveGitHttpBackend(request, response, {
      projectRoot: repo.bare.dir,
      pathInfo: `/${target.service}`,
      query: target.url.search.slice(1),
    });
  }

  // ---- OIDC ----

  private oidcToken(request: http.IncomingMessage, url: URL): Reply {
    const authorization = request.headers.authorization ?? '';
    const bearer = /^bearer\s+(\S+)$/i.exec(authorization.trim())?.[1];
    const claims = bearer ? this.oidcTokens.get(bearer) : undefined;
    if (!claims) return { status: 401, body: { message: 'Bad credentials: not an OIDC request token of this rehearsal' } };
    const issuedAt = Math.floor(Date.now() / 1000);
    const owner = claims.repository_owner;
    const payload = {
      jti: randomUUID(),
      ...claims,
      aud: url.searchParams.get('audience') || (owner ? `${this.serverUrl}/${owner}` : this.serverUrl),
      iss: this.serverUrl,
      nbf: issuedAt - 5,
      iat: issuedAt,
      exp: issuedAt + 600,
    };
    const header = { alg: 'RS256', typ: 'JWT', kid: this.keyId };
    const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
    const signature = sign('sha256', Buffer.from(signed), this.signingKey.privateKey);
    return { status: 200, body: { count: 1, value: `${signed}.${base64url(signature)}` } };
  }

  private openidConfiguration(): Reply {
    return {
      status: 200,
      body: {
        issuer: this.serverUrl,
        jwks_uri: `${this.serverUrl}/.well-known/jwks`,
        subject_types_supported: ['public'],
        response_types_supported: ['id_token'],
        id_token_signing_alg_values_supported: ['RS256'],
      },
    };
  }

  private jwks(): Reply {
    const key = this.signingKey.publicKey.export({ format: 'jwk' });
    return { status: 200, body: { keys: [{ ...key, kid: this.keyId, alg: 'RS256', use: 'sig' }] } };
  }

  // ---- JSON shapes ----

  private repoUrl(repo: ServedRepository): string {
    return `${this.apiUrl}/repos/${repo.fullName}`;
  }

  private ownerJson(repo: ServedRepository) {
    return {
      login: repo.owner,
      id: repo.id,
      type: 'Organization',
      html_url: `${this.serverUrl}/${repo.owner}`,
      url: `${this.apiUrl}/users/${repo.owner}`,
    };
  }

  private botJson() {
    return { login: BOT.login, id: BOT.id, type: 'Bot', html_url: `${this.serverUrl}/apps/github-actions` };
  }

  private async repoJson(repo: ServedRepository) {
    return {
      id: repo.id,
      node_id: `R_${repo.id}`,
      name: repo.name,
      full_name: repo.fullName,
      owner: this.ownerJson(repo),
      private: repo.private,
      visibility: repo.private ? 'private' : 'public',
      html_url: `${this.serverUrl}/${repo.fullName}`,
      url: this.repoUrl(repo),
      clone_url: `${this.serverUrl}/${repo.fullName}.git`,
      default_branch: (await repo.bare.defaultBranch()) ?? 'main',
      fork: false,
      archived: false,
      disabled: false,
    };
  }

  private refJson(repo: ServedRepository, target: RefTarget) {
    return {
      ref: target.ref,
      node_id: `REF_${base64url(target.ref)}`,
      url: `${this.repoUrl(repo)}/git/${target.ref}`,
      object: { sha: target.sha, type: target.type, url: `${this.repoUrl(repo)}/git/${target.type}s/${target.sha}` },
    };
  }

  private gitCommitJson(repo: ServedRepository, commit: CommitObject) {
    return {
      sha: commit.sha,
      node_id: `C_${commit.sha}`,
      url: `${this.repoUrl(repo)}/git/commits/${commit.sha}`,
      html_url: `${this.serverUrl}/${repo.fullName}/commit/${commit.sha}`,
      author: commit.author,
      committer: commit.committer,
      message: commit.message,
      tree: { sha: commit.tree, url: `${this.repoUrl(repo)}/git/trees/${commit.tree}` },
      parents: commit.parents.map((sha) => ({
        sha,
        url: `${this.repoUrl(repo)}/git/commits/${sha}`,
        html_url: `${this.serverUrl}/${repo.fullName}/commit/${sha}`,
      })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    };
  }

  private assetJson(repo: ServedRepository, release: StoredRelease, asset: StoredAsset) {
    return {
      id: asset.id,
      node_id: `RA_${asset.id}`,
      url: `${this.repoUrl(repo)}/releases/assets/${asset.id}`,
      browser_download_url: `${this.serverUrl}/${repo.fullName}/releases/download/${encodeURIComponent(release.tag_name)}/${encodeURIComponent(asset.name)}`,
      name: asset.name,
      label: asset.label,
      state: 'uploaded',
      content_type: asset.content_type,
      size: asset.size,
      download_count: 0,
      created_at: asset.created_at,
      updated_at: asset.created_at,
      uploader: this.botJson(),
    };
  }

  private releaseJson(repo: ServedRepository, release: StoredRelease) {
    const url = `${this.repoUrl(repo)}/releases/${release.id}`;
    return {
      id: release.id,
      node_id: `RE_${release.id}`,
      url,
      html_url: `${this.serverUrl}/${repo.fullName}/releases/tag/${encodeURIComponent(release.tag_name)}`,
      assets_url: `${url}/assets`,
      upload_url: `${this.apiUrl}/uploads/repos/${repo.fullName}/releases/${release.id}/assets{?name,label}`,
      tarball_url: `${this.repoUrl(repo)}/tarball/${encodeURIComponent(release.tag_name)}`,
      zipball_url: `${this.repoUrl(repo)}/zipball/${encodeURIComponent(release.tag_name)}`,
      tag_name: release.tag_name,
      target_commitish: release.target_commitish,
      name: release.name,
      body: release.body,
      draft: release.draft,
      prerelease: release.prerelease,
      created_at: release.created_at,
      published_at: release.published_at,
      author: this.botJson(),
      assets: release.assets.map((asset) => this.assetJson(repo, release, asset)),
    };
  }

  private async pullJson(repo: ServedRepository, pull: StoredPull) {
    const headSha = (await repo.bare.ref(`refs/heads/${pull.head}`))?.sha ?? pull.headSha;
    const baseSha = (await repo.bare.ref(`refs/heads/${pull.base}`))?.sha ?? '';
    const repoJson = await this.repoJson(repo);
    const side = (ref: string, sha: string) => ({ label: `${repo.owner}:${ref}`, ref, sha, user: this.ownerJson(repo), repo: repoJson });
    return {
      id: pull.id,
      node_id: `PR_${pull.id}`,
      number: pull.number,
      url: `${this.repoUrl(repo)}/pulls/${pull.number}`,
      html_url: `${this.serverUrl}/${repo.fullName}/pull/${pull.number}`,
      diff_url: `${this.serverUrl}/${repo.fullName}/pull/${pull.number}.diff`,
      patch_url: `${this.serverUrl}/${repo.fullName}/pull/${pull.number}.patch`,
      state: pull.state,
      locked: false,
      title: pull.title,
      body: pull.body,
      user: this.botJson(),
      draft: pull.draft,
      created_at: pull.created_at,
      updated_at: pull.updated_at,
      closed_at: pull.closed_at,
      merged_at: null,
      merge_commit_sha: null,
      merged: false,
      mergeable: null,
      maintainer_can_modify: false,
      head: side(pull.head, headSha),
      base: side(pull.base, baseSha),
    };
  }

  // ---- REST endpoints ----

  private defineRoutes(): Route[] {
    const contentsRead: Need = { scope: 'contents', level: 'read' };
    const contentsWrite: Need = { scope: 'contents', level: 'write' };
    const pullsRead: Need = { scope: 'pull-requests', level: 'read' };
    const pullsWrite: Need = { scope: 'pull-requests', level: 'write' };
    return [
      {
        method: 'GET',
        pattern: /^\/?$/,
        need: { scope: 'metadata', level: 'read' },
        handle: async ({ repo }) => ({ status: 200, body: await this.repoJson(repo) }),
      },
      { method: 'GET', pattern: /^\/git\/ref\/(.+)$/, need: contentsRead, handle: (call) => this.getRef(call) },
      { method: 'GET', pattern: /^\/git\/matching-refs\/(.*)$/, need: contentsRead, handle: (call) => this.matchingRefs(call) },
      { method: 'POST', pattern: /^\/git\/refs$/, need: contentsWrite, handle: (call) => this.createRef(call) },
      { method: 'PATCH', pattern: /^\/git\/refs\/(.+)$/, need: contentsWrite, handle: (call) => this.updateRef(call) },
      { method: 'DELETE', pattern: /^\/git\/refs\/(.+)$/, need: contentsWrite, handle: (call) => this.deleteRef(call) },
      { method: 'GET', pattern: /^\/git\/commits\/([^/]+)$/, need: contentsRead, handle: (call) => this.getGitCommit(call) },
      { method: 'POST', pattern: /^\/git\/commits$/, need: contentsWrite, handle: (call) => this.createCommit(call) },
      { method: 'GET', pattern: /^\/git\/trees\/([^/]+)$/, need: contentsRead, handle: (call) => this.getTree(call) },
      { method: 'POST', pattern: /^\/git\/trees$/, need: contentsWrite, handle: (call) => this.createTree(call) },
      { method: 'GET', pattern: /^\/git\/blobs\/([^/]+)$/, need: contentsRead, handle: (call) => this.getBlob(call) },
      { method: 'POST', pattern: /^\/git\/blobs$/, need: contentsWrite, handle: (call) => this.createBlob(call) },
      { method: 'GET', pattern: /^\/commits\/(.+)$/, need: contentsRead, handle: (call) => this.getCommit(call) },
      { method: 'GET', pattern: /^\/contents(?:\/(.*))?$/, need: contentsRead, handle: (call) => this.getContent(call) },
      { method: 'GET', pattern: /^\/releases$/, need: contentsRead, handle: async (call) => this.listReleases(call) },
      { method: 'POST', pattern: /^\/releases$/, need: contentsWrite, handle: (call) => this.createRelease(call) },
      { method: 'GET', pattern: /^\/releases\/latest$/, need: contentsRead, handle: async (call) => this.latestRelease(call) },
      { method: 'GET', pattern: /^\/releases\/tags\/(.+)$/, need: contentsRead, handle: async (call) => this.releaseByTag(call) },
      { method: 'GET', pattern: /^\/releases\/(\d+)$/, need: contentsRead, handle: async (call) => this.getRelease(call) },
      { method: 'PATCH', pattern: /^\/releases\/(\d+)$/, need: contentsWrite, handle: (call) => this.updateRelease(call) },
      { method: 'DELETE', pattern: /^\/releases\/(\d+)$/, need: contentsWrite, handle: async (call) => this.deleteRelease(call) },
      { method: 'GET', pattern: /^\/releases\/(\d+)\/assets$/, need: contentsRead, handle: async (call) => this.listAssets(call) },
      { method: 'GET', pattern: /^\/releases\/assets\/(\d+)$/, need: contentsRead, handle: async (call) => this.getAsset(call) },
      { method: 'DELETE', pattern: /^\/releases\/assets\/(\d+)$/, need: contentsWrite, handle: async (call) => this.deleteAsset(call) },
      {
        method: 'POST',
        pattern: /^\/releases\/(\d+)\/assets$/,
        need: contentsWrite,
        upload: true,
        handle: async (call) => this.uploadAsset(call),
      },
      { method: 'GET', pattern: /^\/pulls$/, need: pullsRead, handle: (call) => this.listPulls(call) },
      { method: 'POST', pattern: /^\/pulls$/, need: pullsWrite, handle: (call) => this.createPull(call) },
      { method: 'GET', pattern: /^\/pulls\/(\d+)$/, need: pullsRead, handle: (call) => this.getPull(call) },
      { method: 'PATCH', pattern: /^\/pulls\/(\d+)$/, need: pullsWrite, handle: (call) => this.updatePull(call) },
      {
        method: 'POST',
        pattern: /^\/dependency-graph\/snapshots$/,
        need: contentsWrite,
        handle: async (call) => this.submitSnapshot(call),
      },
      {
        method: 'POST',
        pattern: /^\/actions\/workflows\/([^/]+)\/dispatches$/,
        need: { scope: 'actions', level: 'write' },
        handle: (call) => this.dispatch(call),
      },
    ];
  }

  /**
   * A dependency snapshot, checked as GitHub checks one (version, a commit SHA, a full ref, the job,
   * the detector, manifests of package URLs) and kept; GitHub answers 201 with its id.
   */
  private submitSnapshot({ repo, body }: Call): Reply {
    const fields = jsonObject(body);
    const sha = requiredString(fields, 'sha');
    const ref = requiredString(fields, 'ref');
    if (!isObjectId(sha)) throw unprocessable(`sha ${sha} is not a commit SHA.`);
    if (!/^refs\//.test(ref)) throw unprocessable(`ref ${ref} is not a full ref (refs/…).`);
    if (typeof fields.version !== 'number') throw unprocessable('version is required and must be a number.');
    const job = fields.job as Record<string, unknown> | undefined;
    const detector = fields.detector as Record<string, unknown> | undefined;
    if (typeof job?.correlator !== 'string' || typeof job.id !== 'string') throw unprocessable('job.correlator and job.id are required.');
    if (typeof detector?.name !== 'string' || typeof detector.version !== 'string' || typeof detector.url !== 'string')
      throw unprocessable('detector.name, detector.version and detector.url are required.');
    const manifests = (fields.manifests ?? {}) as Record<string, { resolved?: Record<string, { package_url?: unknown }> }>;
    for (const [name, manifest] of Object.entries(manifests)) {
      for (const [key, dependency] of Object.entries(manifest.resolved ?? {})) {
        if (typeof dependency.package_url !== 'string' || !dependency.package_url.startsWith('pkg:'))
          throw unprocessable(`manifests.${name}.resolved.${key}.package_url is not a package URL.`);
      }
    }
    repo.snapshots.push(fields);
    return {
      status: 201,
      body: {
        id: repo.snapshots.length,
        created_at: new Date().toISOString(),
        result: 'SUCCESS',
        message: 'Dependency results for the repo have been successfully updated.',
      },
    };
  }

  // git data

  private async getRef({ repo, params }: Call): Promise<Reply> {
    const target = await repo.bare.ref(`refs/${params[0]}`);
    if (!target) throw notFound();
    return { status: 200, body: this.refJson(repo, target) };
  }

  private async matchingRefs({ repo, params }: Call): Promise<Reply> {
    const prefix = `refs/${params[0]}`;
    const all = await repo.bare.listRefs();
    // GitHub matches the start of the name, not whole path components: heads/feat matches heads/feature-x.
    return { status: 200, body: all.filter((target) => target.ref.startsWith(prefix)).map((target) => this.refJson(repo, target)) };
  }

  private async createRef({ repo, body }: Call): Promise<Reply> {
    const fields = jsonObject(body);
    const ref = requiredString(fields, 'ref');
    const sha = requiredString(fields, 'sha');
    if (!(await repo.bare.isValidRefName(ref))) throw unprocessable(`${ref} is not a valid ref name.`);
    if (!(await repo.bare.objectType(sha))) throw unprocessable('Object does not exist');
    if (!(await repo.bare.updateRef(ref, sha, ''))) throw unprocessable('Reference already exists');
    return { status: 201, body: this.refJson(repo, (await repo.bare.ref(ref)) as RefTarget) };
  }

  private async updateRef({ repo, params, body }: Call): Promise<Reply> {
    const fields = jsonObject(body);
    const sha = requiredString(fields, 'sha');
    const force = optionalBoolean(fields, 'force') ?? false;
    const ref = `refs/${params[0]}`;
    const current = await repo.bare.ref(ref);
    if (!current) throw unprocessable('Reference does not exist');
    if (!(await repo.bare.objectType(sha))) throw unprocessable('Object does not exist');
    if (!force && !(await repo.bare.isAncestor(current.sha, sha))) throw unprocessable('Update is not a fast forward');
    // Compared and swapped in one update-ref: a push that landed meanwhile makes this one fail as GitHub's would.
    if (!(await repo.bare.updateRef(ref, sha, current.sha))) throw unprocessable('Update is not a fast forward');
    return { status: 200, body: this.refJson(repo, (await repo.bare.ref(ref)) as RefTarget) };
  }

  private async deleteRef({ repo, params }: Call): Promise<Reply> {
    const ref = `refs/${params[0]}`;
    const current = await repo.bare.ref(ref);
    if (!current) throw unprocessable('Reference does not exist');
    if (!(await repo.bare.deleteRef(ref, current.sha))) throw unprocessable('Reference cannot be deleted');
    return { status: 204 };
  }

  private async getGitCommit({ repo, params }: Call): Promise<Reply> {
    const commit = await repo.bare.commit(params[0] ?? '');
    if (!commit) throw notFound();
    return { status: 200, body: this.gitCommitJson(repo, commit) };
  }

  private async createCommit({ repo, body }: Call): Promise<Reply> {
    const fields = jsonObject(body);
    const message = requiredString(fields, 'message');
    const tree = requiredString(fields, 'tree');
    const parents = fields.parents ?? [];
    if (!Array.isArray(parents) || parents.some((parent) => typeof parent !== 'string'))
      throw unprocessable(`Invalid request.\n\nFor 'parents', ${JSON.stringify(parents)} is not an array of strings.`);
    const author = identityField(fields, 'author') ?? { name: BOT.name, email: BOT.email };
    const committer = identityField(fields, 'committer') ?? author;
    const sha = await repo.bare.createCommit({ tree, parents: parents as string[], message, author, committer });
    return { status: 201, body: this.gitCommitJson(repo, (await repo.bare.commit(sha)) as CommitObject) };
  }

  private async getTree({ repo, params, query }: Call): Promise<Reply> {
    const sha = params[0] ?? '';
    const tree = isObjectId(sha) ? sha : await repo.bare.resolveCommit(sha);
    if (!tree || !(await repo.bare.objectType(tree))) throw notFound();
    const recursive = !!query.get('recursive') && query.get('recursive') !== '0' && query.get('recursive') !== 'false';
    return { status: 200, body: await this.treeJson(repo, tree, recursive) };
  }

  private async treeJson(repo: ServedRepository, treeish: string, recursive: boolean) {
    const entries = await repo.bare.listTree(treeish, recursive);
    const sha = (await repo.bare.commit(treeish))?.tree ?? treeish;
    return {
      sha,
      url: `${this.repoUrl(repo)}/git/trees/${sha}`,
      truncated: false,
      tree: entries.map((entry) => ({
        path: entry.path,
        mode: entry.mode,
        type: entry.type,
        sha: entry.sha,
        ...(entry.size === undefined ? {} : { size: entry.size }),
        url: `${this.repoUrl(repo)}/git/${entry.type}s/${entry.sha}`,
      })),
    };
  }

  private async createTree({ repo, body }: Call): Promise<Reply> {
    const fields = jsonObject(body);
    const baseTree = optionalString(fields, 'base_tree');
    const entries = fields.tree;
    if (!Array.isArray(entries)) throw unprocessable(`Invalid request.\n\n"tree" wasn't supplied.`);
    const changes: TreeChange[] = entries.map((entry: unknown) => {
      if (typeof entry !== 'object' || entry === null)
        throw unprocessable(`Invalid request.\n\n${JSON.stringify(entry)} is not a tree entry.`);
      const record = entry as Record<string, unknown>;
      const change: TreeChange = {
        path: requiredString(record, 'path'),
        mode: requiredString(record, 'mode'),
        type: requiredString(record, 'type') as TreeChange['type'],
      };
      if (record.sha === null) change.sha = null;
      else if (record.sha !== undefined) change.sha = requiredString(record, 'sha');
      if (record.content !== undefined) change.content = requiredString(record, 'content');
      return change;
    });
    const tree = await repo.bare.createTree(baseTree, changes);
    return { status: 201, body: await this.treeJson(repo, tree, false) };
  }

  private async getBlob({ repo, params }: Call): Promise<Reply> {
    const sha = params[0] ?? '';
    if ((await repo.bare.objectType(sha)) !== 'blob') throw notFound();
    const data = await repo.bare.readBlob(sha);
    return {
      status: 200,
      body: {
        sha,
        node_id: `B_${sha}`,
        size: data.length,
        url: `${this.repoUrl(repo)}/git/blobs/${sha}`,
        content: data.toString('base64'),
        encoding: 'base64',
      },
    };
  }

  private async createBlob({ repo, body }: Call): Promise<Reply> {
    const fields = jsonObject(body);
    const content = requiredString(fields, 'content');
    const encoding = optionalString(fields, 'encoding') ?? 'utf-8';
    if (encoding !== 'utf-8' && encoding !== 'base64')
      throw unprocessable(`encoding must be utf-8 or base64, not ${JSON.stringify(encoding)}.`);
    const sha = await repo.bare.writeBlob(Buffer.from(content, encoding === 'base64' ? 'base64' : 'utf8'));
    return { status: 201, body: { sha, url: `${this.repoUrl(repo)}/git/blobs/${sha}` } };
  }

  private async getCommit({ repo, params }: Call): Promise<Reply> {
    const sha = await repo.bare.resolveCommit(params[0] ?? '');
    const commit = sha ? await repo.bare.commit(sha) : undefined;
    if (!commit) throw unprocessable(`No commit found for SHA: ${params[0]}`);
    const git = this.gitCommitJson(repo, commit);
    return {
      status: 200,
      body: {
        sha: commit.sha,
        node_id: git.node_id,
        url: `${this.repoUrl(repo)}/commits/${commit.sha}`,
        html_url: git.html_url,
        commit: {
          url: git.url,
          author: git.author,
          committer: git.committer,
          message: git.message,
          tree: git.tree,
          comment_count: 0,
          verification: git.verification,
        },
        author: null,
        committer: null,
        parents: git.parents,
      },
    };
  }

  private async getContent({ repo, params, query, headers }: Call): Promise<Reply> {
    const filePath = (params[0] ?? '').replace(/^\/+|\/+$/g, '');
    const ref = query.get('ref') || (await repo.bare.defaultBranch()) || 'HEAD';
    const commit = await repo.bare.resolveCommit(ref);
    if (!commit) throw notFound(`No commit found for the ref ${ref}`);
    const entry = await repo.bare.entryAt(commit, filePath);
    if (!entry) throw notFound();
    const name = filePath.split('/').pop() ?? '';
    const links = (entryPath: string, type: string, sha: string) => {
      const self = `${this.repoUrl(repo)}/contents/${entryPath}?ref=${encodeURIComponent(ref)}`;
      const html = `${this.serverUrl}/${repo.fullName}/${type === 'dir' ? 'tree' : 'blob'}/${ref}/${entryPath}`;
      const git = `${this.repoUrl(repo)}/git/${type === 'dir' ? 'trees' : 'blobs'}/${sha}`;
      return { url: self, html_url: html, git_url: git, _links: { self, git, html } };
    };
    const kind = (mode: string) => (mode === '040000' ? 'dir' : mode === '160000' ? 'submodule' : mode === '120000' ? 'symlink' : 'file');
    if (entry.type === 'tree') {
      const listing = await repo.bare.listTree(entry.sha, false);
      return {
        status: 200,
        body: listing.map((child) => {
          const childPath = filePath ? `${filePath}/${child.path}` : child.path;
          const type = kind(child.mode);
          return {
            type,
            name: child.path,
            path: childPath,
            sha: child.sha,
            size: child.size ?? 0,
            download_url: null,
            ...links(childPath, type, child.sha),
          };
        }),
      };
    }
    const type = kind(entry.mode);
    if (type === 'submodule')
      return { status: 200, body: { type, name, path: filePath, sha: entry.sha, size: 0, ...links(filePath, type, entry.sha) } };
    const data = await repo.bare.readBlob(entry.sha);
    const accept = String(headers.accept ?? '');
    if (/application\/vnd\.github(\.v3)?\.raw/.test(accept))
      return { status: 200, raw: { data, contentType: 'application/vnd.github.raw' } };
    const common = { name, path: filePath, sha: entry.sha, size: data.length, download_url: null, ...links(filePath, type, entry.sha) };
    if (type === 'symlink') return { status: 200, body: { type, target: data.toString('utf8'), ...common } };
    // GitHub wraps the base64 at 60 characters.
    const content = (data.toString('base64').match(/.{1,60}/g) ?? []).join('\n');
    return { status: 200, body: { type, encoding: 'base64', content: content ? `${content}\n` : '', ...common } };
  }

  private async download(caller: Caller, where: string, [owner = '', name = '', tag = '', assetName = '']: string[]): Promise<Reply> {
    const repo = this.repository(owner, name);
    this.authorize(caller, repo, { scope: 'contents', level: 'read' }, 'GET', where);
    const release = repo.releases.find((candidate) => !candidate.draft && candidate.tag_name === tag);
    const asset = release?.assets.find((candidate) => candidate.name === assetName);
    if (!asset) throw notFound();
    return { status: 200, raw: { data: asset.data, contentType: asset.content_type } };
  }

  // releases

  private canWrite(caller: Caller, repo: ServedRepository): boolean {
    return this.judge(caller, repo, { scope: 'contents', level: 'write' }).allowed;
  }

  private findRelease(repo: ServedRepository, id: string | undefined, caller: Caller): StoredRelease {
    const release = repo.releases.find((candidate) => String(candidate.id) === id);
    // A draft is shown only to who may write to the repository.
    if (!release || (release.draft && !this.canWrite(caller, repo))) throw notFound();
    return release;
  }

  private listReleases(call: Call): Reply {
    const { repo, caller } = call;
    const visible = repo.releases.filter((release) => !release.draft || this.canWrite(caller, repo));
    return paged(
      [...visible].reverse().map((release) => this.releaseJson(repo, release)),
      call,
    );
  }

  private latestRelease({ repo }: Call): Reply {
    const latest = [...repo.releases].reverse().find((release) => !release.draft && !release.prerelease);
    if (!latest) throw notFound();
    return { status: 200, body: this.releaseJson(repo, latest) };
  }

  private releaseByTag({ repo, params }: Call): Reply {
    const release = repo.releases.find((candidate) => !candidate.draft && candidate.tag_name === params[0]);
    if (!release) throw notFound();
    return { status: 200, body: this.releaseJson(repo, release) };
  }

  private getRelease({ repo, params, caller }: Call): Reply {
    return { status: 200, body: this.releaseJson(repo, this.findRelease(repo, params[0], caller)) };
  }

  /** A published release's tag is created (at target_commitish) when it does not exist, as GitHub does. */
  private async ensureTag(repo: ServedRepository, tag: string, target: string): Promise<void> {
    if (await repo.bare.ref(`refs/tags/${tag}`)) return;
    const commit = await repo.bare.resolveCommit(target);
    if (!commit)
      throw validationFailed(
        'Release',
        'target_commitish',
        'invalid',
        `target_commitish ${target} is not a branch or commit of ${repo.fullName}`,
      );
    await repo.bare.updateRef(`refs/tags/${tag}`, commit, '');
  }

  private async createRelease({ repo, body }: Call): Promise<Reply> {
    const fields = jsonObject(body);
    const tag = requiredString(fields, 'tag_name');
    if (!(await repo.bare.isValidRefName(`refs/tags/${tag}`))) throw validationFailed('Release', 'tag_name', 'invalid');
    const draft = optionalBoolean(fields, 'draft') ?? false;
    if (!draft && repo.releases.some((release) => !release.draft && release.tag_name === tag))
      throw validationFailed('Release', 'tag_name', 'already_exists');
    const target = optionalString(fields, 'target_commitish') || (await repo.bare.defaultBranch()) || 'HEAD';
    if (!draft) await this.ensureTag(repo, tag, target);
    const created = now();
    const release: StoredRelease = {
      id: this.nextId++,
      tag_name: tag,
      target_commitish: target,
      name: optionalString(fields, 'name') ?? tag,
      body: optionalString(fields, 'body') ?? '',
      draft,
      prerelease: optionalBoolean(fields, 'prerelease') ?? false,
      created_at: created,
      published_at: draft ? null : created,
      assets: [],
    };
    repo.releases.push(release);
    return { status: 201, body: this.releaseJson(repo, release) };
  }

  private async updateRelease({ repo, params, body, caller }: Call): Promise<Reply> {
    const release = this.findRelease(repo, params[0], caller);
    const fields = jsonObject(body);
    const tag = optionalString(fields, 'tag_name') ?? release.tag_name;
    if (!(await repo.bare.isValidRefName(`refs/tags/${tag}`))) throw validationFailed('Release', 'tag_name', 'invalid');
    const draft = optionalBoolean(fields, 'draft') ?? release.draft;
    if (!draft && repo.releases.some((other) => other !== release && !other.draft && other.tag_name === tag))
      throw validationFailed('Release', 'tag_name', 'already_exists');
    const target = optionalString(fields, 'target_commitish') ?? release.target_commitish;
    if (!draft) await this.ensureTag(repo, tag, target);
    Object.assign(release, {
      tag_name: tag,
      target_commitish: target,
      name: optionalString(fields, 'name') ?? release.name,
      body: optionalString(fields, 'body') ?? release.body,
      prerelease: optionalBoolean(fields, 'prerelease') ?? release.prerelease,
      draft,
      published_at: draft ? null : (release.published_at ?? now()),
    });
    return { status: 200, body: this.releaseJson(repo, release) };
  }

  private deleteRelease({ repo, params, caller }: Call): Reply {
    const release = this.findRelease(repo, params[0], caller);
    repo.releases.splice(repo.releases.indexOf(release), 1);
    return { status: 204 };
  }

  private listAssets(call: Call): Reply {
    const { repo, params, caller } = call;
    const release = this.findRelease(repo, params[0], caller);
    return paged(
      release.assets.map((asset) => this.assetJson(repo, release, asset)),
      call,
    );
  }

  private findAsset(repo: ServedRepository, id: string | undefined): { release: StoredRelease; asset: StoredAsset } {
    for (const release of repo.releases) {
      const asset = release.assets.find((candidate) => String(candidate.id) === id);
      if (asset) return { release, asset };
    }
    throw notFound();
  }

  private getAsset({ repo, params, headers }: Call): Reply {
    const { release, asset } = this.findAsset(repo, params[0]);
    if (String(headers.accept ?? '').includes('application/octet-stream'))
      return { status: 200, raw: { data: asset.data, contentType: asset.content_type } };
    return { status: 200, body: this.assetJson(repo, release, asset) };
  }

  private deleteAsset({ repo, params }: Call): Reply {
    const { release, asset } = this.findAsset(repo, params[0]);
    release.assets.splice(release.assets.indexOf(asset), 1);
    return { status: 204 };
  }

  private uploadAsset({ repo, params, query, headers, body, caller }: Call): Reply {
    const release = this.findRelease(repo, params[0], caller);
    const name = query.get('name');
    if (!name) throw validationFailed('ReleaseAsset', 'name', 'missing_field', 'the upload needs ?name=');
    if (release.assets.some((asset) => asset.name === name)) throw validationFailed('ReleaseAsset', 'name', 'already_exists');
    const asset: StoredAsset = {
      id: this.nextId++,
      name,
      label: query.get('label') ?? '',
      size: body.length,
      content_type: String(headers['content-type'] ?? 'application/octet-stream'),
      data: body,
      created_at: now(),
    };
    release.assets.push(asset);
    return { status: 201, body: this.assetJson(repo, release, asset) };
  }

  // pull requests

  private async listPulls(call: Call): Promise<Reply> {
    const { repo, query } = call;
    const state = query.get('state') ?? 'open';
    if (!['open', 'closed', 'all'].includes(state))
      throw unprocessable(`Invalid request.\n\nstate ${JSON.stringify(state)} is not one of open, closed, all.`);
    const head = query.get('head');
    const base = query.get('base');
    const headBranch = head?.includes(':') ? head.slice(head.indexOf(':') + 1) : head;
    const headOwner = head?.includes(':') ? head.slice(0, head.indexOf(':')) : repo.owner;
    const matching = repo.pulls.filter(
      (pull) =>
        (state === 'all' || pull.state === state) &&
        (!head || (headOwner.toLowerCase() === repo.owner.toLowerCase() && pull.head === headBranch)) &&
        (!base || pull.base === base),
    );
    const pulls = await Promise.all([...matching].reverse().map((pull) => this.pullJson(repo, pull)));
    return paged(pulls, call);
  }

  private findPull(repo: ServedRepository, number: string | undefined): StoredPull {
    const pull = repo.pulls.find((candidate) => String(candidate.number) === number);
    if (!pull) throw notFound();
    return pull;
  }

  private async getPull({ repo, params }: Call): Promise<Reply> {
    return { status: 200, body: await this.pullJson(repo, this.findPull(repo, params[0])) };
  }

  private async createPull({ repo, body }: Call): Promise<Reply> {
    const fields = jsonObject(body);
    const title = requiredString(fields, 'title');
    const base = requiredString(fields, 'base');
    let head = requiredString(fields, 'head');
    if (head.includes(':')) {
      const owner = head.slice(0, head.indexOf(':'));
      if (owner.toLowerCase() !== repo.owner.toLowerCase())
        throw validationFailed(
          'PullRequest',
          'head',
          'invalid',
          `the stand-in serves pull requests between branches of ${repo.fullName} only, not from ${owner}`,
        );
      head = head.slice(head.indexOf(':') + 1);
    }
    const baseRef = await repo.bare.ref(`refs/heads/${base}`);
    if (!baseRef) throw validationFailed('PullRequest', 'base', 'invalid');
    const headRef = await repo.bare.ref(`refs/heads/${head}`);
    if (!headRef) throw validationFailed('PullRequest', 'head', 'invalid');
    if (repo.pulls.some((pull) => pull.state === 'open' && pull.head === head && pull.base === base))
      throw validationFailed('PullRequest', 'head', 'custom', `A pull request already exists for ${repo.owner}:${head}.`);
    if (await repo.bare.isAncestor(headRef.sha, baseRef.sha))
      throw validationFailed('PullRequest', 'head', 'custom', `No commits between ${base} and ${head}`);
    const created = now();
    const pull: StoredPull = {
      id: this.nextId++,
      number: repo.nextPullNumber++,
      state: 'open',
      title,
      body: optionalString(fields, 'body') ?? null,
      head,
      base,
      headSha: headRef.sha,
      draft: optionalBoolean(fields, 'draft') ?? false,
      created_at: created,
      updated_at: created,
      closed_at: null,
    };
    repo.pulls.push(pull);
    return { status: 201, body: await this.pullJson(repo, pull) };
  }

  private async updatePull({ repo, params, body }: Call): Promise<Reply> {
    const pull = this.findPull(repo, params[0]);
    const fields = jsonObject(body);
    const state = optionalString(fields, 'state');
    if (state !== undefined && state !== 'open' && state !== 'closed')
      throw validationFailed('PullRequest', 'state', 'invalid', `state must be open or closed, not ${state}`);
    const base = optionalString(fields, 'base');
    if (base !== undefined && !(await repo.bare.ref(`refs/heads/${base}`))) throw validationFailed('PullRequest', 'base', 'invalid');
    const updated = now();
    pull.title = optionalString(fields, 'title') ?? pull.title;
    pull.body = optionalString(fields, 'body') ?? pull.body;
    pull.base = base ?? pull.base;
    if (state && state !== pull.state) {
      pull.state = state;
      pull.closed_at = state === 'closed' ? updated : null;
    }
    pull.headSha = (await repo.bare.ref(`refs/heads/${pull.head}`))?.sha ?? pull.headSha;
    pull.updated_at = updated;
    return { status: 200, body: await this.pullJson(repo, pull) };
  }

  // workflow dispatch

  /**
   * Accepted as GitHub accepts it: the ref exists, the workflow file exists at that ref, declares
   * `workflow_dispatch`, and the inputs are ones it declares (required ones given).
   */
  private async dispatch({ repo, params, body, caller }: Call): Promise<Reply> {
    const workflow = params[0] ?? '';
    const fields = jsonObject(body);
    const ref = requiredString(fields, 'ref');
    const given = fields.inputs ?? {};
    if (typeof given !== 'object' || given === null || Array.isArray(given))
      throw unprocessable(`Invalid request.\n\nFor 'inputs', ${JSON.stringify(given)} is not an object.`);
    const inputs: Record<string, string> = {};
    for (const [name, value] of Object.entries(given)) {
      if (typeof value === 'object' && value !== null)
        throw unprocessable(`Invalid request.\n\nFor 'inputs.${name}', ${JSON.stringify(value)} is not a string.`);
      inputs[name] = String(value);
    }
    if (/^\d+$/.test(workflow))
      throw notFound(`Not Found (the rehearsal's GitHub stand-in knows workflows by file name, not by id ${workflow})`);
    const candidates = ref.startsWith('refs/') ? [ref] : [`refs/heads/${ref}`, `refs/tags/${ref}`];
    let commit: string | undefined;
    for (const candidate of candidates) if (!commit && (await repo.bare.ref(candidate))) commit = await repo.bare.resolveCommit(candidate);
    if (!commit) throw unprocessable(`No ref found for: ${ref}`);
    const file = workflow.includes('/') ? workflow : `.github/workflows/${workflow}`;
    const entry = await repo.bare.entryAt(commit, file);
    if (!entry || entry.type !== 'blob') throw notFound(`Not Found (no ${file} at ${ref} in ${repo.fullName})`);
    const declared = dispatchInputs((await repo.bare.readBlob(entry.sha)).toString('utf8'));
    if (!declared) throw unprocessable("Workflow does not have 'workflow_dispatch' trigger");
    const unexpected = Object.keys(inputs).filter((name) => !(name in declared));
    if (unexpected.length > 0) throw unprocessable(`Unexpected inputs provided: ${JSON.stringify(unexpected)}`);
    for (const [name, input] of Object.entries(declared))
      if (input?.required && input.default === undefined && !(name in inputs)) throw unprocessable(`Required input '${name}' not provided`);
    const dispatched: WorkflowDispatch = { repository: repo.fullName, workflow, ref, inputs, holder: this.holder(caller) };
    return { status: 204, after: () => this.notifyDispatch(dispatched) };
  }

  private notifyDispatch(dispatched: WorkflowDispatch): void {
    for (const handler of this.dispatchHandlers) {
      Promise.resolve()
        .then(() => handler(dispatched))
        .catch((error: unknown) =>
          process.emitWarning(`A workflow dispatch handler failed: ${error instanceof Error ? error.message : String(error)}`),
        );
    }
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The inputs `on.workflow_dispatch` declares, or undefined when the workflow has no such trigger. */
function dispatchInputs(text: string): Record<string, { required?: boolean; default?: unknown } | null> | undefined {
  let workflow: unknown;
  try {
    workflow = parseYaml(text);
  } catch {
    return undefined;
  }
  const on = (workflow as { on?: unknown } | null)?.on;
  if (on === 'workflow_dispatch' || (Array.isArray(on) && on.includes('workflow_dispatch'))) return {};
  if (typeof on !== 'object' || on === null || !('workflow_dispatch' in on)) return undefined;
  const trigger = (on as { workflow_dispatch?: { inputs?: unknown } | null }).workflow_dispatch;
  const inputs = trigger?.inputs;
  return typeof inputs === 'object' && inputs !== null ? (inputs as Record<string, { required?: boolean; default?: unknown } | null>) : {};
}

/** Starts the stand-in on a free port of 127.0.0.1; temporary files go below `scratch`. */
export async function startGitHubStandIn(options: { scratch: string }): Promise<GitHubStandIn> {
  await mkdir(options.scratch, { recursive: true });
  const signingKey = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const standIn = new StandIn(options.scratch, signingKey);
  await standIn.listen();
  return standIn;
}
