import { UserError } from '@toolkit/shared';
import type { RemoteHost } from './ssh.js';

/** What `remote-dir/.lock` holds: who deploys, so that a waiting run can say so. */
export interface LockOwner {
  runUrl: string;
  pid: number;
  startedAt: string;
  id: string;
}

export interface LockOptions {
  path: string;
  owner: LockOwner;
  /** How long to wait for a held lock before failing. */
  timeoutMs: number;
  /** A lock older than this is taken to be abandoned (its run was killed) and is taken over. */
  ttlMs: number;
  log: (message: string) => void;
  warn: (message: string) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface HeldLock {
  owner: LockOwner;
  release(): Promise<void>;
}

function describe(owner: LockOwner | undefined, raw: string): string {
  if (!owner) return `an unreadable lock (${JSON.stringify(raw.slice(0, 200))})`;
  return `${owner.runUrl || 'a run with no URL'} (pid ${owner.pid}, since ${owner.startedAt})`;
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof value.startedAt === 'string' && typeof value.id === 'string') return value as LockOwner;
  } catch {
    // An unreadable lock is still a lock; its age is judged from the file's mtime.
  }
  return undefined;
}

/**
 * Takes the deploy lock: a file created with O_EXCL over SFTP, so of two runs exactly one creates
 * it. A held lock is waited for up to `timeoutMs`; one older than `ttlMs` is moved aside with a
 * rename (atomic: of two runs taking over, one wins) and the take is retried.
 */
export async function acquireLock(host: RemoteHost, options: LockOptions): Promise<HeldLock> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const started = now();
  let announced = false;
  for (;;) {
    if (await host.createExclusive(options.path, `${JSON.stringify(options.owner)}\n`, 0o644)) {
      let released = false;
      return {
        owner: options.owner,
        release: async () => {
          if (released) return;
          released = true;
          // Only our own lock is removed: a lock taken over from us (we overran lock-ttl) is left.
          const current = parseOwner((await host.readFile(options.path)) ?? '');
          if (current?.id === options.owner.id) await host.remove(options.path);
        },
      };
    }
    const raw = (await host.readFile(options.path)) ?? '';
    if (raw === '') {
      // Removed between our create and our read, or still being written: look again at once.
      const age = await host.mtime(options.path);
      if (age === undefined) continue;
    }
    const owner = parseOwner(raw);
    const since = owner ? Date.parse(owner.startedAt) : ((await host.mtime(options.path)) ?? 0) * 1000;
    const age = now() - since;
    if (age > options.ttlMs) {
      const aside = `${options.path}.stale-${options.owner.id}`;
      if (await host.rename(options.path, aside)) {
        const moved = (await host.readFile(aside)) ?? '';
        if (moved === raw) {
          options.warn(
            `Took over the deploy lock held by ${describe(owner, raw)}: it is ${Math.round(age / 1000)}s old, past lock-ttl (${Math.round(options.ttlMs / 1000)}s), so its run is taken to be gone.`,
          );
          await host.remove(aside);
        } else {
          // Another run took it over and locked between our read and our rename: put its lock back.
          await host.rename(aside, options.path);
        }
      }
      continue;
    }
    if (now() - started >= options.timeoutMs) {
      throw new UserError(
        'REFUSED',
        `The deploy lock ${options.path} is held by ${describe(owner, raw)}; gave up after waiting lock-timeout (${Math.round(options.timeoutMs / 1000)}s). ` +
          `If that run is gone, the lock is taken over once it is older than lock-ttl, or remove the file by hand.`,
      );
    }
    if (!announced) {
      options.log(`Waiting for the deploy lock, held by ${describe(owner, raw)}…`);
      announced = true;
    }
    await sleep(Math.min(1000, Math.max(50, options.timeoutMs - (now() - started))));
  }
}
