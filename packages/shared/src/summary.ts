import * as core from '@actions/core';
import { escapeHtml } from './html.js';
import { maskSecrets } from './secrets.js';

/**
 * Job-summary building blocks. They return HTML strings (GitHub renders HTML in summaries), with
 * every piece of text escaped, so a package name or commit subject cannot break the table.
 */

export interface SummaryCell {
  text: string;
  /** Only http(s) links are kept. */
  href?: string;
  code?: boolean;
}

export type SummaryCellInput = string | SummaryCell;

export { escapeHtml };

function cell(input: SummaryCellInput): string {
  const { text, href, code } = typeof input === 'string' ? { text: input } : input;
  let html = escapeHtml(text);
  if (code) html = `<code>${html}</code>`;
  if (href && /^https?:\/\//i.test(href)) html = `<a href="${escapeHtml(href)}">${html}</a>`;
  return html;
}

export function summaryHeading(text: string, level: 2 | 3 | 4 = 3): string {
  return `<h${level}>${escapeHtml(text)}</h${level}>\n`;
}

export function summaryParagraph(text: string): string {
  return `<p>${escapeHtml(text)}</p>\n`;
}

export function summaryTable(header: readonly string[], rows: readonly (readonly SummaryCellInput[])[]): string {
  const head = `<tr>${header.map((title) => `<th>${escapeHtml(title)}</th>`).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((value) => `<td>${cell(value)}</td>`).join('')}</tr>`);
  return `<table>${[head, ...body].join('')}</table>\n`;
}

/** A two-column table of names and values. */
export function summaryFacts(facts: readonly (readonly [string, SummaryCellInput])[]): string {
  const rows = facts.map(([name, value]) => `<tr><th align="left">${escapeHtml(name)}</th><td>${cell(value)}</td></tr>`);
  return `<table>${rows.join('')}</table>\n`;
}

export function summaryList(items: readonly SummaryCellInput[]): string {
  return `<ul>${items.map((item) => `<li>${cell(item)}</li>`).join('')}</ul>\n`;
}

/** A collapsed block; `body` is HTML made by the helpers above, or preformatted text when `pre`. */
export function summaryDetails(title: string, body: string, options: { pre?: boolean; open?: boolean } = {}): string {
  const content = options.pre ? `<pre>${escapeHtml(body)}</pre>` : body;
  return `<details${options.open ? ' open' : ''}><summary>${escapeHtml(title)}</summary>\n\n${content}\n</details>\n`;
}

/**
 * Appends sections to the job summary, with every registered secret masked: the runner masks the
 * log but publishes the summary file as it is. Outside a runner (no `GITHUB_STEP_SUMMARY`) it says
 * so in debug output and does nothing, so the same code runs from a unit test or a script.
 */
export async function writeJobSummary(...sections: string[]): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.debug('No GITHUB_STEP_SUMMARY: the job summary is not written.');
    return;
  }
  await core.summary.addRaw(maskSecrets(sections.join(''))).write();
}
