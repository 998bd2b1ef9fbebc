/** Injection token of the election store (Redis, memory or the user's own). */
export const KETTLE_STORE = Symbol('KETTLE_STORE');
/** Metadata key that `@OnMaster` writes on a method. */
export const ON_MASTER_METADATA = 'kettle:on-master';
/** Metadata keys that `@OnElected` and `@OnRevoked` write on a method. */
export const ON_ELECTED_METADATA = 'kettle:on-elected';
export const ON_REVOKED_METADATA = 'kettle:on-revoked';
