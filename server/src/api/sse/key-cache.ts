// Unsealed data keys kept in memory for a bounded time, so that reading an SSE-S3/SSE-KMS object again does
// not ask the KMS again (a Vault/OpenBao round trip per GET otherwise). The keys live only in this process's
// memory: never written anywhere, never logged (entries are keyed by a hash, and hold the key as a Buffer).
// Each caller gets a copy of its own (and wipes it when done, api/sse wipeKey); the cache overwrites its own
// copy when an entry leaves (expired, evicted, or its KMS key gone).
//
// Bounds: at most `maxEntries` keys (least recently used go first) and each for at most `expiryMs` after the
// KMS opened it (not renewed by use), so a key disabled or deleted in the KMS stops opening objects within
// that time. Sooner where the KMS tells us: any answer that a KMS key does not exist (KMS.NotFoundException,
// as Vault answers for a deleted transit key) drops every cached key it sealed at once.
import { createHash } from 'node:crypto';
import { S3Error } from '../../errors.js';
import type { Kms } from './kms.js';

export interface KeyCacheOptions {
  /** How long an unsealed key is kept after the KMS opened it (CAIRN_KMS_CACHE_EXPIRY, seconds). */
  expiryMs: number;
  /** The most keys kept (CAIRN_KMS_CACHE_MAX_KEYS). */
  maxEntries: number;
  now?: () => number;
}

export const DEFAULT_KEY_CACHE: KeyCacheOptions = { expiryMs: 5 * 60_000, maxEntries: 10_000 };

interface Entry {
  keyId: string;
  plaintext: Buffer;
  expires: number;
}

/** `kms` with its decryptions kept as the options bound them (expiryMs 0: `kms` itself). */
export function cachedKms(kms: Kms, opts: KeyCacheOptions): Kms {
  if (opts.expiryMs <= 0 || opts.maxEntries <= 0) return kms;
  const now = opts.now ?? (() => performance.now());
  const entries = new Map<string, Entry>(); // in use order: the first is the least recently used
  const opening = new Map<string, Promise<Buffer>>(); // misses in flight, shared by concurrent GETs

  const drop = (id: string, e: Entry) => {
    entries.delete(id);
    e.plaintext.fill(0);
  };
  /** Forgets every key `keyId` sealed: the KMS said the key is gone. */
  const forget = (keyId: string) => {
    for (const [id, e] of entries) if (e.keyId === keyId) drop(id, e);
  };
  const watch = async <T>(keyId: string, call: Promise<T>): Promise<T> => {
    try {
      return await call;
    } catch (e) {
      if (e instanceof S3Error && e.code === 'KMS.NotFoundException') forget(keyId);
      throw e;
    }
  };

  return {
    defaultKeyId: kms.defaultKeyId,
    rotates: kms.rotates,
    generateKey: (keyId, context) => watch(keyId, kms.generateKey(keyId, context)),
    status: () => kms.status(),
    createKey: (keyId) => kms.createKey(keyId),
    // A re-wrapped key opens to the same plaintext: the cached entry of the old sealed form just ages out.
    rewrapKey: (keyId, sealed, context) => watch(keyId, kms.rewrapKey(keyId, sealed, context)),
    async decryptKey(keyId, sealed, context) {
      // One id per (KMS key, sealed key, binding): a sealed key opens only with its own binding anyway.
      const id = createHash('sha256')
        .update(`${keyId.length}:${keyId}`)
        .update(`${context.length}:`)
        .update(context)
        .update(sealed)
        .digest('base64');
      const hit = entries.get(id);
      if (hit && hit.expires > now()) {
        entries.delete(id); // to the end: most recently used
        entries.set(id, hit);
        return Buffer.from(hit.plaintext);
      }
      if (hit) drop(id, hit);
      const pending = opening.get(id);
      if (pending) return Buffer.from(await pending);
      const opened = watch(keyId, kms.decryptKey(keyId, sealed, context))
        .then((plaintext) => {
          entries.set(id, { keyId, plaintext, expires: now() + opts.expiryMs });
          for (const [oldest, e] of entries) {
            if (entries.size <= opts.maxEntries) break;
            drop(oldest, e);
          }
          return plaintext;
        })
        .finally(() => opening.delete(id));
      opening.set(id, opened);
      return Buffer.from(await opened);
    },
  };
}

/**
 * The cache's bounds from the environment: CAIRN_KMS_CACHE_EXPIRY (seconds, 0 turns the cache off; default
 * 300) and CAIRN_KMS_CACHE_MAX_KEYS (default 10000). Throws on a value that is not a whole number.
 */
export function keyCacheFromEnv(env: NodeJS.ProcessEnv): KeyCacheOptions {
  const whole = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d{1,9}$/.test(raw)) throw new Error(`${name} must be a whole number, not '${raw}'`);
    return Number(raw);
  };
  return {
    expiryMs: whole('CAIRN_KMS_CACHE_EXPIRY', DEFAULT_KEY_CACHE.expiryMs / 1000) * 1000,
    maxEntries: whole('CAIRN_KMS_CACHE_MAX_KEYS', DEFAULT_KEY_CACHE.maxEntries),
  };
}
