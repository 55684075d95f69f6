/** How a rehearsal is told: the job graph as it ran, then the job summaries, as text or JSON. */
import { summaryToText } from '../summary-text.js';
import type { JobReport, RehearsalReport } from './engine.js';

const MARK: Record<JobReport['result'], string> = { success: '✓', failure: '✗', skipped: '-' };

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** One line per job, as it finishes: result, duration, key outputs. */
export function formatJobLine(job: JobReport): string {
  const outputs = Object.entries(job.outputs)
    .filter(([, value]) => value !== '' && value.length <= 100)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
  const extra = [job.environment ? `environment ${job.environment}` : '', job.reason ?? '', outputs].filter(Boolean).join('; ');
  return `${MARK[job.result]} ${job.id} ${job.result} (${seconds(job.durationMs)})${extra ? ` — ${extra}` : ''}`;
}

export function formatReport(report: RehearsalReport): string[] {
  const lines: string[] = ['', 'Jobs:'];
  for (const job of report.jobs) lines.push(`  ${formatJobLine(job)}`);
  const summaries = report.jobs.filter((job) => job.summary.trim());
  for (const job of summaries) {
    lines.push(
      '',
      `Summary of ${job.id}:`,
      ...summaryToText(job.summary)
        .split('\n')
        .map((line) => `  ${line}`),
    );
  }
  if (report.approvals.length > 0) {
    lines.push('', 'Approvals (jobs in a GitHub environment; each asks for approval where the environment requires it):');
    for (const approval of report.approvals) lines.push(`  ${approval.environment}: ${approval.job}`);
  }
  if (report.denials.length > 0) {
    lines.push('', 'Refused by the GitHub stand-in (a token lacked a permission):');
    for (const denial of report.denials) lines.push(`  ${denial.holder}: ${denial.method} ${denial.path} needs ${denial.needed}`);
  }
  lines.push('', 'Stand-ins (what this rehearsal ran instead of the real part):');
  for (const standIn of report.standIns) lines.push(`  ${standIn}`);
  lines.push('', `Conclusion: ${report.conclusion}`);
  return lines;
}

/** `--json`: {conclusion, jobs: [{id, workflow, result, outputs, summary}], …}. */
export function reportJson(report: RehearsalReport): string {
  return JSON.stringify(
    {
      conclusion: report.conclusion,
      jobs: report.jobs.map((job) => ({
        id: job.id,
        workflow: job.workflow,
        result: job.result,
        outputs: job.outputs,
        summary: job.summary,
        durationMs: job.durationMs,
        permissions: job.permissions,
        ...(job.environment ? { environment: job.environment } : {}),
        ...(job.concurrency ? { concurrency: job.concurrency } : {}),
        steps: job.steps,
      })),
      runs: report.runs,
      approvals: report.approvals,
      denials: report.denials,
      standIns: report.standIns,
    },
    null,
    2,
  );
}
