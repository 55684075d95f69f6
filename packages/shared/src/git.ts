import { type CommandOptions, type CommandResult, type CommandRunner, runCommand } from './exec.js';
import { registerSecret } from './secrets.js';

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
 */
export class Git {
  readonly cwd: string;
  private readonly env: Record<string, string>;
  private readonly runner: CommandRunner;

  constructor(options: GitOptions) {
    this.cwd = options.cwd;
    this.runner = options.run ?? runCommand;
    this.env = { GIT_TERMINAL_PROMPT: '0', ...options.env, ...(options.auth ? authEnv(options.auth) : {}) };
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
    return (await this.output(['remote'])).split('\n').includes(remote);
  }

  /** The commit a local tag points at (annotated tags peeled), or undefined. */
  async localTagCommit(name: string): Promise<string | undefined> {
    const found = await this.run(['rev-parse', '--verify', '--quiet', `refs/tags/${name}^{commit}`], { allowFailure: true });
    return found.exitCode === 0 ? found.stdout.trim() : undefined;
  }

  /** The commits tags point at on `remote` (annotated tags peeled), in one `ls-remote`. */
  async remoteTagCommits(names: readonly string[], remote: string): Promise<Map<string, string | undefined>> {
    const patterns = names.flatMap((name) => [`refs/tags/${name}`, `refs/tags/${name}^{}`]);
    const listed = parseLsRemote((await this.run(['ls-remote', remote, ...patterns])).stdout);
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
