import { UserError } from '@toolkit/shared';
import type { RemoteHost } from './ssh.js';

/** What `remote-dir/.lock` holds: who deploys, so that a waiting run can say so, and when it last said it still does. */
export interface LockOwner {
  runUrl: string;
  pid: number;
  startedAt: string;
  id: string;
}

interface LockContent extends LockOwner {
  renewedAt: string;
}

export interface LockOptions {
  path: string;
  owner: LockOwner;
  /** How long to wait for a held lock before failing, counted from when the wait begins. */
  timeoutMs: number;
  /** A lock not renewed for this long is taken to be abandoned (its run was killed) and is taken over. */
  ttlMs: number;
  log: (message: string) => void;
  warn: (message: string) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface HeldLock {
  owner: LockOwner;
  /** Throws if the lock was lost (taken over, or its renewal failed): nothing more may be changed. */
  assertHeld(): void;
  release(): Promise<void>;
}

/** How often the holder renews: often enough that a takeover needs several missed renewals in a row. */
export function renewInterval(ttlMs: number): number {
  return Math.min(10_000, Math.max(200, Math.floor(ttlMs / 5)));
}

function describe(owner: Partial<LockContent> | undefined, raw: string): string {
  if (!owner) return `an unreadable lock (${JSON.stringify(raw.slice(0, 200))})`;
  return `${owner.runUrl || 'a run with no URL'} (pid ${owner.pid}, since ${owner.startedAt})`;
}

function parseOwner(raw: string): LockContent | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockContent>;
    if (typeof value.startedAt === 'string' && typeof value.id === 'string') return value as LockContent;
  } catch {
    // An unreadable lock is still a lock.
  }
  return undefined;
}

/**
 * The holder's side: renews the lock every `renewInterval(ttl)` by rewriting it whole (an atomic
 * rename, so a reader never sees half a file), after checking it is still its own.
 */
function holdLock(host: RemoteHost, options: LockOptions, now: () => number): HeldLock {
  let lost: string | undefined;
  let released = false;
  let renewing: Promise<void> = Promise.resolve();
  const content = () => `${JSON.stringify({ ...options.owner, renewedAt: new Date(now()).toISOString() } satisfies LockContent)}\n`;
  const renew = async () => {
    const current = parseOwner((await host.readFile(options.path)) ?? '');
    if (current?.id !== options.owner.id) {
      lost = `the deploy lock ${options.path} was taken over by ${describe(current, '')}`;
      return;
    }
    await host.writeFileAtomic(options.path, content(), 0o644);
  };
  let inFlight = false;
  const timer = setInterval(() => {
    // One renewal at a time: a slow one must not be overtaken by the next, nor outlive release().
    if (lost || released || inFlight) return;
    inFlight = true;
    renewing = renew()
      .catch((error: Error) => {
        lost = `renewing the deploy lock failed: ${error.message}`;
      })
      .finally(() => {
        inFlight = false;
      });
  }, renewInterval(options.ttlMs));
  timer.unref();
  return {
    owner: options.owner,
    assertHeld: () => {
      if (lost) throw new UserError('REFUSED', `Stopped before changing anything more: ${lost}.`);
    },
    release: async () => {
      if (released) return;
      released = true;
      lost ??= 'the deploy lock was released (the run is ending)';
      clearInterval(timer);
      await renewing;
      // Only our own lock is removed: a lock taken over from us is left to its new holder.
      const current = parseOwner((await host.readFile(options.path)) ?? '');
      if (current?.id === options.owner.id) await host.remove(options.path);
    },
  };
}

/**
 * Takes the deploy lock: a file created with O_EXCL over SFTP, so of two runs exactly one creates
 * it. A held lock is waited for up to `timeoutMs` from when the wait begins. It is taken over only
 * once this run has watched it go unrenewed for `ttlMs`: judged by this run's own clock and what it
 * saw, never by comparing clocks of two machines, so a live holder (which renews) is never robbed.
 * The takeover is a rename (atomic: of two runs taking over, one wins), then the take is retried.
 */
export async function acquireLock(host: RemoteHost, options: LockOptions): Promise<HeldLock> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const waitStarted = now();
  let announced = false;
  let seen: { raw: string; since: number } | undefined;
  const poll = Math.min(1000, renewInterval(options.ttlMs));
  for (;;) {
    const first = `${JSON.stringify({ ...options.owner, renewedAt: new Date(now()).toISOString() } satisfies LockContent)}\n`;
    if (await host.createExclusive(options.path, first, 0o644)) return holdLock(host, options, now);
    const raw = (await host.readFile(options.path)) ?? '';
    if (raw === '' && (await host.mtime(options.path)) === undefined) continue; // released between the two calls
    if (seen?.raw !== raw) seen = { raw, since: now() };
    const owner = parseOwner(raw);
    const unrenewed = now() - seen.since;
    if (unrenewed >= options.ttlMs) {
      const aside = `${options.path}.stale-${options.owner.id}`;
      if (await host.rename(options.path, aside)) {
        const moved = (await host.readFile(aside)) ?? '';
        if (moved === raw) {
          options.warn(
            `Took over the deploy lock held by ${describe(owner, raw)}: it was not renewed for ${Math.round(unrenewed / 1000)}s, past lock-ttl (${Math.round(options.ttlMs / 1000)}s), so its run is taken to be gone.`,
          );
          await host.remove(aside);
        } else {
          // Another run took it over and locked between our read and our rename: put its lock back.
          await host.rename(aside, options.path);
        }
      }
      seen = undefined;
      continue;
    }
    if (now() - waitStarted >= options.timeoutMs) {
      throw new UserError(
        'REFUSED',
        `The deploy lock ${options.path} is held by ${describe(owner, raw)}; gave up after waiting lock-timeout (${Math.round(options.timeoutMs / 1000)}s). ` +
          `Its holder renews it while it works; a lock left unrenewed for lock-ttl (${Math.round(options.ttlMs / 1000)}s) is taken over.`,
      );
    }
    if (!announced) {
      options.log(`Waiting for the deploy lock, held by ${describe(owner, raw)}…`);
      announced = true;
    }
    await sleep(Math.min(poll, Math.max(50, options.timeoutMs - (now() - waitStarted))));
  }
}
