import 'reflect-metadata';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type Guarded,
  type LeadershipChange,
  type MasterContext,
  OnElected,
  OnMaster,
  OnRevoked,
} from '../../lib/index.js';

/**
 * The decorators take only methods whose parameters fit what kettle passes. `npm run typecheck`
 * is the test here: each `@ts-expect-error` fails it if its line compiles.
 */
describe('the decorators are typed by what kettle passes', () => {
  it('@OnMaster takes (context: MasterContext) or no parameter, nothing else', () => {
    class Jobs {
      @OnMaster('context')
      withContext({ term }: MasterContext): number {
        return term;
      }

      @OnMaster('none')
      async withoutContext(): Promise<void> {}

      // @ts-expect-error: kettle passes a MasterContext, not a string
      @OnMaster('string')
      charge(_id: string): void {}

      // @ts-expect-error: nothing passes the second parameter
      @OnMaster('two')
      two(_context: MasterContext, _extra: number): void {}
    }
    expect(Jobs).toBeDefined();
  });

  it('@OnElected takes the MasterContext, @OnRevoked the LeadershipChange', () => {
    class Handlers {
      @OnElected('x')
      elected(_context: MasterContext): void {}

      @OnRevoked('x')
      revoked({ reason }: LeadershipChange): void {
        void reason;
      }

      // @ts-expect-error: @OnRevoked gets the LeadershipChange, which has no signal
      @OnRevoked('x')
      revokedWithContext(_context: MasterContext): void {}
    }
    expect(Handlers).toBeDefined();
  });

  it('Guarded<R> is what a guarded method returns to its callers', () => {
    expectTypeOf<Guarded<number>>().toEqualTypeOf<Promise<number | undefined>>();
    expectTypeOf<Guarded<Promise<string>>>().toEqualTypeOf<Promise<string | undefined>>();
    class Reports {
      // With @Cron(...) above it, as docs/SCHEDULE-GUARD.md shows.
      @OnMaster('reports')
      async hourly(): Guarded<number> {
        return 42;
      }
    }
    expectTypeOf(new Reports().hourly()).toEqualTypeOf<Promise<number | undefined>>();
  });
});
