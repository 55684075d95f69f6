#!/usr/bin/env node
// The README's two commands, on a machine that has only Node and git:
//   npm test      installs what is needed (pnpm included), then runs everything CI checks
//   npm run demo  installs, builds the CLI, then rehearses a release locally
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2];
if (mode !== 'test' && mode !== 'demo') {
  console.error('usage: node scripts/bootstrap.mjs test|demo [args...]');
  process.exit(2);
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`Node ${process.versions.node} is too old: toolkit needs Node 20.19 or later.`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// The pinned pnpm (package.json "packageManager"): the one on PATH if it is that version, else
// run through npx, which fetches it from the npm registry once and needs no global install.
const pinned = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
  .packageManager.replace(/^pnpm@/, '')
  .replace(/\+.*$/, '');
const onPath = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
const pnpm = onPath.status === 0 && onPath.stdout.trim() === pinned ? ['pnpm'] : ['npx', '--yes', `pnpm@${pinned}`];
console.log(`▶ install (pnpm ${pinned}${pnpm[0] === 'npx' ? ' through npx' : ''})`);
run(pnpm[0], [...pnpm.slice(1), 'install', '--frozen-lockfile', '--config.confirmModulesPurge=false']);

// System packages the tests run for real: an OCI registry, skopeo to push to it, openssl for a
// token service's certificate; and for deploy-compose, OpenSSH's sshd, a Docker engine, Debian's
// docker-compose (v1) and a static busybox to make images of. Installed with apt where they are
// missing and we are root (CI, a fresh machine); elsewhere, said loudly.
const SYSTEM_PACKAGES = {
  'docker-registry': 'docker-registry',
  skopeo: 'skopeo',
  openssl: 'openssl',
  sshd: 'openssh-server',
  'ssh-keygen': 'openssh-client',
  dockerd: 'docker.io',
  'docker-compose': 'docker-compose',
  busybox: 'busybox-static',
};
function commandExists(command) {
  const env = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore', env }).status === 0;
}
/** A busybox linked dynamically cannot run inside an image made of it alone; only busybox-static will do. */
function packageInstalled(pkg) {
  const status = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return status.status === 0 && status.stdout.includes('install ok installed');
}
if (mode === 'test') {
  const missing = Object.entries(SYSTEM_PACKAGES)
    .filter(([command, pkg]) => !commandExists(command) || (pkg === 'busybox-static' && !packageInstalled(pkg)))
    .map(([, pkg]) => pkg);
  if (missing.length > 0) {
    if (process.getuid?.() === 0 && commandExists('apt-get')) {
      console.log(`▶ install system packages (${missing.join(', ')})`);
      run('apt-get', ['update', '-qq']);
      run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } else {
      console.warn(
        `Missing ${missing.join(', ')}: install them (apt-get install ${missing.join(' ')}); the tests that need them will fail.`,
      );
    }
  }
}

const extra = process.argv.slice(3);
if (mode === 'test') {
  run(process.execPath, ['scripts/verify.mjs', ...extra]);
} else {
  console.log('▶ build the CLI (tsc -b)');
  run(path.join(root, 'node_modules', '.bin', 'tsc'), ['-b']);
  run(process.execPath, ['packages/cli/lib/bin.js', 'demo', ...extra]);
}
