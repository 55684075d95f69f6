import { InputError, UserError } from '@toolkit/shared';
import { deploy, rollback } from './apply.js';
import { Deployment } from './deployment.js';
import { plan } from './plan.js';
import type { RemoteHost } from './ssh.js';
import type { DeployDependencies, DeployRequest, DeployResult } from './types.js';

export * from './types.js';

/**
 * The deploy of one Compose project to one host, over a `RemoteHost` (one SSH connection in the
 * action, the same in tests). Kamal's shape, done for Compose:
 *
 *   remote-dir/
 *     .lock                 who deploys now (O_EXCL), renewed while it does
 *     releases.json         the release history: deployed, failed, under way (history.ts)
 *     current -> releases/<dir>   moved only once a release passed its health gate
 *     releases/<dir>/       the compose files, the image-pinning override, .env (0600), the files input
 *     shared/               for data that outlives releases (bind mounts as ../../shared/...)
 *
 * Each operation lives in its own file: plan.ts (says what a deploy would do, writes nothing),
 * apply.ts (deploy and rollback), recover.ts (what a killed run left: restored before anything
 * else). deployment.ts holds what they share: the layout, compose, the gate, the history file.
 */

export async function runDeployment(host: RemoteHost, request: DeployRequest, deps: DeployDependencies): Promise<DeployResult> {
  if (request.keepReleases < 1) throw new InputError('keep-releases', `${request.keepReleases} is not allowed; at least 1.`);
  const refusals = request.check?.refusals ?? [];
  if (request.operation === 'deploy' && refusals.length > 0) {
    throw new UserError(
      'REFUSED',
      `Nothing was uploaded: the compose files cannot run as they are on the server.\n- ${refusals.join('\n- ')}`,
    );
  }
  const deployment = await Deployment.open(host, request, deps);
  if (request.operation === 'plan') return plan(deployment);
  if (request.operation === 'rollback') return rollback(deployment);
  return deploy(deployment);
}
