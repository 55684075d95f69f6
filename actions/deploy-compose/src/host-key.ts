import { createHash, createHmac } from 'node:crypto';
import { InputError, UserError } from '@toolkit/shared';

/**
 * Host-key trust, decided before the SSH client authenticates: the server's key must be one that
 * `known-hosts` lists for this host (OpenSSH's rules: `[host]:port` for ports other than 22, hashed
 * names, wildcards, negation, `@revoked`), or have the SHA-256 fingerprint `host-fingerprint` names.
 * There is no "accept whatever is offered".
 */
export type HostTrust =
  { kind: 'known-hosts'; keys: KnownHostKey[]; revoked: KnownHostKey[] } | { kind: 'fingerprint'; fingerprint: string };

export interface KnownHostKey {
  type: string;
  /** The public key blob, as the server sends it during key exchange. */
  blob: Buffer;
  line: number;
}

/** `SHA256:` and the unpadded base64 of the blob's SHA-256: what `ssh-keygen -lf` prints. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

export function parseFingerprint(value: string): string {
  if (!FINGERPRINT.test(value)) {
    throw new InputError(
      'host-fingerprint',
      `${JSON.stringify(value)} is not a host key fingerprint; expected SHA256: and 43 base64 characters, as \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` prints it.`,
    );
  }
  return value.replace(/=$/, '');
}

/** The name a known_hosts line uses for this host: OpenSSH writes `[host]:port` unless the port is 22. */
function hostEntryName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH's pattern match: `*` any run of characters, `?` any one. */
function wildcardMatch(pattern: string, name: string): boolean {
  const expression = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${expression}$`, 'i').test(name);
}

function hashedMatch(entry: string, name: string): boolean {
  const [, , salt, hash] = entry.split('|');
  if (!salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

/** Whether a line's comma-separated host patterns take in this host (a negated match rules it out). */
function hostsMatch(patterns: string, host: string, port: number): boolean {
  const name = hostEntryName(host, port);
  let matched = false;
  for (const pattern of patterns.split(',')) {
    if (pattern.startsWith('|1|')) {
      if (hashedMatch(pattern, name)) matched = true;
    } else if (pattern.startsWith('!')) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/**
 * The keys `known-hosts` lists for `host`:`port`. A line that is not known_hosts format is an
 * error naming the line; `@cert-authority` lines are skipped (host certificates are not supported),
 * and so is every line for other hosts. No key for this host at all is an error too.
 */
export function parseKnownHosts(text: string, host: string, port: number, warn: (message: string) => void = () => {}): HostTrust {
  const keys: KnownHostKey[] = [];
  const revoked: KnownHostKey[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const marker = fields[0]?.startsWith('@') ? fields.shift() : undefined;
    const [patterns, type, base64] = fields;
    if (!patterns || !type || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
      throw new InputError(
        'known-hosts',
        `line ${index + 1} is not in known_hosts format; expected "<host patterns> <key type> <base64 key>", as \`ssh-keyscan -p <port> <host>\` prints.`,
      );
    }
    if (!hostsMatch(patterns, host, port)) return;
    const key = { type, blob: Buffer.from(base64, 'base64'), line: index + 1 };
    if (marker === '@revoked') revoked.push(key);
    else if (marker === '@cert-authority')
      warn(`known-hosts line ${index + 1} is a @cert-authority line; host certificates are not supported, so it is ignored.`);
    else if (marker === undefined) keys.push(key);
    else
      throw new InputError(
        'known-hosts',
        `line ${index + 1} has the marker ${JSON.stringify(marker)}; expected @revoked or @cert-authority.`,
      );
  });
  if (keys.length === 0) {
    throw new InputError(
      'known-hosts',
      `no line is for ${hostEntryName(host, port)}; add the output of \`ssh-keyscan -p ${port} ${host}\` (checked out of band), or give host-fingerprint.`,
    );
  }
  return { kind: 'known-hosts', keys, revoked };
}

/**
 * The host key (and host key signature) algorithms accepted: OpenSSH's defaults (ssh_config
 * HostKeyAlgorithms of OpenSSH 9.x), in its order, as far as ssh2 implements them. Not `ssh-rsa`
 * (RSA keys signing with SHA-1, off by default since OpenSSH 8.8) and not `ssh-dss` (DSA, off since
 * OpenSSH 7.0 and removed in 9.8): an RSA host key is accepted signing with SHA-2 only.
 */
export const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
] as const;

/** The signature algorithms a known_hosts key type may sign with, of `HOST_KEY_ALGORITHMS`. */
function algorithmsOfKeyType(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256'];
  return (HOST_KEY_ALGORITHMS as readonly string[]).includes(type) ? [type] : [];
}

/**
 * The host key algorithms to ask for: those of `HOST_KEY_ALGORITHMS` that a trusted key can use
 * (with `known-hosts`), so that the server offers a key we can check; all of them with
 * `host-fingerprint`. A known-hosts whose keys for the host can use none (only `ssh-dss` keys, say)
 * is refused here, before connecting.
 */
export function hostKeyAlgorithms(trust: HostTrust): string[] {
  if (trust.kind === 'fingerprint') return [...HOST_KEY_ALGORITHMS];
  const usable = new Set(trust.keys.flatMap((key) => algorithmsOfKeyType(key.type)));
  const algorithms = HOST_KEY_ALGORITHMS.filter((name) => usable.has(name));
  if (algorithms.length === 0) {
    const listed = trust.keys.map((key) => `${key.type} (line ${key.line})`).join(', ');
    throw new InputError(
      'known-hosts',
      `its keys for this host are ${listed}, none of which is accepted${
        trust.keys.some((key) => key.type === 'ssh-dss') ? ': ssh-dss (DSA) host keys are refused, as OpenSSH refuses them' : ''
      }. ` + `Accepted: ${HOST_KEY_ALGORITHMS.join(', ')} (an ssh-rsa key signing with SHA-2). Add the host's ed25519, ecdsa or RSA key.`,
    );
  }
  return algorithms;
}

/** Raised before authentication when the offered host key is not trusted. Nothing has been sent. */
export class HostKeyMismatchError extends UserError {
  constructor(
    readonly hostName: string,
    readonly expected: string[],
    readonly offered: string,
    reason: string,
  ) {
    super(
      'REFUSED',
      `Host key verification failed for ${hostName}: ${reason}. Expected ${expected.join(' or ')}, offered ${offered}. ` +
        'Nothing was sent to the host. If the host key really changed, update known-hosts or host-fingerprint from a source you trust.',
    );
  }
}

/** Checks the offered key blob; returns its fingerprint or throws `HostKeyMismatchError`. */
export function verifyHostKey(trust: HostTrust, blob: Buffer, hostName: string): string {
  const offered = fingerprintOf(blob);
  if (trust.kind === 'fingerprint') {
    if (offered !== trust.fingerprint) throw new HostKeyMismatchError(hostName, [trust.fingerprint], offered, 'the fingerprint differs');
    return offered;
  }
  const expected = trust.keys.map((key) => fingerprintOf(key.blob));
  if (trust.revoked.some((key) => key.blob.equals(blob))) {
    throw new HostKeyMismatchError(hostName, expected, offered, 'the offered key is marked @revoked in known-hosts');
  }
  if (!trust.keys.some((key) => key.blob.equals(blob))) {
    throw new HostKeyMismatchError(hostName, expected, offered, 'the offered key is not in known-hosts');
  }
  return offered;
}
