/**
 * A Jest spec as a `nest new` project (Jest 29, ts-jest, CommonJS, no Jest setup of its own) writes
 * one, run by test/compat/nest11-jest.spec.ts: Jest's module loader takes the `require` build of
 * nestjs-kettle, and Nest's injection tokens must be the classes of that one copy.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import * as kettle from 'nestjs-kettle';
import { KettleService } from 'nestjs-kettle';
import * as testing from 'nestjs-kettle/testing';
import { KettleElectionDriver, KettleTestingModule } from 'nestjs-kettle/testing';
import { CleanupJob } from './cleanup.job';

describe('CleanupJob', () => {
  let moduleRef: TestingModule;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [KettleTestingModule.forRoot()],
      providers: [CleanupJob],
    }).compile();
    await moduleRef.init();
  });

  afterEach(() => moduleRef.close());

  it('runs on the master only', async () => {
    const driver = moduleRef.get(KettleElectionDriver);
    const service = moduleRef.get(KettleService);
    const job = moduleRef.get(CleanupJob);

    expect(await driver.runOnce('cleanup')).toBe(false);
    await driver.elect('cleanup');
    expect(service.isMaster('cleanup')).toBe(true);
    expect(await driver.runOnce('cleanup')).toBe(true);
    expect(job.runs).toEqual([service.term('cleanup')]);

    await driver.revoke('cleanup');
    expect(service.isMaster('cleanup')).toBe(false);
    expect(await driver.runOnce('cleanup')).toBe(false);
    expect(job.runs).toHaveLength(1);
  });

  it('finds one class under the deprecated names and the root entry', () => {
    expect(testing.KettleTestingController).toBe(KettleElectionDriver);
    expect(moduleRef.get(testing.KettleTestingController)).toBe(
      moduleRef.get(KettleElectionDriver),
    );
    expect(kettle.KettleTestingModule).toBe(KettleTestingModule);
    expect(kettle.KettleTestingController).toBe(KettleElectionDriver);
  });
});
