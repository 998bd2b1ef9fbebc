import { writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { SoakResult } from './soak-loop.js';

/** Prints a soak's tables, and writes them to the file `reportFile` names, if any. */
export function reportSoak(table: string, reportFile: string | undefined): void {
  if (reportFile) writeFileSync(reportFile, `${table}\n`);
  console.log(table);
}

/** What every soak must show, whatever its faults: the invariants held and faults were injected. */
export function expectSoakHeld<F extends string>(result: SoakResult<F>): void {
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
