import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { OnMasterMetadata } from './decorators/on-master.decorator.js';
import type { MasterJob } from './election/election-config.js';
import type { ElectionOptions } from './interfaces/kettle-module-options.interface.js';
import { KettleService } from './kettle.service.js';
import { ON_MASTER_METADATA } from './kettle.constants.js';
import { checkElectionKeys, ELECTION_OPTION_KEYS } from './kettle-options.js';
import {
  clashingOptions,
  invalidDecoratorOptions,
  invalidElectionName,
  nonStaticProvider,
} from './kettle.messages.js';

interface FoundElection {
  settings: ElectionOptions;
  jobs: MasterJob[];
}

/** Finds `@OnMaster` methods at bootstrap, as @nestjs/schedule finds `@Cron`, and joins their elections. */
@Injectable()
export class KettleExplorer implements OnModuleInit {
  private readonly logger = new Logger('Kettle');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly kettle: KettleService,
  ) {}

  onModuleInit(): void {
    const found = new Map<string, FoundElection>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      const prototype: object | null = Object.getPrototypeOf(instance);
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = (instance as Record<string, unknown>)[method];
        if (typeof handler !== 'function') continue;
        const metadata = this.reflector.get<OnMasterMetadata | undefined>(
          ON_MASTER_METADATA,
          handler,
        );
        if (!metadata) continue;
        const id = `${instance.constructor.name}.${method}`;
        if (!wrapper.isDependencyTreeStatic()) {
          this.logger.warn(nonStaticProvider(instance.constructor.name, method));
          continue;
        }
        const job: MasterJob = { id, run: (context) => handler.call(instance, context) };
        this.collect(found, metadata, job);
      }
    }
    for (const [name, { settings, jobs }] of found) {
      this.kettle.addElection(
        name,
        settings,
        jobs,
        `@OnMaster(${JSON.stringify(name)}) on ${jobs[0].id}: `,
      );
    }
  }

  /** Methods that share a name share one election, so their settings must agree. */
  private collect(
    found: Map<string, FoundElection>,
    { name, options }: OnMasterMetadata,
    job: MasterJob,
  ): void {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new TypeError(invalidElectionName(name, job.id));
    }
    if (options === null || typeof options !== 'object') {
      throw new TypeError(invalidDecoratorOptions(name, job.id));
    }
    checkElectionKeys(options, `@OnMaster(${JSON.stringify(name)}) on ${job.id}: `);
    const election = found.get(name);
    if (!election) {
      found.set(name, { settings: { ...options }, jobs: [job] });
      return;
    }
    for (const key of ELECTION_OPTION_KEYS) {
      const [mine, theirs] = [options[key], election.settings[key]];
      if (mine === undefined) continue;
      if (theirs !== undefined && theirs !== mine)
        throw new Error(clashingOptions(name, key, theirs, mine));
      election.settings[key] = mine;
    }
    election.jobs.push(job);
  }
}
