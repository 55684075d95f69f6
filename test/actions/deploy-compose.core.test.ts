import { describe, expect, it } from '@jest/globals';
import { checkComposeProject, parseComposeProject } from '../../actions/deploy-compose/src/compose-project.js';
import { HealthGate, type ContainerState, strayContainers } from '../../actions/deploy-compose/src/containers.js';
import {
  attemptDir,
  emptyHistory,
  forget,
  markDeployed,
  markFailed,
  markRolledBack,
  releasesBeyondKeep,
  rollbackTarget,
  startAttempt,
} from '../../actions/deploy-compose/src/history.js';
import { pinnedInComposeFiles } from '../../actions/deploy-compose/src/main.js';

/** The pure parts of deploy-compose: what the compose files would do on the server, the history, the gate. */

function check(files: Record<string, string>, options: Partial<Parameters<typeof checkComposeProject>[1]> = {}) {
  const project = parseComposeProject(Object.entries(files).map(([name, content]) => ({ name, content })));
  return checkComposeProject(project, { pinned: new Set(), uploaded: [], envWritten: false, settleMs: 10_000, ...options });
}

describe('compose files as they would run on the server', () => {
  it('refuses build: without a pin and relative paths nothing uploads; allows shared/, uploaded files and named volumes', () => {
    const compose = [
      'services:',
      '  app:',
      '    build: ./app',
      '    volumes: ["./conf/app.ini:/etc/app.ini", "../../shared/data:/data", "cache:/cache", "/srv/logs:/logs"]',
      '    env_file: .env',
      'volumes: { cache: {} }',
      '',
    ].join('\r\n'); // CRLF, as a file edited on Windows has it
    const refused = check({ 'compose.yaml': compose });
    expect(refused.refusals).toEqual([
      expect.stringContaining('service app has build: (context ./app) and no images: pin'),
      expect.stringContaining(
        'service app, volume ./conf/app.ini:/etc/app.ini: the relative path ./conf/app.ini would resolve inside releases/<release>/',
      ),
      'service app, env_file .env: .env is written only from the env or env-file inputs, and neither is given.',
    ]);
    const fine = check({ 'compose.yaml': compose }, { pinned: new Set(['app']), uploaded: ['conf/app.ini'], envWritten: true });
    expect(fine.refusals).toEqual([]);
    expect(fine.notes).toEqual(
      expect.arrayContaining([
        'app: build: is ignored on the server (up --no-build); it runs the pinned image.',
        expect.stringContaining("volume ../../shared/data:/data: in the deployment's shared/ folder"),
        expect.stringContaining('app: no healthcheck, so the gate wants it running without a restart for settle-time (10s)'),
      ]),
    );
  });

  it('merges -f files as compose does: later keys win, volumes by target, anchors and << merges resolved', () => {
    const base = [
      'x-common: &common',
      '  image: registry.example/app:1',
      '  healthcheck: { test: ["CMD", "true"] }',
      'services:',
      '  web:',
      '    <<: *common',
      '    volumes: ["./data:/var/lib/data"]',
      '  "api.v2":',
      '    <<: *common',
    ].join('\n'); // no final newline
    const production = 'services:\n  web:\n    volumes: ["/srv/data:/var/lib/data"]\n';
    const result = check({ 'compose.yaml': base, 'compose.prod.yaml': production });
    expect(result.refusals).toEqual([]);
    expect(result.notes.filter((note) => note.includes('no healthcheck'))).toEqual([]);
    expect([...parseComposeProject([{ name: 'compose.yaml', content: base }]).services.keys()]).toEqual(['web', 'api.v2']);
  });

  it('leaves alone what up does not start or use: profiles, unused secrets; follows nothing it cannot see, saying so', () => {
    const result = check({
      'compose.yaml': [
        'services:',
        '  web: { image: nginx, secrets: [token] }',
        '  tools: { build: ./tools, profiles: [dev], volumes: ["./src:/src"] }',
        '  worker: { extends: { service: web } }',
        'secrets:',
        '  token: { file: ../../shared/token }',
        '  unused: { file: ./not-here.txt }',
        '',
      ].join('\n'),
    });
    expect(result.refusals).toEqual([]);
    expect(result.notes).toEqual(
      expect.arrayContaining([
        'tools: only in profile dev, which up does not start; not checked.',
        'worker: extends another service, whose image, build and mounts are not checked here.',
        expect.stringContaining("secret token: in the deployment's shared/ folder"),
      ]),
    );
  });

  it('refuses include: (its services would run unpinned and unchecked) and names file:line:col for bad YAML', () => {
    expect(check({ 'compose.yaml': 'include:\n  - other.yaml\nservices: {}\n' }).refusals).toEqual([
      expect.stringContaining('include: other.yaml is not read by deploy-compose'),
    ]);
    expect(() => check({ 'compose.yaml': 'services:\n  web:\n    image: [unclosed\n' })).toThrow(/compose\.yaml:\d+:\d+: not valid YAML/);
    expect(() => check({ 'compose.yaml': 'services:\n  - web\n' })).toThrow('compose.yaml:2:3: services is a mapping');
  });
});

describe('images a compose file pins by digest itself (pull is skipped for them when the server has them)', () => {
  it('takes a literal sha256 digest, with or without a tag, and nothing with a variable, a tag alone or a short digest', () => {
    const digest = 'a'.repeat(64);
    const project = parseComposeProject([
      {
        name: 'compose.yaml',
        content: [
          'services:',
          `  pinned: {image: "registry.example:5000/acme/web@sha256:${digest}"}`,
          `  tagged: {image: "ghcr.io/acme/api:1.2.3@sha256:${digest}"}`,
          '  tag-only: {image: ghcr.io/acme/api:1.2.3}',
          '  variable: {image: "ghcr.io/acme/api@sha256:${DIGEST}"}',
          `  variable-repo: {image: "\${REGISTRY}/api@sha256:${digest}"}`,
          `  short: {image: "ghcr.io/acme/api@sha256:${digest.slice(1)}"}`,
          `  upper: {image: "ghcr.io/acme/api@sha256:${digest.toUpperCase()}"}`,
          '  built: {build: ./app}',
          '',
        ].join('\n'),
      },
    ]);
    expect(pinnedInComposeFiles(project)).toEqual({
      pinned: `registry.example:5000/acme/web@sha256:${digest}`,
      tagged: `ghcr.io/acme/api:1.2.3@sha256:${digest}`,
    });
  });
});

describe('the release history', () => {
  const at = '2026-12-01T00:00:00.000Z';
  function deployedInOrder(...dirs: string[]) {
    let history = emptyHistory();
    for (const dir of dirs) {
      history = startAttempt(history, { release: dir, dir, restore: history.current, run: 'run', at });
      history = markDeployed(history, dir, {}, at);
    }
    return history;
  }

  it('rollback walks back one release at a time; a deploy after it starts from what runs', () => {
    let history = deployedInOrder('a', 'b', 'c');
    expect(rollbackTarget(history)?.dir).toBe('b');
    history = markRolledBack(history, 'c', 'b', at);
    expect(history.current).toBe('b');
    expect(rollbackTarget(history)?.dir).toBe('a');
    history = markRolledBack(history, 'b', 'a', at);
    expect(rollbackTarget(history)).toBeUndefined();
    history = markDeployed(startAttempt(history, { release: 'd', dir: 'd', restore: 'a', run: 'run', at }), 'd', {}, at);
    expect(rollbackTarget(history)?.dir).toBe('a');
  });

  it('keep-releases counts deployed releases only, and never lets go of the current one or the rollback target', () => {
    let history = deployedInOrder('a', 'b', 'c', 'd');
    for (const bad of ['x1', 'x2', 'x3']) {
      history = markFailed(startAttempt(history, { release: bad, dir: bad, restore: history.current, run: 'run', at }), bad, 'gate', at);
    }
    expect(releasesBeyondKeep(history, 3).map((entry) => entry.dir)).toEqual(['a']);
    expect(releasesBeyondKeep(history, 1).map((entry) => entry.dir)).toEqual(['b', 'a']);
    history = markRolledBack(history, 'd', 'c', at); // current c, target b
    expect(releasesBeyondKeep(forget(history, ['a']), 1).map((entry) => entry.dir)).toEqual(['d']);
  });

  it('a name deployed before gets a folder of its own; failed records are capped', () => {
    expect(attemptDir('1.4.0', ['1.4.0', '1.4.0+2'])).toBe('1.4.0+3');
    expect(attemptDir('1.4.0', ['1.3.0'])).toBe('1.4.0');
    let history = deployedInOrder('a');
    for (let n = 0; n < 15; n += 1) {
      history = markFailed(startAttempt(history, { release: `f${n}`, dir: `f${n}`, restore: 'a', run: 'run', at }), `f${n}`, 'x', at);
    }
    expect(history.releases.filter((entry) => entry.state === 'failed')).toHaveLength(10);
    expect(history.releases.map((entry) => entry.dir)).toContain('a');
  });
});

describe('the health gate', () => {
  const container = (fields: Partial<ContainerState>): ContainerState => ({
    id: 'c1',
    name: 'shop-web-1',
    service: 'web',
    number: '1',
    status: 'running',
    health: '',
    exitCode: 0,
    restartCount: 0,
    startedAt: 't0',
    created: '2026-01-01T00:00:00Z',
    restartPolicy: 'no',
    image: 'web:1',
    digest: '',
    composeVersion: '',
    ...fields,
  });

  it('wants a service without a healthcheck to run for settle-time, and fails it when it restarts', () => {
    let now = 0;
    const gate = new HealthGate(5000, () => now);
    expect(gate.verdict(container({})).kind).toBe('waiting');
    now = 5000;
    expect(gate.verdict(container({})).kind).toBe('ready');
    expect(gate.verdict(container({ restartCount: 1, startedAt: 't1' }))).toMatchObject({
      kind: 'failed',
      why: expect.stringContaining('restarted'),
    });
  });

  it('passes a one-shot that exits 0, fails a non-zero exit and an unhealthy container at once', () => {
    const gate = new HealthGate(5000, () => 0);
    expect(gate.verdict(container({ id: 'a', status: 'exited', exitCode: 0 })).kind).toBe('ready');
    expect(gate.verdict(container({ id: 'b', status: 'exited', exitCode: 3 }))).toEqual({ kind: 'failed', why: 'exited 3' });
    expect(gate.verdict(container({ id: 'c', health: 'unhealthy' }))).toEqual({ kind: 'failed', why: 'running, unhealthy' });
    expect(gate.verdict(container({ id: 'd', health: 'starting' })).kind).toBe('waiting');
  });

  it('finds the containers beyond one per service and number (what a killed recreate leaves), keeping the running one', () => {
    const running = container({ id: 'new', status: 'running', created: '2026-01-02T00:00:00Z' });
    const renamed = container({ id: 'old', name: '3f2a_shop-web-1', status: 'exited', created: '2026-01-01T00:00:00Z' });
    const other = container({ id: 'db', service: 'db' });
    expect(strayContainers([renamed, running, other]).map((stray) => stray.id)).toEqual(['old']);
  });
});
