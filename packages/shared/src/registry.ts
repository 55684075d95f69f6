/**
 * A client of the OCI distribution API (Docker Registry v2): tag lists and manifests, with the
 * bearer-token challenge (`WWW-Authenticate: Bearer realm=…`) most registries answer with.
 * Loopback registries (127.0.0.1, localhost) are spoken to over HTTP, all others over HTTPS.
 *
 * The realm a registry names is where the credentials go, so it is checked first
 * (`checkTokenRealm`): https, on the registry's own host or a domain above it, or a host the
 * caller names. Anything else is refused with nothing sent.
 */
import { ToolkitError, UserError } from './errors.js';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface OciLocation {
  /** host[:port] */
  registry: string;
  /** The repository path, e.g. acme/charts/api. */
  repository: string;
}

/** `oci://host[:port]/path` (or `host/path`) as registry and repository path. */
export function parseOciReference(reference: string): OciLocation {
  const match = /^(?:oci:\/\/)?([^/\s]+)\/([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)$/.exec(
    reference,
  );
  if (!match) throw new UserError('INVALID_INPUT', `${JSON.stringify(reference)} is not an OCI reference; expected oci://host/path.`);
  return { registry: match[1] as string, repository: match[2] as string };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function registryHost(registry: string): string {
  return registry.replace(/:\d+$/, '').toLowerCase();
}

function baseUrl(registry: string): string {
  return `${LOOPBACK.has(registryHost(registry)) ? 'http' : 'https'}://${registry}`;
}

/**
 * Registries whose token service is documented to live on another host of the same operator.
 * Docker Hub: images are served by registry-1.docker.io, tokens by auth.docker.io.
 */
const KNOWN_TOKEN_HOSTS: Readonly<Record<string, readonly string[]>> = {
  'registry-1.docker.io': ['auth.docker.io'],
  'index.docker.io': ['auth.docker.io'],
  'docker.io': ['auth.docker.io'],
};

export interface TokenRealmOptions {
  /** More hosts the token service may be on (as an input names them), beyond the registry's own. */
  tokenHosts?: readonly string[];
}

/**
 * The token realm a registry's `WWW-Authenticate` names, as a URL, when credentials may be sent
 * there; otherwise a UserError that names the realm and what is allowed (nothing has been sent):
 * - https only; plain http only when the registry itself is a loopback one (127.0.0.1, localhost,
 *   [::1], spoken to over http) and the realm is on that same loopback host;
 * - on the registry's own host (any port), or on a domain above it (registry.gitlab.com's tokens
 *   come from gitlab.com: whoever runs a domain already runs the names below it), or on a host
 *   of `KNOWN_TOKEN_HOSTS` (Docker Hub) or of `options.tokenHosts`;
 * - with no user name or password in the URL.
 */
export function checkTokenRealm(registry: string, realm: string, options: TokenRealmOptions = {}): URL {
  const host = registryHost(registry);
  const refuse = (problem: string) =>
    new UserError(
      'REFUSED',
      `${registry} asked for credentials to be sent to the token realm ${JSON.stringify(realm)}, which ${problem}. ` +
        `Nothing was sent. A token realm must be https on ${host} itself or a domain above it` +
        `${[...(KNOWN_TOKEN_HOSTS[host] ?? []), ...(options.tokenHosts ?? [])].map((other) => `, or ${other}`).join('')}; ` +
        `a token service on another host is allowed by naming it in the registry-token-hosts input.`,
    );
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw refuse('is not a URL');
  }
  const realmHost = url.hostname.toLowerCase();
  if (url.username || url.password) throw refuse('carries a user name or password of its own');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse(`uses ${url.protocol}, not https`);
  const isIp = /^[\d.]+$|^\[/.test(host);
  const above = !isIp && realmHost.includes('.') && host.endsWith(`.${realmHost}`);
  const allowed = [...(KNOWN_TOKEN_HOSTS[host] ?? []), ...(options.tokenHosts ?? [])].map((other) => other.toLowerCase());
  if (realmHost !== host && !above && !allowed.includes(realmHost)) throw refuse(`is on another host (${realmHost})`);
  if (url.protocol === 'http:' && !(LOOPBACK.has(host) && realmHost === host))
    throw refuse('is plain http (the credentials would travel unencrypted)');
  return url;
}

function challenge(header: string | null): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space).toLowerCase();
  const params: Record<string, string> = {};
  for (const match of header.slice(space + 1).matchAll(/(\w+)="([^"]*)"/g)) params[match[1] as string] = match[2] as string;
  return { scheme, params };
}

/**
 * GET `path` on `registry`, answering an authentication challenge once: a bearer token from the
 * realm it names (anonymous, or with `credentials`), or basic credentials.
 */
export async function registryFetch(
  registry: string,
  path: string,
  options: { credentials?: RegistryCredentials; accept?: string } & TokenRealmOptions = {},
): Promise<Response> {
  const url = `${baseUrl(registry)}${path}`;
  const headers: Record<string, string> = options.accept ? { accept: options.accept } : {};
  const first = await fetch(url, { headers });
  if (first.status !== 401) return first;
  const asked = challenge(first.headers.get('www-authenticate'));
  const basic = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`
    : undefined;
  if (asked?.scheme === 'bearer' && asked.params.realm) {
    const realm = checkTokenRealm(registry, asked.params.realm, options);
    if (asked.params.service) realm.searchParams.set('service', asked.params.service);
    if (asked.params.scope) realm.searchParams.set('scope', asked.params.scope);
    // Not followed: a redirect would take the credentials to wherever it points.
    const tokenResponse = await fetch(realm, { headers: basic ? { authorization: basic } : {}, redirect: 'manual' });
    if (tokenResponse.status >= 300 && tokenResponse.status < 400)
      throw new UserError(
        'REFUSED',
        `${registry}'s token service (${realm.origin}${realm.pathname}) answered with a redirect (HTTP ${tokenResponse.status}) to ${JSON.stringify(tokenResponse.headers.get('location') ?? '')}, which is not followed: the credentials go only to the realm itself.`,
      );
    if (!tokenResponse.ok)
      throw new UserError(
        'REFUSED',
        `${registry} refused a token for ${path} (HTTP ${tokenResponse.status} from ${realm.origin}${realm.pathname}).`,
      );
    const { token, access_token: accessToken } = (await tokenResponse.json()) as { token?: string; access_token?: string };
    return fetch(url, { headers: { ...headers, authorization: `Bearer ${token ?? accessToken}` } });
  }
  if (asked?.scheme === 'basic' && basic) return fetch(url, { headers: { ...headers, authorization: basic } });
  return first;
}

/** Every tag of a repository, following the registry's pagination (`Link: <…>; rel="next"`). */
export async function listTags(
  location: OciLocation,
  credentials?: RegistryCredentials,
  options: TokenRealmOptions = {},
): Promise<string[]> {
  const tags: string[] = [];
  let path: string | undefined = `/v2/${location.repository}/tags/list?n=1000`;
  while (path) {
    const response = await registryFetch(location.registry, path, { ...options, ...(credentials ? { credentials } : {}) });
    if (response.status === 404) return [];
    if (!response.ok)
      throw new ToolkitError(
        'DOWNLOAD_FAILED',
        `${location.registry} answered HTTP ${response.status} listing the tags of ${location.repository}.`,
      );
    const page = (await response.json()) as { tags?: string[] | null };
    tags.push(...(page.tags ?? []));
    path = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  }
  return tags;
}
