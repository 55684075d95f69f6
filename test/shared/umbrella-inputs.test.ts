import { describe, expect, it } from '@jest/globals';
import { InputReader, readUmbrellaConfig, readingEdited, repositoryPath } from '@toolkit/shared';

function reader(values: Record<string, string>): InputReader {
  return new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined });
}

const options = {
  environment: 'prod',
  versionsFile: 'envs/versions.yaml',
  sourceCommit: 'abc1234',
  defaultRepoUrl: 'https://git.example/acme/env.git',
};

describe('readUmbrellaConfig', () => {
  it('reads umbrella-chart’s own input names with no prefix, with the defaults of action.yml', () => {
    expect(readUmbrellaConfig(reader({ repository: 'oci://ghcr.io/acme/charts/' }), { ...options, prefix: '' })).toEqual({
      versionsFile: 'envs/versions.yaml',
      environment: 'prod',
      chartName: 'prod-umbrella',
      outputDir: 'umbrella/prod',
      repository: 'oci://ghcr.io/acme/charts',
      repositoryInput: 'repository',
      chartVersion: 'patch',
      sourceCommit: 'abc1234',
    });
  });

  it('reads the same inputs under a prefix, and names the prefixed input when one is bad', () => {
    const values = {
      'umbrella-chart-name': 'everything',
      'umbrella-output-dir': 'charts/prod/',
      'umbrella-argocd': 'true',
      'umbrella-argocd-namespace': 'shop',
      // Unprefixed names are promote's own inputs, not the chart's.
      repository: 'acme/env',
      'chart-version': '1.2.3',
    };
    expect(readUmbrellaConfig(reader(values), { ...options, prefix: 'umbrella-' })).toEqual({
      versionsFile: 'envs/versions.yaml',
      environment: 'prod',
      chartName: 'everything',
      outputDir: 'charts/prod',
      repository: '',
      repositoryInput: 'umbrella-repository',
      chartVersion: 'patch',
      sourceCommit: 'abc1234',
      argocd: {
        repoUrl: 'https://git.example/acme/env.git',
        targetRevision: 'HEAD',
        namespace: 'shop',
        project: 'default',
        destination: 'https://kubernetes.default.svc',
      },
    });
    expect(() => readUmbrellaConfig(reader({ 'umbrella-chart-version': 'major' }), { ...options, prefix: 'umbrella-' })).toThrow(
      'Invalid input "umbrella-chart-version": "major" is not allowed; expected one of: patch, content-hash.',
    );
    expect(() => readUmbrellaConfig(reader({ 'umbrella-chart-name': 'Prod Chart' }), { ...options, prefix: 'umbrella-' })).toThrow(
      'Invalid input "umbrella-chart-name": "Prod Chart" is not allowed',
    );
  });

  it('derives Kubernetes names from an environment such as prod.eu_1, and refuses a namespace Kubernetes would refuse', () => {
    const dotted = { ...options, environment: 'prod.eu_1', prefix: 'umbrella-' };
    expect(readUmbrellaConfig(reader({ 'umbrella-argocd': 'true' }), dotted)).toMatchObject({
      environment: 'prod.eu_1',
      chartName: 'prod-eu-1-umbrella',
      outputDir: 'umbrella/prod.eu_1',
      argocd: { namespace: 'prod-eu-1' },
    });
    for (const namespace of ['shop.eu', 'shop_eu', 'x'.repeat(64)]) {
      expect(() => readUmbrellaConfig(reader({ 'umbrella-argocd': 'true', 'umbrella-argocd-namespace': namespace }), dotted)).toThrow(
        `Invalid input "umbrella-argocd-namespace": ${JSON.stringify(namespace)} is not allowed; expected a Kubernetes namespace`,
      );
    }
  });

  it('keeps paths inside the repository', () => {
    expect(repositoryPath('output-dir', 'a/b//')).toBe('a/b');
    expect(() => repositoryPath('output-dir', '/etc')).toThrow(
      'Invalid input "output-dir": "/etc" is not allowed; expected a path inside the repository.',
    );
    expect(() => repositoryPath('output-dir', 'a/../../b')).toThrow('Invalid input "output-dir"');
  });
});

describe('readingEdited', () => {
  it('reads the edited files as they will be, and every other file from the repository', async () => {
    const repository: Record<string, string> = { 'versions.yaml': 'old', 'README.md': 'readme' };
    const read = readingEdited(async (file) => repository[file], { 'versions.yaml': 'new', 'chart/Chart.yaml': '' });
    expect(await read('versions.yaml')).toBe('new');
    expect(await read('chart/Chart.yaml')).toBe('');
    expect(await read('README.md')).toBe('readme');
    expect(await read('missing.yaml')).toBeUndefined();
  });
});
