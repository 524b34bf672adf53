// Jest runs TypeScript sources directly (SWC strips types; `tsc -b` type-checks separately) as
// native ES modules, because @kubernetes/client-node 1.x is ESM-only. See README "Module format".
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', tsx: true },
      target: 'es2022',
      transform: { react: { runtime: 'automatic', importSource: 'hono/jsx' } },
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const common = {
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  transform: { '^.+\\.tsx?$': swc },
  // Workspace packages resolve to their sources, not to dist/, so tests never need a build first.
  moduleNameMapper: {
    '^@shopstream/(shared|api|relay|consumer)$': '<rootDir>/services/$1/src/index.ts',
    '^@shopstream/operator$': '<rootDir>/operator/src/index.ts',
    '^@shopstream/cli$': '<rootDir>/cli/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/', '\\.int\\.test\\.ts$', '\\.e2e\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/**/*.int.test.ts', '<rootDir>/**/*.e2e.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/'],
      globalSetup: '<rootDir>/tests/harness/global-setup.ts',
      globalTeardown: '<rootDir>/tests/harness/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/tests/harness/integration-setup.ts'],
    },
  ],
};
