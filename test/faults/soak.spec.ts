import { it } from 'vitest';
import { expectSoakHeld, reportSoak } from './soak-checks.js';
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
    reportSoak(soakTable(result), process.env.SOAK_REPORT);
    expectSoakHeld(result);
  },
);
