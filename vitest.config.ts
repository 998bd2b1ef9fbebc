import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  // Node's own conditions, and the one under which package.json "imports" maps #tools/* to the
  // TypeScript sources, so that tests need no build of tools/. Vitest hands these to Node too: not
  // Vite's "module", under which Node would load OpenTelemetry's ESM builds from CommonJS, as no
  // application does (and fail on their extensionless imports).
  ssr: { resolve: { conditions: ['node', 'development|production', 'kettle-source'] } },
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
