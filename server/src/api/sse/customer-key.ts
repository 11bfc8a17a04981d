// SSE-C's request headers: the customer's 256-bit key, its algorithm (AES256) and the key's MD5, for the
// object (`x-amz-server-side-encryption-customer-*`) or for a copy's source
// (`x-amz-copy-source-server-side-encryption-customer-*`). Errors as S3 answers them.
// The key is kept as the header gave it (base64; an HTTP header is a JS string in Node, which cannot be
// wiped) and decoded into a Buffer only for each use (withCustomerKey), which overwrites it right after.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../../errors.js';

export interface CustomerKey {
  /** The key's header value (base64 of 32 bytes, checked); decoded only inside withCustomerKey. */
  header: string;
  /** base64 MD5 of the key, as the client sent it (and S3 answers it). */
  md5: string;
}

/** base64 of 32 bytes in its one canonical form (43 characters, the last with 2 zero bits, and one `=`). */
const KEY_BASE64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * `use` given the customer key's 32 bytes, in a Buffer overwritten with zeros as soon as `use` returns or
 * throws (so the key does not stay in the heap until the GC reuses its memory). `use` must not keep it.
 */
export function withCustomerKey<T>(ckey: Pick<CustomerKey, 'header'>, use: (key: Buffer) => T): T {
  const key = Buffer.from(ckey.header, 'base64');
  try {
    return use(key);
  } finally {
    key.fill(0);
  }
}

const OBJECT_PREFIX = 'x-amz-server-side-encryption-customer-';
const SOURCE_PREFIX = 'x-amz-copy-source-server-side-encryption-customer-';

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * The SSE-C key a request gives for the object (or, with `source`, for a copy's source); undefined when it
 * gives none of the three headers. Over plain HTTP it is refused (the key would have crossed the network in
 * clear), unless `allowInsecure` (a switch for tests on loopback).
 */
export function customerKey(
  h: IncomingHttpHeaders,
  secure: boolean,
  allowInsecure: boolean,
  source = false,
): CustomerKey | undefined {
  const prefix = source ? SOURCE_PREFIX : OBJECT_PREFIX;
  const algorithm = header(h, `${prefix}algorithm`);
  const key64 = header(h, `${prefix}key`);
  const md5 = header(h, `${prefix}key-md5`);
  if (algorithm === undefined && key64 === undefined && md5 === undefined) return undefined;
  if (!secure && !allowInsecure) {
    throw new S3Error(
      'InvalidRequest',
      'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.',
    );
  }
  if (algorithm === undefined) {
    throw new S3Error(
      'InvalidArgument',
      'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.',
      { ArgumentName: `${prefix}algorithm` },
    );
  }
  if (algorithm !== 'AES256')
    throw new S3Error('InvalidEncryptionAlgorithmError', undefined, { ArgumentName: `${prefix}algorithm` });
  if (key64 === undefined) {
    throw new S3Error(
      'InvalidArgument',
      'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.',
      { ArgumentName: `${prefix}key` },
    );
  }
  const keyHeader = key64.trim();
  if (!KEY_BASE64.test(keyHeader)) {
    throw new S3Error('InvalidArgument', 'The secret key was invalid for the specified algorithm.', {
      ArgumentName: `${prefix}key`,
    });
  }
  if (md5 === undefined) {
    throw new S3Error(
      'InvalidArgument',
      'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.',
      { ArgumentName: `${prefix}key-md5` },
    );
  }
  const given = Buffer.from(md5, 'base64');
  const actual = withCustomerKey({ header: keyHeader }, (key) => createHash('md5').update(key).digest());
  if (given.length !== actual.length || !timingSafeEqual(given, actual)) {
    throw new S3Error(
      'InvalidArgument',
      'The calculated MD5 hash of the key did not match the hash that was provided.',
      {
        ArgumentName: `${prefix}key-md5`,
      },
    );
  }
  return { header: keyHeader, md5: actual.toString('base64') };
}
