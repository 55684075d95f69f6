/**
 * A bare repository read and written through git plumbing, in the terms GitHub's Git Data API uses
 * (refs, commits, trees, blobs). The GitHub stand-in answers its REST endpoints from here, so what
 * the API writes is what a later `git fetch` sees.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Git } from '@toolkit/shared';

export interface GitIdentity {
  name: string;
  email: string;
  /** ISO 8601 in UTC, as GitHub writes it: 2024-05-01T12:00:00Z. */
  date: string;
}

export interface CommitObject {
  sha: string;
  tree: string;
  parents: string[];
  author: GitIdentity;
  committer: GitIdentity;
  message: string;
}

export type ObjectType = 'blob' | 'tree' | 'commit' | 'tag';

export interface TreeEntry {
  mode: string;
  type: ObjectType;
  sha: string;
  path: string;
  /** Blobs only. */
  size?: number;
}

/** One entry of `POST /git/trees`: a blob by content or sha, a tree or submodule by sha, or null to delete. */
export interface TreeChange {
  path: string;
  mode: string;
  type: ObjectType;
  sha?: string | null;
  content?: string;
}

export interface RefTarget {
  /** The full name: refs/heads/main. */
  ref: string;
  sha: string;
  type: ObjectType;
}

/** A request naming an object that does not exist or a value git refuses; the API answers 422. */
export class GitDataError extends Error {}

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const TREE_MODES: Record<string, ObjectType> = {
  '100644': 'blob',
  '100755': 'blob',
  '120000': 'blob',
  '040000': 'tree',
  '160000': 'commit',
};

export function isObjectId(text: string): boolean {
  return OBJECT_ID.test(text);
}

export class BareRepository {
  constructor(
    readonly dir: string,
    /** Where temporary index files go. */
    private readonly scratch: string,
  ) {}

  /** `git <args>` on the repository; stdout as bytes, since blobs need not be text. */
  private async git(
    args: readonly string[],
    options: { input?: string | Buffer; env?: Record<string, string>; allowFailure?: boolean } = {},
  ): Promise<{ exitCode: number; stdout: Buffer; stderr: string }> {
    const chunks: Buffer[] = [];
    const git = new Git({ cwd: this.dir, env: { GIT_DIR: this.dir, GIT_LITERAL_PATHSPECS: '1', ...options.env } });
    const result = await git.run(args, {
      input: options.input,
      allowFailure: options.allowFailure,
      onStdout: (chunk) => chunks.push(chunk),
    });
    return { exitCode: result.exitCode, stdout: Buffer.concat(chunks), stderr: result.stderr };
  }

  private async text(args: readonly string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<string> {
    return (await this.git(args, options)).stdout.toString('utf8').replace(/\n$/, '');
  }

  /** The branch HEAD names (`main`), or undefined when HEAD is detached. */
  async defaultBranch(): Promise<string | undefined> {
    const head = await this.git(['symbolic-ref', '--quiet', 'HEAD'], { allowFailure: true });
    const ref = head.stdout.toString('utf8').trim();
    return head.exitCode === 0 && ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
  }

  async objectType(sha: string): Promise<ObjectType | undefined> {
    if (!isObjectId(sha)) return undefined;
    const found = await this.git(['cat-file', '-t', sha], { allowFailure: true });
    return found.exitCode === 0 ? (found.stdout.toString('utf8').trim() as ObjectType) : undefined;
  }

  /** The commit a branch, tag, full ref or object id names (tags peeled), or undefined. */
  async resolveCommit(revision: string): Promise<string | undefined> {
    if (!revision || revision.startsWith('-') || /[\0-\x20\x7f]/.test(revision)) return undefined;
    const found = await this.git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], { allowFailure: true });
    return found.exitCode === 0 ? found.stdout.toString('utf8').trim() : undefined;
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    return (await this.git(['merge-base', '--is-ancestor', ancestor, descendant], { allowFailure: true })).exitCode === 0;
  }

  /** Whether git accepts `ref` (a full name: refs/heads/x) as a reference name. */
  async isValidRefName(ref: string): Promise<boolean> {
    if (!ref.startsWith('refs/') || ref.split('/').length < 3) return false;
    return (await this.git(['check-ref-format', ref], { allowFailure: true })).exitCode === 0;
  }

  /** Every ref, or those below `prefix` (whole path components: refs/heads matches refs/heads/main). */
  async listRefs(prefix = 'refs/'): Promise<RefTarget[]> {
    const listed = await this.text(['for-each-ref', '--format=%(objectname) %(objecttype) %(refname)', prefix]);
    return listed
      .split('\n')
      .map((line) => line.split(' '))
      .filter((fields) => fields.length === 3)
      .map(([sha, type, ref]) => ({ ref: ref as string, sha: sha as string, type: type as ObjectType }));
  }

  async ref(ref: string): Promise<RefTarget | undefined> {
    if (!ref.startsWith('refs/')) return undefined;
    return (await this.listRefs(ref)).find((target) => target.ref === ref);
  }

  /** Moves (or creates, when `expected` is '') `ref` to `sha` if it is still at `expected`; false when it moved. */
  async updateRef(ref: string, sha: string, expected: string): Promise<boolean> {
    return (await this.git(['update-ref', ref, sha, expected], { allowFailure: true })).exitCode === 0;
  }

  async deleteRef(ref: string, expected: string): Promise<boolean> {
    return (await this.git(['update-ref', '-d', ref, expected], { allowFailure: true })).exitCode === 0;
  }

  async commit(sha: string): Promise<CommitObject | undefined> {
    if ((await this.objectType(sha)) !== 'commit') return undefined;
    return parseCommit(sha, (await this.git(['cat-file', 'commit', sha])).stdout.toString('utf8'));
  }

  /** A new commit object; identities without a date are dated now. */
  async createCommit(options: {
    tree: string;
    parents: string[];
    message: string;
    author: Omit<GitIdentity, 'date'> & { date?: string };
    committer: Omit<GitIdentity, 'date'> & { date?: string };
  }): Promise<string> {
    if ((await this.objectType(options.tree)) !== 'tree') throw new GitDataError(`Tree SHA does not exist: ${options.tree}`);
    for (const parent of options.parents)
      if ((await this.objectType(parent)) !== 'commit')
        throw new GitDataError(`Parent SHA does not exist or is not a commit object: ${parent}`);
    const env: Record<string, string> = {
      GIT_AUTHOR_NAME: options.author.name,
      GIT_AUTHOR_EMAIL: options.author.email,
      GIT_COMMITTER_NAME: options.committer.name,
      GIT_COMMITTER_EMAIL: options.committer.email,
    };
    if (options.author.date) env.GIT_AUTHOR_DATE = options.author.date;
    if (options.committer.date) env.GIT_COMMITTER_DATE = options.committer.date;
    const args = ['commit-tree', options.tree, ...options.parents.flatMap((parent) => ['-p', parent]), '-F', '-'];
    const created = await this.git(args, { input: options.message, env, allowFailure: true });
    if (created.exitCode !== 0) throw new GitDataError(`git could not write the commit: ${created.stderr.trim()}`);
    return created.stdout.toString('utf8').trim();
  }

  async writeBlob(data: Buffer): Promise<string> {
    return this.text(['hash-object', '-w', '--stdin'], { input: data });
  }

  async readBlob(sha: string): Promise<Buffer> {
    return (await this.git(['cat-file', 'blob', sha])).stdout;
  }

  /** The entries of a tree: its top level, or every blob and tree below it. */
  async listTree(tree: string, recursive: boolean): Promise<TreeEntry[]> {
    const listed = await this.git(['ls-tree', '-z', '-l', ...(recursive ? ['-r', '-t'] : []), tree]);
    return parseLsTree(listed.stdout.toString('utf8'));
  }

  /** What `filePath` is in a commit ('' is its root tree), or undefined. */
  async entryAt(commit: string, filePath: string): Promise<TreeEntry | undefined> {
    const wanted = filePath.replace(/^\/+|\/+$/g, '');
    if (!wanted) return { mode: '040000', type: 'tree', sha: await this.text(['rev-parse', `${commit}^{tree}`]), path: '' };
    const listed = await this.git(['ls-tree', '-z', '-l', commit, '--', wanted]);
    return parseLsTree(listed.stdout.toString('utf8')).find((entry) => entry.path === wanted);
  }

  /**
   * A tree: `baseTree` (or none) with the changes applied in order, as `POST /git/trees` does.
   * The result is built in a temporary index: every blob path listed, then written at once.
   */
  async createTree(baseTree: string | undefined, changes: readonly TreeChange[]): Promise<string> {
    const entries = new Map<string, { mode: string; sha: string }>();
    if (baseTree) {
      if ((await this.objectType(baseTree)) !== 'tree') throw new GitDataError(`base_tree ${baseTree} is not a tree.`);
      for (const entry of await this.listTree(baseTree, true)) if (entry.type !== 'tree') entries.set(entry.path, entry);
    }
    for (const change of changes) await this.applyChange(entries, change);
    const index = path.join(this.scratch, `index-${randomUUID()}`);
    try {
      const env = { GIT_INDEX_FILE: index };
      await this.git(['read-tree', '--empty'], { env });
      const lines = [...entries].map(([entryPath, entry]) => `${entry.mode} ${entry.sha}\t${entryPath}\0`);
      await this.git(['update-index', '-z', '--index-info'], { input: lines.join(''), env });
      return await this.text(['write-tree'], { env });
    } finally {
      await rm(index, { force: true });
    }
  }

  private async applyChange(entries: Map<string, { mode: string; sha: string }>, change: TreeChange): Promise<void> {
    const where = change.path;
    if (!where || where.split('/').some((part) => part === '' || part === '.' || part === '..' || part === '.git'))
      throw new GitDataError(`tree.path ${JSON.stringify(where)} contains a malformed path component.`);
    const type = TREE_MODES[change.mode];
    if (!type) throw new GitDataError(`tree.mode ${JSON.stringify(change.mode)} is not one of ${Object.keys(TREE_MODES).join(', ')}.`);
    if (change.type !== type)
      throw new GitDataError(`tree.type ${JSON.stringify(change.type)} does not go with mode ${change.mode} (${type}).`);
    // What `where` replaces: the entry itself, whatever was below it, and a file where a parent directory now goes.
    for (const existing of [...entries.keys()])
      if (existing === where || existing.startsWith(`${where}/`) || where.startsWith(`${existing}/`)) entries.delete(existing);
    if (change.sha === null) return;
    let sha: string;
    if (change.content !== undefined) {
      if (type !== 'blob') throw new GitDataError(`tree.content is only for blobs, not for ${where} (${type}).`);
      sha = await this.writeBlob(Buffer.from(change.content, 'utf8'));
    } else if (change.sha) {
      sha = change.sha;
      // A submodule's commit lives in another repository; GitHub does not look for it either.
      if (type !== 'commit' && (await this.objectType(sha)) !== type) throw new GitDataError(`tree.sha ${sha} is not a valid ${type}.`);
    } else {
      throw new GitDataError(`tree entry ${where} needs either "content" or "sha".`);
    }
    if (type !== 'tree') {
      entries.set(where, { mode: change.mode, sha });
      return;
    }
    for (const entry of await this.listTree(sha, true)) if (entry.type !== 'tree') entries.set(`${where}/${entry.path}`, entry);
  }
}

function parseLsTree(stdout: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of stdout.split('\0')) {
    const tab = record.indexOf('\t');
    if (tab < 0) continue;
    const [mode, type, sha, size] = record.slice(0, tab).split(/ +/);
    if (!mode || !type || !sha) continue;
    const entry: TreeEntry = { mode, type: type as ObjectType, sha, path: record.slice(tab + 1) };
    if (size && size !== '-') entry.size = Number.parseInt(size, 10);
    entries.push(entry);
  }
  return entries;
}

function parseCommit(sha: string, raw: string): CommitObject {
  const end = raw.indexOf('\n\n');
  const headers = (end < 0 ? raw : raw.slice(0, end)).split('\n');
  const commit: CommitObject = {
    sha,
    tree: '',
    parents: [],
    author: { name: '', email: '', date: '' },
    committer: { name: '', email: '', date: '' },
    // GitHub shows the message without the newline git ends it with.
    message: end < 0 ? '' : raw.slice(end + 2).replace(/\n$/, ''),
  };
  for (const header of headers) {
    const space = header.indexOf(' ');
    const [name, value] = [header.slice(0, space), header.slice(space + 1)];
    if (name === 'tree') commit.tree = value;
    else if (name === 'parent') commit.parents.push(value);
    else if (name === 'author') commit.author = parseIdentity(value);
    else if (name === 'committer') commit.committer = parseIdentity(value);
  }
  return commit;
}

/** `Name <email> 1714564800 +0200` as GitHub shows it: the instant in UTC. */
function parseIdentity(line: string): GitIdentity {
  const match = /^(.*?) ?<([^>]*)> (\d+) [+-]\d{4}$/.exec(line);
  if (!match) return { name: line, email: '', date: '' };
  const date = new Date(Number(match[3]) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { name: match[1] as string, email: match[2] as string, date };
}
