import { describe, expect, it } from 'vitest';
import {
  isConfigurationError,
  KettleStoreError,
  reasonOf,
  storeReadError,
} from '../../lib/core/store/store-error.js';
import { KettleTimeoutError } from '../../lib/core/utils/promise-timeout.js';

/** An error as Node's sockets and ioredis make them: a message, and a code for system errors. */
const failure = (message: string, code?: string) => Object.assign(new Error(message), { code });

describe('the reason of a store failure', () => {
  const cases: Array<[Error, string, boolean]> = [
    [failure('WRONGPASS invalid username-password pair or user is disabled.'), 'auth', true],
    [failure('NOAUTH Authentication required.'), 'auth', true],
    [
      failure("NOPERM User weak has no permissions to run the 'evalsha' command"),
      'permission',
      true,
    ],
    [failure('getaddrinfo ENOTFOUND redis.internal', 'ENOTFOUND'), 'dns', true],
    [failure('getaddrinfo EAI_AGAIN redis.internal', 'EAI_AGAIN'), 'dns', true],
    [failure('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls', true],
    [failure('certificate has expired', 'CERT_HAS_EXPIRED'), 'tls', true],
    [
      failure("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'),
      'tls',
      true,
    ],
    [failure('connect ECONNREFUSED 127.0.0.1:6390', 'ECONNREFUSED'), 'not-connected', false],
    [
      failure("Stream isn't writeable and enableOfflineQueue options is false"),
      'not-connected',
      false,
    ],
    [new KettleTimeoutError('the store', 300), 'timeout', false],
    [failure('ERR unknown command'), 'failed', false],
  ];
  it.each(cases)('%s: %s', (error, reason, configuration) => {
    expect(reasonOf(error)).toBe(reason);
    expect(isConfigurationError(error)).toBe(configuration);
  });

  it("a read's error: kettle's words, the connection's last error as the cause, no password", () => {
    const offline = failure("Stream isn't writeable and enableOfflineQueue options is false");
    const refused = failure('WRONGPASS invalid username-password pair or user is disabled.');
    const error = storeReadError('getMaster("job")', offline, refused);
    expect(error).toBeInstanceOf(KettleStoreError);
    expect(error).toMatchObject({ reason: 'auth', configuration: true, cause: refused });
    expect(error.message).toMatch(/^Kettle: getMaster\("job"\): Redis refused the credentials/);
    expect(error.message).not.toMatch(/enableOfflineQueue/);
    const dns = failure('getaddrinfo ENOTFOUND redis://:pw-secret@redis.internal', 'ENOTFOUND');
    expect(storeReadError('getMaster("job")', dns).message).not.toMatch(/pw-secret/);
  });
});
