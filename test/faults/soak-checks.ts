import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import type { SoakResult, SoakSettings } from './soak-loop.js';

/** One kind of soak: how it runs, how its results print, and the test's name. */
export interface Soak<F extends string> {
  run(settings: SoakSettings, log?: (line: string) => void): Promise<SoakResult<F>>;
  table(result: SoakResult<F>): string;
  name(nodes: number, seconds: number): string;
}

/**
 * `soak` as a test, short by default (for CI); `<env>_SECONDS` and `<env>_NODES` run it long,
 * `<env>_CRASH_DETECTION` sets the nodes' crashDetection, and `<env>_REPORT` names a file for its
 * tables. FAULTS_DEBUG logs each fault as it comes.
 */
export function soakTest<F extends string>(soak: Soak<F>, env: string, defaultSeconds: number) {
  const seconds = Number(process.env[`${env}_SECONDS`] ?? defaultSeconds);
  const nodes = Number(process.env[`${env}_NODES`] ?? 3);
  const crashDetection = process.env[`${env}_CRASH_DETECTION`] as SoakSettings['crashDetection'];
  it(soak.name(nodes, seconds), { timeout: (seconds + 120) * 1000 }, async () => {
    const result = await soak.run(
      { nodes, seconds, intervalMs: 300, leaseMs: 1500, quietMs: 1500, crashDetection },
      process.env.FAULTS_DEBUG ? console.log : undefined,
    );
    const table = soak.table(result);
    const reportFile = process.env[`${env}_REPORT`];
    if (reportFile) writeFileSync(reportFile, `${table}\n`);
    console.log(table);
    expectSoakHeld(result);
  });
}

/** What every soak must show, whatever its faults: the invariants held and faults were injected. */
function expectSoakHeld<F extends string>(result: SoakResult<F>): void {
  expect(result).toMatchObject({
    doubleMasters: 0,
    staleWritesAccepted: 0,
    termRegressions: 0,
    crashes: 0,
    unhandledRejections: 0,
    leaks: 0,
  });
  // A master cut off from the store gives up before any other node is elected.
  expect(result.stepDownMargins.filter((margin) => margin <= 0)).toEqual([]);
  // A master that keeps a majority of what it needs through a fault keeps its leadership.
  expect(result.rideOuts.filter((r) => r.expected && !r.kept)).toEqual([]);
  expect(Object.values<number>(result.injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
}
