import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { soak, soakTable } from './soak.js';

/**
 * Random faults against several nodes. CI runs it short; `npm run soak` runs it long
 * (SOAK_SECONDS, SOAK_NODES) and writes the tables to SOAK_REPORT.
 */
const seconds = Number(process.env.SOAK_SECONDS ?? 20);
const nodes = Number(process.env.SOAK_NODES ?? 3);

it(
  `soak: ${nodes} nodes, random faults for ${seconds} s, never two masters`,
  { timeout: (seconds + 120) * 1000 },
  async () => {
    const result = await soak(
      { nodes, seconds, intervalMs: 300, leaseMs: 1500, quietMs: 1500 },
      process.env.FAULTS_DEBUG ? console.log : undefined,
    );
    const table = soakTable(result);
    if (process.env.SOAK_REPORT) writeFileSync(process.env.SOAK_REPORT, `${table}\n`);
    console.log(table);
    expect(result).toMatchObject({
      doubleMasters: 0,
      staleWritesAccepted: 0,
      termRegressions: 0,
      crashes: 0,
      unhandledRejections: 0,
      leaks: 0,
    });
    expect(result.stepDownMargins.filter((margin) => margin <= 0)).toEqual([]);
    expect(Object.values(result.injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  },
);
