/**
 * deploy-compose on real compose files (../shared/fixtures/compose, from docker/awesome-compose; see
 * its SOURCES.md), read in place, through the built action on the real rig (sshd, dockerd,
 * docker-compose v1, docker-registry; test/support/deploy-rig.ts):
 *
 * 1. plan, for every file as it is: the whole plan printed, with exactly the refusals of the table
 *    below (written by hand from the files: build: without a pin, relative paths nothing uploads)
 *    and the settle-time note for exactly the services without a healthcheck; it exits 0 when
 *    nothing is refused, and otherwise fails as the deploy would ("A deploy would stop here", "A
 *    deploy of p1 would be refused" with each refusal); no remote-dir is made.
 * 2. deploy, for every file with build-only services, as it is and without pins: refused with
 *    "Nothing was uploaded" and the build message of each such service; no remote-dir made.
 * 3. for every file, a rig variant made at test time (the yaml package's Document API, in a temp
 *    workspace; see rigVariant) that keeps what the deploy has to cope with (build: sections,
 *    depends_on and its conditions, restart policies, named and anonymous volumes, relative bind
 *    mounts and secret files, ${VAR} interpolation, container_name, labels, stop_signal, version:)
 *    and replaces what this machine cannot run (the real images, their commands and healthchecks,
 *    ports and networks: everything is busybox on the host network, talking to 127.0.0.1 only).
 *    Every service is pinned through images:, the files that relative paths need are made in the
 *    workspace and uploaded through the files input, ${VAR}s come through env:. Then: r1 is
 *    deployed (served text, current, history with every service's digest, the uploaded files and
 *    secrets read inside the containers, interpolated variables in their environment, absolute bind
 *    sources landed in the deployment's shared/), r2 is deployed over it (previous-release r1), r3
 *    fails its gate (the serving service exits 1) and is rolled back (r2 serves, r3's folder is
 *    gone), and operation: rollback brings r1 back.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { LocalRunResult } from '@toolkit/cli';
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import {
  type DeployOptions,
  type DeployRig,
  deployTo,
  expectSuccess,
  failureOf,
  pinnedReference,
  projectContainers,
  served,
  useDeployRig,
} from '../support/deploy-rig.js';
import { ROOT } from '../support/harness.js';
import { freePort } from '../support/net.js';
import { tempDir } from '../support/temp.js';

const CORPUS_DIR = path.join(ROOT, '..', 'shared', 'fixtures', 'compose');
const present = existsSync(CORPUS_DIR);
if (!present) {
  console.warn(
    `Conformance of deploy-compose with real compose files is SKIPPED: ${CORPUS_DIR} is absent (../shared/fixtures is not beside this checkout).`,
  );
}

const BUILD_TAIL =
  'The server has no build context and must not build: build the image in CI (build-scan-sign.yml does) and pin it, images: ';
const PATH_TAIL =
  'on the server, where nothing of it is uploaded (docker would mount an empty folder). List it in the files input to upload it with each release, point it into the deployment';
const SECRET_TAIL =
  'on the server, where nothing of it is uploaded. List it in the files input to upload it with each release, point it into the deployment';

interface Refusal {
  /** How the refusal begins: who, and which path or build context. */
  begins: string;
  /** Text of its kind that the message must also hold. */
  holds: string;
  /** The relative path refused, for a path: the rig variant uploads exactly these through files. */
  source?: string;
}
const build = (service: string, context: string): Refusal => ({
  begins: `service ${service} has build: (context ${context}) and no images: pin.`,
  holds: `${BUILD_TAIL}${service}=<registry>/<image>@sha256:<digest>.`,
});
const bind = (service: string, volume: string, source: string): Refusal => ({
  begins: `service ${service}, volume ${volume}: the relative path ${source} would resolve inside releases/<release>/`,
  holds: PATH_TAIL,
  source,
});
const secretFile = (secret: string, source: string): Refusal => ({
  begins: `secret ${secret}: the relative path ${source} would resolve inside releases/<release>/`,
  holds: SECRET_TAIL,
  source,
});

interface Fixture {
  file: string;
  /** What plan refuses in the file as it is, by hand from the file. */
  refused: Refusal[];
  /** Its services without a healthcheck: plan notes settle-time for each. */
  noHealthcheck: string[];
  /** The service that runs httpd in the rig variant (the one that serves the project). */
  serves: string;
}

const CORPUS: Fixture[] = [
  {
    file: 'elasticsearch-logstash-kibana.compose.yaml',
    refused: [
      bind(
        'logstash',
        './logstash/pipeline/logstash-nginx.config:/usr/share/logstash/pipeline/logstash-nginx.config',
        './logstash/pipeline/logstash-nginx.config',
      ),
      bind('logstash', './logstash/nginx.log:/home/nginx.log', './logstash/nginx.log'),
    ],
    noHealthcheck: ['logstash', 'kibana'],
    serves: 'kibana',
  },
  {
    file: 'flask-redis.compose.yaml',
    refused: [build('web', '.'), bind('web', '.:/code', '.')],
    noHealthcheck: ['redis', 'web'],
    serves: 'web',
  },
  { file: 'gitea-postgres.compose.yaml', refused: [], noHealthcheck: ['gitea', 'db'], serves: 'gitea' },
  { file: 'nextcloud-redis-mariadb.compose.yaml', refused: [], noHealthcheck: ['nc', 'redis', 'db'], serves: 'nc' },
  {
    file: 'nginx-golang-postgres.compose.yaml',
    refused: [
      build('backend', 'backend'),
      secretFile('db-password', 'db/password.txt'),
      bind('proxy', './proxy/nginx.conf (bind)', './proxy/nginx.conf'),
    ],
    noHealthcheck: ['backend', 'proxy'],
    serves: 'proxy',
  },
  // Its bind mounts are absolute (/etc/pihole/, /etc/dnsmasq.d/): the server's own paths, not refused.
  { file: 'pihole-cloudflared-DoH.compose.yaml', refused: [], noHealthcheck: ['cloudflared', 'pihole'], serves: 'pihole' },
  { file: 'postgresql-pgadmin.compose.yaml', refused: [], noHealthcheck: ['postgres', 'pgadmin'], serves: 'pgadmin' },
  {
    file: 'prometheus-grafana.compose.yaml',
    refused: [
      bind('prometheus', './prometheus:/etc/prometheus', './prometheus'),
      bind('grafana', './grafana:/etc/grafana/provisioning/datasources', './grafana'),
    ],
    noHealthcheck: ['prometheus', 'grafana'],
    serves: 'grafana',
  },
  {
    file: 'react-express-mongodb.compose.yaml',
    // /usr/src/app/node_modules is an anonymous volume, not a bind mount.
    refused: [
      build('frontend', 'frontend'),
      build('backend', 'backend'),
      bind('frontend', './frontend:/usr/src/app', './frontend'),
      bind('backend', './backend:/usr/src/app', './backend'),
    ],
    noHealthcheck: ['frontend', 'backend', 'mongo'],
    serves: 'frontend',
  },
  // /var/run/docker.sock is absolute: not refused.
  {
    file: 'traefik-golang.compose.yaml',
    refused: [build('backend', 'backend')],
    noHealthcheck: ['frontend', 'backend'],
    serves: 'frontend',
  },
];

const readFixture = (fixture: Fixture) => readFileSync(path.join(CORPUS_DIR, fixture.file), 'utf8');
const projectOf = (fixture: Fixture) => `corpus-${fixture.file.replace(/\.compose\.yaml$/, '').toLowerCase()}`;

/** One rig for the file, started only where the corpus is present (see the describe below). */
let requireRig: () => DeployRig = () => {
  throw new Error('the deploy rig is not set up');
};

function deploy(project: string, remoteDir: string, options: DeployOptions): Promise<LocalRunResult> {
  return deployTo(requireRig(), project, remoteDir, {
    ...options,
    inputs: { 'settle-time': '1s', timeout: '30s', ...options.inputs },
  });
}

async function newRemoteDir(project: string): Promise<string> {
  return path.join(await tempDir('deploy-corpus-'), 'deployments', project);
}

interface HistoryEntry {
  release: string;
  state: string;
  images: Record<string, { image: string; digest: string }>;
}
const historyOf = (result: LocalRunResult) => JSON.parse(result.outputs.history ?? '[]') as HistoryEntry[];

/** Pairs each line with the one refusal it is; what is left over on either side is a mismatch. */
function matchRefusals(lines: string[], expected: Refusal[]): { unexpected: string[]; missing: string[] } {
  const left = [...expected];
  const unexpected: string[] = [];
  for (const line of lines) {
    const at = left.findIndex((refusal) => line.startsWith(refusal.begins) && line.includes(refusal.holds));
    if (at < 0) unexpected.push(line);
    else left.splice(at, 1);
  }
  return { unexpected, missing: left.map((refusal) => refusal.begins) };
}

// --- the rig variant -------------------------------------------------------------------------------

/** Something the variant mounts from the workspace, and what a container must read there. */
interface Mounted {
  service: string;
  /** The file a container reads: the bind target, the file inside a bound folder, or /run/secrets/<name>. */
  inContainer: string;
  content: string;
}

interface Variant {
  compose: string;
  /** Workspace files, by relative path. */
  files: Record<string, string>;
  /** The files input: every relative path the file names, as it names it. */
  upload: string[];
  /** Each ${VAR} of the file, with a value. */
  env: Record<string, string>;
  mounted: Mounted[];
  /** Absolute bind sources, moved into the deployment's shared/ folder: shared/abs/<path>. */
  sharedAbs: string[];
  /** Environment entries that interpolate a ${VAR}, as the container must see them. */
  interpolated: { service: string; entry: string }[];
  services: string[];
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * The fixture, made runnable on the rig and nothing more:
 * - every service: network_mode: host and init: true (docker-init, so that busybox stops on any
 *   stop_signal at once); ports, expose, networks and entrypoint removed; a numeric user for a
 *   named one (busybox has no /etc/passwd); its command replaced: httpd on 127.0.0.1:`port`
 *   serving `text` for `serves` (or `exit 1` when `fail`), `sleep` for the others; a healthcheck,
 *   where it has one, replaced by ["CMD-SHELL", "exit 0"] every second (so that depends_on
 *   condition: service_healthy still waits for it);
 * - absolute bind sources (/var/run/docker.sock, /etc/pihole/) moved to ../../shared/abs/<path>,
 *   so that docker creates nothing on this machine outside the deployment;
 * - top-level networks removed;
 * - kept: build: (the images pin is what lets it run), depends_on and conditions, restart,
 *   container_name, cap_add, labels, stop_signal, stdin_open, named and anonymous volumes, relative
 *   bind mounts and secrets (their files made in the workspace, uploaded through files), ${VAR}s,
 *   version:.
 */
function rigVariant(source: string, options: { serves: string; port: number; text: string; fail?: boolean }): Variant {
  const document = parseDocument(source);
  const variant: Variant = { compose: '', files: {}, upload: [], env: {}, mounted: [], sharedAbs: [], interpolated: [], services: [] };
  for (const [, name] of source.matchAll(VARIABLE)) variant.env[name as string] = `corpus-${(name as string).toLowerCase()}`;
  const interpolate = (text: string) => text.replace(VARIABLE, (_all, name: string) => variant.env[name] ?? '');

  /** A workspace path that a relative source names: a file when it has an extension, else a folder with one file in it. */
  const provide = (relative: string, service: string, target: string, why: string) => {
    const clean = path.posix.normalize(relative);
    const content = `${why}\n`;
    if (path.posix.extname(clean) !== '') {
      variant.files[clean] = content;
      variant.mounted.push({ service, inContainer: target, content });
    } else {
      variant.files[path.posix.join(clean, 'corpus.txt')] = content;
      variant.mounted.push({ service, inContainer: path.posix.join(target, 'corpus.txt'), content });
    }
    if (!variant.upload.includes(relative)) variant.upload.push(relative);
  };

  const secretFiles = new Map<string, string>();
  const secrets = document.get('secrets');
  if (isMap(secrets)) {
    for (const pair of secrets.items) {
      const file = isMap(pair.value) ? pair.value.get('file') : undefined;
      if (typeof file === 'string' && !file.startsWith('/')) secretFiles.set(String(isScalar(pair.key) ? pair.key.value : pair.key), file);
    }
  }

  document.delete('networks');
  const services = document.get('services') as YAMLMap;
  for (const pair of services.items) {
    const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const service = pair.value as YAMLMap;
    variant.services.push(name);
    for (const key of ['ports', 'expose', 'networks', 'entrypoint']) service.delete(key);
    service.set('network_mode', 'host');
    service.set('init', true);
    const user = service.get('user');
    if (typeof user === 'string' && !/^\d+(:\d+)?$/.test(user)) service.set('user', '65534');
    const script =
      name !== options.serves
        ? 'exec sleep 3600'
        : options.fail
          ? 'echo failing on purpose; exit 1'
          : `mkdir -p /tmp/www && echo ${options.text} > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:${options.port} -h /tmp/www`;
    service.set('command', document.createNode(['sh', '-c', script], { flow: true }));
    if (service.has('healthcheck')) {
      service.set('healthcheck', document.createNode({ test: ['CMD-SHELL', 'exit 0'], interval: '1s', retries: 3 }));
    }

    const volumes = service.get('volumes');
    if (isSeq(volumes)) {
      for (const item of volumes.items) {
        if (isScalar(item) && typeof item.value === 'string' && item.value.includes(':')) {
          const [from = '', target = ''] = item.value.split(':');
          if (from.startsWith('/')) {
            item.value = `../../shared/abs${from}${item.value.slice(from.length)}`;
            variant.sharedAbs.push(from.replace(/\/$/, ''));
          } else if (from.startsWith('.')) {
            provide(from, name, target, `${from} for ${name}`);
          }
        } else if (isMap(item) && item.get('type') === 'bind') {
          const from = String(item.get('source'));
          const target = String(item.get('target'));
          if (from.startsWith('/')) {
            item.set('source', `../../shared/abs${from}`);
            variant.sharedAbs.push(from.replace(/\/$/, ''));
          } else provide(from, name, target, `${from} for ${name}`);
        }
      }
    }

    const used = service.get('secrets');
    if (isSeq(used)) {
      for (const item of used.items) {
        const secret = isScalar(item) ? String(item.value) : isMap(item) ? String(item.get('source')) : '';
        const target = isMap(item) && typeof item.get('target') === 'string' ? String(item.get('target')) : secret;
        const file = secretFiles.get(secret);
        if (file) provide(file, name, path.posix.join('/run/secrets', target), `secret ${secret}`);
      }
    }

    const environment = service.get('environment');
    if (isSeq(environment)) {
      for (const item of environment.items) {
        const entry = isScalar(item) ? String(item.value) : '';
        if (entry.includes('${')) variant.interpolated.push({ service: name, entry: interpolate(entry) });
      }
    } else if (isMap(environment)) {
      for (const entry of environment.items) {
        const value = isScalar(entry.value) ? String(entry.value.value) : '';
        if (value.includes('${'))
          variant.interpolated.push({
            service: name,
            entry: `${String(isScalar(entry.key) ? entry.key.value : entry.key)}=${interpolate(value)}`,
          });
      }
    }
  }
  variant.compose = document.toString();
  return variant;
}

// --- the tests --------------------------------------------------------------------------------------

(present ? describe : describe.skip)('conformance: deploy-compose on real compose files', () => {
  requireRig = useDeployRig();

  it('the table names every file of the corpus', () => {
    expect(
      readdirSync(CORPUS_DIR)
        .filter((name) => name.endsWith('.yaml'))
        .sort(),
    ).toEqual(CORPUS.map((fixture) => fixture.file).sort());
  });

  describe('plan, on each file as it is', () => {
    it.each(CORPUS.map((fixture) => [fixture.file, fixture] as const))('%s', async (_file, fixture) => {
      const project = projectOf(fixture);
      const remoteDir = await newRemoteDir(project);
      const result = await deploy(project, remoteDir, { compose: readFixture(fixture), inputs: { release: 'p1', operation: 'plan' } });
      if (fixture.refused.length === 0) expectSuccess(result);
      else {
        expect(result.exitCode).not.toBe(0);
        const failure = failureOf(result);
        expect(failure).toContain('A deploy of p1 would be refused:');
        for (const refusal of fixture.refused) expect(failure).toContain(`- ${refusal.begins}`);
      }
      const refusals = result.log.filter((line) => line.startsWith('Refused: ')).map((line) => line.slice('Refused: '.length));
      expect(matchRefusals(refusals, fixture.refused)).toEqual({ unexpected: [], missing: [] });
      expect(result.log.includes('A deploy would stop here, before uploading anything.')).toBe(fixture.refused.length > 0);
      const settle = result.log
        .map(
          (line) =>
            /^(\S+): no healthcheck, so the gate wants it running without a restart for settle-time \(1s\), or exited 0 if it is a one-shot\.$/.exec(
              line,
            )?.[1],
        )
        .filter((name) => name !== undefined);
      expect(settle.sort()).toEqual([...fixture.noHealthcheck].sort());
      expect(result.log).toContain('Current release: none (this would be the first).');
      expect(existsSync(remoteDir)).toBe(false);
    });
  });

  const buildOnly = CORPUS.filter((fixture) => fixture.refused.some((refusal) => refusal.begins.includes(' has build: ')));

  describe('deploy, on each file with build-only services, as it is', () => {
    it.each(buildOnly.map((fixture) => [fixture.file, fixture] as const))(
      '%s is refused before anything is uploaded',
      async (_file, fixture) => {
        const project = projectOf(fixture);
        const remoteDir = await newRemoteDir(project);
        const result = await deploy(project, remoteDir, { compose: readFixture(fixture), inputs: { release: 'b1' } });
        expect(result.exitCode).not.toBe(0);
        const failure = failureOf(result);
        expect(failure).toContain('Nothing was uploaded: the compose files cannot run as they are on the server.');
        for (const refusal of fixture.refused) expect(failure).toContain(refusal.begins);
        expect(failure).toContain(BUILD_TAIL);
        expect(existsSync(remoteDir)).toBe(false);
      },
    );
  });

  describe('deploy, redeploy, a failed release rolled back, and rollback, on each file made runnable on the rig', () => {
    it.each(CORPUS.map((fixture) => [fixture.file, fixture] as const))(
      '%s',
      async (_file, fixture) => {
        const { image, daemon } = requireRig();
        const project = projectOf(fixture);
        const remoteDir = await newRemoteDir(project);
        const port = await freePort();
        const source = readFixture(fixture);
        const release = async (name: string, fail = false) => {
          const variant = rigVariant(source, { serves: fixture.serves, port, text: `${project}-${name}`, fail });
          const result = await deploy(project, remoteDir, {
            compose: variant.compose,
            files: variant.files,
            inputs: {
              release: name,
              images: variant.services.map((service) => `${service}=${pinnedReference(image)}`).join('\n'),
              files: variant.upload.join('\n'),
              env: Object.entries(variant.env)
                .map(([key, value]) => `${key}=${value}`)
                .join('\n'),
            },
          });
          return { variant, result };
        };
        const containers = async () =>
          Object.fromEntries((await projectContainers(requireRig(), project)).map((container) => [container.service, container]));

        // Absolute bind sources go to the deployment's shared/: docker must create none of them on this machine.
        const hostPaths = rigVariant(source, { serves: fixture.serves, port, text: '' }).sharedAbs;
        const existedBefore = hostPaths.map((absolute) => existsSync(absolute));
        try {
          const r1 = await release('r1');
          expectSuccess(r1.result);
          const { variant } = r1;
          // What plan refused as relative paths is what the files input carries now.
          expect([...variant.upload].sort()).toEqual(fixture.refused.flatMap((refusal) => refusal.source ?? []).sort());
          expect(await served(port)).toBe(`${project}-r1`);
          expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r1');
          expect(r1.result.outputs).toMatchObject({ release: 'r1', 'previous-release': '', 'rolled-back': 'false' });
          const digests = Object.fromEntries(
            variant.services.map((service) => [service, { image: pinnedReference(image), digest: image.digest }]),
          );
          expect(historyOf(r1.result)).toEqual([expect.objectContaining({ release: 'r1', state: 'deployed', images: digests })]);
          const running = await containers();
          expect(Object.keys(running).sort()).toEqual([...variant.services].sort());
          for (const container of Object.values(running)) expect(container.state).toBe('running');
          // What the files input uploaded is what the containers read, bind mounts and secrets alike.
          for (const mounted of variant.mounted) {
            const name = running[mounted.service]?.name ?? '';
            expect({
              at: `${mounted.service}:${mounted.inContainer}`,
              content: await daemon.docker(['exec', name, 'cat', mounted.inContainer]),
            }).toEqual({
              at: `${mounted.service}:${mounted.inContainer}`,
              content: mounted.content,
            });
          }
          for (const { service, entry } of variant.interpolated) {
            const environment = (await daemon.docker(['exec', running[service]?.name ?? '', 'env'])).split('\n');
            expect(environment).toContain(entry);
          }
          for (const absolute of variant.sharedAbs) expect(existsSync(path.join(remoteDir, 'shared', 'abs', absolute))).toBe(true);

          const r2 = await release('r2');
          expectSuccess(r2.result);
          expect(r2.result.outputs).toMatchObject({ release: 'r2', 'previous-release': 'r1' });
          expect(await served(port)).toBe(`${project}-r2`);
          expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r2');

          const r3 = await release('r3', true);
          expect(r3.result.exitCode).not.toBe(0);
          expect(failureOf(r3.result)).toMatch(
            new RegExp(`Release r3 failed .*Not healthy: .*${fixture.serves} \\((exited 1|restarted)`, 's'),
          );
          expect(failureOf(r3.result)).toContain('Rolled back: r2 is running again and passed the gate.');
          expect(r3.result.outputs['rolled-back']).toBe('true');
          expect(await served(port)).toBe(`${project}-r2`);
          expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r2');
          expect(existsSync(path.join(remoteDir, 'releases', 'r3'))).toBe(false);
          expect(historyOf(r3.result).map((entry) => `${entry.release}:${entry.state}`)).toEqual([
            'r3:failed',
            'r2:deployed',
            'r1:deployed',
          ]);

          const back = await deploy(project, remoteDir, { inputs: { operation: 'rollback' } });
          expectSuccess(back);
          expect(back.outputs).toMatchObject({ release: 'r1', 'previous-release': 'r2', 'rolled-back': 'true' });
          expect(await served(port)).toBe(`${project}-r1`);
          expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r1');
          const after = await containers();
          expect(Object.keys(after).sort()).toEqual([...variant.services].sort());
          for (const container of Object.values(after)) expect(container.state).toBe('running');
          expect(hostPaths.map((absolute) => existsSync(absolute))).toEqual(existedBefore);
        } finally {
          // Each project's containers go once it is done: ten projects need not run at once.
          const ids = (await daemon.docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]))
            .split('\n')
            .filter(Boolean);
          if (ids.length > 0) await daemon.docker(['rm', '-f', ...ids]);
        }
      },
      180_000,
    );
  });
});
