import { InputError, UserError } from './errors.js';
import { type CommandOptions, type CommandResult, type CommandRunner, runCommand } from './exec.js';
import { registerSecret } from './secrets.js';

/**
 * A git remote's name, as an action input takes it (`remote: origin`). Never starts with `-`, so it
 * can never be read as an option such as `--upload-pack=<command>`; and git itself refuses names
 * with spaces, `..` or a `.lock` ending.
 */
export const REMOTE_NAME = {
  pattern: /^(?!.*\.\.)(?!.*\.lock$)[A-Za-z0-9_][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/,
  expected: "the name of a git remote of the checkout, such as origin (letters, digits, '.', '_', '-' and '/', not starting with '-')",
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

const ALLOWED_GIT_URLS =
  'an https:// or ssh:// URL, or user@host:path (such as git@github.com:acme/environments.git); ' +
  'file:///… for a repository on this machine, and http:// or git:// only to 127.0.0.1 or localhost';

/** Why `url` is not a git URL an input may name, or undefined when it is one. */
function gitUrlProblem(url: string): string | undefined {
  if (url.startsWith('-')) return 'it starts with "-", so git would read it as an option';
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(url)) return 'it contains a space or a control character';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    // `<transport>::<address>` runs a remote helper (ext:: runs any command): never from an input.
    if (/^[A-Za-z0-9+.-]+::/.test(url)) return 'it names a git remote helper (<transport>::…), which can run commands';
    // scp-like syntax: [user@]host:path, the host a plain name (an ~/.ssh/config alias is one).
    const scp = /^(?:[A-Za-z0-9_][A-Za-z0-9._~-]*@)?([A-Za-z0-9][A-Za-z0-9.-]*):(.+)$/.exec(url);
    if (scp && !scp[2]?.startsWith('-')) return undefined;
    // A repository on this machine, by its absolute path (git reads it as a local clone).
    if (url.startsWith('/')) return undefined;
    return 'it is neither a URL with a scheme, [user@]host:path, nor an absolute path';
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'it is not a valid URL';
  }
  if (scheme === 'file')
    return parsed.host === '' && parsed.pathname.length > 1 ? undefined : 'a file:// URL must be file:///<absolute path>';
  if (!parsed.hostname || parsed.hostname.startsWith('-') || parsed.username.startsWith('-'))
    return 'its host or user is missing or starts with "-"';
  if (scheme === 'https' || scheme === 'ssh') return undefined;
  if (scheme === 'http' || scheme === 'git') {
    return LOOPBACK.has(parsed.hostname) ? undefined : `${scheme}:// is not encrypted, so it is allowed only to 127.0.0.1 or localhost`;
  }
  return `the scheme ${scheme}:// is not one git should be given`;
}

/**
 * Checks a git URL that comes from an action input (promote's `repository`, umbrella-chart's
 * `environment-repository`) before git sees it, and returns it. Allowed: https://, ssh://,
 * [user@]host:path, an absolute path or file:/// (a repository on this machine), and http:// or git:// to a loopback
 * host only (they are not encrypted). Refused: anything starting with `-` (an option to git, such as
 * `--upload-pack=<command>`), remote helpers (`ext::…`, `fd::…`), other schemes, relative paths, spaces
 * and control characters.
 */
export function checkGitUrl(url: string, input?: string): string {
  const problem = gitUrlProblem(url);
  if (problem === undefined) return url;
  const detail = `${JSON.stringify(url)} is not allowed (${problem}); expected ${ALLOWED_GIT_URLS}.`;
  throw input ? new InputError(input, detail) : new UserError('INVALID_CONFIGURATION', `The git URL ${detail}`);
}

/** A remote as Git's methods take it: a remote's name, or a git URL `checkGitUrl` allows. */
function checkRemote(remote: string): string {
  if (REMOTE_NAME.pattern.test(remote) || gitUrlProblem(remote) === undefined) return remote;
  throw new UserError(
    'INVALID_CONFIGURATION',
    `The git remote ${JSON.stringify(remote)} is not allowed; expected ${REMOTE_NAME.expected}, or ${ALLOWED_GIT_URLS}.`,
  );
}

/**
 * The transports git may use, whatever a URL or a repository's configuration asks for (git reads
 * GIT_ALLOW_PROTOCOL as protocol.allow=never plus these): no remote helper such as ext::, which
 * runs a command.
 */
const ALLOWED_PROTOCOLS = 'https:http:ssh:git:file';

export interface GitAuth {
  token: string;
  /** Where the token may be sent, e.g. `https://github.com/`; other hosts never see it. */
  url: string;
}

export interface GitOptions {
  cwd: string;
  auth?: GitAuth;
  /** Added to the environment of every git process. */
  env?: Record<string, string>;
  run?: CommandRunner;
}

/**
 * git through argv arrays. A token reaches git as an HTTP header in `GIT_CONFIG_*` environment
 * variables scoped to one URL: it is never in argv (which any user can read in `ps`), in a log, or in
 * `.git/config` (which outlives the step on a self-hosted runner).
 *
 * Positionals that come from input (a remote, a URL, a branch, a tag) always follow `--`, so that
 * none is ever read as an option (`--upload-pack=<command>` would run it), and git's transports are
 * limited to `ALLOWED_PROTOCOLS`.
 */
export class Git {
  readonly cwd: string;
  private readonly env: Record<string, string>;
  private readonly runner: CommandRunner;

  constructor(options: GitOptions) {
    this.cwd = options.cwd;
    this.runner = options.run ?? runCommand;
    this.env = {
      GIT_TERMINAL_PROMPT: '0',
      ...options.env,
      ...(options.auth ? authEnv(options.auth) : {}),
      // Last: no caller's environment can widen it.
      GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS,
    };
  }

  /** Runs `git <args>` in `cwd`; throws `CommandError` on a non-zero exit unless `allowFailure`. */
  run(args: readonly string[], options: Omit<CommandOptions, 'cwd' | 'env'> = {}): Promise<CommandResult> {
    return this.runner('git', args, { ...options, cwd: this.cwd, env: this.env });
  }

  /** stdout of `git <args>`, without its trailing newline. */
  async output(args: readonly string[]): Promise<string> {
    return (await this.run(args)).stdout.replace(/\n$/, '');
  }

  /** A git instance for another directory with the same credentials and environment. */
  at(cwd: string): Git {
    return new Git({ cwd, env: this.env, run: this.runner });
  }

  async hasRemote(remote: string): Promise<boolean> {
    return (await this.output(['remote'])).split('\n').includes(checkRemote(remote));
  }

  /** The commit a local tag points at (annotated tags peeled), or undefined. */
  async localTagCommit(name: string): Promise<string | undefined> {
    const found = await this.run(['rev-parse', '--verify', '--quiet', `refs/tags/${name}^{commit}`], { allowFailure: true });
    return found.exitCode === 0 ? found.stdout.trim() : undefined;
  }

  /** The commits tags point at on `remote` (annotated tags peeled), in one `ls-remote`. */
  async remoteTagCommits(names: readonly string[], remote: string): Promise<Map<string, string | undefined>> {
    const patterns = names.flatMap((name) => [`refs/tags/${name}`, `refs/tags/${name}^{}`]);
    const listed = parseLsRemote((await this.run(['ls-remote', '--', checkRemote(remote), ...patterns])).stdout);
    return new Map(names.map((name) => [name, listed.get(`refs/tags/${name}^{}`) ?? listed.get(`refs/tags/${name}`)]));
  }

  /**
   * The commit each tag points at (annotated tags peeled), or undefined where it does not exist.
   * Tags found locally are read locally; the rest are asked of `remote` in one `ls-remote`, because a
   * CI checkout (fetch-depth 1) usually holds only the tag it was started for.
   */
  async tagCommits(names: readonly string[], remote = 'origin'): Promise<Map<string, string | undefined>> {
    const commits = new Map<string, string | undefined>();
    for (const name of names) commits.set(name, await this.localTagCommit(name));
    const missing = names.filter((name) => commits.get(name) === undefined);
    if (missing.length === 0 || !(await this.hasRemote(remote))) return commits;
    for (const [name, commit] of await this.remoteTagCommits(missing, remote)) commits.set(name, commit);
    return commits;
  }
}

export function parseLsRemote(stdout: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [sha, ref] = line.split('\t');
    if (sha && ref) refs.set(ref, sha);
  }
  return refs;
}

/**
 * `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` (git 2.31+) add configuration for one
 * process, after any the caller's environment already carries. The header list is first reset with
 * an empty value, so that a header actions/checkout persisted (with GITHUB_TOKEN, whose pushes
 * trigger no workflow) is replaced rather than sent alongside. Both the token and the header that
 * carries it are masked.
 */
export function authEnv(auth: GitAuth, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const header = Buffer.from(`x-access-token:${auth.token}`).toString('base64');
  registerSecret(auth.token);
  registerSecret(header);
  const first = Number.parseInt(base.GIT_CONFIG_COUNT ?? '0', 10) || 0;
  const url = auth.url.endsWith('/') ? auth.url : `${auth.url}/`;
  const key = `http.${url}.extraheader`;
  return {
    GIT_CONFIG_COUNT: String(first + 2),
    [`GIT_CONFIG_KEY_${first}`]: key,
    [`GIT_CONFIG_VALUE_${first}`]: '',
    [`GIT_CONFIG_KEY_${first + 1}`]: key,
    [`GIT_CONFIG_VALUE_${first + 1}`]: `AUTHORIZATION: basic ${header}`,
  };
}
