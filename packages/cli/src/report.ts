/**
 * `toolkit report`: actions/release-report on this machine, printed as Markdown, JSON or text.
 * The flags are the action's inputs (--since 90d, --repository-path ../environments, …), read and
 * checked by the action's own getInputs, so both refuse the same values with the same words.
 */
import path from 'node:path';
import { InputReader } from '@toolkit/shared';
import { type Report, getInputs, renderMarkdown, renderText, runReport } from '@toolkit/release-report';

export type ReportFormat = 'markdown' | 'json' | 'text';

export const REPORT_INPUTS = [
  'repository',
  'repository-path',
  'branch',
  'file',
  'since',
  'fix-window',
  'environments',
  'services',
] as const;

export interface ReportCommandOptions {
  /** The action's inputs by name. */
  inputs: Partial<Record<(typeof REPORT_INPUTS)[number], string>>;
  format: ReportFormat;
  /** Where a relative repository-path is read from, and the clone read when none is given. */
  cwd: string;
  now?: Date;
}

/** The report, and its text in the format asked for. */
export async function reportCommand(options: ReportCommandOptions): Promise<{ report: Report; text: string }> {
  const given: Record<string, string | undefined> = { ...options.inputs };
  if (given['repository-path']) given['repository-path'] = path.resolve(options.cwd, given['repository-path']);
  const inputs = getInputs(new InputReader({ source: (name) => given[name] ?? '', mask: () => {} }), {
    GITHUB_WORKSPACE: options.cwd,
  });
  const report = await runReport({ ...inputs, token: process.env.GITHUB_TOKEN ?? '' }, options.now);
  const text =
    options.format === 'json'
      ? `${JSON.stringify(report, null, 2)}\n`
      : options.format === 'text'
        ? renderText(report)
        : renderMarkdown(report);
  return { report, text };
}
