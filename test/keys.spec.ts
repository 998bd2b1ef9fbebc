import { describe, expect, it } from 'vitest';
import { RedisStore } from '../lib/index.js';
import { electionKey, hashTagOf } from '../lib/store/keys.js';
import { SHARED_REDIS_URL } from './support/redis-server.js';

const KINDS = ['lock', 'term', 'lastrun'] as const;

/** The part of a key that Redis Cluster hashes: the first `{…}` if it is not empty, else all. */
function hashedPart(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('election keys', () => {
  const names = [
    'billing',
    '}x',
    '{}',
    'a{b}c',
    '{',
    '}',
    '%',
    '%7D',
    '%257D',
    '%7B',
    '{%}',
    'ü b',
  ];
  const prefixes = ['kettle:', 'app{x}:', 'app{', 'a}b:', 'app{x}{}:'];

  it('keeps the keys of a name without %, { or } as they were', () => {
    expect(KINDS.map((kind) => electionKey('kettle:', 'billing', kind))).toEqual([
      'kettle:{billing}:lock',
      'kettle:{billing}:term',
      'kettle:{billing}:lastrun',
    ]);
    expect(hashTagOf('tenant-42/ü b:c')).toBe('tenant-42/ü b:c');
  });

  it('puts the keys of any name in one Cluster slot, with any accepted prefix', () => {
    for (const prefix of prefixes) {
      for (const name of names) {
        const hashed = KINDS.map((kind) => hashedPart(electionKey(prefix, name, kind)));
        expect(new Set(hashed).size, `${prefix} ${name}: ${hashed.join(' | ')}`).toBe(1);
      }
    }
  });

  it('gives two names two different keys', () => {
    const keys = names.map((name) => electionKey('kettle:', name, 'lock'));
    expect(new Set(keys).size).toBe(names.length);
    expect(hashTagOf('}x')).toBe('%7Dx');
    expect(hashTagOf('%7Dx')).toBe('%257Dx');
  });

  it('refuses a prefix whose first { is directly followed by }, naming it', () => {
    for (const keyPrefix of ['{}', 'app{}:', 'a{}b{c}:']) {
      expect(() => new RedisStore({ connection: { url: SHARED_REDIS_URL }, keyPrefix })).toThrow(
        `invalid option "keyPrefix": ${JSON.stringify(keyPrefix)}; expected a prefix whose first "{" is not directly followed by "}"`,
      );
    }
  });
});
