/**
 * Tests run from TypeScript sources as ES modules (ts-jest, transpile only: `tsc -b` type-checks).
 * Workspace packages map to their sources, so a test never runs a stale `lib/`.
 * Built bundles (`actions/*\/dist`) are run under Node 24 through the local runner, not imported.
 */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/test/tsconfig.json', diagnostics: false }],
  },
  moduleNameMapper: {
    '^@toolkit/shared$': '<rootDir>/packages/shared/src/index.ts',
    '^@toolkit/cli$': '<rootDir>/packages/cli/src/index.ts',
    '^@toolkit/release-context$': '<rootDir>/actions/release-context/src/main.ts',
    '^@toolkit/semantic-tag/core$': '<rootDir>/actions/semantic-tag/src/semantic-tag.ts',
    '^@toolkit/release-report$': '<rootDir>/actions/release-report/src/main.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 60_000,
  maxWorkers: 2,
};
