#!/usr/bin/env node
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UserError, isUserError } from '@toolkit/shared';
import { updateCatalog } from './catalog.js';
import { type DemoServer, runDemo } from './demo.js';
import { initRepository } from './init.js';
import { formatRunReport, runActionLocally } from './local-runner.js';
import { migrateFiles } from './migrate.js';
import { type ReportFormat, reportCommand } from './report.js';
import { formatProblem, validateRepository } from './validate.js';
import { freePort, startLocalParts } from './rig/index.js';
import { type EventName, type Json, formatReport, namedInWorkflows, prepareRehearsal, reportJson } from './rehearse/index.js';

const USAGE = `toolkit <command>

  run <action> [--input name=value]... [--env NAME=VALUE]... [--event event.json]
               [--workspace dir] [--node path] [--debug]
      Runs actions/<action>/dist/index.js as GitHub's runner does, then prints its outputs and summary.
  catalog [--check]   Writes action-catalog.md from every actions/*/action.yml, and docs/migrating.md from
                      migrate's table (--check: fail if either is stale).
  migrate <workflow file>... [--check] [--org owner/toolkit] [--ref v1]
      Rewrites steps that use trivy-action, sbom-action, github-tag-action and cosign-installer (with
      its cosign sign step) into scan, semantic-tag and sign, keeping comments and layout; prints what
      changed and what could not be mapped (docs/migrating.md). --check: only report, and exit 1 when
      something would change or could not be mapped (a step left as it is, an input not mapped).
  validate            Checks every action.yml, workflow and template.
  demo [--keep] [--verbose] [--stand-ins-only] [--host h --known-hosts file --key file [--port n] [--user u]]
      Rehearses UAT-1.0.0, PROD-1.0.0 and a refused PROD tag from the real templates, in a sandbox,
      on docker-registry, dockerd and sshd where this machine has them (stand-ins elsewhere);
      with a host, the releases deploy there.
  rehearse --repo <app repo> --event push|workflow_dispatch|pull_request --ref <ref>
           [--workflow file] [--base branch (pull_request; --ref is the head)] [--payload webhook.json] [--env-repo <dir>] [--secrets-file F] [--vars-file F] [--input name=value]...
           [--job id]... [--json] [--keep]
      Runs the app repository's workflows for the event as GitHub would, on this machine: the reusable
      workflows of this toolkit, its built actions, stand-ins for third-party actions and GitHub's API.
  report [--repository-path dir | --repository owner/name|url] [--since 90d] [--fix-window 24h]
         [--file versions.yaml] [--branch b] [--environment e]... [--service s]... [--format markdown|json|text]
      The four key delivery metrics (DORA) of an environment repository, from its history of versions.yaml
      (actions/release-report on this machine). Without a repository, the clone in the current directory.
  init [--dir repo] [--org owner/toolkit] [--ref v1|<sha>] [--env-repo owner/name] [--monorepo] [--force]
      Copies the workflow templates into <repo>/.github/workflows, filled in, and says what is left to set.
      With --monorepo, the templates for several services and a first toolkit.yaml listing the
      folders that have a Dockerfile (docs/monorepo.md).

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
      workspace: { type: 'string' },
      node: { type: 'string' },
      debug: { type: 'boolean' },
      check: { type: 'boolean' },
      monorepo: { type: 'boolean' },
      keep: { type: 'boolean' },
      root: { type: 'string' },
      dir: { type: 'string' },
      org: { type: 'string' },
      ref: { type: 'string' },
      'env-repo': { type: 'string' },
      force: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      user: { type: 'string' },
      'known-hosts': { type: 'string' },
      key: { type: 'string' },
      repo: { type: 'string' },
      event: { type: 'string' },
      'secrets-file': { type: 'string' },
      'vars-file': { type: 'string' },
      job: { type: 'string', multiple: true },
      workflow: { type: 'string' },
      json: { type: 'boolean' },
      'stand-ins-only': { type: 'boolean' },
      verbose: { type: 'boolean' },
      base: { type: 'string' },
      payload: { type: 'string' },
      'dev-branch': { type: 'string' },
      'chart-version': { type: 'string' },
      'chart-repository': { type: 'string' },
      'repository-path': { type: 'string' },
      repository: { type: 'string' },
      since: { type: 'string' },
      'fix-window': { type: 'string' },
      file: { type: 'string' },
      branch: { type: 'string' },
      environment: { type: 'string', multiple: true },
      service: { type: 'string', multiple: true },
      format: { type: 'string' },
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
    case 'migrate': {
      const { changed, problems, unmapped } = await migrateFiles(rest, {
        check: values.check ?? false,
        ...(values.org ? { org: values.org } : {}),
        ...(values.ref ? { ref: values.ref } : {}),
        log: (line) => console.log(line),
      });
      // --check is the gate: 1 while an anchor step would be rewritten or needs a person.
      return problems > 0 || (values.check && (changed || unmapped > 0)) ? 1 : 0;
    }
    case 'validate': {
      // A repository toolkit init set up calls this toolkit by its name there: its reusable
      // workflows are checked against this toolkit's files.
      const own = root === DEFAULT_ROOT;
      const named = own ? undefined : await namedInWorkflows(root, DEFAULT_ROOT).catch(() => undefined);
      const problems = await validateRepository(root, named ? { selfRepository: named.toolkit, selfRoot: DEFAULT_ROOT } : {});
      for (const problem of problems) console.log(formatProblem(problem));
      console.log(problems.length === 0 ? 'All actions and workflows are valid.' : `${problems.length} problem(s) found.`);
      return problems.length === 0 ? 0 : 1;
    }
    case 'demo': {
      let server: DemoServer | undefined;
      if (values.host) {
        if (!values['known-hosts'] || !values.key) {
          throw new UserError('INVALID_INPUT', '--host needs --known-hosts <file> and --key <file>: the host key is always verified.');
        }
        server = {
          host: values.host,
          port: values.port ? Number(values.port) : 22,
          user: values.user ?? 'deploy',
          knownHosts: await readFile(path.resolve(values['known-hosts']), 'utf8'),
          key: await readFile(path.resolve(values.key), 'utf8'),
        };
      }
      // Where this machine has docker-registry, dockerd and sshd (and we are root), the demo uses
      // them: a real registry, docker build, and a deploy to a local compose host.
      const parts =
        server || values['stand-ins-only']
          ? undefined
          : await startLocalParts(await mkdtemp(path.join(os.tmpdir(), 'toolkit-demo-parts-')));
      try {
        if (parts) {
          const real = [parts.registry && 'docker-registry', parts.daemon && 'dockerd', parts.ssh && 'sshd (a local compose host)'].filter(
            Boolean,
          );
          console.log(`Real parts: ${real.join(', ') || 'none'}${parts.missing.length ? `; not used: ${parts.missing.join('; ')}` : ''}`);
        }
        const local = parts?.ssh
          ? {
              host: parts.ssh.host,
              port: parts.ssh.port,
              user: parts.ssh.user,
              knownHosts: parts.ssh.knownHosts,
              key: parts.ssh.clientKey,
              appPort: await freePort(),
            }
          : undefined;
        return await runDemo({
          root,
          keep: values.keep ?? false,
          verbose: values.verbose ?? false,
          log: (line) => console.log(line),
          ...(server || local ? { server: server ?? local } : {}),
          ...(parts?.registry ? { registry: { ...parts.registry, kind: 'docker-registry' as const } } : {}),
          ...(parts?.daemon ? { dockerHost: parts.daemon.host } : {}),
        });
      } finally {
        await parts?.close();
      }
    }
    case 'rehearse': {
      if (!values.repo) throw new UserError('INVALID_INPUT', 'toolkit rehearse needs --repo <app repository>.');
      const event = (values.event ?? 'push') as EventName;
      if (!['push', 'workflow_dispatch', 'pull_request'].includes(event))
        throw new UserError(
          'INVALID_INPUT',
          `--event ${JSON.stringify(event)} is not allowed; expected push, workflow_dispatch or pull_request.`,
        );
      if (!values.ref)
        throw new UserError('INVALID_INPUT', 'toolkit rehearse needs --ref, such as refs/tags/UAT-1.0.0 or refs/heads/main.');
      const readPairs = async (file: string | undefined, flag: string) =>
        file
          ? pairs(
              (await readFile(path.resolve(file), 'utf8')).split(/\r?\n/).filter((line) => line.trim() && !line.startsWith('#')),
              flag,
            )
          : {};
      const rehearsal = await prepareRehearsal({
        root,
        appDir: path.resolve(values.repo),
        ...(values['env-repo'] ? { envDir: path.resolve(values['env-repo']) } : {}),
        secrets: await readPairs(values['secrets-file'], '--secrets-file'),
        vars: await readPairs(values['vars-file'], '--vars-file'),
        ...(values.payload
          ? { basePayloads: { [event]: JSON.parse(await readFile(path.resolve(values.payload), 'utf8')) as Record<string, Json> } }
          : {}),
      });
      try {
        const json = values.json ?? false;
        const report = await rehearsal.run(
          event === 'pull_request'
            ? { name: event, ref: values.ref, pullRequest: { base: values.base ?? 'main', head: values.ref.replace(/^refs\/heads\//, '') } }
            : { name: event, ref: values.ref, inputs: pairs(values.input, '--input') },
          {
            ...(values.job ? { jobs: values.job } : {}),
            ...(values.workflow
              ? { workflows: [values.workflow.includes('/') ? values.workflow : `.github/workflows/${values.workflow}`] }
              : {}),
            log: json ? () => {} : (line) => console.log(line),
          },
        );
        if (json) console.log(reportJson(report));
        else for (const line of formatReport(report)) console.log(line);
        return report.conclusion === 'success' ? 0 : 1;
      } finally {
        if (values.keep) console.error(`Rehearsal kept at ${rehearsal.world.scratch}`);
        else await rehearsal.close();
      }
    }
    case 'report': {
      const format = (values.format ?? 'markdown') as ReportFormat;
      if (!['markdown', 'json', 'text'].includes(format))
        throw new UserError('INVALID_INPUT', `--format ${JSON.stringify(format)} is not allowed; expected markdown, json or text.`);
      const { text } = await reportCommand({
        format,
        cwd: process.cwd(),
        inputs: {
          ...(values.repository ? { repository: values.repository } : {}),
          ...(values['repository-path'] ? { 'repository-path': values['repository-path'] } : {}),
          ...(values.since ? { since: values.since } : {}),
          ...(values['fix-window'] ? { 'fix-window': values['fix-window'] } : {}),
          ...(values.file ? { file: values.file } : {}),
          ...(values.branch ? { branch: values.branch } : {}),
          ...(values.environment ? { environments: values.environment.join(',') } : {}),
          ...(values.service ? { services: values.service.join(',') } : {}),
        },
      });
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      return 0;
    }
    case 'init': {
      const result = await initRepository({
        root,
        dir: path.resolve(values.dir ?? '.'),
        org: values.org,
        ref: values.ref,
        envRepo: values['env-repo'],
        devBranch: values['dev-branch'],
        chartVersion: values['chart-version'],
        chartRepository: values['chart-repository'],
        force: values.force ?? false,
        monorepo: values.monorepo ?? false,
      });
      for (const file of result.written) console.log(`wrote ${file}`);
      console.log('\nStill to do:');
      for (const step of result.nextSteps) console.log(`  - ${step}`);
      return 0;
    }
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
