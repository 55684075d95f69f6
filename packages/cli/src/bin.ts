#!/usr/bin/env node
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UserError, isUserError } from '@toolkit/shared';
import { updateCatalog } from './catalog.js';
import { runDemo } from './demo.js';
import { formatRunReport, runActionLocally } from './local-runner.js';
import { formatProblem, validateRepository } from './validate.js';

const USAGE = `toolkit <command>

  run <action> [--input name=value]... [--env NAME=VALUE]... [--event event.json]
               [--workspace dir] [--node path] [--debug]
      Runs actions/<action>/dist/index.js as GitHub's runner does, then prints its outputs and summary.
  catalog [--check]   Writes action-catalog.md from every actions/*/action.yml (--check: fail if stale).
  validate            Checks every action.yml, workflow and template.
  demo [--keep]       Rehearses a release locally in a temporary sandbox.

  --root dir          The toolkit repository (default: the one this CLI belongs to).`;

/** The repository this CLI was built in: packages/cli/lib/bin.js is three levels below it. */
const DEFAULT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function pairs(values: string[] | undefined, flag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const value of values ?? []) {
    const equals = value.indexOf('=');
    if (equals <= 0) throw new UserError('INVALID_INPUT', `${flag} ${JSON.stringify(value)} is not name=value.`);
    result[value.slice(0, equals)] = value.slice(equals + 1);
  }
  return result;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: 'string', multiple: true, short: 'i' },
      env: { type: 'string', multiple: true, short: 'e' },
      event: { type: 'string' },
      workspace: { type: 'string' },
      node: { type: 'string' },
      debug: { type: 'boolean' },
      check: { type: 'boolean' },
      keep: { type: 'boolean' },
      root: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const root = path.resolve(values.root ?? DEFAULT_ROOT);
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  switch (command) {
    case 'run': {
      const [action] = rest;
      if (!action) throw new UserError('INVALID_INPUT', 'toolkit run needs an action name, e.g. `toolkit run release-context`.');
      const actionDir = action.includes('/') ? path.resolve(action) : path.join(root, 'actions', action);
      const result = await runActionLocally({
        actionDir,
        inputs: pairs(values.input, '--input'),
        env: pairs(values.env, '--env'),
        eventPath: values.event,
        workspace: values.workspace,
        node: values.node,
        debug: values.debug,
        onLine: (line) => console.log(line),
      });
      for (const line of formatRunReport(result)) console.log(line);
      console.log(`\nExit code: ${result.exitCode}`);
      return result.exitCode;
    }
    case 'catalog': {
      const { file, changed } = await updateCatalog(root, { check: values.check });
      console.log(
        values.check ? `${path.relative(root, file)} is up to date.` : `${path.relative(root, file)} ${changed ? 'written' : 'unchanged'}.`,
      );
      return 0;
    }
    case 'validate': {
      const problems = await validateRepository(root);
      for (const problem of problems) console.log(formatProblem(problem));
      console.log(problems.length === 0 ? 'All actions and workflows are valid.' : `${problems.length} problem(s) found.`);
      return problems.length === 0 ? 0 : 1;
    }
    case 'demo':
      return runDemo({ root, keep: values.keep ?? false, log: (line) => console.log(line) });
    default:
      throw new UserError('INVALID_INPUT', `Unknown command ${JSON.stringify(command)}.\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`toolkit: ${error instanceof Error ? error.message : String(error)}`);
    if (!isUserError(error) && error instanceof Error && error.stack) console.error(error.stack);
    process.exitCode = isUserError(error) ? 2 : 1;
  },
);
