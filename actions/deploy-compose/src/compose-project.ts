import path from 'node:path/posix';
import { InputError } from '@toolkit/shared';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';

/**
 * What a deploy needs to know of the project's compose files, read once: the services, which of
 * them are built rather than pulled, and every path on the host they name (bind mounts, env_file,
 * configs and secrets files). On the server a release runs from `releases/<r>/`, where only the
 * compose files, `.env` and the `files` input are uploaded: a relative path that points anywhere
 * else would mount an empty folder that docker creates, or fail. So those are found here, before
 * anything is uploaded, and `plan` reports them.
 */

export interface ComposeFile {
  /** The file name in the release directory (the workspace file's base name). */
  name: string;
  content: string;
}

/** A path on the host that a service (or a top-level config or secret) uses. */
export interface HostPath {
  /** Who uses it, as a message names it: `service web, volume ./data:/data`. */
  usedBy: string;
  path: string;
  kind: 'bind' | 'env_file' | 'file';
}

export interface ServiceSpec {
  name: string;
  /** Started only with one of these profiles active: a plain `up` leaves it alone. */
  profiles: string[];
  /** It takes settings from another service (`extends:`), which this check does not follow. */
  extends: boolean;
  image?: string;
  /** The build context, when the service has `build:`. */
  build?: string;
  hasHealthcheck: boolean;
  restart?: string;
}

export interface ComposeProject {
  files: ComposeFile[];
  services: Map<string, ServiceSpec>;
  hostPaths: HostPath[];
  /** Files named by a top-level `include:` (Compose 2.20+), which this deploy does not read. */
  includes: string[];
}

export interface ProjectCheck {
  /** What stops the deploy before anything is uploaded, one message each. */
  refusals: string[];
  /** What plan says of the project and the deploy does without asking. */
  notes: string[];
}

type Mapping = Record<string, unknown>;
const asMapping = (value: unknown): Mapping | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Mapping) : undefined;

/** A compose file's mapping, with `file:line:col` for what is not one: anchors, aliases and `<<` merges resolved. */
function parseFile(file: ComposeFile): Mapping {
  const document = parseDocument(file.content, { merge: true, prettyErrors: false, uniqueKeys: true });
  const error = document.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    throw new InputError(
      'compose-files',
      `${file.name}:${at ? `${at.line}:${at.col}` : '1:1'}: not valid YAML: ${error.message.split('\n')[0]}`,
    );
  }
  const contents = document.contents;
  if (contents === null) return {};
  if (!isMap(contents))
    throw new InputError(
      'compose-files',
      `${file.name}:1:1: a compose file is a mapping (services:, volumes:, …), not ${isSeq(contents) ? 'a list' : 'a scalar'}.`,
    );
  const services = contents.get('services', true);
  if (services !== undefined && !isMap(services) && !(isScalar(services) && services.value === null)) {
    const at = services.range ? lineCol(file.content, services.range[0]) : '1:1';
    throw new InputError('compose-files', `${file.name}:${at}: services is a mapping of service names to their settings.`);
  }
  return (document.toJS({ maxAliasCount: 1000 }) as Mapping | null) ?? {};
}

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

/** `build: ctx` or `build: { context: ctx }`; compose's default context is `.`. */
function buildContext(build: unknown): string | undefined {
  if (build === undefined || build === null) return undefined;
  if (typeof build === 'string') return build;
  const context = asMapping(build)?.context;
  return typeof context === 'string' ? context : '.';
}

/** The host side of a short-syntax volume, when it is a path (compose: it starts with `.`, `/` or `~`), not a named volume. */
function bindSource(volume: unknown): string | undefined {
  if (typeof volume === 'string') {
    const source = volume.split(':')[0] ?? '';
    return volume.includes(':') && /^[./~$]/.test(source) ? source : undefined;
  }
  const long = asMapping(volume);
  return long?.type === 'bind' && typeof long.source === 'string' ? long.source : undefined;
}

function envFiles(value: unknown): string[] {
  const entries = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return entries.flatMap((entry) => {
    if (typeof entry === 'string') return [entry];
    const file = asMapping(entry);
    // `required: false` (compose 2.24+) lets a missing file pass.
    return typeof file?.path === 'string' && file.required !== false ? [file.path] : [];
  });
}

/** Where a volume is mounted in the container: compose merges a service's volumes across files by it. */
function volumeTarget(volume: unknown): string {
  if (typeof volume === 'string') {
    const parts = volume.split(':');
    return (parts.length === 1 ? parts[0] : parts[1]) ?? volume;
  }
  const target = asMapping(volume)?.target;
  return typeof target === 'string' ? target : JSON.stringify(volume);
}

/** The names a service's `secrets:` or `configs:` refer to (short or long syntax). */
function referenced(value: unknown): string[] {
  return (Array.isArray(value) ? value : []).flatMap((entry) => {
    if (typeof entry === 'string') return [entry];
    const source = asMapping(entry)?.source;
    return typeof source === 'string' ? [source] : [];
  });
}

/** Parses the files once, merging services across them as `-f a -f b` does (later keys win, volumes by target). */
export function parseComposeProject(files: ComposeFile[]): ComposeProject {
  const merged = new Map<string, Mapping>();
  const hostPaths: HostPath[] = [];
  const includes: string[] = [];
  const topLevel: Record<'configs' | 'secrets', Map<string, string>> = { configs: new Map(), secrets: new Map() };
  for (const file of files) {
    const value = parseFile(file);
    for (const [name, raw] of Object.entries(asMapping(value.services) ?? {})) {
      const settings = asMapping(raw) ?? {};
      const earlier = merged.get(name) ?? {};
      const volumes = new Map<string, unknown>();
      for (const volume of [...((earlier.volumes as unknown[]) ?? []), ...(Array.isArray(settings.volumes) ? settings.volumes : [])]) {
        volumes.set(volumeTarget(volume), volume);
      }
      merged.set(name, { ...earlier, ...settings, volumes: [...volumes.values()] });
    }
    for (const section of ['configs', 'secrets'] as const) {
      for (const [name, raw] of Object.entries(asMapping(value[section]) ?? {})) {
        const source = asMapping(raw)?.file;
        if (typeof source === 'string') topLevel[section].set(name, source);
      }
    }
    for (const entry of Array.isArray(value.include) ? value.include : value.include ? [value.include] : []) {
      const pathOf = typeof entry === 'string' ? entry : asMapping(entry)?.path;
      includes.push(...(Array.isArray(pathOf) ? pathOf.map(String) : [String(pathOf ?? JSON.stringify(entry))]));
    }
  }
  // A top-level config or secret file matters only when a service that runs uses it.
  const used: Record<'configs' | 'secrets', Set<string>> = { configs: new Set(), secrets: new Set() };
  for (const settings of merged.values()) {
    if (Array.isArray(settings.profiles) && settings.profiles.length > 0) continue;
    for (const section of ['configs', 'secrets'] as const) for (const name of referenced(settings[section])) used[section].add(name);
  }
  for (const section of ['configs', 'secrets'] as const) {
    for (const [name, source] of topLevel[section]) {
      if (used[section].has(name)) hostPaths.push({ usedBy: `${section.slice(0, -1)} ${name}`, path: source, kind: 'file' });
    }
  }
  const services = new Map<string, ServiceSpec>();
  for (const [name, settings] of merged) {
    const build = buildContext(settings.build);
    const healthcheck = asMapping(settings.healthcheck);
    const profiles = Array.isArray(settings.profiles) ? settings.profiles.map(String) : [];
    services.set(name, {
      name,
      profiles,
      extends: settings.extends !== undefined,
      ...(typeof settings.image === 'string' ? { image: settings.image } : {}),
      ...(build !== undefined ? { build } : {}),
      hasHealthcheck: !!healthcheck && healthcheck.disable !== true && !(Array.isArray(healthcheck.test) && healthcheck.test[0] === 'NONE'),
      ...(typeof settings.restart === 'string' ? { restart: settings.restart } : {}),
    });
    // A service in a profile is not started by `up`: what it would mount is not checked.
    if (profiles.length > 0) continue;
    for (const volume of settings.volumes as unknown[]) {
      const source = bindSource(volume);
      const shown = typeof volume === 'string' ? volume : `${source} (bind)`;
      if (source !== undefined) hostPaths.push({ usedBy: `service ${name}, volume ${shown}`, path: source, kind: 'bind' });
    }
    for (const file of envFiles(settings.env_file))
      hostPaths.push({ usedBy: `service ${name}, env_file ${file}`, path: file, kind: 'env_file' });
  }
  return { files, services, hostPaths, includes };
}

/** Where a relative host path lands, from remote-dir, for a release run from releases/<r>/. */
function fromRemoteDir(relative: string): string {
  return path.normalize(path.join('releases', '_release_', relative));
}

function isUploaded(relative: string, uploaded: readonly string[]): boolean {
  const wanted = path.normalize(relative).replace(/\/$/, '');
  return uploaded.some((file) => file === wanted || file.startsWith(`${wanted}/`) || wanted === '.');
}

/**
 * What would go wrong on the server, found from the files alone. `pinned` are the services the
 * `images` input pins; `uploaded` the `files` input's paths, relative to the project directory;
 * `envWritten` whether a `.env` is written; `settleMs` the gate's settle time for services with no
 * healthcheck.
 */
export function checkComposeProject(
  project: ComposeProject,
  options: { pinned: ReadonlySet<string>; uploaded: readonly string[]; envWritten: boolean; settleMs: number },
): ProjectCheck {
  const refusals: string[] = [];
  const notes: string[] = [];
  for (const include of project.includes) {
    refusals.push(
      `include: ${include} is not read by deploy-compose, so its services would run unchecked and unpinned: list the file in compose-files instead.`,
    );
  }
  for (const service of project.services.values()) {
    const pinned = options.pinned.has(service.name);
    if (service.profiles.length > 0) {
      notes.push(`${service.name}: only in profile ${service.profiles.join(', ')}, which up does not start; not checked.`);
      continue;
    }
    if (service.build !== undefined && !pinned) {
      refusals.push(
        `service ${service.name} has build: (context ${service.build}) and no images: pin. The server has no build context and must not build: build the image in CI (build-scan-sign.yml does) and pin it, images: ${service.name}=<registry>/<image>@sha256:<digest>.`,
      );
    } else if (service.image === undefined && service.build === undefined && !pinned && !service.extends) {
      refusals.push(`service ${service.name} has neither image: nor build:, and no images: pin; compose cannot start it.`);
    } else if (service.build !== undefined) {
      notes.push(`${service.name}: build: is ignored on the server (up --no-build); it runs the pinned image.`);
    }
    if (service.extends) notes.push(`${service.name}: extends another service, whose image, build and mounts are not checked here.`);
    if (!service.hasHealthcheck) {
      notes.push(
        `${service.name}: no healthcheck, so the gate wants it running without a restart for settle-time (${Math.round(options.settleMs / 1000)}s), or exited 0 if it is a one-shot.`,
      );
    }
  }
  for (const hostPath of project.hostPaths) {
    const { path: source, usedBy } = hostPath;
    if (source.startsWith('/') || source.startsWith('~')) continue; // the server's own paths, as the file means them
    if (source.startsWith('$')) {
      notes.push(`${usedBy}: the path comes from a variable; it must resolve to an absolute path or into ../../shared/ on the server.`);
      continue;
    }
    const landing = fromRemoteDir(source);
    if (landing === 'shared' || landing.startsWith('shared/')) {
      notes.push(`${usedBy}: in the deployment's shared/ folder (${landing}), kept across releases.`);
      continue;
    }
    const relative = path.normalize(source);
    if (hostPath.kind === 'env_file' && relative === '.env') {
      if (!options.envWritten) refusals.push(`${usedBy}: .env is written only from the env or env-file inputs, and neither is given.`);
      continue;
    }
    if (!relative.startsWith('..') && isUploaded(relative, options.uploaded)) continue;
    refusals.push(
      `${usedBy}: the relative path ${source} would resolve inside releases/<release>/ on the server, where nothing of it is uploaded${hostPath.kind === 'bind' ? ' (docker would mount an empty folder)' : ''}. ` +
        `List it in the files input to upload it with each release, point it into the deployment's shared/ folder (../../shared/...), or use a named volume.`,
    );
  }
  return { refusals, notes };
}
