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

/** Parses the files once, merging services across them as `-f a -f b` does (later keys win, lists add up). */
export function parseComposeProject(files: ComposeFile[]): ComposeProject {
  const merged = new Map<string, Mapping>();
  const hostPaths: HostPath[] = [];
  for (const file of files) {
    const value = parseFile(file);
    for (const [name, raw] of Object.entries(asMapping(value.services) ?? {})) {
      const settings = asMapping(raw) ?? {};
      const earlier = merged.get(name) ?? {};
      const volumes = [...((earlier.volumes as unknown[]) ?? []), ...(Array.isArray(settings.volumes) ? settings.volumes : [])];
      merged.set(name, { ...earlier, ...settings, volumes });
    }
    for (const section of ['configs', 'secrets'] as const) {
      for (const [name, raw] of Object.entries(asMapping(value[section]) ?? {})) {
        const file = asMapping(raw)?.file;
        if (typeof file === 'string') hostPaths.push({ usedBy: `${section.slice(0, -1)} ${name}`, path: file, kind: 'file' });
      }
    }
  }
  const services = new Map<string, ServiceSpec>();
  for (const [name, settings] of merged) {
    const build = buildContext(settings.build);
    const healthcheck = asMapping(settings.healthcheck);
    services.set(name, {
      name,
      ...(typeof settings.image === 'string' ? { image: settings.image } : {}),
      ...(build !== undefined ? { build } : {}),
      hasHealthcheck: !!healthcheck && healthcheck.disable !== true && !(Array.isArray(healthcheck.test) && healthcheck.test[0] === 'NONE'),
      ...(typeof settings.restart === 'string' ? { restart: settings.restart } : {}),
    });
    for (const volume of settings.volumes as unknown[]) {
      const source = bindSource(volume);
      const shown = typeof volume === 'string' ? volume : `${source} (bind)`;
      if (source !== undefined) hostPaths.push({ usedBy: `service ${name}, volume ${shown}`, path: source, kind: 'bind' });
    }
    for (const file of envFiles(settings.env_file))
      hostPaths.push({ usedBy: `service ${name}, env_file ${file}`, path: file, kind: 'env_file' });
  }
  return { files, services, hostPaths };
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
  for (const service of project.services.values()) {
    const pinned = options.pinned.has(service.name);
    if (service.build !== undefined && !pinned) {
      refusals.push(
        `service ${service.name} has build: (context ${service.build}) and no images: pin. The server has no build context and must not build: build the image in CI (build-scan-sign.yml does) and pin it, images: ${service.name}=<registry>/<image>@sha256:<digest>.`,
      );
    } else if (service.image === undefined && service.build === undefined && !pinned) {
      refusals.push(`service ${service.name} has neither image: nor build:, and no images: pin; compose cannot start it.`);
    } else if (service.build !== undefined) {
      notes.push(`${service.name}: build: is ignored on the server (up --no-build); it runs the pinned image.`);
    }
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
