import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  InputReader,
  authEnv,
  githubClient,
  maskSecrets,
  registerSecret,
  summaryDetails,
  summaryList,
  summaryParagraph,
  summaryTable,
  writeJobSummary,
} from '@toolkit/shared';
import { tempDir } from '../support/temp.js';

// Registered secrets last for the whole test file (as for a whole action), so each test uses its own.
const PEM_LINES = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACBmYWtlS2V5TWF0ZXJpYWxGb3JUZXN0c09ubHkwMTIzNDU2Nzg5YWJj',
  '-----END OPENSSH PRIVATE KEY-----',
];

const saved = process.env.GITHUB_STEP_SUMMARY;
let summaryFile: string;
let printed: string[];

// One file for the test file: @actions/core keeps the summary path it first read.
beforeAll(async () => {
  summaryFile = path.join(await tempDir(), 'summary.md');
});

beforeEach(() => {
  // core.setSecret prints `::add-mask::<value>` on stdout, which is how the runner learns of it.
  printed = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
});

afterEach(() => {
  jest.restoreAllMocks();
  if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY;
  else process.env.GITHUB_STEP_SUMMARY = saved;
});

/** Writes `sections` with writeJobSummary to an emptied GITHUB_STEP_SUMMARY and reads back what it holds. */
async function writtenSummary(...sections: string[]): Promise<string> {
  await writeFile(summaryFile, '');
  process.env.GITHUB_STEP_SUMMARY = summaryFile;
  await writeJobSummary(...sections);
  return readFile(summaryFile, 'utf8');
}

/** The add-mask commands printed, with their data unescaped as the runner reads it. */
function addedMasks(): string[] {
  return printed
    .join('')
    .split(/\r?\n/)
    .filter((line) => line.startsWith('::add-mask::'))
    .map((line) => line.slice('::add-mask::'.length).replaceAll('%0D', '\r').replaceAll('%0A', '\n').replaceAll('%25', '%'));
}

describe('registerSecret and the job summary', () => {
  it('masks a single-line secret in text, code and links, and still registers it with the runner', async () => {
    const token = 'ghp_SingleLineSecret0123456789';
    registerSecret(token);

    const summary = await writtenSummary(
      summaryParagraph(`Pushed with ${token}.`),
      summaryTable(
        ['Token', 'Link'],
        [
          [
            { text: token, code: true },
            { text: 'release', href: `https://example.test/r?token=${token}` },
          ],
        ],
      ),
    );

    expect(summary).not.toContain(token);
    expect(summary).toBe(
      '<p>Pushed with ***.</p>\n' +
        '<table><tr><th>Token</th><th>Link</th></tr><tr><td><code>***</code></td><td><a href="https://example.test/r?token=***">release</a></td></tr></table>\n',
    );
    expect(addedMasks()).toEqual([token]);
  });

  it('masks every line of a multi-line secret, as a container log line would carry one of them', async () => {
    const key = `${PEM_LINES.join('\n')}\n`;
    registerSecret(key);

    const summary = await writtenSummary(
      summaryTable(['Container', 'Last log line'], [['app', `ssh: key line ${PEM_LINES[2]} rejected`]]),
      summaryDetails('Key', key, { pre: true }),
    );

    for (const line of PEM_LINES) expect(summary).not.toContain(line);
    expect(summary).toContain('<td>ssh: key line *** rejected</td>');
    expect(summary).toContain('<pre>***</pre>');
    expect(addedMasks()).toEqual([key, ...PEM_LINES]);
  });

  it('masks a secret with HTML special characters both as written and as the summary helpers escape it', async () => {
    const password = `pa&ss<wo>"rd'42`;
    registerSecret(password);

    const summary = await writtenSummary(summaryParagraph(`password: ${password}`), `<p>raw: ${password}</p>\n`);

    expect(summary).toBe('<p>password: ***</p>\n<p>raw: ***</p>\n');
    expect(addedMasks()).toEqual([password]);
  });

  it('masks the secrets that InputReader, authEnv and githubClient register', async () => {
    const input = 'input-Secret-Value-0042';
    const gitToken = 'ghs_GitToken0987654321';
    const apiToken = 'ghp_ApiToken1122334455';
    new InputReader({ source: (name) => (name === 'password' ? input : '') }).secret('password');
    authEnv({ token: gitToken, url: 'https://git.example.test/' }, {});
    await githubClient(apiToken);
    const header = Buffer.from(`x-access-token:${gitToken}`).toString('base64');

    const summary = await writtenSummary(summaryList([input, gitToken, header, apiToken]));

    expect(summary).toBe('<ul><li>***</li><li>***</li><li>***</li><li>***</li></ul>\n');
    expect(addedMasks()).toEqual([input, gitToken, header, apiToken]);
  });
});

describe('maskSecrets', () => {
  it('leaves no piece of secrets that contain or overlap one another', () => {
    registerSecret('tok-short');
    registerSecret('tok-shortANDlonger');
    registerSecret('ovl-123456');
    registerSecret('456789-ovl');

    expect(maskSecrets('a tok-shortANDlonger b')).toBe('a *** b');
    expect(maskSecrets('a ovl-123456789-ovl b')).toBe('a *** b');
    expect(maskSecrets('a tok-short b')).toBe('a *** b');
  });

  it('announces a value to the runner once, and never an empty one', () => {
    registerSecret('announced-once-7788');
    registerSecret('announced-once-7788');
    registerSecret('');
    registerSecret(' \n ');

    expect(addedMasks()).toEqual(['announced-once-7788']);
  });
});
