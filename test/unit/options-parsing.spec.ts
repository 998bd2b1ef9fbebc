import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../lib/core/utils/duration.js';
import { didYouMean } from '../../lib/core/utils/did-you-mean.js';

describe('parseDuration', () => {
  const good: Array<[unknown, number]> = [
    [0, 0],
    [1500, 1500],
    [0.5, 0.5],
    ['2000', 2000],
    [' 2000 ', 2000],
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
  ];
  it.each(good)('reads %o as %d ms', (value, ms) => {
    expect(parseDuration(value)).toBe(ms);
  });

  const bad: unknown[] = [
    '',
    ' ',
    '2 minutes',
    '30 s',
    '-1s',
    '-5',
    '1e3',
    '.5s',
    '5d',
    '30S',
    's',
    'NaN',
    Number.NaN,
    Infinity,
    -1,
    null,
    undefined,
    true,
    {},
  ];
  it.each(bad)('refuses %o', (value) => {
    expect(parseDuration(value)).toBeUndefined();
  });
});

describe('didYouMean', () => {
  const known = ['redis', 'interval', 'allowShortInterval', 'leaseTtl', 'shutdownTimeout'];
  const cases: Array<[string, string | undefined]> = [
    ['leaseTTL', 'leaseTtl'],
    ['lease_ttl', 'leaseTtl'],
    ['LEASE-TTL', 'leaseTtl'],
    ['intreval', 'interval'],
    ['intervall', 'interval'],
    ['shutdownTimout', 'shutdownTimeout'],
    ['allowShortIntervals', 'allowShortInterval'],
    ['redsi', 'redis'],
    ['password', undefined],
    ['ttl', undefined],
    ['timeout', undefined],
  ];
  it.each(cases)('%s → %s', (input, suggestion) => {
    expect(didYouMean(input, known)).toBe(suggestion);
  });

  it('suggests nothing when two names are as near', () => {
    expect(didYouMean('cat', ['bat', 'hat'])).toBeUndefined();
  });
});
