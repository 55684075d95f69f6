import { UserError } from '@toolkit/shared';
import type { Deployment } from './deployment.js';
import { attemptDir, currentEntry, releasesBeyondKeep, rollbackTarget, unfinishedAttempt } from './history.js';
import { DeployFailedError, OVERRIDE_FILE, type DeployResult, type VerifiedImage } from './types.js';

/**
 * `operation: plan`: connects, reads the server's state and says what a deploy would do, the
 * signatures checked and the refusals of the compose files included. It writes nothing and takes no
 * lock. When a deploy would be refused, plan fails too, after saying everything: a workflow runs it
 * before recording a release, so that nothing is recorded that cannot be deployed.
 */
export async function plan(d: Deployment): Promise<DeployResult> {
  const { request, host } = d;
  const { release, project, images, env, registry, health, timeoutMs, keepReleases } = request;
  const compose = await d.composeCli();
  const docker = await host.run(['docker', 'version', '--format', '{{.Server.Version}}']);
  await d.composeVersion();
  const history = await d.readHistory();
  const current = currentEntry(history);
  const unfinished = unfinishedAttempt(history);
  const lockHolder = await host.readFile(`${d.root}/.lock`);
  const dir = attemptDir(release, [
    ...(await host.list(d.releases)).map((entry) => entry.name),
    ...history.releases.map((entry) => entry.dir),
  ]);
  // What keep-releases would let go once this release is deployed and the current one is its rollback target.
  const after = {
    ...history,
    current: dir,
    releases: [...history.releases, { release, dir, state: 'deployed' as const, images: {}, startedAt: '', run: '' }],
  };
  const wouldRemove = releasesBeyondKeep(after, keepReleases).map((entry) => entry.release);
  const check = request.check ?? { refusals: [], notes: [] };
  const refusals = [...check.refusals];
  let verified: VerifiedImage[] | undefined;
  if (d.deps.verifyImages) {
    try {
      verified = await d.phase('verify', () => d.deps.verifyImages?.(images) ?? Promise.resolve([]));
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      refusals.push(error.message);
    }
  }
  const files = [...request.composeFiles.map((file) => file.name), ...(Object.keys(images).length > 0 ? [OVERRIDE_FILE] : [])];
  const extras = request.files ?? [];
  const gate =
    health.kind === 'url'
      ? `${health.url} to answer`
      : health.kind === 'none'
        ? 'nothing (health: none)'
        : `every service to be healthy (healthcheck) or running without a restart for settle-time (${Math.round((request.settleMs ?? 10_000) / 1000)}s)`;
  const steps = [
    `Connected to ${host.name}; host key ${host.fingerprint} verified.`,
    `Docker ${docker.stdout.trim()} with ${compose.command.join(' ')} ${compose.version}.`,
    lockHolder ? `The deploy lock is held now: ${lockHolder.trim()}` : 'The deploy lock is free.',
    ...(unfinished
      ? [
          `Release ${unfinished.release} was left unfinished (during ${unfinished.phase}): the deploy first restores ${unfinished.restore || 'nothing (it was the first)'}.`,
        ]
      : []),
    `Current release: ${current ? `${current.release} (deployed ${current.deployedAt ?? 'earlier'})` : 'none (this would be the first)'}.`,
    ...(verified ? [`Signatures verified: ${verified.map((image) => `${image.service} ${image.digest}`).join(', ')}.`] : []),
    ...refusals.map((refusal) => `Refused: ${refusal}`),
    ...(refusals.length > 0 ? ['A deploy would stop here, before uploading anything.'] : []),
    `Upload ${files.join(', ')}${extras.length > 0 ? `, ${extras.length} file(s) of the files input` : ''}${env ? ' and .env (mode 0600)' : ''} to ${d.dir(dir)}.`,
    ...Object.entries(images).map(([service, image]) => `Pin ${service} to ${image}.`),
    ...(request.check === undefined ? [] : check.notes),
    ...(registry
      ? [`Log in to ${registry.server} as ${registry.username} (password on stdin, in a DOCKER_CONFIG removed when the deploy ends).`]
      : []),
    `Pull, then ${compose.command.join(' ')} -p ${project} up -d --remove-orphans --no-build.`,
    `Wait up to ${Math.round(timeoutMs / 1000)}s for ${gate}.`,
    `Point current at releases/${dir}${current ? `; on failure bring ${current.release} back` : ''}.`,
    `Rollback target afterwards: ${current?.release ?? rollbackTarget(history)?.release ?? 'none'}.`,
    wouldRemove.length > 0 ? `Remove old releases: ${wouldRemove.join(', ')}.` : `Keep every release (keep-releases: ${keepReleases}).`,
  ];
  for (const line of steps.slice(1)) d.deps.log(line); // the first was said on connecting
  const result = d.result({
    release,
    previousRelease: current?.release ?? '',
    plan: steps,
    history: [...history.releases].reverse(),
    ...(verified ? { verified } : {}),
  });
  if (refusals.length > 0) throw new DeployFailedError(`A deploy of ${release} would be refused:\n- ${refusals.join('\n- ')}`, result);
  return result;
}
