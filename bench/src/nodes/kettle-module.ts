import type { DynamicModule } from '@nestjs/common';
import { KettleModule, type KettleModuleOptions } from 'nestjs-kettle';
import { env } from './env.js';

/**
 * KettleModule as every kettle node sets it up: on the bench Redis, with the node's id and the
 * lease every peer has; `options` add what the node's scenario needs.
 */
export function benchKettle(options: KettleModuleOptions = {}): DynamicModule {
  return KettleModule.forRoot({
    redis: env.redisUrl,
    nodeId: env.nodeId,
    keyPrefix: 'kettle:',
    leaseTtl: env.leaseTtl,
    ...options,
  });
}
