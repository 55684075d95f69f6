/**
 * The report as people read it: Markdown (the job summary, `toolkit report --format markdown`),
 * with one table per environment and a Mermaid xychart-beta of deployments per week, which GitHub
 * renders in job summaries and Markdown files; or plain text for a terminal.
 */
import type { Distribution, Level, Metrics, Report } from './report.js';

/** A duration in seconds as people say it: 45 s, 12 min, 3.5 h, 2.1 d. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${round(seconds / 60)} min`;
  if (seconds < 86_400) return `${round(seconds / 3600)} h`;
  return `${round(seconds / 86_400)} d`;
}

/** Whole numbers from 10, one decimal from 1, two significant digits below (0.078 per day). */
function round(value: number): string {
  if (value >= 10) return String(Math.round(value));
  if (value >= 1 || value === 0) return String(Math.round(value * 10) / 10);
  return String(Number(value.toPrecision(2)));
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const percent = (rate: number | undefined) => (rate === undefined ? '–' : `${round(rate * 100)}%`);
const level = (value: Level | undefined) => value ?? '–';

function spread(value: Distribution): string {
  return value.count === 0 ? '–' : `${formatDuration(value.median)} (p90 ${formatDuration(value.p90)})`;
}

/** The four metrics as rows of metric, figure, level and what the figure is made of. */
export function metricRows(metrics: Metrics): [string, string, string, string][] {
  const { deploymentFrequency: frequency, leadTime, changeFailureRate: failure, timeToRestore: restore } = metrics;
  return [
    [
      'Deployment frequency',
      `${round(frequency.perDay)} per day, ${round(frequency.perWeek)} per week`,
      frequency.level,
      `${count(metrics.deployments, 'deployment')}${metrics.rollbacks ? `, ${count(metrics.rollbacks, 'rollback')}` : ''}`,
    ],
    [
      'Lead time for changes',
      spread(leadTime),
      level(leadTime.level),
      `${leadTime.count} with the commit's time${leadTime.withoutCommitTime ? `; ${leadTime.withoutCommitTime} recorded without committed_at, not counted` : ''}${leadTime.rebuilds ? `; ${leadTime.rebuilds} ${leadTime.rebuilds > 1 ? 'rebuilds' : 'rebuild'} of the source commit already deployed, not counted` : ''}`,
    ],
    [
      'Change failure rate',
      percent(failure.rate),
      level(failure.level),
      `${failure.failed} of ${metrics.deployments} (${failure.rolledBack} rolled back, ${failure.fixed} replaced by a fix release)`,
    ],
    [
      'Time to restore',
      spread(restore),
      level(restore.level),
      `${restore.count} restored${restore.open ? `, ${restore.open} not restored yet` : ''}`,
    ],
  ];
}

/** A Mermaid xychart-beta of deployments per week. */
export function weeklyChart(title: string, weeks: Metrics['weeks']): string {
  const most = Math.max(1, ...weeks.map((week) => week.deployments));
  return [
    '```mermaid',
    'xychart-beta',
    `    title "${title}"`,
    `    x-axis [${weeks.map((week) => `"${week.start.slice(5)}"`).join(', ')}]`,
    `    y-axis "Deployments" 0 --> ${most}`,
    `    bar [${weeks.map((week) => week.deployments).join(', ')}]`,
    '```',
  ].join('\n');
}

function header(report: Report): string[] {
  const { window } = report;
  const lines = [
    `Window: the ${round(window.days)} days from ${window.since} to ${window.until}; ${report.versionsRead} versions of the file read.`,
    `A deployment counts as failed when the change after it is a rollback, or a patch release within ${round(report.fixWindowHours)} h.`,
    `Levels: ${report.thresholds}.`,
  ];
  if (report.skipped.length > 0)
    lines.push(
      `${report.skipped.length} version${report.skipped.length > 1 ? 's' : ''} of the file could not be read and ${report.skipped.length > 1 ? 'were' : 'was'} skipped: ` +
        report.skipped
          .slice(0, 5)
          .map((skip) => `${skip.commit.slice(0, 12)} (${skip.reason})`)
          .join('; ') +
        (report.skipped.length > 5 ? '; …' : '') +
        '.',
    );
  return lines;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function renderMarkdown(report: Report): string {
  const out = ['## Release report', '', ...header(report).map((line) => `${line}  `), ''];
  if (report.environments.length === 0) out.push('No environment has a deployment in the window.', '');
  for (const environment of report.environments) {
    out.push(`### ${environment.name}`, '');
    out.push('| Metric | Figure | Level | From |', '| --- | --- | --- | --- |');
    for (const row of metricRows(environment.metrics)) out.push(`| ${row.map(cell).join(' | ')} |`);
    out.push('');
    if (environment.services.length > 1) {
      out.push(
        '| Service | Deployments | Lead time (median) | Change failure rate | Time to restore (median) |',
        '| --- | --- | --- | --- | --- |',
      );
      for (const { name, metrics } of environment.services)
        out.push(
          `| ${name} | ${metrics.deployments} | ${formatDuration(metrics.leadTime.median)} | ${percent(metrics.changeFailureRate.rate)} | ${formatDuration(metrics.timeToRestore.median)} |`,
        );
      out.push('');
    }
    out.push(weeklyChart(`Deployments per week to ${environment.name}`, environment.metrics.weeks), '');
  }
  return `${out.join('\n')}`;
}

export function renderText(report: Report): string {
  const out = ['Release report', ...header(report), ''];
  if (report.environments.length === 0) out.push('No environment has a deployment in the window.');
  for (const environment of report.environments) {
    out.push(`${environment.name}:`);
    for (const [metric, figure, grade, from] of metricRows(environment.metrics))
      out.push(`  ${metric.padEnd(22)} ${figure.padEnd(30)} ${grade.padEnd(6)} ${from}`);
    if (environment.services.length > 1)
      for (const { name, metrics } of environment.services)
        out.push(
          `  - ${name}: ${metrics.deployments} deployments, lead time ${formatDuration(metrics.leadTime.median)}, ` +
            `failure rate ${percent(metrics.changeFailureRate.rate)}, time to restore ${formatDuration(metrics.timeToRestore.median)}`,
        );
    out.push(`  per week: ${environment.metrics.weeks.map((week) => `${week.start.slice(5)} ${week.deployments}`).join(', ')}`, '');
  }
  return out.join('\n');
}
