import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  // Vite's defaults for the server, and the condition under which package.json "imports" maps
  // #tools/* to the TypeScript sources, so that tests need no build of tools/.
  ssr: { resolve: { conditions: ['module', 'node', 'development|production', 'kettle-source'] } },
  test: {
    include: ['test/**/*.spec.ts'],
    // The Jest spec of the Nest 11 app, which test/compat/nest11-jest.spec.ts runs with Jest.
    exclude: [...configDefaults.exclude, 'test/compat/nest11-cjs/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // Multi-node tests measure hand-overs; on a shared 2-core machine they run one file at a time.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // CI reads the counts from the JSON report (.ci/run prints them as one closing line).
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.ci/test-results.json' },
  },
});
