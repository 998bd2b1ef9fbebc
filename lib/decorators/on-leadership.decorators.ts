import { SetMetadata } from '@nestjs/common';
import { ON_ELECTED_METADATA, ON_REVOKED_METADATA } from '../kettle.constants.js';
import type { LeadershipChange } from '../core/interfaces/leadership-change.interface.js';
import type { MasterContext } from '../core/interfaces/master-context.interface.js';
import type { MethodDecoratorFor } from './on-master.decorator.js';

export interface LeadershipEventMetadata {
  readonly name: string;
}

/**
 * Runs the method each time this node becomes master of election `name`, with the MasterContext
 * of that leadership, for what must start with it (open a stream, warm a cache). The first
 * `@OnMaster` run of the leadership waits for it (at most one lease). Without an `@OnMaster` for
 * `name`, the node still joins the election: leadership only, no jobs.
 */
export const OnElected = (name: string): MethodDecoratorFor<MasterContext> =>
  SetMetadata<string, LeadershipEventMetadata>(ON_ELECTED_METADATA, { name });

/**
 * Runs the method each time this node stops being master of election `name`, with the
 * LeadershipChange (`isMaster: false`, `term`, `reason`), for what must stop with it. It runs after
 * that leadership's `@OnElected` handlers have returned; another node may already be master.
 */
export const OnRevoked = (name: string): MethodDecoratorFor<LeadershipChange> =>
  SetMetadata<string, LeadershipEventMetadata>(ON_REVOKED_METADATA, { name });
