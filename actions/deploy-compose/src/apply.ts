import path from 'node:path/posix';
import { UserError } from '@toolkit/shared';
import { type ContainerState, imagesOf } from './containers.js';
import type { Deployment, ReleaseManifest } from './deployment.js';
import {
  type ReleaseHistory,
  attemptDir,
  currentEntry,
  forget,
  markDeployed,
  markFailed,
  markRolledBack,
  namedRelease,
  releasesBeyondKeep,
  rollbackTarget,
  endRollback,
  setPhase,
  startAttempt,
  startRollback,
  startableReleases,
} from './history.js';
import { recoverUnfinished, restoreAfterCancel } from './recover.js';
import { type DeployResult, DeployFailedError, ENV_FILE, MANIFEST_FILE, OVERRIDE_FILE } from './types.js';

/**
 * Deploy and rollback. A deploy goes: recover what a killed run left (recover.ts); a fresh folder
 * for the attempt, recorded in the history before anything is uploaded; upload; pull; up; the
 * health gate; then `current` and the history move together, and keep-releases is applied. A
 * failed gate brings back the release that served, from its own folder, and the attempt's folder
 * is removed once its logs are in the summary.
 */

/** The image-pinning override: compose merges it over the project's files, replacing only `image`. */
export function imagesOverride(images: Record<string, string>): string {
  const services = Object.entries(images)
    .map(([service, image]) => `  ${JSON.stringify(service)}:\n    image: ${JSON.stringify(image)}\n`)
    .join('');
  return `# Written by toolkit deploy-compose: pins each service's image by digest.\nservices:\n${services}`;
}

function newestFirst(history: ReleaseHistory) {
  return [...history.releases].reverse();
}

export async function deploy(d: Deployment): Promise<DeployResult> {
  const { request } = d;
  const verified = d.deps.verifyImages
    ? await d.phase('verify', () => d.deps.verifyImages?.(request.images) ?? Promise.resolve([]))
    : undefined;
  return d.withLock(
    async () => {
      // Logged in first: restoring an earlier release may have to pull its images too.
      await d.login();
      const start = await recoverUnfinished(d, await d.readHistory());
      let history = start.history;
      const previous = currentEntry(history);
      const at = () => new Date(d.now()).toISOString();
      const taken = [...(await d.host.list(d.releases)).map((entry) => entry.name), ...history.releases.map((entry) => entry.dir)];
      const dir = attemptDir(request.release, taken);
      history = await d.saveHistory(
        startAttempt(history, { release: request.release, dir, restore: previous?.dir ?? '', run: request.lock.owner.runUrl, at: at() }),
      );
      const base = {
        release: request.release,
        previousRelease: previous?.release ?? '',
        ...(start.recovered ? { recovered: start.recovered } : {}),
        ...(verified ? { verified } : {}),
      };

      /** Nothing running was touched: the attempt is recorded as failed and its folder removed. */
      const refuse = async (message: string): Promise<never> => {
        history = await d.saveHistory(markFailed(history, dir, message, at()));
        await d.removeReleaseDirs([dir]);
        throw new DeployFailedError(message, d.result({ ...base, history: newestFirst(history) }));
      };

      await d.phase('upload', () => upload(d, dir));
      await d.composeCli();
      history = await d.saveHistory(setPhase(history, dir, 'pull'));
      try {
        await d.phase('pull', () => pull(d, dir));
      } catch (error) {
        const invalid = await invalidConfig(d, dir);
        await refuse(
          invalid ??
            `Pulling the images of release ${request.release} failed; the running release${previous ? ` (${previous.release})` : ''} was not touched.\n${(error as Error).message}`,
        );
      }

      history = await d.saveHistory(setPhase(history, dir, 'up'));
      d.starting = { dir, restore: previous?.dir ?? '' };
      const failure = await d.startAndCheck(dir, async () => {
        history = await d.saveHistory(setPhase(history, dir, 'health'));
      });
      if (failure) {
        // Only a failed `up` may be the files' fault, and then compose changed nothing; a failed gate
        // came after `up` had replaced what runs, so it is always rolled back.
        const invalid = d.upFailed ? await invalidConfig(d, dir) : undefined;
        if (invalid) {
          d.starting = undefined;
          await refuse(invalid);
        }
        history = await d.saveHistory(setPhase(history, dir, 'rollback'));
        const outcome = await recoverFailedAttempt(d, dir, previous?.dir ?? '', failure);
        d.starting = undefined;
        history = await d.saveHistory(markFailed(history, dir, failure, at()));
        if (outcome.removeFolder) await d.removeReleaseDirs([dir]);
        throw new DeployFailedError(
          `Release ${request.release} failed on ${d.host.name}: ${failure}\n${outcome.message}`,
          d.result({
            ...base,
            rolledBack: outcome.rolledBack,
            services: outcome.services,
            history: newestFirst(history),
            failure: { message: failure, logs: outcome.logs },
          }),
        );
      }
      d.starting = undefined;

      history = await d.saveHistory(setPhase(history, dir, 'switch'));
      const services = await d.inspect();
      await d.phase('switch', async () => {
        await d.makeCurrent(dir);
        history = await d.saveHistory(markDeployed(history, dir, imagesOf(services), at()));
      });
      const removed = await d.phase('cleanup', async () => {
        const beyond = releasesBeyondKeep(history, request.keepReleases).map((entry) => entry.dir);
        // Folders no history entry keeps: failed attempts left running (rollback-on-failure: false), or strays.
        const startable = new Set(startableReleases(history).map((entry) => entry.dir));
        const orphans = (await d.host.list(d.releases))
          .filter((entry) => entry.isDirectory && !startable.has(entry.name))
          .map((entry) => entry.name);
        // Forgotten before removed: a kill in between leaves a folder for the next sweep, never an entry without one.
        history = await d.saveHistory(forget(history, beyond));
        await d.removeReleaseDirs([...beyond, ...orphans]);
        return beyond;
      });
      return d.result({ ...base, services, removedReleases: removed, history: newestFirst(history) });
    },
    () => restoreAfterCancel(d),
  );
}

async function upload(d: Deployment, dir: string): Promise<ReleaseManifest> {
  const { request, host } = d;
  const folder = d.dir(dir);
  await host.mkdir(folder);
  const files = request.composeFiles.map((file) => file.name);
  for (const file of request.composeFiles) await host.writeFile(path.join(folder, file.name), file.content, 0o644);
  if (Object.keys(request.images).length > 0) {
    await host.writeFile(path.join(folder, OVERRIDE_FILE), imagesOverride(request.images), 0o644);
    files.push(OVERRIDE_FILE);
  }
  for (const extra of request.files ?? []) {
    const target = path.join(folder, extra.path);
    await host.mkdir(path.dirname(target));
    await host.writeFile(target, extra.content, extra.mode);
  }
  const env = request.env !== '';
  if (env) await host.writeFile(path.join(folder, ENV_FILE), request.env, 0o600);
  const manifest: ReleaseManifest = { release: request.release, files, env, uploadedAt: new Date(d.now()).toISOString() };
  await host.writeFile(path.join(folder, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, 0o644);
  const extras = request.files?.length ?? 0;
  d.deps.log(
    `Uploaded ${files.length} compose file(s)${extras ? `, ${extras} file(s) of the files input` : ''}${env ? ' and .env (0600)' : ''} to ${folder}`,
  );
  return manifest;
}

/**
 * Pulls the release's images before anything running is touched. An image pinned by digest cannot
 * change, so when every service is pinned (by the images input, or by a literal digest in the
 * compose file itself) and all those images are on the server already, there is nothing to pull
 * (and docker-compose v1, slow to start, is not run for nothing).
 */
async function pull(d: Deployment, dir: string): Promise<void> {
  const { services = [], images, pinnedInFiles = {} } = d.request;
  // The images input's pin wins over the compose file's image, as its override file does.
  const pins = services.map((service) => images[service] ?? pinnedInFiles[service]);
  const pinned = services.length > 0 && pins.every((pin) => pin !== undefined);
  if (pinned) {
    const present = await d.host.run(['docker', 'image', 'inspect', '--format', '{{.Id}}', '--', ...new Set(pins as string[])], {
      check: false,
      env: d.dockerEnv(),
    });
    if (present.code === 0) {
      d.deps.log('Every service is pinned by digest to an image the server has: nothing to pull.');
      return;
    }
  }
  await d.composeRun(dir, ['pull', '--quiet']);
}

/**
 * Asked only once pull or up failed (so a good deploy pays nothing for it): whether compose on the
 * server rejects the files themselves, which is then the error to report.
 */
async function invalidConfig(d: Deployment, dir: string): Promise<string | undefined> {
  const args = await d.composeArgs(dir).catch(() => undefined);
  if (!args) return undefined;
  const checked = await d.host.run([...args, 'config', '--quiet'], { cwd: d.dir(dir), env: d.dockerEnv(), check: false });
  if (checked.code === 0) return undefined;
  // docker-compose v1's `config` wants every build context to exist, where `pull` and `up --no-build`
  // do not: a pinned build: service has none on the server. That, and warnings, are not what failed.
  const stderr = checked.stderr
    .split('\n')
    .filter(
      (line) =>
        line.trim() !== '' &&
        !/^WARNING:|variable is not set|^build path .* either does not exist, is not accessible, or is not a valid URL\.$/.test(line),
    )
    .join('\n');
  if (stderr === '') return undefined;
  return `The compose files of release ${d.request.release} are not valid for ${await d.composeVersion()} on ${d.host.name}; nothing running was touched.\n${stderr}`;
}

interface FailedAttempt {
  message: string;
  rolledBack: boolean;
  removeFolder: boolean;
  services: ContainerState[];
  logs: Awaited<ReturnType<Deployment['logsOf']>>;
}

/** The gate failed: capture what ran, then bring back `restore` (or take a first release down). */
async function recoverFailedAttempt(d: Deployment, dir: string, restore: string, reason: string): Promise<FailedAttempt> {
  const services = await d.inspect();
  const logs = await d.logsOf(services);
  if (!d.request.rollbackOnFailure) {
    return {
      message: 'rollback-on-failure is false, so it was left running; current still names the release before it.',
      rolledBack: false,
      removeFolder: false,
      services,
      logs,
    };
  }
  if (!restore) {
    await d.phase('rollback', () => d.composeRun(dir, ['down', '--remove-orphans']).catch(() => d.removeProjectContainers()));
    return { message: 'It was the first release here, so it was taken down.', rolledBack: false, removeFolder: true, services, logs };
  }
  const problem = await d.phase('rollback', () => d.startAndCheck(restore));
  if (problem) {
    throw new DeployFailedError(
      `Release ${d.request.release} failed: ${reason}\nRolling back to ${restore} failed too: ${problem}`,
      d.result({ release: d.request.release, previousRelease: restore, services, failure: { message: reason, logs } }),
    );
  }
  if ((await d.currentLink()) !== restore) await d.makeCurrent(restore);
  return { message: `Rolled back: ${restore} is running again and passed the gate.`, rolledBack: true, removeFolder: true, services, logs };
}

export async function rollback(d: Deployment): Promise<DeployResult> {
  const { request } = d;
  return d.withLock(
    async () => {
      await d.composeCli();
      await d.login();
      const start = await recoverUnfinished(d, await d.readHistory());
      let history = start.history;
      const from = currentEntry(history);
      const target = request.release ? namedRelease(history, request.release) : rollbackTarget(history);
      // Named, the current release may be asked for too: it is started again and must pass the gate.
      if (!target || (!request.release && target.dir === history.current)) {
        const startable = startableReleases(history).map((entry) => `${entry.release}${entry.dir === history.current ? ' (current)' : ''}`);
        throw new UserError(
          'NOT_FOUND',
          `${request.release ? `Release ${request.release} is not one to roll back to` : 'There is no earlier deployed release to roll back to'} on ${d.host.name} in ${d.root} (releases kept: ${startable.join(', ') || 'none'}).`,
        );
      }
      d.deps.log(`Rolling back ${request.project} from ${from?.release || 'nothing'} to ${target.release}`);
      const base = {
        release: target.release,
        previousRelease: from?.release ?? '',
        ...(start.recovered ? { recovered: start.recovered } : {}),
      };
      d.starting = { dir: target.dir, restore: from?.dir ?? '' };
      history = await d.saveHistory(startRollback(history, { target: target.dir, from: from?.dir ?? '', run: request.lock.owner.runUrl }));
      const problem = await d.startAndCheck(target.dir);
      d.starting = undefined;
      if (problem) {
        const services = await d.inspect();
        const logs = await d.logsOf(services);
        let outcome = '';
        if (from) {
          const back = await d.phase('restore', () => d.startAndCheck(from.dir));
          outcome = back ? `\nBringing ${from.release} back failed too: ${back}` : `\n${from.release} is running again.`;
        }
        history = await d.saveHistory(endRollback(history));
        throw new DeployFailedError(
          `Rolling back to ${target.release} failed on ${d.host.name}: ${problem}${outcome}`,
          d.result({ ...base, services, history: newestFirst(history), failure: { message: problem, logs } }),
        );
      }
      const services = await d.inspect();
      await d.phase('switch', async () => {
        await d.makeCurrent(target.dir);
        history = await d.saveHistory(markRolledBack(history, from?.dir ?? '', target.dir, new Date(d.now()).toISOString()));
      });
      return d.result({ ...base, rolledBack: true, services, history: newestFirst(history) });
    },
    () => restoreAfterCancel(d),
  );
}
