import { describe, expect, it } from 'vitest';
import { checkInvariants, type FaultEvent } from './invariants.js';

const ev = (t: number, node: string, e: string, extra: Partial<FaultEvent> = {}): FaultEvent => ({
  t,
  node,
  ev: e,
  election: 'job',
  ...extra,
});

/** The checker itself: each invariant is counted when it is broken, and only then. */
describe('checkInvariants', () => {
  it('counts runs of two nodes that overlap as double masters', () => {
    const report = checkInvariants([
      ev(0, 'a', 'start', { term: 1 }),
      ev(5, 'b', 'start', { term: 2 }),
      ev(6, 'b', 'end', { term: 2, aborted: false }),
      ev(10, 'a', 'end', { term: 1, aborted: false }),
    ]);
    expect(report).toMatchObject({ runs: 2, doubleMasters: 1, coveredOverlaps: 0 });
  });

  it('counts an overlap with an aborted older run as covered, and sequential runs as none', () => {
    const covered = checkInvariants([
      ev(0, 'a', 'start', { term: 1 }),
      ev(5, 'b', 'start', { term: 2 }),
      ev(6, 'b', 'end', { term: 2 }),
      ev(10, 'a', 'end', { term: 1, aborted: true }),
    ]);
    expect(covered).toMatchObject({ doubleMasters: 0, coveredOverlaps: 1 });
    const sequential = checkInvariants([
      ev(0, 'a', 'start', { term: 1 }),
      ev(1, 'a', 'end', { term: 1 }),
      ev(2, 'b', 'start', { term: 2 }),
      ev(3, 'b', 'end', { term: 2 }),
      ev(4, 'a', 'start', { term: 3, election: 'other' }),
    ]);
    expect(sequential).toMatchObject({ doubleMasters: 0, coveredOverlaps: 0, runs: 3 });
  });

  it('ends a run at its process exit', () => {
    const report = checkInvariants([
      ev(0, 'a', 'start', { term: 1 }),
      ev(2, 'a', 'exit', { election: undefined }),
      ev(3, 'b', 'start', { term: 2 }),
    ]);
    expect(report).toMatchObject({ doubleMasters: 0, coveredOverlaps: 0 });
  });

  it('counts terms that do not strictly increase, and stale writes accepted or refused', () => {
    const report = checkInvariants([
      ev(0, 'a', 'elected', { term: 5 }),
      ev(1, 'b', 'elected', { term: 5 }),
      ev(2, 'a', 'write', { term: 5, accepted: true }),
      ev(3, 'b', 'write', { term: 4, accepted: true }),
      ev(4, 'c', 'write', { term: 3, accepted: false }),
      ev(5, 'c', 'unhandled'),
    ]);
    expect(report).toMatchObject({
      termRegressions: 1,
      staleWritesAccepted: 1,
      staleWritesRefused: 1,
      unhandledRejections: 1,
    });
  });

  it('orders accepted writes as the server took them: an answer seen before the other was sent', () => {
    const report = checkInvariants([
      ev(0, 'b', 'write', { term: 7, accepted: true, sentAt: 0 }),
      // Sent before term 7's answer, logged after it (frozen in between): taken first, not stale.
      ev(2, 'a', 'write', { term: 6, accepted: true, sentAt: -1 }),
      // Sent after term 7's answer and still accepted: the fence failed.
      ev(4, 'c', 'write', { term: 5, accepted: true, sentAt: 3 }),
    ]);
    expect(report.staleWritesAccepted).toBe(1);
  });
});
