import type { KettleLogger } from './interfaces/kettle-options.interface.js';

/**
 * Outside Nest, kettle logs to the console. Debug lines (leadership changes when not verbose, a
 * repeated store fault) are left out: pass a logger of your own to see them.
 */
export const consoleLogger: KettleLogger = {
  log: (message) => console.log(`[Kettle] ${message}`),
  warn: (message) => console.warn(`[Kettle] ${message}`),
  error: (message, stack) => console.error(`[Kettle] ${message}`, ...(stack ? [`\n${stack}`] : [])),
  debug: () => undefined,
};
