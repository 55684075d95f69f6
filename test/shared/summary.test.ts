import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { summaryDetails, summaryFacts, summaryHeading, summaryTable, writeJobSummary } from '@toolkit/shared';
import { tempDir } from '../support/temp.js';

const saved = process.env.GITHUB_STEP_SUMMARY;
afterEach(() => {
  if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY;
  else process.env.GITHUB_STEP_SUMMARY = saved;
});

describe('job summary helpers', () => {
  it('writes tables and details blocks to GITHUB_STEP_SUMMARY, appending to what is there', async () => {
    const file = path.join(await tempDir(), 'summary.md');
    await writeFile(file, 'earlier step\n');
    process.env.GITHUB_STEP_SUMMARY = file;

    await writeJobSummary(
      summaryHeading('Scan'),
      summaryTable(
        ['ID', 'Package'],
        [
          [
            { text: 'CVE-2024-1', href: 'https://avd.aquasec.com/nvd/cve-2024-1' },
            { text: 'openssl', code: true },
          ],
        ],
      ),
      summaryDetails('Log', 'line 1\nline 2', { pre: true }),
    );
    await writeJobSummary(summaryFacts([['Release', 'abc1234']]));

    expect(await readFile(file, 'utf8')).toBe(
      'earlier step\n' +
        '<h3>Scan</h3>\n' +
        '<table><tr><th>ID</th><th>Package</th></tr><tr><td><a href="https://avd.aquasec.com/nvd/cve-2024-1">CVE-2024-1</a></td><td><code>openssl</code></td></tr></table>\n' +
        '<details><summary>Log</summary>\n\n<pre>line 1\nline 2</pre>\n</details>\n' +
        '<table><tr><th align="left">Release</th><td>abc1234</td></tr></table>\n',
    );
  });

  it('escapes text so that a value cannot inject markup, and drops links that are not http(s)', () => {
    const html = summaryTable(['<b>'], [['<script>alert(1)</script> & "x"'], [{ text: 'click', href: 'javascript:alert(1)' }]]);
    expect(html).toContain('<th>&#60;b&#62;</th>');
    expect(html).toContain('<td>&#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;x&#34;</td>');
    expect(html).toContain('<td>click</td>');
    expect(html).not.toContain('javascript:');
  });

  it('does nothing outside a runner, where there is no summary file', async () => {
    delete process.env.GITHUB_STEP_SUMMARY;
    await expect(writeJobSummary(summaryHeading('x'))).resolves.toBeUndefined();
  });
});
