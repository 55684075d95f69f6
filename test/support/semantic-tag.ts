import type { SemanticTagConfig } from '../../actions/semantic-tag/src/semantic-tag.js';

/** semantic-tag's configuration with the defaults of its action.yml, changed by `overrides`. */
export function semanticTagConfig(overrides: Partial<SemanticTagConfig> = {}): SemanticTagConfig {
  return {
    tagPrefix: 'v',
    initialVersion: '0.1.0',
    releaseRules: [],
    defaultBump: 'none',
    majorZero: 'breaking-is-minor',
    prerelease: '',
    paths: [],
    annotate: true,
    environmentTag: '',
    environmentTags: ['UAT', 'PROD'],
    dryRun: false,
    remote: 'origin',
    githubRelease: false,
    dispatchWorkflow: '',
    ...overrides,
  };
}
