#!/usr/bin/env node
// Bundles every actions/<name>/lib/index.js (compiled by `tsc -b`) into actions/<name>/dist with ncc.
//
//   node scripts/build-actions.mjs           build
//   node scripts/build-actions.mjs --check   build, then fail if any dist file changed (check-dist)
//   --actions <dir>                          another folder of actions (the tests use it)
//   --only <name>[,<name>]                   only these actions (a quicker rebuild while working on one)
//
// Every action's dist/index.js, which a run loads before anything else (ncc's chunks come only by
// import(), when the code that needs them runs), must stay within 1.5 MB (decimal): rarely used
// code belongs in a chunk (a dynamic import). bench/cold-start.mjs measures what a run really loads.
//
// ncc given a package without "type": "module" emits a bundle that exits 0 at build time and
// crashes on the runner (it contains `webpackMissingModule`); both are refused here.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ncc from '@vercel/ncc';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const actionsArg = process.argv.indexOf('--actions');
const actionsDir = actionsArg > 0 ? path.resolve(process.argv[actionsArg + 1]) : path.join(root, 'actions');
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? new Set(process.argv[onlyArg + 1].split(',')) : undefined;

async function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}

async function snapshot(dirs) {
  const sums = new Map();
  for (const dir of dirs) {
    for (const file of await filesUnder(dir))
      sums.set(
        file,
        createHash('sha256')
          .update(await readFile(path.join(root, file)))
          .digest('hex'),
      );
  }
  return sums;
}

/**
 * ncc's ES module output leaves a CommonJS `__dirname` it could not rewrite as it is (ssh2's
 * Emscripten-built poly1305 reads it at load), and an ES module has none: the action would die with
 * a ReferenceError before it ran. Such a bundle gets one first line defining it from
 * `import.meta.url`, and its source map one empty line to match.
 */
function withDirnameShim(code, map) {
  if (!/(?<![\w$.])__dirname(?![\w$])/.test(code)) return { code, map };
  const shim =
    'import{fileURLToPath as __toolkitFileURLToPath}from"node:url";var __dirname=__toolkitFileURLToPath(new URL(".",import.meta.url));\n';
  if (!map) return { code: shim + code, map };
  const parsed = JSON.parse(map);
  parsed.mappings = `;${parsed.mappings}`;
  return { code: shim + code, map: JSON.stringify(parsed) };
}

async function buildAction(dir) {
  const name = path.basename(dir);
  const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
  if (manifest.type !== 'module') {
    throw new Error(`actions/${name}/package.json must have "type": "module"; without it ncc emits a bundle that cannot run.`);
  }
  const entry = path.join(dir, 'lib', 'index.js');
  if (!existsSync(entry)) throw new Error(`actions/${name}/lib/index.js is missing: run \`tsc -b\` first.`);
  // Minified with source maps, as docker/build-push-action ships its dist: the bundles stay within
  // the size goal, and a stack trace still maps back to the TypeScript.
  const { code, map, assets } = await ncc(entry, {
    cache: false,
    quiet: true,
    minify: true,
    sourceMap: true,
    sourceMapRegister: false,
    license: 'licenses.txt',
  });
  const missing = [...code.matchAll(/webpackMissingModule\(\)[^\n]*?Cannot find module '([^']+)'/g)].map((match) => match[1]);
  if (code.includes('webpackMissingModule')) {
    throw new Error(
      `actions/${name}: the bundle contains webpackMissingModule (${missing.join(', ') || 'unresolved imports'}); it would crash on the runner.`,
    );
  }
  const shimmed = withDirnameShim(code, map);
  const dist = path.join(dir, 'dist');
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });
  await writeFile(path.join(dist, 'index.js'), shimmed.code);
  if (shimmed.map) await writeFile(path.join(dist, 'index.js.map'), shimmed.map);
  for (const [file, asset] of Object.entries(assets)) {
    await mkdir(path.dirname(path.join(dist, file)), { recursive: true });
    await writeFile(path.join(dist, file), asset.source);
  }
  const bytes = Buffer.byteLength(shimmed.code);
  if (bytes > START_LIMIT_BYTES) {
    throw new Error(
      `actions/${name}/dist/index.js is ${(bytes / 1e6).toFixed(2)} MB, over the ${START_LIMIT_BYTES / 1e6} MB every run loads at start; ` +
        'load rarely used code with a dynamic import() so that it goes to a chunk.',
    );
  }
  return { name, bytes };
}

/** What a run loads at start, at most (decimal MB, as the goal is written). */
const START_LIMIT_BYTES = 1_500_000;

const actionDirs = (await readdir(actionsDir, { withFileTypes: true }))
  .filter((entry) => entry.isDirectory() && existsSync(path.join(actionsDir, entry.name, 'package.json')))
  .filter((entry) => !only || only.has(entry.name))
  .map((entry) => path.join(actionsDir, entry.name))
  .sort();
const distDirs = actionDirs.map((dir) => path.join(dir, 'dist'));

const before = await snapshot(distDirs);
let failed = false;
for (const dir of actionDirs) {
  try {
    const { name, bytes } = await buildAction(dir);
    console.log(`built actions/${name}/dist/index.js (${(bytes / 1e6).toFixed(2)} MB loaded at start)`);
  } catch (error) {
    console.error(`build failed: ${error.message}`);
    failed = true;
  }
}
if (failed) process.exit(1);

if (check) {
  const after = await snapshot(distDirs);
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((file) => before.get(file) !== after.get(file)).sort();
  if (changed.length > 0) {
    console.error('check-dist: dist/ differs from what the sources build:');
    for (const file of changed) console.error(`  ${before.has(file) ? (after.has(file) ? 'changed' : 'removed') : 'added'}: ${file}`);
    console.error('Run `pnpm build` and commit dist/ with the source it comes from.');
    process.exit(1);
  }
  console.log('check-dist: every dist/ matches its sources.');
}
