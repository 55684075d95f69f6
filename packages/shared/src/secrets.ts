import * as core from '@actions/core';
import { escapeHtml } from './html.js';

/**
 * Every value registered in this process. The runner masks `core.setSecret` values in the log only:
 * the job summary is a file it publishes as written, so `writeJobSummary` masks it with this list.
 */
const registered = new Set<string>();

/**
 * Registers a secret: masked by the runner in the log, and by `maskSecrets` in the job summary.
 * Each line of a multi-line value is a secret too (trimmed, when not empty, as the runner's
 * add-mask does), because output is masked a line at a time and a PEM key's lines would show.
 * A value is announced to the runner once: it keeps every mask until the job ends.
 */
export function registerSecret(value: string): void {
  if (value.trim() === '') return; // The runner warns about an empty mask and masks nothing.
  for (const secret of [value, ...secretLines(value)]) {
    if (registered.has(secret)) continue;
    registered.add(secret);
    core.setSecret(secret);
  }
}

/**
 * `text` with every registered secret replaced by `***`, in its raw form and in the HTML-escaped
 * form the summary helpers write. Where secrets overlap or touch, the whole stretch becomes one
 * `***`, as the runner does, so that no piece of any of them shows.
 */
export function maskSecrets(text: string): string {
  let masked = '';
  let from = 0;
  for (const [start, end] of merge(occurrences(text, maskedForms()))) {
    masked += `${text.slice(from, start)}***`;
    from = end;
  }
  return masked + text.slice(from);
}

function secretLines(value: string): string[] {
  return value
    .split(/[\r\n]+/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function maskedForms(): Set<string> {
  const forms = new Set<string>();
  for (const secret of registered) forms.add(secret).add(escapeHtml(secret));
  return forms;
}

type Range = [start: number, end: number];

/** Where each form occurs, overlapping occurrences included, by start; longest first at a start. */
function occurrences(text: string, forms: Iterable<string>): Range[] {
  const found: Range[] = [];
  for (const form of forms) {
    for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1)) found.push([at, at + form.length]);
  }
  return found.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
}

function merge(ranges: readonly Range[]): Range[] {
  const merged: Range[] = [];
  for (const [start, end] of ranges) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}
