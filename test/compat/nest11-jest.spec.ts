import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { APP, assertPrepared } from './nest11-app.js';

/**
 * The Jest spec of test/compat/nest11-cjs (src/cleanup.job.spec.ts), run as a `nest new` project
 * runs it: Jest 29 with ts-jest, CommonJS, and no Jest setup but the `jest` block that `nest new`
 * writes into package.json. It imports `nestjs-kettle` and `nestjs-kettle/testing` from the
 * installed tarball and drives an @OnMaster job with KettleTestingModule and KettleElectionDriver.
 */
interface JestReport {
  success: boolean;
  numPassedTests: number;
  numFailedTests: number;
  numRuntimeErrorTestSuites: number;
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

describe('a NestJS 11 project that tests with Jest 29 and ts-jest', () => {
  it('runs its spec of an @OnMaster job against the packed nestjs-kettle', () => {
    assertPrepared();
    // Only what npx and Jest read: nothing of the test runner's own environment.
    const jest = spawnSync('npx', ['--no-install', 'jest', '--ci', '--json'], {
      cwd: APP,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      encoding: 'utf8',
    });
    const output = `--- stdout:\n${jest.stdout}\n--- stderr:\n${jest.stderr}`;
    expect(jest.status, output).toBe(0);
    const report = JSON.parse(jest.stdout) as JestReport;
    expect(report, output).toMatchObject({
      success: true,
      numFailedTests: 0,
      numRuntimeErrorTestSuites: 0,
    });
    const results = report.testResults.flatMap((suite) => suite.assertionResults);
    expect(results, output).toEqual([
      expect.objectContaining({ fullName: 'CleanupJob runs on the master only', status: 'passed' }),
      expect.objectContaining({
        fullName: 'CleanupJob finds one class under the deprecated names and the root entry',
        status: 'passed',
      }),
    ]);
  }, 60_000);
});
