import { soakTest } from './soak-checks.js';
import { soak, soakTable } from './soak.js';

/**
 * Random faults against several nodes. CI runs it short; `npm run soak` runs it long
 * (SOAK_SECONDS, SOAK_NODES) and writes the tables to SOAK_REPORT.
 */
soakTest(
  {
    run: soak,
    table: soakTable,
    name: (nodes, seconds) =>
      `soak: ${nodes} nodes, random faults for ${seconds} s, never two masters`,
  },
  'SOAK',
  20,
);
