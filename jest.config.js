// ESM mode: NestJS 12 ships ES modules only. @swc/jest strips types (no type-check here;
// `npm run lint` runs tsc) and keeps the decorator metadata Nest's injector reads.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
  },
];

const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@enclave/(.*)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};

// Three tiers; `npm test` runs all of them, `npm test -- --selectProjects unit` (or database, system)
// one alone.
//   unit      *.spec.ts in apps/ and libs/: no Postgres, no processes, seconds.
//   database  *.e2e-spec.ts in apps/ and libs/: one app or lib in this process, against real Postgres.
//   system    everything under test/: built apps as real processes, nginx, a browser, the installer.
export default {
  // Jest reads the timeout from the top level only, not from a project.
  testTimeout: 60_000,
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'],
      testPathIgnorePatterns: ['\\.e2e-spec\\.ts$'],
    },
    {
      ...base,
      displayName: 'database',
      testMatch: ['<rootDir>/{apps,libs}/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
    {
      ...base,
      displayName: 'system',
      testMatch: ['<rootDir>/test/**/*.{spec,e2e-spec}.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
