import { UserError } from '@toolkit/shared';
import { imagesOf } from './containers.js';
import type { Deployment } from './deployment.js';
import {
  type ReleaseEntry,
  type ReleaseHistory,
  endRollback,
  entryByDir,
  markDeployed,
  markFailed,
  markRolledBack,
  unfinishedAttempt,
} from './history.js';

/**
 * What a run killed part-way left on the server, put right before anything else is done. The
 * history says which attempt was under way and how far it got:
 *
 *   upload, pull    nothing running had changed: the attempt's folder is removed.
 *   up, health, rollback
 *                   its containers may be serving while current names the release before it: that
 *                   release is started again from its own folder and must pass the gate; for a
 *                   first release, the project's containers are taken away.
 *   switch          its gate had passed: if current already names it, it is deployed; if not, as above.
 *
 * Stray containers (compose v1 renames the old one while recreating) are removed in each case.
 */
export async function recoverUnfinished(d: Deployment, history: ReleaseHistory): Promise<{ history: ReleaseHistory; recovered?: string }> {
  if (history.rollingBack) return recoverRollback(d, history, history.rollingBack);
  const attempt = unfinishedAttempt(history);
  if (!attempt) return { history };
  const at = () => new Date(d.now()).toISOString();
  const phase = attempt.phase ?? 'upload';
  const found = `Release ${attempt.release} was left unfinished by ${attempt.run}: its run stopped during ${phase}.`;

  if (phase === 'switch' && (await d.currentLink()) === attempt.dir) {
    const services = await d.inspect();
    const images = imagesOf(services);
    const recovered = `${found} Its gate had passed and current names it, so it is recorded as deployed.`;
    d.deps.warn(recovered);
    return { history: await d.saveHistory(markDeployed(history, attempt.dir, images, at())), recovered };
  }

  let outcome: string;
  if (phase === 'upload' || phase === 'pull') {
    outcome = 'Nothing running had changed; its folder is removed.';
  } else {
    // A restore that fails does not block every later deploy: this one goes ahead and replaces what runs.
    outcome = await restore(d, history, attempt).catch((error: Error) => `${error.message} This deploy goes ahead and replaces what runs.`);
  }
  await d.removeReleaseDirs([attempt.dir]);
  const recovered = `${found} ${outcome}`;
  d.deps.warn(recovered);
  return { history: await d.saveHistory(markFailed(history, attempt.dir, `interrupted during ${phase}`, at())), recovered };
}

/**
 * A killed `operation: rollback`: if current had already moved to its target, the rollback is
 * finished in the history; if not, the release it was leaving is started again.
 */
async function recoverRollback(
  d: Deployment,
  history: ReleaseHistory,
  rollingBack: NonNullable<ReleaseHistory['rollingBack']>,
): Promise<{ history: ReleaseHistory; recovered: string }> {
  const at = new Date(d.now()).toISOString();
  const found = `A rollback to ${rollingBack.target} was left unfinished by ${rollingBack.run}.`;
  if ((await d.currentLink()) === rollingBack.target) {
    const recovered = `${found} current already named it, so the rollback is recorded as done.`;
    d.deps.warn(recovered);
    return { history: await d.saveHistory(markRolledBack(history, rollingBack.from, rollingBack.target, at)), recovered };
  }
  let outcome = 'Nothing had been deployed before it; nothing is restored.';
  if (rollingBack.from && entryByDir(history, rollingBack.from)) {
    const problem = await d.phase('restore', () => d.startAndCheck(rollingBack.from));
    outcome = problem
      ? `Starting ${rollingBack.from} again failed (${problem}); this run goes ahead and replaces what runs.`
      : `${rollingBack.from} was started again from its folder and passed the gate.`;
  }
  const recovered = `${found} ${outcome}`;
  d.deps.warn(recovered);
  return { history: await d.saveHistory(endRollback(history)), recovered };
}

/** Brings back the release that served before `attempt`, or takes a first release's containers away. */
async function restore(d: Deployment, history: ReleaseHistory, attempt: ReleaseEntry): Promise<string> {
  const target = attempt.restore ? entryByDir(history, attempt.restore) : undefined;
  if (!target) {
    await d.removeProjectContainers();
    return 'It was the first release here, so its containers were removed; nothing is deployed.';
  }
  d.deps.log(`Restoring ${target.release} (releases/${target.dir}) before anything else.`);
  const problem = await d.phase('restore', () => d.startAndCheck(target.dir));
  if (problem) {
    throw new UserError(
      'REFUSED',
      `${attempt.release} was left unfinished by a killed run, and restoring ${target.release} failed: ${problem}\nNothing else was done; the history still names ${attempt.release} as unfinished.`,
    );
  }
  if ((await d.currentLink()) !== target.dir) await d.makeCurrent(target.dir);
  return `${target.release} was started again from its folder, passed the gate, and current names it.`;
}

/**
 * A cancelled run (SIGINT/SIGTERM, with seconds to spare): the release being started is replaced by
 * the one it would have replaced, without the gate (there is no time for it). Whatever is not done
 * in time, the next deploy finishes from the history.
 */
export async function restoreAfterCancel(d: Deployment): Promise<void> {
  const starting = d.starting;
  if (!starting) return;
  if (starting.restore) {
    d.deps.warn(`Cancelled while starting ${starting.dir}: starting ${starting.restore} again (current still points at it).`);
    await d.composeRun(starting.restore, ['up', '-d', '--remove-orphans', '--no-build'], true);
    await d.removeStrays(true);
  } else {
    d.deps.warn(`Cancelled while starting ${starting.dir}, the first release here: removing its containers.`);
    await d.removeProjectContainers(true);
  }
  const history = await d.readHistory();
  if (history.rollingBack) await d.saveHistory(endRollback(history), true);
  if (entryByDir(history, starting.dir)?.state === 'deploying') {
    await d.saveHistory(markFailed(history, starting.dir, 'cancelled', new Date(d.now()).toISOString()), true);
    await d.removeReleaseDirs([starting.dir], true);
  }
}
