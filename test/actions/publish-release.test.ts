import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { InputError, InputReader, UserError, githubClient } from '@toolkit/shared';
import nock from 'nock';
import { getInputs } from '../../actions/publish-release/src/main.js';
import {
  type PublishReleaseConfig,
  imageByDigest,
  isPrereleaseTag,
  parseReleaseTag,
  publishRelease,
} from '../../actions/publish-release/src/publish-release.js';
import { SECTION_END, SECTION_START, mergeReleaseBody, renderSection } from '../../actions/publish-release/src/release-body.js';
import { runBuiltAction } from '../support/harness.js';
import { GITHUB_API, mockGitHubApi } from '../support/nock.js';
import { tempDir } from '../support/temp.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;
const IMAGE = `ghcr.io/acme/shop@${DIGEST}`;
const SBOM = '{"spdxVersion":"SPDX-2.3","name":"shop"}';
const SARIF = '{"version":"2.1.0","runs":[]}';
const UPLOADS = 'https://uploads.github.com';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const count = (text: string, part: string) => text.split(part).length - 1;

function reader(values: Record<string, string>): InputReader {
  return new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined });
}

/** A workspace holding an SBOM and a SARIF, with a file beside it (outside) and a link to that file. */
async function workspace(): Promise<{ dir: string; outside: string }> {
  const parent = await tempDir();
  const dir = path.join(parent, 'workspace');
  await mkdir(path.join(dir, 'reports'), { recursive: true });
  await writeFile(path.join(dir, 'sbom.spdx.json'), SBOM);
  await writeFile(path.join(dir, 'reports', 'trivy.sarif'), SARIF);
  const outside = path.join(parent, 'secret.txt');
  await writeFile(outside, 'not for the release');
  await symlink(outside, path.join(dir, 'linked.txt'));
  await symlink(parent, path.join(dir, 'up'));
  return { dir, outside };
}

function release(fields: Record<string, unknown> = {}) {
  return {
    id: 7,
    html_url: 'https://github.com/acme/shop/releases/tag/v1.4.0',
    upload_url: `${UPLOADS}/repos/acme/shop/releases/7/assets{?name,label}`,
    name: 'v1.4.0',
    body: '',
    prerelease: false,
    ...fields,
  };
}

describe('publish-release inputs', () => {
  it('reads the inputs, with the image recorded by digest and the pre-release flag left open when empty', () => {
    const inputs = getInputs(
      reader({
        tag: 'refs/tags/v1.4.0',
        image: 'ghcr.io/acme/shop:1.4.0',
        digest: DIGEST,
        files: 'sbom.spdx.json\n reports/trivy.sarif \n\n',
        token: 'ghs_x',
        repository: 'acme/shop',
      }),
      { GITHUB_WORKSPACE: '/work/space' },
    );
    expect(inputs).toEqual({
      tag: 'v1.4.0',
      name: '',
      changelog: '',
      image: IMAGE,
      scanSummary: '',
      files: ['sbom.spdx.json', 'reports/trivy.sarif'],
      token: 'ghs_x',
      repository: { owner: 'acme', repo: 'shop' },
      workspace: '/work/space',
    });
    expect(getInputs(reader({ tag: 'v1.4.0', prerelease: 'false', token: 't' }), { GITHUB_REPOSITORY: 'acme/shop' })).toMatchObject({
      prerelease: false,
      repository: { owner: 'acme', repo: 'shop' },
    });
  });

  it('refuses what it cannot publish, naming the input, the value and what is allowed', () => {
    const inputs = (values: Record<string, string>) => () => getInputs(reader({ token: 't', repository: 'acme/shop', ...values }), {});
    expect(inputs({})).toThrow('Invalid input "tag": a value is required.');
    expect(inputs({ tag: 'refs/heads/main' })).toThrow(
      'Invalid input "tag": "refs/heads/main" is not a tag; expected a tag name such as v1.4.0 (or refs/tags/v1.4.0).',
    );
    for (const bad of ['v1..4', 'v1.4 ', '-v1', 'v1.4.lock', 'a:b', 'v1/']) expect(() => parseReleaseTag(bad)).toThrow(InputError);
    expect(parseReleaseTag('release/UAT-1.4.0')).toBe('release/UAT-1.4.0');
    expect(inputs({ tag: 'v1', image: 'ghcr.io/acme/shop:1.4.0' })).toThrow(
      'Invalid input "digest": a value is required with image "ghcr.io/acme/shop:1.4.0": a release records its image by digest',
    );
    expect(inputs({ tag: 'v1', image: IMAGE, digest: OTHER_DIGEST })).toThrow(
      `Invalid input "digest": ${OTHER_DIGEST} is not the digest in image`,
    );
    expect(inputs({ tag: 'v1', digest: DIGEST })).toThrow('Invalid input "image": a value is required when digest is given');
    expect(inputs({ tag: 'v1', digest: 'sha256:abc' })).toThrow('Invalid input "digest": "sha256:abc" is not allowed; expected sha256:');
    expect(inputs({ tag: 'v1', image: 'Not An Image', digest: DIGEST })).toThrow(
      'Invalid input "image": "Not An Image" is not an image reference',
    );
    expect(inputs({ tag: 'v1', prerelease: 'yes' })).toThrow('Invalid input "prerelease": "yes" is not a boolean; expected true or false.');
    expect(inputs({ tag: 'v1', repository: 'shop' })).toThrow(
      'Invalid input "repository": "shop" is not a repository; expected owner/name.',
    );
    expect(() => getInputs(reader({ tag: 'v1', repository: 'acme/shop' }), {})).toThrow('Invalid input "token"');
  });

  it('keeps the digest in an image given by digest, and knows pre-release tags', () => {
    expect(imageByDigest(IMAGE, '')).toBe(IMAGE);
    expect(imageByDigest('localhost:5000/shop', DIGEST)).toBe(`localhost:5000/shop@${DIGEST}`);
    expect(imageByDigest('', '')).toBeUndefined();
    expect(isPrereleaseTag('v1.4.0-rc.1')).toBe(true);
    expect(isPrereleaseTag('UAT-1.4.0-rc.1')).toBe(true);
    expect(isPrereleaseTag('UAT-1.4.0')).toBe(false);
    expect(isPrereleaseTag('latest')).toBe(false);
  });
});

describe('the release body', () => {
  const section = renderSection({
    image: IMAGE,
    scanSummary: '0 critical, 2 high',
    assets: [{ name: 'sbom.spdx.json', size: 2048, sha256: 'f'.repeat(64) }],
  });

  it('records the image by digest with a pull command, the scan summary and each file, between the markers', () => {
    expect(section).toBe(
      [
        SECTION_START,
        '### Image',
        '',
        `\`${IMAGE}\``,
        '',
        '```sh',
        `docker pull ${IMAGE}`,
        '```',
        '',
        '### Scan',
        '',
        '0 critical, 2 high',
        '',
        '### Files',
        '',
        '| File | Size | SHA-256 |',
        '| --- | ---: | --- |',
        `| \`sbom.spdx.json\` | 2.0 KiB | \`${'f'.repeat(64)}\` |`,
        SECTION_END,
      ].join('\n'),
    );
  });

  it('replaces its section and keeps the text around it; the changelog only fills an empty body', () => {
    const old = renderSection({ scanSummary: 'old', assets: [] });
    const body = `Written by a person.\n\n${old}\n\nA footnote.`;
    expect(mergeReleaseBody(body, section, 'changelog')).toBe(`Written by a person.\n\n${section}\n\nA footnote.`);
    expect(mergeReleaseBody('', section, '### Features\n\n- x\n')).toBe(`### Features\n\n- x\n\n${section}`);
    expect(mergeReleaseBody(old, section, '- x')).toBe(`- x\n\n${section}`);
    expect(mergeReleaseBody('Notes.\n', section, '- x')).toBe(`Notes.\n\n${section}`);
    expect(() => mergeReleaseBody(`${old}\n${old}`, section, '')).toThrow(`The release body has 2 ${SECTION_START} and 2 ${SECTION_END}`);
    expect(() => mergeReleaseBody(`${SECTION_END} ${SECTION_START}`, section, '')).toThrow(UserError);
  });
});

describe('publishRelease against the GitHub API (nock)', () => {
  const repository = { owner: 'acme', repo: 'shop' };
  mockGitHubApi();

  async function config(fields: Partial<PublishReleaseConfig> = {}): Promise<PublishReleaseConfig> {
    const { dir } = await workspace();
    return {
      repository,
      tag: 'v1.4.0',
      name: '',
      changelog: '### Features\n\n- dark mode (abc1234)',
      image: IMAGE,
      scanSummary: '**0** critical, **2** high',
      files: ['sbom.spdx.json', 'reports/trivy.sarif'],
      workspace: dir,
      ...fields,
    };
  }

  async function run(configuration: PublishReleaseConfig) {
    const log: string[] = [];
    const result = await publishRelease(configuration, { github: await githubClient('ghs_token'), log: (line) => log.push(line) });
    return { result, log };
  }

  /** Answers uploads of `names` to release 7, recording each body and content type in order. */
  function uploads(names: string[], order: string[] = []) {
    const received: { name: string; type: string; body: string }[] = [];
    const scope = nock(UPLOADS, { reqheaders: { authorization: 'token ghs_token' } });
    for (const name of names) {
      scope
        .post('/repos/acme/shop/releases/7/assets')
        .query({ name })
        .reply(201, function (_uri, body) {
          order.push(`upload ${name}`);
          received.push({
            name,
            type: String(this.req.headers['content-type']),
            body: typeof body === 'string' ? body : JSON.stringify(body),
          });
          return { id: 100 + received.length, name, browser_download_url: `https://github.com/acme/shop/releases/download/v1.4.0/${name}` };
        });
    }
    return { scope, received };
  }

  it('creates the release of an existing tag with the changelog and its section, then attaches the files', async () => {
    let created: Record<string, unknown> = {};
    const api = nock(GITHUB_API, { reqheaders: { authorization: 'token ghs_token' } })
      .get('/repos/acme/shop/releases/tags/v1.4.0')
      .reply(404, { message: 'Not Found' })
      .get('/repos/acme/shop/git/ref/tags%2Fv1.4.0')
      .reply(200, { ref: 'refs/tags/v1.4.0', object: { sha: 'c'.repeat(40) } })
      .post('/repos/acme/shop/releases', (body) => {
        created = body;
        return true;
      })
      .reply(201, (_uri, body) => release({ body: (body as { body: string }).body }));
    const { scope, received } = uploads(['sbom.spdx.json', 'trivy.sarif']);

    const { result } = await run(await config());
    expect(api.isDone() && scope.isDone()).toBe(true);
    expect(created).toMatchObject({ tag_name: 'v1.4.0', name: 'v1.4.0', prerelease: false });
    const body = created.body as string;
    expect(body.startsWith(`### Features\n\n- dark mode (abc1234)\n\n${SECTION_START}\n### Image\n\n\`${IMAGE}\``)).toBe(true);
    expect(body).toContain(`docker pull ${IMAGE}`);
    expect(body).toContain('### Scan\n\n**0** critical, **2** high');
    expect(body).toContain(`| \`sbom.spdx.json\` | ${SBOM.length} B | \`${sha256(SBOM)}\` |`);
    expect(body.endsWith(SECTION_END)).toBe(true);
    expect(received).toEqual([
      { name: 'sbom.spdx.json', type: 'application/json', body: SBOM },
      { name: 'trivy.sarif', type: 'application/sarif+json', body: SARIF },
    ]);
    expect(result).toEqual({
      releaseId: 7,
      htmlUrl: 'https://github.com/acme/shop/releases/tag/v1.4.0',
      release: 'created',
      prerelease: false,
      image: IMAGE,
      assets: [
        {
          name: 'sbom.spdx.json',
          size: SBOM.length,
          sha256: sha256(SBOM),
          url: 'https://github.com/acme/shop/releases/download/v1.4.0/sbom.spdx.json',
          replaced: false,
        },
        {
          name: 'trivy.sarif',
          size: SARIF.length,
          sha256: sha256(SARIF),
          url: 'https://github.com/acme/shop/releases/download/v1.4.0/trivy.sarif',
          replaced: false,
        },
      ],
    });
  });

  it('marks a new release of a pre-release tag as a pre-release', async () => {
    let created: Record<string, unknown> = {};
    nock(GITHUB_API)
      .get('/repos/acme/shop/releases/tags/v1.4.0-rc.1')
      .reply(404, { message: 'Not Found' })
      .get('/repos/acme/shop/git/ref/tags%2Fv1.4.0-rc.1')
      .reply(200, {})
      .post('/repos/acme/shop/releases', (body) => {
        created = body;
        return true;
      })
      .reply(201, release({ prerelease: true }));
    const { result } = await run(await config({ tag: 'v1.4.0-rc.1', name: 'Shop 1.4.0 RC 1', files: [] }));
    expect(created).toMatchObject({ tag_name: 'v1.4.0-rc.1', name: 'Shop 1.4.0 RC 1', prerelease: true });
    expect(result).toMatchObject({ release: 'created', prerelease: true, assets: [] });
  });

  it('run twice gives one section: the second run finds the body as it would write it and changes only the assets', async () => {
    const first = await config();
    let body = '';
    nock(GITHUB_API)
      .get('/repos/acme/shop/releases/tags/v1.4.0')
      .reply(404, { message: 'Not Found' })
      .get('/repos/acme/shop/git/ref/tags%2Fv1.4.0')
      .reply(200, {})
      .post('/repos/acme/shop/releases', (sent) => {
        body = sent.body;
        return true;
      })
      .reply(201, (_uri, sent) => release({ body: (sent as { body: string }).body }));
    uploads(['sbom.spdx.json', 'trivy.sarif']);
    await run(first);

    const order: string[] = [];
    const again = nock(GITHUB_API)
      .get('/repos/acme/shop/releases/tags/v1.4.0')
      .reply(200, () => release({ body }))
      .get('/repos/acme/shop/releases/7/assets')
      .query({ per_page: 100 })
      .reply(200, [
        { id: 101, name: 'sbom.spdx.json' },
        { id: 102, name: 'trivy.sarif' },
      ])
      .delete('/repos/acme/shop/releases/assets/101')
      .reply(204, () => (order.push('delete sbom.spdx.json'), ''))
      .delete('/repos/acme/shop/releases/assets/102')
      .reply(204, () => (order.push('delete trivy.sarif'), ''));
    const { scope } = uploads(['sbom.spdx.json', 'trivy.sarif'], order);
    // Any PATCH would be unmatched: nock refuses the connection and the run fails.
    const { result, log } = await run(first);
    expect(again.isDone() && scope.isDone()).toBe(true);
    expect(count(body, SECTION_START)).toBe(1);
    expect(count(body, '### Features')).toBe(1);
    expect(result.release).toBe('unchanged');
    expect(result.assets.map((asset) => asset.replaced)).toEqual([true, true]);
    expect(order).toEqual(['delete sbom.spdx.json', 'upload sbom.spdx.json', 'delete trivy.sarif', 'upload trivy.sarif']);
    expect(log).toContain('The release https://github.com/acme/shop/releases/tag/v1.4.0 already says all this; its body is unchanged.');
  });

  it('updates an existing release in place: its section replaced, the text around it kept, other assets left alone', async () => {
    const written = `## Shop 1.4.0\n\nHand-written notes.\n\n${renderSection({ image: `ghcr.io/acme/shop@${OTHER_DIGEST}`, scanSummary: 'old scan', assets: [] })}\n\nThanks to everyone.`;
    let patched: Record<string, unknown> = {};
    const order: string[] = [];
    const api = nock(GITHUB_API)
      .get('/repos/acme/shop/releases/tags/v1.4.0')
      .reply(200, release({ body: written, name: 'Shop 1.4.0' }))
      .get('/repos/acme/shop/releases/7/assets')
      .query({ per_page: 100 })
      .reply(200, [
        { id: 55, name: 'sbom.spdx.json' },
        { id: 56, name: 'notes.pdf' },
      ])
      .patch('/repos/acme/shop/releases/7', (sent) => {
        patched = sent;
        order.push('patch');
        return true;
      })
      .reply(200, (_uri, sent) => release({ ...(sent as object), name: 'Shop 1.4.0' }))
      .delete('/repos/acme/shop/releases/assets/55')
      .reply(204, () => (order.push('delete sbom.spdx.json'), ''));
    const { scope } = uploads(['sbom.spdx.json'], order);

    const { result } = await run(await config({ files: ['sbom.spdx.json'], scanSummary: 'new scan' }));
    expect(api.isDone() && scope.isDone()).toBe(true);
    expect(order).toEqual(['patch', 'delete sbom.spdx.json', 'upload sbom.spdx.json']);
    // Only the body: the title a person gave and the pre-release flag are left as they are.
    expect(Object.keys(patched)).toEqual(['body']);
    const body = patched.body as string;
    expect(body.startsWith('## Shop 1.4.0\n\nHand-written notes.\n\n<!-- toolkit:publish-release:start -->')).toBe(true);
    expect(body.endsWith(`${SECTION_END}\n\nThanks to everyone.`)).toBe(true);
    expect(count(body, SECTION_START)).toBe(1);
    expect(body).toContain(IMAGE);
    expect(body).toContain('new scan');
    expect(body).not.toContain(OTHER_DIGEST);
    expect(body).not.toContain('old scan');
    expect(body).not.toContain('dark mode');
    expect(result).toMatchObject({ release: 'updated', assets: [{ name: 'sbom.spdx.json', replaced: true }] });
  });

  it('refuses a tag that does not exist, before writing anything', async () => {
    const api = nock(GITHUB_API)
      .get('/repos/acme/shop/releases/tags/v9.9.9')
      .reply(404, { message: 'Not Found' })
      .get('/repos/acme/shop/git/ref/tags%2Fv9.9.9')
      .reply(404, { message: 'Not Found' });
    const failure = run(await config({ tag: 'v9.9.9' }));
    await expect(failure).rejects.toThrow(UserError);
    await expect(failure).rejects.toThrow(
      'The tag v9.9.9 does not exist in acme/shop, and a release is only made for a pushed tag (this action never creates one). Push v9.9.9 first, or check the tag input. Nothing was written.',
    );
    expect(api.isDone()).toBe(true);
  });

  it.each([
    ['a symbolic link', 'linked.txt', '"linked.txt" is a symbolic link; only regular files are uploaded'],
    ['a path out of the workspace', '../secret.txt', '"../secret.txt" is outside the workspace'],
    ['a path out through a linked directory', 'up/secret.txt', '"up/secret.txt" is outside the workspace'],
    ['a missing file', 'reports/missing.json', '"reports/missing.json" does not exist'],
    ['a directory', 'reports', '"reports" is a directory; expected a file.'],
    ['a name GitHub would rename', 'has space.json', '"has space.json": the asset name "has space.json" is not allowed; expected letters'],
    [
      'two files of one name',
      'reports/../sbom.spdx.json',
      '"sbom.spdx.json" and "reports/../sbom.spdx.json" would both be the asset sbom.spdx.json',
    ],
  ])('refuses %s in files before any request is made', async (_what, file, message) => {
    const configuration = await config({ files: ['sbom.spdx.json', file] });
    await writeFile(path.join(configuration.workspace, 'has space.json'), '{}');
    // The whole happy path is answered, so only the refusal can stop the run; none of it may be asked.
    const api = nock(GITHUB_API)
      .get('/repos/acme/shop/releases/tags/v1.4.0')
      .reply(200, release())
      .get('/repos/acme/shop/releases/7/assets')
      .query(true)
      .reply(200, [])
      .patch('/repos/acme/shop/releases/7')
      .reply(200, release());
    const { scope } = uploads(['sbom.spdx.json']);
    const failure = run(configuration);
    await expect(failure).rejects.toThrow(InputError);
    await expect(failure).rejects.toThrow(`Invalid input "files": ${message}`);
    expect(api.pendingMocks()).toHaveLength(3);
    expect(scope.pendingMocks()).toHaveLength(1);
  });

  it('refuses its own markers in the changelog, and a body over GitHub’s limit, before writing', async () => {
    await expect(run(await config({ changelog: `x ${SECTION_END}` }))).rejects.toThrow(
      `Invalid input "changelog": the text contains ${SECTION_END}, which marks this action's section of the body.`,
    );
    const api = nock(GITHUB_API)
      .get('/repos/acme/shop/releases/tags/v1.4.0')
      .reply(200, release({ body: 'x'.repeat(125_000) }));
    await expect(run(await config({ files: [] }))).rejects.toThrow(/^The release body would be \d+ characters, and GitHub allows 125000;/);
    expect(api.isDone()).toBe(true);
  });

  it('says what it was doing and GitHub’s HTTP status when the API refuses', async () => {
    nock(GITHUB_API)
      .get('/repos/acme/shop/releases/tags/v1.4.0')
      .reply(404, { message: 'Not Found' })
      .get('/repos/acme/shop/git/ref/tags%2Fv1.4.0')
      .reply(200, {})
      .post('/repos/acme/shop/releases')
      .reply(403, { message: 'Resource not accessible by integration' });
    const failure = run(await config({ files: [] }));
    await expect(failure).rejects.toThrow(UserError);
    await expect(failure).rejects.toThrow(
      /^GitHub answered HTTP 403 while creating the release for v1\.4\.0 in acme\/shop: Resource not accessible by integration.*Publishing a release needs a token with contents: write/,
    );

    nock(GITHUB_API).get('/repos/acme/shop/releases/tags/v1.4.0').reply(502, { message: 'Bad Gateway' });
    await expect(run(await config({ files: [] }))).rejects.toThrow(
      /^GitHub answered HTTP 502 while looking up the release of v1\.4\.0 in acme\/shop/,
    );
  });
});

interface Received {
  method: string;
  url: string;
  authorization: string;
  contentType: string;
  body: Buffer;
}

/** GitHub's API and upload host on one 127.0.0.1 port, for the built action in its own process. */
async function startReleaseServer(): Promise<{ url: string; requests: Received[]; close(): Promise<void> }> {
  const requests: Received[] = [];
  let url = '';
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: Received = {
        method: request.method ?? 'GET',
        url: request.url ?? '/',
        authorization: request.headers.authorization ?? '',
        contentType: request.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      };
      requests.push(received);
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      const route = `${received.method} ${received.url.split('?')[0]}`;
      if (route === 'GET /repos/acme/shop/releases/tags/v1.4.0') return reply(404, { message: 'Not Found' });
      if (route === 'GET /repos/acme/shop/git/ref/tags%2Fv1.4.0') return reply(200, { ref: 'refs/tags/v1.4.0' });
      if (route === 'POST /repos/acme/shop/releases') {
        const sent = JSON.parse(received.body.toString('utf8')) as { body: string };
        return reply(201, release({ body: sent.body, upload_url: `${url}/uploads/repos/acme/shop/releases/7/assets{?name,label}` }));
      }
      if (route === 'POST /uploads/repos/acme/shop/releases/7/assets') {
        const name = new URL(received.url, url).searchParams.get('name');
        return reply(201, { id: 9, name, browser_download_url: `https://github.com/acme/shop/releases/download/v1.4.0/${name}` });
      }
      reply(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('publish-release built dist under Node 24', () => {
  const token = 'ghs_dist_publish_token_123456';

  it('creates the release and uploads the SBOM to its upload_url; outputs, summary, and the token never shows', async () => {
    const { dir } = await workspace();
    const github = await startReleaseServer();
    try {
      const result = await runBuiltAction('publish-release', {
        workspace: dir,
        inputs: {
          tag: 'v1.4.0',
          changelog: '- dark mode',
          image: 'ghcr.io/acme/shop:1.4.0',
          digest: DIGEST,
          files: 'sbom.spdx.json',
          token,
        },
        env: { GITHUB_API_URL: github.url, GITHUB_REPOSITORY: 'acme/shop' },
      });
      // Masked, and never printed at all: not in any line the action wrote but its add-mask.
      expect(result.masks).toContain(token);
      expect(result.rawLog.filter((line) => !line.startsWith('::add-mask::')).join('\n')).not.toContain(token);
      expect(result.exitCode).toBe(0);
      expect(github.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
        'GET /repos/acme/shop/releases/tags/v1.4.0',
        'GET /repos/acme/shop/git/ref/tags%2Fv1.4.0',
        'POST /repos/acme/shop/releases',
        // Octokit expands the {?name,label} of upload_url; the empty label leaves a trailing &.
        'POST /uploads/repos/acme/shop/releases/7/assets?name=sbom.spdx.json&',
      ]);
      expect(new Set(github.requests.map((request) => request.authorization))).toEqual(new Set([`token ${token}`]));
      const upload = github.requests[3] as Received;
      expect(upload.contentType).toBe('application/json');
      expect(upload.body.toString('utf8')).toBe(SBOM);
      const created = JSON.parse((github.requests[2] as Received).body.toString('utf8')) as { body: string };
      expect(created.body.startsWith(`- dark mode\n\n${SECTION_START}`)).toBe(true);
      expect(created.body).toContain(`docker pull ${IMAGE}`);

      expect(result.outputs).toMatchObject({
        'release-id': '7',
        'html-url': 'https://github.com/acme/shop/releases/tag/v1.4.0',
        created: 'true',
      });
      expect(JSON.parse(result.outputs.assets as string)).toEqual([
        {
          name: 'sbom.spdx.json',
          size: SBOM.length,
          sha256: sha256(SBOM),
          url: 'https://github.com/acme/shop/releases/download/v1.4.0/sbom.spdx.json',
        },
      ]);
      expect(result.summary).toContain('<h3>Release v1.4.0</h3>');
      expect(result.summary).toContain(`<code>${IMAGE}</code>`);
      expect(result.summary).toContain(
        `<td><a href="https://github.com/acme/shop/releases/download/v1.4.0/sbom.spdx.json">sbom.spdx.json</a></td>`,
      );
      expect(result.summary).not.toContain(token);
    } finally {
      await github.close();
    }
  });

  it('fails with one clear line on a path out of the workspace, having asked GitHub nothing', async () => {
    const { dir } = await workspace();
    const github = await startReleaseServer();
    try {
      const result = await runBuiltAction('publish-release', {
        workspace: dir,
        inputs: { tag: 'v1.4.0', files: 'sbom.spdx.json\n../secret.txt', token },
        env: { GITHUB_API_URL: github.url, GITHUB_REPOSITORY: 'acme/shop' },
      });
      expect(result.exitCode).toBe(1);
      expect(result.log).toContain(
        `Error: Invalid input "files": "../secret.txt" is outside the workspace (${dir}); expected a file inside it, such as sbom.spdx.json.`,
      );
      expect(github.requests).toEqual([]);
    } finally {
      await github.close();
    }
  });
});
