/**
 * A client of the OCI distribution API (Docker Registry v2): tag lists and manifests, with the
 * bearer-token challenge (`WWW-Authenticate: Bearer realm=…`) most registries answer with.
 * Loopback registries (127.0.0.1, localhost) are spoken to over HTTP, all others over HTTPS.
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

function baseUrl(registry: string): string {
  const host = registry.replace(/:\d+$/, '');
  return `${host === 'localhost' || host === '127.0.0.1' || host === '[::1]' ? 'http' : 'https'}://${registry}`;
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
  options: { credentials?: RegistryCredentials; accept?: string } = {},
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
    const realm = new URL(asked.params.realm);
    if (asked.params.service) realm.searchParams.set('service', asked.params.service);
    if (asked.params.scope) realm.searchParams.set('scope', asked.params.scope);
    const tokenResponse = await fetch(realm, { headers: basic ? { authorization: basic } : {} });
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
export async function listTags(location: OciLocation, credentials?: RegistryCredentials): Promise<string[]> {
  const tags: string[] = [];
  let path: string | undefined = `/v2/${location.repository}/tags/list?n=1000`;
  while (path) {
    const response = await registryFetch(location.registry, path, credentials ? { credentials } : {});
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
