export {
  KettleHealthIndicator,
  type KettleHealthOptions,
  type ElectionHealth,
} from './kettle-health.indicator.js';
