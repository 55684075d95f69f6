import { describe, expect, it } from '@jest/globals';
import { compareReleaseVersions, isSemanticVersion } from '@toolkit/shared';

describe('release versions', () => {
  it('orders semantic versions, pre-releases below their release, and knows no order for other tags', () => {
    expect(compareReleaseVersions('1.3.9', '1.4.0')).toBe(-1);
    expect(compareReleaseVersions('1.10.0', '1.9.0')).toBe(1);
    expect(compareReleaseVersions('1.4.0-rc.1', '1.4.0')).toBe(-1);
    expect(compareReleaseVersions('v1.4.0', '1.4.0')).toBe(0);
    expect(compareReleaseVersions('main-3f2a9c', '1.4.0')).toBeUndefined();
    expect(compareReleaseVersions('1.4.0', 'latest')).toBeUndefined();
  });

  it('tells semantic versions (what Helm needs of a chart version) from other text', () => {
    expect(isSemanticVersion('0.7.0')).toBe(true);
    expect(isSemanticVersion('1.0.0-alpha.1+build.5')).toBe(true);
    expect(isSemanticVersion('1.0')).toBe(false);
    expect(isSemanticVersion('latest')).toBe(false);
  });
});
