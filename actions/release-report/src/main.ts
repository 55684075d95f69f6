import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { Git, InputError, InputReader, repositoryUrl, writeJobSummary } from '@toolkit/shared';
import { readHistory } from './history.js';
import { renderMarkdown } from './render.js';
import { DAY_MS, DeploymentsReader, type EnvironmentReport, type Report, buildReport } from './report.js';

export { readHistory } from './history.js';
export { formatDuration, renderMarkdown, renderText } from './render.js';
export * from './report.js';

export interface Inputs {
  /** owner/name or a git URL to clone; empty reads `repositoryPath`. */
  repository: string;
  repositoryPath: string;
  branch: string;
  file: string;
  windowMs: number;
  fixWindowMs: number;
  environments: string[];
  services: string[];
  /** The environment whose figures are the action's outputs; empty is the last of the promotion order. */
  headlineEnvironment: string;
  jsonFile: string;
  markdownFile: string;
  token: string;
}

const NAME = { pattern: /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/, expected: "lower-case letters, digits, '.', '_' and '-'" };

export function getInputs(reader = new InputReader(), env: NodeJS.ProcessEnv = process.env): Inputs {
  const windowMs = reader.duration('since', 90 * DAY_MS);
  if (windowMs < 3_600_000 || windowMs > 3660 * DAY_MS)
    throw new InputError('since', `the window must be between 1h and 3660d (ten years); ${JSON.stringify(reader.string('since'))} is not.`);
  const names = (input: string) =>
    reader.list(input).map((name) => {
      if (!NAME.pattern.test(name)) throw new InputError(input, `${JSON.stringify(name)} is not allowed; expected ${NAME.expected}.`);
      return name;
    });
  const file = reader.string('file') || 'versions.yaml';
  if (path.isAbsolute(file) || file.split(/[\\/]/).some((part) => part === '..' || part.toLowerCase() === '.git') || /\p{Cc}/u.test(file))
    throw new InputError(
      'file',
      `${JSON.stringify(file)} is not allowed; expected a path inside the environment repository, such as versions.yaml.`,
    );
  const branch = reader.string('branch', { pattern: /^(?!-)[^\s\p{Cc}~^:?*[\\]+$/u, expected: 'a branch name' });
  const temp = env.RUNNER_TEMP || os.tmpdir();
  return {
    repository: reader.string('repository'),
    repositoryPath: reader.string('repository-path') || env.GITHUB_WORKSPACE || process.cwd(),
    branch,
    file,
    windowMs,
    fixWindowMs: reader.duration('fix-window', DAY_MS),
    environments: names('environments'),
    services: names('services'),
    headlineEnvironment: reader.string('headline-environment', NAME),
    jsonFile: reader.string('json-file') || path.join(temp, 'release-report.json'),
    markdownFile: reader.string('markdown-file') || path.join(temp, 'release-report.md'),
    token: reader.secret('token'),
  };
}

/**
 * The environment the outputs speak of: the one named, else the last one of the promotion order
 * that the report has (production), not an environment outside the order (a preview sorted after
 * it); the report's last where it has none of the order.
 */
export function headline(report: Report, name: string): EnvironmentReport | undefined {
  if (!name) {
    const ordered = report.environments.filter((environment) => report.promotion.includes(environment.name));
    return (
      ordered.reduce<EnvironmentReport | undefined>(
        (last, environment) =>
          !last || report.promotion.indexOf(environment.name) > report.promotion.indexOf(last.name) ? environment : last,
        undefined,
      ) ?? report.environments.at(-1)
    );
  }
  const found = report.environments.find((environment) => environment.name === name);
  if (!found)
    throw new InputError(
      'headline-environment',
      `"${name}" is not an environment of the report; it has ${report.environments.map((environment) => environment.name).join(', ') || 'none'}.`,
    );
  return found;
}

/** The report the inputs ask for, at `now`: the history read (cloned, or from the clone on disk), then measured. */
export async function runReport(inputs: Inputs, now = new Date()): Promise<Report> {
  const serverUrl = process.env.GITHUB_SERVER_URL || 'https://github.com';
  const target = inputs.repository ? repositoryUrl(inputs.repository, serverUrl) : undefined;
  // A clone on disk fetches with its own credentials (actions/checkout's): the job's token, which
  // cannot read another repository, would replace them. A URL on another host than the GitHub
  // server gets no token: the token (the job's by default, GITHUB_TOKEN for toolkit report) is
  // GitHub's, and a repository input must not be able to send it elsewhere.
  const authUrl = target?.authUrl && sameHost(target.authUrl, serverUrl) ? target.authUrl : undefined;
  const git = new Git({ cwd: os.tmpdir(), ...(inputs.token && authUrl ? { auth: { token: inputs.token, url: authUrl } } : {}) });
  const reader = new DeploymentsReader(inputs.file);
  await readHistory(
    git,
    {
      ...(target ? { url: target.url } : { clonePath: inputs.repositoryPath }),
      ...(inputs.branch ? { branch: inputs.branch } : {}),
      file: inputs.file,
      since: new Date(now.getTime() - inputs.windowMs),
      workRoot: process.env.RUNNER_TEMP || os.tmpdir(),
    },
    (version) => reader.add(version),
  );
  return buildReport(reader.finish(), {
    now,
    windowMs: inputs.windowMs,
    fixWindowMs: inputs.fixWindowMs,
    environments: inputs.environments,
    services: inputs.services,
    file: inputs.file,
  });
}

export async function main(): Promise<void> {
  const inputs = getInputs();
  const report = await runReport(inputs);
  const markdown = renderMarkdown(report);
  for (const [file, text] of [
    [inputs.jsonFile, `${JSON.stringify(report, null, 2)}\n`],
    [inputs.markdownFile, markdown],
  ] as const) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  for (const skip of report.skipped)
    core.warning(`${inputs.file} at ${skip.commit.slice(0, 12)} could not be read and was skipped: ${skip.reason}`);
  const top = headline(report, inputs.headlineEnvironment);
  const metrics = top?.metrics;
  core.setOutput('json-file', inputs.jsonFile);
  core.setOutput('markdown-file', inputs.markdownFile);
  core.setOutput('environment', top?.name ?? '');
  core.setOutput('deployments', String(metrics?.deployments ?? 0));
  core.setOutput('deployments-per-week', figure(metrics?.deploymentFrequency.perWeek ?? 0));
  core.setOutput('lead-time-median-seconds', figure(metrics?.leadTime.median));
  core.setOutput('lead-time-p90-seconds', figure(metrics?.leadTime.p90));
  core.setOutput('change-failure-rate', figure(metrics?.changeFailureRate.rate));
  core.setOutput('time-to-restore-median-seconds', figure(metrics?.timeToRestore.median));
  core.setOutput('time-to-restore-p90-seconds', figure(metrics?.timeToRestore.p90));
  core.setOutput(
    'levels',
    metrics
      ? JSON.stringify({
          'deployment-frequency': metrics.deploymentFrequency.level,
          'lead-time': metrics.leadTime.level ?? null,
          'change-failure-rate': metrics.changeFailureRate.level ?? null,
          'time-to-restore': metrics.timeToRestore.level ?? null,
        })
      : '{}',
  );
  core.setOutput('skipped', String(report.skipped.length));
  core.info(
    `${report.deployments.length} changes in ${report.environments.length} environments over ${report.window.days} days; ${report.versionsRead} versions read, ${report.skipped.length} skipped.`,
  );
  // Markdown, not the HTML helpers: the chart is a Mermaid block, which only Markdown renders.
  await writeJobSummary(markdown);
}

function sameHost(a: string, b: string): boolean {
  try {
    const [x, y] = [new URL(a), new URL(b)];
    return x.protocol === y.protocol && x.host === y.host;
  } catch {
    return false;
  }
}

/** A number as an output: up to three decimals; empty where there is none. */
function figure(value: number | undefined): string {
  return value === undefined ? '' : String(Math.round(value * 1000) / 1000);
}
