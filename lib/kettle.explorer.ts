import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { LeadershipEventMetadata } from './decorators/on-leadership.decorators.js';
import type { OnMasterMetadata } from './decorators/on-master.decorator.js';
import { KettleService } from './kettle.service.js';
import {
  ON_ELECTED_METADATA,
  ON_MASTER_METADATA,
  ON_REVOKED_METADATA,
} from './kettle.constants.js';
import {
  duplicateGuard,
  firingsNotDeduplicated,
  guardedProviderTwice,
  invalidElectionName,
  nonStaticProvider,
  scheduleWithoutModule,
} from './core/kettle.messages.js';
import { installGuard } from './schedule/schedule-guard.js';
import { DeclaredElections } from './declared-elections.js';
import type { FiringSlots } from './core/election/firing-slots.interface.js';
import { firingSlotsOf } from './schedule/firing-slots.js';

/** The method decorators the explorer looks for, by metadata key. */
const DECORATORS = [
  { key: ON_MASTER_METADATA, decorator: 'OnMaster' },
  { key: ON_ELECTED_METADATA, decorator: 'OnElected' },
  { key: ON_REVOKED_METADATA, decorator: 'OnRevoked' },
] as const;

/**
 * Finds `@OnMaster`, `@OnElected` and `@OnRevoked` methods at bootstrap, as @nestjs/schedule finds
 * `@Cron`, and joins their elections.
 */
@Injectable()
export class KettleExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly kettle: KettleService,
  ) {}

  onModuleInit(): void {
    const found = new DeclaredElections();
    const guarded: Array<{
      instance: object;
      key: OnMasterMetadata;
      id: string;
      name: string;
      slots: FiringSlots;
    }> = [];
    /** Where each guarded method is, by election name and method id: its slot key. */
    const guardedKeys = new Map<string, { module: string; id: string; type: unknown }>();
    /** Each instance is explored once: a `useExisting` alias lists the one it names again. */
    const explored = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || wrapper.isAlias) continue;
      if (explored.has(instance)) continue;
      explored.add(instance);
      const prototype: object | null = Object.getPrototypeOf(instance);
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = (instance as Record<string, Method | undefined>)[method];
        if (typeof handler !== 'function') continue;
        const id = `${instance.constructor.name}.${method}`;
        const run = (arg: unknown): unknown => handler.call(instance, arg);
        for (const { key, decorator } of DECORATORS) {
          const metadata = this.reflector.get<OnMasterMetadata | LeadershipEventMetadata>(
            key,
            handler,
          );
          if (!metadata) continue;
          if (!wrapper.isDependencyTreeStatic()) {
            this.kettle.logger.warn(
              nonStaticProvider(instance.constructor.name, method, decorator),
            );
            continue;
          }
          const { name } = metadata;
          if (typeof name !== 'string' || name.trim() === '') {
            throw new TypeError(invalidElectionName(name, id, decorator));
          }
          if (decorator === 'OnMaster' && isScheduled(handler)) {
            found.addScheduled(name, (metadata as OnMasterMetadata).options, id);
            // The slot key is the election's name and the method's id: two alike share it.
            const module = wrapper.host?.name ?? 'an unnamed module';
            const where = { module, id: `${id} (in ${module})`, type: instance.constructor };
            const first = guardedKeys.get(`${name}\0${id}`);
            if (first?.type === where.type)
              throw new Error(guardedProviderTwice(name, id, first.module, where.module));
            if (first) throw new Error(duplicateGuard(name, first.id, where.id));
            guardedKeys.set(`${name}\0${id}`, where);
            // The metadata object is the guard's key: wrappers that copy metadata keep it.
            guarded.push({
              instance,
              key: metadata as OnMasterMetadata,
              id,
              name,
              slots: firingSlotsOf(handler),
            });
          } else if (decorator === 'OnMaster') {
            found.addJob(name, (metadata as OnMasterMetadata).options, { id, run });
          } else if (decorator === 'OnElected') {
            found.addElectedHandler(name, { id, run });
          } else {
            found.addRevokedHandler(name, { id, run });
          }
        }
      }
    }
    for (const [name, declaration, where] of found.elections()) {
      this.kettle.addElection(name, declaration, where);
    }
    const hasScheduleModule = this.discovery
      .getProviders()
      .some((wrapper) => wrapper.name === 'SchedulerRegistry');
    const { store } = this.kettle;
    if (guarded.length > 0 && !store.claimSlot)
      this.kettle.logger.warn(firingsNotDeduplicated(store.constructor.name));
    for (const { instance, key, id, name, slots } of guarded) {
      if (!hasScheduleModule) this.kettle.logger.warn(scheduleWithoutModule(id));
      installGuard(instance, key, id, () => this.kettle.electionOf(name), slots);
    }
  }
}

type Method = (this: object, ...args: unknown[]) => unknown;

/** @nestjs/schedule marks @Cron, @Interval and @Timeout methods with this key (read, not imported). */
const SCHEDULER_TYPE = 'SCHEDULER_TYPE';

function isScheduled(handler: Method): boolean {
  return Reflect.getMetadata(SCHEDULER_TYPE, handler) !== undefined;
}
