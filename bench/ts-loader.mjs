// Lets a benchmark written in TypeScript import the test rigs (test/support/*.ts) as they are:
//   node --import ./bench/ts-loader.mjs bench/deploy-compose.ts
// `./x.js` resolves to `./x.ts` where only the TypeScript exists, and .ts files are transpiled
// (types dropped, nothing checked: `tsc -b` checks them) with the project's own TypeScript.
// This one file is both what --import runs (on the main thread, it registers itself) and the
// module hooks (Node runs those on a thread of their own).
import { existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

export async function resolve(specifier, context, next) {
  const relative = specifier.startsWith('.') || specifier.startsWith('/');
  if (relative && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(candidate)) && !existsSync(fileURLToPath(new URL(specifier, context.parentURL)))) {
      return next(candidate.href, context);
    }
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const { default: ts } = await import('typescript');
  const output = ts.transpileModule(readFileSync(fileURLToPath(url), 'utf8'), {
    fileName: fileURLToPath(url),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  return { format: 'module', source: output.outputText, shortCircuit: true };
}
