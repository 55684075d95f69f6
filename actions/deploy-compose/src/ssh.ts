import { randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { CommandError, InputError, ToolkitError, UserError, quoteForRemoteShell } from '@toolkit/shared';
import { type HostTrust, HostKeyMismatchError, hostKeyAlgorithms, verifyHostKey } from './host-key.js';

export interface RemoteResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin, then closed: how passwords travel, never in argv. */
  stdin?: string;
  /** The directory to run in (entered by a fixed `cd`, never by pasting it into a command). */
  cwd?: string;
  env?: Record<string, string>;
  /** false: return a non-zero exit instead of throwing. */
  check?: boolean;
}

export interface DirectoryEntry {
  name: string;
  isDirectory: boolean;
  /** Seconds since the epoch. */
  mtime: number;
}

/**
 * What a deploy needs of the server. `SshHost` is the real one: one SSH connection carrying exec
 * channels and SFTP. Paths are absolute; commands are argv arrays, quoted by `quoteForRemoteShell`.
 */
export interface RemoteHost {
  readonly name: string;
  readonly fingerprint: string;
  home(): Promise<string>;
  run(argv: readonly string[], options?: RunOptions): Promise<RemoteResult>;
  writeFile(path: string, content: string | Uint8Array, mode: number): Promise<void>;
  /** Writes a file beside `path`, then renames it over `path`: a reader sees the old file or the new one, whole. */
  writeFileAtomic(path: string, content: string, mode: number): Promise<void>;
  /** Creates `path` only if it does not exist (O_EXCL): false when it already does. */
  createExclusive(path: string, content: string, mode: number): Promise<boolean>;
  readFile(path: string): Promise<string | undefined>;
  /** `mkdir -p` over SFTP: no shell needed, so no shell start-up paid. */
  mkdir(path: string, mode?: number): Promise<void>;
  readlink(path: string): Promise<string | undefined>;
  /** Points `path` at `target` in one atomic rename, so `path` is never missing or half-made. */
  replaceSymlink(target: string, path: string): Promise<void>;
  rename(from: string, to: string): Promise<boolean>;
  remove(path: string): Promise<void>;
  list(dir: string): Promise<DirectoryEntry[]>;
  mtime(path: string): Promise<number | undefined>;
  close(): void;
}

/** A remote command that exited non-zero: its argv (never the secrets, which travel by stdin or file), code and stderr. */
export class RemoteCommandError extends CommandError {}

/** Runs `argv` in `cwd` with `env`: a fixed script does the `cd`, and every value stays an argument. */
export function remoteCommandLine(argv: readonly string[], options: Pick<RunOptions, 'cwd' | 'env'> = {}): string {
  const env = Object.entries(options.env ?? {}).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new ToolkitError('UNSAFE_ARGUMENT', `${JSON.stringify(name)} is not a variable name.`);
    return `${name}=${value}`;
  });
  const command = env.length > 0 ? ['env', ...env, ...argv] : [...argv];
  if (options.cwd === undefined) return quoteForRemoteShell(command);
  return quoteForRemoteShell(['sh', '-c', 'cd -- "$1" && shift && exec "$@"', 'sh', options.cwd, ...command]);
}

export interface ConnectOptions {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  passphrase: string;
  trust: HostTrust;
  readyTimeoutMs?: number;
  /** Counts connections opened (the benchmark's goal is one per deploy). */
  onConnect?: () => void;
}

/** Parses the key before connecting, so a bad key or passphrase is an input error, not an SSH failure. */
function checkPrivateKey(privateKey: string, passphrase: string): void {
  const parsed = ssh2.utils.parseKey(privateKey, passphrase || undefined);
  if (parsed instanceof Error) {
    const problem = /passphrase|decrypt|bad/i.test(parsed.message)
      ? passphrase
        ? 'key-passphrase does not decrypt it'
        : 'it is encrypted; give key-passphrase'
      : `it is not a private key ssh2 can read (${parsed.message}); expected an OpenSSH or PEM private key`;
    throw new InputError('ssh-key', `${problem} (the key is secret and not shown).`);
  }
}

export async function connect(options: ConnectOptions): Promise<SshHost> {
  checkPrivateKey(options.privateKey, options.passphrase);
  const hostName = `${options.user}@${options.host}:${options.port}`;
  const client = new ssh2.Client();
  let mismatch: HostKeyMismatchError | undefined;
  let fingerprint = '';
  const serverHostKey = hostKeyAlgorithms(options.trust);
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (error: Error & { level?: string }) => {
      if (mismatch) return reject(mismatch);
      if (error.level === 'client-authentication') {
        return reject(
          new UserError(
            'REFUSED',
            `SSH authentication failed for ${hostName}: the server refused ssh-key. Check that its public key is in ~${options.user}/.ssh/authorized_keys on the host and that user is right.`,
          ),
        );
      }
      if (error.level === 'handshake' && /no matching host key format/.test(error.message)) {
        // The server may still reset the connection being closed: that is not another failure.
        client.on('error', () => undefined);
        return reject(
          new UserError(
            'REFUSED',
            `SSH connection to ${hostName} refused: the server offers none of the host key algorithms asked for (${serverHostKey.join(', ')}: ` +
              `OpenSSH’s defaults${options.trust.kind === 'known-hosts' ? ', for the key types known-hosts lists' : ''}). ` +
              'ssh-rsa (RSA with SHA-1 signatures) and ssh-dss (DSA) are never accepted. Nothing was sent to the host. ' +
              'Give the server an ed25519 or ecdsa host key, or let it sign with its RSA key using rsa-sha2-256/512.',
            { cause: error },
          ),
        );
      }
      if (error.level === 'client-timeout') {
        return reject(new UserError('REFUSED', `SSH connection to ${hostName} timed out before the server was ready.`, { cause: error }));
      }
      reject(new UserError('REFUSED', `SSH connection to ${hostName} failed: ${error.message}`, { cause: error }));
    });
    options.onConnect?.();
    client.connect({
      host: options.host,
      port: options.port,
      username: options.user,
      privateKey: options.privateKey,
      ...(options.passphrase ? { passphrase: options.passphrase } : {}),
      readyTimeout: options.readyTimeoutMs ?? 20_000,
      algorithms: { serverHostKey: serverHostKey as ssh2.ServerHostKeyAlgorithm[] },
      // Called during key exchange, before any authentication is attempted.
      hostVerifier: (key: Buffer) => {
        try {
          fingerprint = verifyHostKey(options.trust, key, `${options.host}:${options.port}`);
          return true;
        } catch (error) {
          mismatch = error as HostKeyMismatchError;
          return false;
        }
      },
    });
  });
  // Without it, Nagle and delayed ACKs add ~40 ms to every round trip of the many small SSH packets.
  client.setNoDelay(true);
  return new SshHost(client, hostName, fingerprint);
}

function callback<T>(executor: (done: (error: Error | undefined | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => executor((error, value) => (error ? reject(error) : resolve(value))));
}

function isMissing(error: unknown): boolean {
  return (error as { code?: number }).code === 2; // SSH_FX_NO_SUCH_FILE
}

export class SshHost implements RemoteHost {
  private sftpSession?: Promise<SFTPWrapper>;
  private homeDir?: string;

  constructor(
    private readonly client: Client,
    readonly name: string,
    readonly fingerprint: string,
  ) {}

  /**
   * The SFTP session, for `paths`. A path with a NUL byte is refused: the server would cut it
   * short (or drop the session), so what is written would not be what was asked.
   */
  private sftp(...paths: string[]): Promise<SFTPWrapper> {
    for (const path of paths) {
      if (path.includes('\0')) throw new ToolkitError('UNSAFE_ARGUMENT', 'A remote path contains a NUL byte, which no file name can hold.');
    }
    this.sftpSession ??= callback<SFTPWrapper>((done) => this.client.sftp(done));
    return this.sftpSession;
  }

  async home(): Promise<string> {
    const sftp = await this.sftp();
    this.homeDir ??= await callback<string>((done) => sftp.realpath('.', done));
    return this.homeDir;
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RemoteResult> {
    const line = remoteCommandLine(argv, options);
    const channel = await callback<ClientChannel>((done) => this.client.exec(line, done));
    const result = await new Promise<RemoteResult>((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      channel.on('error', reject);
      channel.on('close', (code: number | null, signal?: string) =>
        resolve({
          // A command killed by a signal has no code; report it as the shell would.
          code: code ?? (signal ? 128 : 255),
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
        }),
      );
      channel.end(options.stdin ?? '');
    });
    if (result.code !== 0 && options.check !== false) {
      throw new RemoteCommandError(argv, result.code, result.stderr, `${argv.join(' ')}\` on \`${this.name}`);
    }
    return result;
  }

  async writeFile(path: string, content: string | Uint8Array, mode: number): Promise<void> {
    const sftp = await this.sftp(path);
    const handle = await callback<Buffer>((done) => sftp.open(path, 'w', { mode }, done));
    try {
      await callback<void>((done) => sftp.fchmod(handle, mode, (error) => done(error, undefined)));
      await this.writeAll(sftp, handle, Buffer.from(content));
    } finally {
      await callback<void>((done) => sftp.close(handle, (error) => done(error, undefined)));
    }
  }

  async writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
    const sftp = await this.sftp(path);
    const staging = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    await this.writeFile(staging, content, mode);
    try {
      await callback<void>((done) => sftp.ext_openssh_rename(staging, path, (error) => done(error, undefined)));
    } catch (error) {
      await this.remove(staging);
      throw error;
    }
  }

  async createExclusive(path: string, content: string, mode: number): Promise<boolean> {
    const sftp = await this.sftp(path);
    let handle: Buffer;
    try {
      handle = await callback<Buffer>((done) => sftp.open(path, 'wx', { mode }, done));
    } catch (error) {
      // OpenSSH's sftp-server answers an O_EXCL open of an existing file with a plain failure.
      if ((await this.mtime(path)) !== undefined) return false;
      throw error;
    }
    try {
      await this.writeAll(sftp, handle, Buffer.from(content));
    } finally {
      await callback<void>((done) => sftp.close(handle, (error) => done(error, undefined)));
    }
    return true;
  }

  private async writeAll(sftp: SFTPWrapper, handle: Buffer, data: Buffer): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      const length = Math.min(32_768, data.length - offset);
      await callback<void>((done) => sftp.write(handle, data, offset, length, offset, (error) => done(error, undefined)));
      offset += length;
    }
  }

  async mkdir(dir: string, mode = 0o755): Promise<void> {
    const sftp = await this.sftp(dir);
    try {
      await callback<void>((done) => sftp.mkdir(dir, { mode }, (error) => done(error, undefined)));
    } catch (error) {
      const existing = await callback<ssh2.Stats>((done) => sftp.stat(dir, done)).catch(() => undefined);
      if (existing?.isDirectory()) return;
      const parent = dir.replace(/\/+[^/]+\/*$/, '');
      if (existing || !isMissing(error) || parent === '' || parent === dir) throw error;
      await this.mkdir(parent);
      await callback<void>((done) => sftp.mkdir(dir, { mode }, (failure) => done(failure, undefined)));
    }
  }

  async readFile(path: string): Promise<string | undefined> {
    const sftp = await this.sftp(path);
    try {
      const data = await callback<Buffer>((done) => sftp.readFile(path, done));
      return data.toString('utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async readlink(path: string): Promise<string | undefined> {
    const sftp = await this.sftp(path);
    try {
      return await callback<string>((done) => sftp.readlink(path, done));
    } catch (error) {
      if (isMissing(error) || (await this.mtime(path)) === undefined) return undefined;
      throw error;
    }
  }

  async replaceSymlink(target: string, path: string): Promise<void> {
    const sftp = await this.sftp(target, path);
    const staging = `${path}.next`;
    await this.remove(staging);
    await callback<void>((done) => sftp.symlink(target, staging, (error) => done(error, undefined)));
    await callback<void>((done) => sftp.ext_openssh_rename(staging, path, (error) => done(error, undefined)));
  }

  async rename(from: string, to: string): Promise<boolean> {
    const sftp = await this.sftp(from, to);
    try {
      await callback<void>((done) => sftp.rename(from, to, (error) => done(error, undefined)));
      return true;
    } catch {
      return false;
    }
  }

  async remove(path: string): Promise<void> {
    const sftp = await this.sftp(path);
    await callback<void>((done) => sftp.unlink(path, (error) => done(error && !isMissing(error) ? error : undefined, undefined)));
  }

  async list(dir: string): Promise<DirectoryEntry[]> {
    const sftp = await this.sftp(dir);
    try {
      const entries = await callback<ssh2.FileEntryWithStats[]>((done) => sftp.readdir(dir, done));
      return entries.map((entry) => ({ name: entry.filename, isDirectory: entry.attrs.isDirectory(), mtime: entry.attrs.mtime }));
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }

  async mtime(path: string): Promise<number | undefined> {
    const sftp = await this.sftp(path);
    try {
      return (await callback<ssh2.Stats>((done) => sftp.lstat(path, done))).mtime;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  close(): void {
    this.client.end();
  }
}
