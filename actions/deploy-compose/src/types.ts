import { UserError } from '@toolkit/shared';
import type { ComposeFile, ProjectCheck } from './compose-project.js';
import type { ContainerState } from './containers.js';
import type { ReleaseEntry } from './history.js';
import type { LockOwner } from './lock.js';

/** What a deploy is asked, and what it answers: shared by plan, apply and recover. */

export type Operation = 'deploy' | 'rollback' | 'plan';
export type HealthCheck = { kind: 'compose' } | { kind: 'url'; url: string } | { kind: 'none' };
export type { ComposeFile } from './compose-project.js';

export interface RegistryLogin {
  server: string;
  username: string;
  password: string;
}

/** A file of the `files` input, uploaded into each release at `path` (relative, POSIX). */
export interface UploadFile {
  path: string;
  content: Uint8Array;
  mode: number;
}

export interface DeployRequest {
  operation: Operation;
  project: string;
  /** As given: `~` and relative paths are taken from the remote user's home. */
  remoteDir: string;
  /** For deploy, the new release's name; for rollback, the one to go to ('' is the previous one). */
  release: string;
  composeFiles: ComposeFile[];
  /** The files input, uploaded with each release. */
  files?: UploadFile[];
  /** What the compose files would do on the server (compose-project.ts); refusals stop a deploy before upload. */
  check?: ProjectCheck;
  /** The contents of `.env`; '' writes none. */
  env: string;
  /** service → image@sha256:…, pinned through a generated override file. */
  images: Record<string, string>;
  /** The services the compose files define (when known): with every one pinned, `pull` can be skipped. */
  services?: string[];
  /** service → image@sha256:… as a compose file itself names it (a literal digest, no variable): pinned too. */
  pinnedInFiles?: Record<string, string>;
  registry?: RegistryLogin;
  health: HealthCheck;
  timeoutMs: number;
  /** How long a service with no healthcheck must run without restarting to pass the gate. */
  settleMs?: number;
  keepReleases: number;
  rollbackOnFailure: boolean;
  lock: { owner: LockOwner; timeoutMs: number; ttlMs: number };
}

export interface VerifiedImage {
  service: string;
  image: string;
  digest: string;
}

export interface DeployDependencies {
  log: (message: string) => void;
  warn: (message: string) => void;
  /**
   * Given, while the lock is held, what a cancelled run must do before it exits: bring the previous
   * release back if this one was being started, then release the lock. Undefined once done.
   */
  onCancel?: (cleanup: (() => Promise<void>) | undefined) => void;
  /** Checks the pinned images' signatures before anything on the server changes (verify-signature). */
  verifyImages?: (images: Record<string, string>) => Promise<VerifiedImage[]>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  pollIntervalMs?: number;
}

export type ServiceState = ContainerState;

export interface ContainerLogs {
  service: string;
  container: string;
  lines: string;
}

export interface DeployResult {
  operation: Operation;
  host: { name: string; fingerprint: string };
  compose: string;
  release: string;
  previousRelease: string;
  rolledBack: boolean;
  services: ServiceState[];
  phases: { name: string; ms: number }[];
  removedReleases: string[];
  /** For `plan`: what a deploy would do, step by step. */
  plan: string[];
  /** The release history on the server after the operation, newest first. */
  history: ReleaseEntry[];
  /** What a killed run had left, and how it was put right before this operation. */
  recovered?: string;
  verified?: VerifiedImage[];
  failure?: { message: string; logs: ContainerLogs[] };
}

/** A release that failed: the step fails, and `result` carries the outputs and the summary. */
export class DeployFailedError extends UserError {
  constructor(
    message: string,
    readonly result: DeployResult,
  ) {
    super('REFUSED', message);
  }
}

export const OVERRIDE_FILE = 'toolkit.images.yml';
export const MANIFEST_FILE = '.toolkit-release.json';
export const ENV_FILE = '.env';
