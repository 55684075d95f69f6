import type { RemoteHost } from './ssh.js';

/**
 * The project's containers as docker sees them, and the health gate over them. Docker's own JSON
 * is read (`docker inspect` with no template), so a container without a healthcheck, whose State
 * has no Health key, reads the same as one with it on every docker version.
 */

export interface ContainerState {
  id: string;
  name: string;
  service: string;
  /** compose's container-number label: two containers with the same service and number are one too many. */
  number: string;
  status: string;
  /** '' when the container has no healthcheck. */
  health: string;
  exitCode: number;
  restartCount: number;
  startedAt: string;
  created: string;
  restartPolicy: string;
  image: string;
  digest: string;
  /** compose's version label: `docker-compose` is never run just to ask its version. */
  composeVersion: string;
}

interface InspectedContainer {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  RestartCount?: number;
  State: { Status: string; ExitCode: number; StartedAt: string; Health?: { Status: string } | null };
  Config: { Image: string; Labels: Record<string, string> | null };
  HostConfig?: { RestartPolicy?: { Name?: string } };
}

/** $1 the project filter; `$ids` are docker's own hex ids. One remote command: each costs a shell start-up. */
const INSPECT_SCRIPT = [
  'ids=$(docker ps -aq --no-trunc --filter "$1" --filter label=com.docker.compose.oneoff=False) || exit',
  '[ -n "$ids" ] || { echo "[]"; echo ---; exit 0; }',
  'docker inspect $ids || exit',
  'echo ---',
  'docker image inspect --format "{{.Id}} {{json .RepoDigests}}" $(docker inspect --format "{{.Image}}" $ids | sort -u)',
].join('\n');

export async function inspectProject(host: RemoteHost, project: string): Promise<ContainerState[]> {
  const { stdout } = await host.run(['sh', '-c', INSPECT_SCRIPT, 'sh', `label=com.docker.compose.project=${project}`]);
  const [containers = '[]', images = ''] = stdout.split('\n---\n');
  const repoDigests = new Map<string, string[]>();
  for (const line of images.split('\n').filter(Boolean)) {
    const at = line.indexOf(' ');
    repoDigests.set(line.slice(0, at), (JSON.parse(line.slice(at + 1)) as string[] | null) ?? []);
  }
  return (JSON.parse(containers) as InspectedContainer[])
    .map((container) => {
      const labels = container.Config.Labels ?? {};
      return {
        id: container.Id.slice(0, 12),
        name: container.Name.replace(/^\//, ''),
        service: labels['com.docker.compose.service'] ?? '',
        number: labels['com.docker.compose.container-number'] ?? '1',
        status: container.State.Status,
        health: container.State.Health?.Status ?? '',
        exitCode: container.State.ExitCode,
        restartCount: container.RestartCount ?? 0,
        startedAt: container.State.StartedAt,
        created: container.Created,
        restartPolicy: container.HostConfig?.RestartPolicy?.Name ?? '',
        image: container.Config.Image,
        digest: digestOf(container.Config.Image, repoDigests.get(container.Image) ?? []),
        composeVersion: labels['com.docker.compose.version'] ?? '',
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service) || a.number.localeCompare(b.number) || a.created.localeCompare(b.created));
}

function digestOf(image: string, repoDigests: string[]): string {
  const pinned = /@(sha256:[a-f0-9]{64})$/.exec(image);
  if (pinned) return pinned[1] as string;
  const name = image.replace(/:[^/:]+$/, '');
  const match = repoDigests.find((entry) => entry.startsWith(`${name}@`)) ?? repoDigests[0];
  return match ? match.slice(match.indexOf('@') + 1) : '';
}

/**
 * Containers beyond one per service and number: what compose v1 leaves when it is killed while
 * recreating (the old container renamed `<id>_<name>`), or a release killed mid-`up`. The one kept
 * is the running one, else the newest.
 */
export function strayContainers(containers: readonly ContainerState[]): ContainerState[] {
  const groups = new Map<string, ContainerState[]>();
  for (const container of containers) {
    const key = `${container.service}\n${container.number}`;
    groups.set(key, [...(groups.get(key) ?? []), container]);
  }
  return [...groups.values()].flatMap((group) => {
    if (group.length < 2) return [];
    const keep =
      group.find((container) => container.status === 'running') ?? [...group].sort((a, b) => b.created.localeCompare(a.created))[0];
    return group.filter((container) => container !== keep);
  });
}

export type Verdict = { kind: 'ready' } | { kind: 'waiting'; why: string } | { kind: 'failed'; why: string };

interface Watched {
  startedAt: string;
  restartCount: number;
  /** When the gate first saw it running (this run's clock). */
  runningSince?: number;
}

/**
 * The health gate, one observation at a time. A service is ready when it is healthy (with a
 * healthcheck), or running for `settleMs` without a restart (without one), or exited 0 (a one-shot).
 * It fails when it is unhealthy, exits non-zero, dies, or restarts while the gate watches.
 */
export class HealthGate {
  private readonly watched = new Map<string, Watched>();

  constructor(
    private readonly settleMs: number,
    private readonly now: () => number,
  ) {}

  verdict(container: ContainerState): Verdict {
    const at = this.now();
    const earlier = this.watched.get(container.id);
    if (!earlier) this.watched.set(container.id, { startedAt: container.startedAt, restartCount: container.restartCount });
    const watched = this.watched.get(container.id) as Watched;
    if (container.status === 'restarting' || container.restartCount > watched.restartCount || container.startedAt !== watched.startedAt) {
      return { kind: 'failed', why: `restarted (restart count ${container.restartCount}, last exit code ${container.exitCode})` };
    }
    if (container.status === 'exited') {
      return container.exitCode === 0 ? { kind: 'ready' } : { kind: 'failed', why: `exited ${container.exitCode}` };
    }
    if (container.status === 'dead' || container.status === 'removing') return { kind: 'failed', why: container.status };
    if (container.status !== 'running') return { kind: 'waiting', why: container.status };
    if (container.health === 'unhealthy') return { kind: 'failed', why: 'running, unhealthy' };
    if (container.health === 'healthy') return { kind: 'ready' };
    if (container.health !== '') return { kind: 'waiting', why: `running, ${container.health}` };
    watched.runningSince ??= at;
    const settled = at - watched.runningSince;
    return settled >= this.settleMs
      ? { kind: 'ready' }
      : { kind: 'waiting', why: `running for ${(settled / 1000).toFixed(1)}s of settle-time` };
  }
}

export function describeContainer(container: ContainerState, why?: string): string {
  const state =
    why ??
    (container.status === 'exited'
      ? `exited ${container.exitCode}`
      : container.health
        ? `${container.status}, ${container.health}`
        : container.status);
  return `${container.service} (${state})`;
}

/** What the history records of a release that passed its gate: each service's image and registry digest. */
export function imagesOf(containers: readonly ContainerState[]): Record<string, { image: string; digest: string }> {
  return Object.fromEntries(containers.map((container) => [container.service, { image: container.image, digest: container.digest }]));
}
