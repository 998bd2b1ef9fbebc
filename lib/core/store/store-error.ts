import * as messages from '../kettle.messages.js';
import { KettleTimeoutError } from '../utils/promise-timeout.js';

/**
 * Why the store could not answer. The first five are the configuration's (a password, a right,
 * a host name or a certificate): retrying will not help until someone changes it.
 */
export type KettleStoreErrorReason =
  /** A wrong or missing password (WRONGPASS, NOAUTH). */
  | 'auth'
  /** The ACL user lacks a right (NOPERM). */
  | 'permission'
  /** The host name does not resolve (ENOTFOUND, EAI_AGAIN). */
  | 'dns'
  /** The TLS handshake failed: a certificate not trusted, expired, or for another name. */
  | 'tls'
  /** No connection to the store right now (refused, closed, still connecting). */
  | 'not-connected'
  /** The store did not answer within the timeout. */
  | 'timeout'
  /** Anything else the store answered with, e.g. a quorum without a majority. */
  | 'failed';

const CONFIGURATION: ReadonlySet<KettleStoreErrorReason> = new Set([
  'auth',
  'permission',
  'dns',
  'tls',
]);

/**
 * What a read of the store (`getMaster`, the health check, fail-fast bootstrap) throws: `reason`
 * says why, in a word a program can switch on; `cause` is the driver's own error, when there is one.
 */
export class KettleStoreError extends Error {
  override readonly name = 'KettleStoreError';
  constructor(
    readonly reason: KettleStoreErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True when the cause is the configuration (password, ACL, host name, certificate). */
  get configuration(): boolean {
    return CONFIGURATION.has(this.reason);
  }
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);

/** The reason of a driver's error: what the store answered, or what the socket met. */
export function reasonOf(error: unknown): KettleStoreErrorReason {
  if (error instanceof KettleStoreError) return error.reason;
  if (error instanceof KettleTimeoutError) return 'timeout';
  const { message = '', code = '' } = (error ?? {}) as { message?: unknown; code?: unknown };
  const text = String(message);
  const errorCode = String(code);
  if (/^(WRONGPASS|NOAUTH)\b/.test(text) || /\bWRONGPASS\b/.test(text)) return 'auth';
  if (/^NOPERM\b/.test(text)) return 'permission';
  if (errorCode === 'ENOTFOUND' || errorCode === 'EAI_AGAIN') return 'dns';
  if (errorCode.startsWith('ERR_TLS_') || TLS_CODES.has(errorCode)) return 'tls';
  if (/^(ENOTFOUND|EAI_AGAIN)\b|getaddrinfo (ENOTFOUND|EAI_AGAIN)/.test(text)) return 'dns';
  if (/self[- ]signed certificate|unable to verify the first certificate|certificate/i.test(text))
    return 'tls';
  if (
    /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b|connect (ECONNREFUSED|ETIMEDOUT)/.test(
      text,
    ) ||
    /Stream isn't writeable|Connection is closed|not connected/i.test(text)
  )
    return 'not-connected';
  return 'failed';
}

/** True when `error` comes from the configuration: logged at ERROR, once. */
export function isConfigurationError(error: unknown): boolean {
  return CONFIGURATION.has(reasonOf(error));
}

/**
 * `error` as a KettleStoreError of `action` (e.g. `getMaster("billing")`), in kettle's words;
 * `lastError` is the connection's last error, which says more than "not connected".
 */
export function storeReadError(
  action: string,
  error: unknown,
  lastError?: Error,
): KettleStoreError {
  let reason = reasonOf(error);
  let cause = error instanceof KettleStoreError ? (error.cause ?? error) : error;
  if ((reason === 'not-connected' || reason === 'failed') && lastError) {
    const underlying = reasonOf(lastError);
    if (underlying !== 'failed') [reason, cause] = [underlying, lastError];
  }
  return new KettleStoreError(reason, messages.storeReadFailed(action, reason, describe(cause)), {
    cause,
  });
}

/** The driver's words, unless they are kettle's own or an ioredis setting the user never made. */
function describe(error: unknown): string | undefined {
  if (error instanceof KettleStoreError) return undefined;
  if (error instanceof KettleTimeoutError) return `${Math.round(error.ms)} ms`;
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string' || /Stream isn't writeable/.test(message)) return undefined;
  return message;
}
