/**
 * deploy-compose's host key and signature algorithms are OpenSSH's defaults: against the real
 * sshd, an ed25519 host key and an RSA host key signing with SHA-2 are accepted; a server that
 * signs only with SHA-1 `ssh-rsa`, or has only a DSA key, is refused with a clear message, before
 * anything is sent to it.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { InputError, UserError } from '@toolkit/shared';
import { HOST_KEY_ALGORITHMS, hostKeyAlgorithms, parseKnownHosts } from '../../actions/deploy-compose/src/host-key.js';
import { type ConnectOptions, connect } from '../../actions/deploy-compose/src/ssh.js';
import { type SshServer, startSshServer } from '../support/sshd.js';
import { tempDir } from '../support/temp.js';

const started: SshServer[] = [];
afterAll(async () => {
  await Promise.all(started.map((server) => server.close()));
});

async function server(options: Parameters<typeof startSshServer>[1] = {}): Promise<SshServer> {
  const ssh = await startSshServer(path.join(await tempDir('sshd-'), 'sshd'), options);
  started.push(ssh);
  return ssh;
}

function options(ssh: SshServer, trust: 'fingerprint' | 'known-hosts'): ConnectOptions {
  return {
    host: ssh.host,
    port: ssh.port,
    user: ssh.user,
    privateKey: ssh.clientKey,
    passphrase: '',
    readyTimeoutMs: 10_000,
    trust:
      trust === 'fingerprint' ? { kind: 'fingerprint', fingerprint: ssh.fingerprint } : parseKnownHosts(ssh.knownHosts, ssh.host, ssh.port),
  };
}

/** Connects, runs `true`, and closes: the connection was accepted all the way through authentication. */
async function works(connectOptions: ConnectOptions): Promise<void> {
  const host = await connect(connectOptions);
  try {
    expect((await host.run(['true'])).code).toBe(0);
  } finally {
    host.close();
  }
}

/** The error a connection fails with; a connection that is accepted is closed again, and fails the test. */
async function refusal(connectOptions: ConnectOptions): Promise<Error> {
  try {
    (await connect(connectOptions)).close();
  } catch (error) {
    return error as Error;
  }
  throw new Error(`the connection to ${connectOptions.host}:${connectOptions.port} was accepted`);
}

/** Whether sshd logged any authentication attempt (nothing is sent before the host key is accepted). */
async function authenticated(ssh: SshServer): Promise<boolean> {
  return /Accepted publickey|Failed publickey|userauth/i.test(await ssh.log());
}

describe('SSH host key algorithms (real sshd)', () => {
  it('asks for OpenSSH’s default host key algorithms: no ssh-rsa (SHA-1) and no ssh-dss', () => {
    expect(HOST_KEY_ALGORITHMS).toEqual([
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
      'rsa-sha2-512',
      'rsa-sha2-256',
    ]);
    expect(hostKeyAlgorithms({ kind: 'fingerprint', fingerprint: 'SHA256:x' })).toEqual([...HOST_KEY_ALGORITHMS]);
    const known = (type: string) => parseKnownHosts(`host.example ${type} AAAA\n`, 'host.example', 22);
    expect(hostKeyAlgorithms(known('ssh-rsa'))).toEqual(['rsa-sha2-512', 'rsa-sha2-256']);
    expect(hostKeyAlgorithms(known('ssh-ed25519'))).toEqual(['ssh-ed25519']);
    expect(() => hostKeyAlgorithms(known('ssh-dss'))).toThrow(InputError);
    expect(() => hostKeyAlgorithms(known('ssh-dss'))).toThrow(
      'Invalid input "known-hosts": its keys for this host are ssh-dss (line 1), none of which is accepted: ssh-dss (DSA) host keys are refused, as OpenSSH refuses them.',
    );
  });

  it('accepts an ed25519 host key, and an RSA host key signing with SHA-2 (rsa-sha2-512/256)', async () => {
    const ed25519 = await server();
    await works(options(ed25519, 'fingerprint'));
    await works(options(ed25519, 'known-hosts'));
    const rsa = await server({ hostKeyType: 'rsa', config: ['HostKeyAlgorithms rsa-sha2-512,rsa-sha2-256'] });
    await works(options(rsa, 'fingerprint'));
    await works(options(rsa, 'known-hosts'));
  });

  it('refuses a server that signs with its RSA host key only as ssh-rsa (SHA-1), before authenticating', async () => {
    const sha1 = await server({ hostKeyType: 'rsa', config: ['HostKeyAlgorithms ssh-rsa'] });
    for (const trust of ['fingerprint', 'known-hosts'] as const) {
      const error = await refusal(options(sha1, trust));
      expect(error).toBeInstanceOf(UserError);
      expect(error.message).toMatch(
        new RegExp(
          `^SSH connection to ${sha1.user}@127\\.0\\.0\\.1:${sha1.port} refused: the server offers none of the host key algorithms asked for \\(.*rsa-sha2-512, rsa-sha2-256: OpenSSH’s defaults.*\\)\\. ssh-rsa \\(RSA with SHA-1 signatures\\) and ssh-dss \\(DSA\\) are never accepted\\. Nothing was sent to the host\\.`,
        ),
      );
    }
    expect(await authenticated(sha1)).toBe(false);
  });

  it('refuses a server with only a DSA host key: by fingerprint at the handshake, and a known-hosts of ssh-dss before connecting', async () => {
    const dsa = await server({ hostKeyType: 'dsa', config: ['HostKeyAlgorithms ssh-dss'] });
    expect((await refusal(options(dsa, 'fingerprint'))).message).toContain(
      'refused: the server offers none of the host key algorithms asked for (ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, rsa-sha2-512, rsa-sha2-256: OpenSSH’s defaults).',
    );
    expect(dsa.knownHosts).toContain(' ssh-dss ');
    expect((await refusal(options(dsa, 'known-hosts'))).message).toContain(
      'Invalid input "known-hosts": its keys for this host are ssh-dss (line 1), none of which is accepted',
    );
    expect(await authenticated(dsa)).toBe(false);
  });
});
