/**
 * The real parts a rehearsal can use where this machine has them: docker-registry, a dockerd of
 * its own (no iptables, no bridge, its data in a temporary folder) with a busybox base image, and
 * sshd whose sessions use that dockerd, as a compose host. Each that cannot start is named, with
 * why, and the rehearsal uses its stand-in (or skips the deploy) instead.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { type DockerDaemon, pushBusyboxImage, startDockerd } from './dockerd.js';
import { type DockerRegistry, startDockerRegistry } from './registry.js';
import { type SshServer, startSshServer } from './sshd.js';

export interface LocalParts {
  registry?: DockerRegistry;
  daemon?: DockerDaemon;
  /** A compose host: sshd on 127.0.0.1 whose sessions talk to `daemon`. */
  ssh?: SshServer;
  /** What could not be used, and why: "dockerd: needs root". */
  missing: string[];
  close(): Promise<void>;
}

function reason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/**
 * Starts what it can, under `dir` (removed by close). `FROM busybox` builds use the image made from
 * busybox-static, since nothing can be pulled here.
 */
export async function startLocalParts(dir: string): Promise<LocalParts> {
  await mkdir(dir, { recursive: true });
  const missing: string[] = [];
  const parts: Omit<LocalParts, 'close' | 'missing'> = {};
  try {
    parts.registry = await startDockerRegistry(path.join(dir, 'registry'));
  } catch (error) {
    missing.push(`docker-registry: ${reason(error)}`);
  }
  if (process.getuid?.() !== 0) missing.push('dockerd and sshd: they need root here');
  else if (parts.registry) {
    try {
      const daemon = await startDockerd(path.join(dir, 'docker'));
      parts.daemon = daemon;
      const base = await pushBusyboxImage(daemon, dir, `${parts.registry.address}/busybox:base`, 'base');
      await daemon.docker(['tag', base.reference, 'busybox:latest']);
      parts.ssh = await startSshServer(path.join(dir, 'sshd'), { env: { DOCKER_HOST: daemon.host } });
    } catch (error) {
      missing.push(`${parts.daemon ? 'sshd or the busybox base image' : 'dockerd'}: ${reason(error)}`);
    }
  } else missing.push('dockerd and sshd: a registry is needed for the images they run');
  return {
    ...parts,
    missing,
    async close() {
      await parts.ssh?.close();
      await parts.daemon?.close();
      await parts.registry?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
