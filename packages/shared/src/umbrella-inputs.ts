/**
 * The inputs that say how an umbrella chart is generated, read the same way by actions/umbrella-chart
 * (chart-name, output-dir, repository, …) and by actions/promote, which takes them with an
 * `umbrella-` prefix (umbrella-chart-name, …) because its own repository and chart-version inputs
 * mean something else.
 */
import path from 'node:path';
import { InputError } from './errors.js';
import type { InputReader } from './inputs.js';
import { DNS_LABEL, type UmbrellaConfig, defaultChartName, kubernetesName, parseRepositoryInput } from './umbrella-chart.js';

/** A chart or environment name as the umbrella chart's inputs allow it (as versions.yaml names environments). */
export const CHART_NAME = { pattern: /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/, expected: "lower-case letters, digits, '.', '_' and '-'" };

/** A namespace as Kubernetes allows it: a DNS-1123 label. */
export const NAMESPACE_NAME = {
  pattern: DNS_LABEL.pattern,
  expected:
    "a Kubernetes namespace (a DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)",
};

/** A path inside the repository (no absolute path, no `..`), without trailing slashes. */
export function repositoryPath(input: string, value: string): string {
  if (path.isAbsolute(value) || value.split(/[\\/]/).includes('..')) {
    throw new InputError(input, `${JSON.stringify(value)} is not allowed; expected a path inside the repository.`);
  }
  return value.replace(/\/+$/, '');
}

export interface UmbrellaInputOptions {
  /** Put before every input's name: '' for actions/umbrella-chart, 'umbrella-' for actions/promote. */
  prefix: string;
  environment: string;
  versionsFile: string;
  sourceCommit: string;
  /** Argo CD's repoURL when argocd-repo-url is empty: the environment repository. */
  defaultRepoUrl: string;
}

export function readUmbrellaConfig(reader: InputReader, options: UmbrellaInputOptions): UmbrellaConfig {
  const { prefix, environment } = options;
  const input = (name: string) => `${prefix}${name}`;
  const argocd = reader.boolean(input('argocd'), false);
  return {
    versionsFile: options.versionsFile,
    environment,
    chartName: reader.string(input('chart-name'), CHART_NAME) || defaultChartName(environment),
    outputDir: repositoryPath(input('output-dir'), reader.string(input('output-dir')) || `umbrella/${environment}`),
    repository: parseRepositoryInput(reader.string(input('repository')), input('repository')),
    repositoryInput: input('repository'),
    chartVersion: reader.enum(input('chart-version'), ['patch', 'content-hash'], 'patch'),
    sourceCommit: options.sourceCommit,
    ...(argocd
      ? {
          argocd: {
            repoUrl: reader.string(input('argocd-repo-url')) || options.defaultRepoUrl,
            targetRevision: reader.string(input('argocd-target-revision')) || 'HEAD',
            namespace: reader.string(input('argocd-namespace'), NAMESPACE_NAME) || kubernetesName(environment),
            project: reader.string(input('argocd-project')) || 'default',
            destination: reader.string(input('argocd-destination')) || 'https://kubernetes.default.svc',
          },
        }
      : {}),
  };
}
