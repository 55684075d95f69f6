import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, waitForPort } from './net.js';
import { requireTool } from './system-tools.js';

/**
 * OpenSSH's real sshd on 127.0.0.1, with its own config, host key and authorized key, running as
 * the test's user. `env` is set in every session (sshd's SetEnv), which is how a test points the
 * server's docker at its own dockerd, or puts fake tools first on PATH.
 */
export interface SshServer {
  host: '127.0.0.1';
  port: number;
  user: string;
  /** The client's private key (OpenSSH format), authorized on the server. */
  clientKey: string;
  /** The known_hosts line for this server. */
  knownHosts: string;
  /** SHA256:… of the host key, as ssh-keygen prints it. */
  fingerprint: string;
  /** sshd's log (LogLevel VERBOSE): one "Accepted publickey" per authenticated connection. */
  log(): Promise<string>;
  close(): Promise<void>;
}

function keygen(args: string[]): string {
  return execFileSync(requireTool('ssh-keygen', 'openssh-client'), args, { encoding: 'utf8' });
}

export async function generateKey(file: string, options: { passphrase?: string; type?: 'ed25519' | 'rsa' | 'dsa' } = {}): Promise<string> {
  keygen(['-q', '-t', options.type ?? 'ed25519', '-N', options.passphrase ?? '', '-C', 'toolkit-test', '-f', file]);
  return readFile(file, 'utf8');
}

export interface SshServerOptions {
  env?: Record<string, string>;
  /** The host key's type: ed25519 by default (an old server's rsa or dsa, to test what a client accepts). */
  hostKeyType?: 'ed25519' | 'rsa' | 'dsa';
  /** More sshd_config lines, e.g. `HostKeyAlgorithms ssh-rsa` for a server that signs only with SHA-1. */
  config?: string[];
}

export async function startSshServer(dir: string, options: SshServerOptions = {}): Promise<SshServer> {
  const sshd = requireTool('sshd', 'openssh-server');
  await mkdir(dir, { recursive: true });
  // sshd checks that its privilege-separation directory exists, even when it is not used.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKeyType = options.hostKeyType ?? 'ed25519';
  const hostKey = path.join(dir, `ssh_host_${hostKeyType}_key`);
  await generateKey(hostKey, { type: hostKeyType });
  const clientKey = await generateKey(path.join(dir, 'client_key'));
  await writeFile(path.join(dir, 'authorized_keys'), await readFile(path.join(dir, 'client_key.pub')));
  const port = await freePort();
  // Sessions get a HOME of their own, empty: bash run by sshd sources ~/.bashrc for every command,
  // and this machine's root has `pyenv init` there (about 100 ms a command), which a deploy user's
  // server would not have. The account's real home (SFTP's starting directory, `~`) is unchanged.
  const sessionHome = path.join(dir, 'home');
  await mkdir(sessionHome, { recursive: true });
  const setEnv = Object.entries({ HOME: sessionHome, ...options.env })
    .map(([name, value]) => `${name}="${value}"`)
    .join(' ');
  const config = path.join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'LogLevel VERBOSE',
      'MaxStartups 100',
      'MaxSessions 50',
      'Subsystem sftp internal-sftp',
      ...(setEnv ? [`SetEnv ${setEnv}`] : []),
      ...(options.config ?? []),
      '',
    ].join('\n'),
  );
  const logFile = path.join(dir, 'sshd.log');
  const child: ChildProcess = spawn(sshd, ['-D', '-f', config, '-E', logFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    await waitForPort(port, child, 'sshd');
  } catch (error) {
    child.kill('SIGKILL');
    const log = await readFile(logFile, 'utf8').catch(() => '');
    throw new Error(`sshd did not start on 127.0.0.1:${port}: ${(error as Error).message}\n${stderr}${log}`, { cause: error });
  }
  const publicHostKey = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ');
  const fingerprint = keygen(['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]).split(' ')[1] as string;
  return {
    host: '127.0.0.1',
    port,
    user: execFileSync('id', ['-un'], { encoding: 'utf8' }).trim(),
    clientKey,
    knownHosts: `[127.0.0.1]:${port} ${publicHostKey[0]} ${publicHostKey[1]}\n`,
    fingerprint,
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
