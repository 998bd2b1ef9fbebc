import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Kettle, type KettleLogger } from '../../lib/core/index.js';
import { KettleModule, KettleService, OnMaster } from '../../lib/index.js';
import { waitFor } from '#tools/wait.js';
import { Harness } from '../support/apps.js';

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };
const h = new Harness();
afterEach(() => h.cleanup());

type Names = 'billing' | 'reports';

function started(): Kettle<Names> {
  const kettle = new Kettle<Names>({ store: 'memory', logger: silent, shutdownTimeout: 100 });
  kettle.join('billing');
  kettle.join('reports');
  kettle.start();
  h.defer(() => kettle.stop());
  return kettle;
}

describe('a name this node never joined', () => {
  it('throws from isMaster, term, stats, leaseLeft and resign, listing the known names', async () => {
    const kettle = started();
    const unknown = /no election "biling"; it knows "billing", "reports"/;
    const typo = 'biling' as Names;
    expect(() => kettle.isMaster(typo)).toThrow(unknown);
    expect(() => kettle.term(typo)).toThrow(unknown);
    expect(() => kettle.stats(typo)).toThrow(unknown);
    expect(() => kettle.leaseLeft(typo)).toThrow(unknown);
    await expect(kettle.resign(typo)).rejects.toThrow(unknown);
    await expect(kettle.leave(typo)).rejects.toThrow(unknown);
  });

  it('resign and leave of a name left are told that it is not joined, not that it is unknown', async () => {
    const kettle = started();
    await kettle.leave('reports');
    await expect(kettle.resign('reports')).rejects.toThrow(/has not joined election "reports"/);
    await expect(kettle.leave('reports')).rejects.toThrow(/has not joined election "reports"/);
  });

  it('getMaster reads any name from the store; a name left, or before start, is no error', async () => {
    const kettle = started();
    expect(await kettle.getMaster('elsewhere' as Names)).toBeNull();
    await kettle.leave('reports');
    expect(kettle.isMaster('reports')).toBe(false);
    expect(kettle.stats('reports')).toBeUndefined();
    const idle = new Kettle({ store: 'memory', logger: silent });
    expect(idle.isMaster('later')).toBe(false);
    await kettle.stop();
    expect(kettle.isMaster('billing')).toBe(false);
  });

  it('typed names: TypeScript refuses a misspelt one, on Kettle and KettleService', async () => {
    const kettle = started();
    // @ts-expect-error 'biling' is not one of the names.
    expect(() => kettle.isMaster('biling')).toThrow(/no election "biling"/);
    await waitFor(() => kettle.isMaster('billing'), 'master of billing');

    @Injectable()
    class Jobs {
      constructor(readonly kettle: KettleService<Names>) {}
      @OnMaster('billing')
      bill() {}
    }
    @Module({ imports: [KettleModule.forRoot({ store: 'memory' })], providers: [Jobs] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    h.defer(() => app.close());
    const service = app.get(Jobs).kettle;
    // @ts-expect-error 'reprots' is not one of the names.
    expect(() => service.stats('reprots')).toThrow(/it knows "billing"/);
    expect(service.names()).toEqual(['billing']);
  });
});
