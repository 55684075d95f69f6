/**
 * The registry token client sends credentials only to a token realm it trusts: https on the
 * registry's own host (or a domain above it, or Docker Hub's auth.docker.io, or a host the caller
 * names); plain http only on a loopback registry's own host. Against local servers: a realm on
 * another host, or a token service that redirects, gets nothing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { UserError, checkTokenRealm, listTags, registryFetch } from '@toolkit/shared';

const CREDENTIALS = { username: 'robot', password: 's3cret' };
const BASIC = `Basic ${Buffer.from('robot:s3cret').toString('base64')}`;

interface Server {
  port: number;
  seen: string[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A server on 127.0.0.1 that records `METHOD path authorization` and answers with `handler`. */
async function serve(handler: (request: http.IncomingMessage, response: http.ServerResponse, port: number) => void): Promise<Server> {
  const seen: string[] = [];
  let port = 0;
  const server = http.createServer((request, response) => {
    seen.push(`${request.method} ${request.url} ${request.headers.authorization ?? '-'}`);
    handler(request, response, port);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const result = {
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(result);
  return result;
}

/** A token service that hands out a token for the right basic credentials. */
function tokenService(request: http.IncomingMessage, response: http.ServerResponse): void {
  if (request.headers.authorization !== BASIC) return void response.writeHead(401).end();
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'good-token' }));
}

/** A registry that wants a bearer token from `realm` for its tag list. */
function registryWithRealm(realm: (port: number) => string) {
  return (request: http.IncomingMessage, response: http.ServerResponse, port: number) => {
    if (request.headers.authorization === 'Bearer good-token')
      return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tags: ['1.0.0'] }));
    response
      .writeHead(401, { 'www-authenticate': `Bearer realm="${realm(port)}",service="registry",scope="repository:acme/app:pull"` })
      .end();
  };
}

describe('token realms', () => {
  it('trusts https on the registry’s own host or a domain above it, Docker Hub’s auth host, and hosts the caller names', () => {
    expect(checkTokenRealm('ghcr.io', 'https://ghcr.io/token').href).toBe('https://ghcr.io/token');
    expect(checkTokenRealm('registry.example:5000', 'https://registry.example:5001/auth').host).toBe('registry.example:5001');
    expect(checkTokenRealm('europe-docker.pkg.dev', 'https://europe-docker.pkg.dev/v2/token').hostname).toBe('europe-docker.pkg.dev');
    expect(checkTokenRealm('registry.gitlab.com', 'https://gitlab.com/jwt/auth').hostname).toBe('gitlab.com');
    expect(checkTokenRealm('registry-1.docker.io', 'https://auth.docker.io/token').hostname).toBe('auth.docker.io');
    expect(checkTokenRealm('harbor.acme.example', 'https://sso.example/token', { tokenHosts: ['sso.example'] }).hostname).toBe(
      'sso.example',
    );
    expect(checkTokenRealm('127.0.0.1:5000', 'http://127.0.0.1:5001/token').protocol).toBe('http:');
    expect(checkTokenRealm('localhost:5000', 'http://localhost:5001/token').protocol).toBe('http:');
  });

  it('refuses plain http, another host, a bare top-level domain, and a realm with credentials of its own', () => {
    const refusals: [string, string, string][] = [
      ['ghcr.io', 'http://ghcr.io/token', 'is plain http (the credentials would travel unencrypted)'],
      ['ghcr.io', 'https://attacker.example/token', 'is on another host (attacker.example)'],
      ['ghcr.io', 'https://ghcr.io.attacker.example/token', 'is on another host (ghcr.io.attacker.example)'],
      ['registry.gitlab.com', 'https://com/token', 'is on another host (com)'],
      ['registry-1.docker.io', 'https://auth.docker.io.attacker.example/token', 'is on another host (auth.docker.io.attacker.example)'],
      ['10.0.0.5:5000', 'https://0.5/token', 'is on another host (0.0.0.5)'],
      ['127.0.0.1:5000', 'http://localhost:5001/token', 'is on another host (localhost)'],
      ['127.0.0.1:5000', 'http://[::1]:5001/token', 'is on another host ([::1])'],
      ['127.0.0.1:5000', 'https://localhost:5001/token', 'is on another host (localhost)'],
      ['ghcr.io', 'https://user:pw@ghcr.io/token', 'carries a user name or password of its own'],
      ['ghcr.io', 'file:///etc/passwd', 'uses file:, not https'],
      ['ghcr.io', 'not a url', 'is not a URL'],
    ];
    for (const [registry, realm, problem] of refusals) {
      expect(() => checkTokenRealm(registry, realm)).toThrow(UserError);
      expect(() => checkTokenRealm(registry, realm)).toThrow(
        `${registry} asked for credentials to be sent to the token realm ${JSON.stringify(realm)}, which ${problem}. Nothing was sent.`,
      );
    }
    expect(() => checkTokenRealm('registry-1.docker.io', 'https://evil.example/t')).toThrow(
      'A token realm must be https on registry-1.docker.io itself or a domain above it, or auth.docker.io; a token service on another host is allowed by naming it in the registry-token-hosts input.',
    );
  });

  it('sends no credentials to a realm on another host (a local registry naming localhost, not itself)', async () => {
    const tokens = await serve(tokenService);
    const registry = await serve(registryWithRealm(() => `http://localhost:${tokens.port}/token`));
    const location = { registry: `127.0.0.1:${registry.port}`, repository: 'acme/app' };
    await expect(listTags(location, CREDENTIALS)).rejects.toThrow(
      `127.0.0.1:${registry.port} asked for credentials to be sent to the token realm "http://localhost:${tokens.port}/token", which is on another host (localhost). Nothing was sent.`,
    );
    expect(tokens.seen).toEqual([]);
    expect(registry.seen).toEqual(['GET /v2/acme/app/tags/list?n=1000 -']);
  });

  it('answers a realm on the loopback registry’s own host, and never follows a token service’s redirect elsewhere', async () => {
    const tokens = await serve(tokenService);
    const registry = await serve(registryWithRealm(() => `http://127.0.0.1:${tokens.port}/token`));
    expect(await listTags({ registry: `127.0.0.1:${registry.port}`, repository: 'acme/app' }, CREDENTIALS)).toEqual(['1.0.0']);
    expect(tokens.seen).toEqual([`GET /token?service=registry&scope=repository%3Aacme%2Fapp%3Apull ${BASIC}`]);

    const elsewhere = await serve(tokenService);
    const redirecting = await serve((_request, response) =>
      response.writeHead(307, { location: `http://127.0.0.1:${elsewhere.port}/token` }).end(),
    );
    const registry2 = await serve(registryWithRealm(() => `http://127.0.0.1:${redirecting.port}/token`));
    const attempt = registryFetch(`127.0.0.1:${registry2.port}`, '/v2/acme/app/tags/list', { credentials: CREDENTIALS });
    await expect(attempt).rejects.toThrow(
      `answered with a redirect (HTTP 307) to "http://127.0.0.1:${elsewhere.port}/token", which is not followed: the credentials go only to the realm itself.`,
    );
    expect(elsewhere.seen).toEqual([]);
  });
});
