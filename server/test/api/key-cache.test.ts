// The unsealed-key cache (api/sse/key-cache.ts) in front of the static KMS (a real one, counted): hits do not
// reach the KMS, entries expire by the clock and leave by use order past the bound, and a KMS answer that a
// key does not exist drops every key it sealed. The Vault/OpenBao side is test/python/test_sse_kms.py.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cachedKms, keyCacheFromEnv } from '../../src/api/sse/key-cache.js';
import { staticKms, type Kms } from '../../src/api/sse/kms.js';
import { S3Error } from '../../src/errors.js';

function counted(kms: Kms): Kms & { decrypts: number; gone: boolean; opened: Buffer[] } {
  const c = {
    decrypts: 0,
    gone: false,
    /** Every plaintext this KMS handed out (the cache's own copies). */
    opened: [] as Buffer[],
    defaultKeyId: kms.defaultKeyId,
    rotates: kms.rotates,
    status: () => kms.status(),
    createKey: (keyId: string) => kms.createKey(keyId),
    rewrapKey: (keyId: string, sealed: Buffer, context: Buffer) => kms.rewrapKey(keyId, sealed, context),
    generateKey: (keyId: string, context: Buffer) =>
      c.gone ? Promise.reject(new S3Error('KMS.NotFoundException')) : kms.generateKey(keyId, context),
    decryptKey: (keyId: string, sealed: Buffer, context: Buffer) => {
      c.decrypts++;
      if (c.gone) return Promise.reject(new S3Error('KMS.NotFoundException'));
      return kms.decryptKey(keyId, sealed, context).then((plaintext) => {
        c.opened.push(plaintext);
        return plaintext;
      });
    },
  };
  return c;
}

describe('unsealed-key cache', () => {
  it('answers again from memory, within its lifetime and bound', async () => {
    const inner = counted(staticKms(`k:${randomBytes(32).toString('base64')}`));
    let clock = 0;
    const kms = cachedKms(inner, { expiryMs: 1000, maxEntries: 2, now: () => clock });
    const made = await Promise.all([1, 2, 3].map((i) => kms.generateKey('k', Buffer.from(`object ${i}`))));
    const open = (i: number) => kms.decryptKey('k', made[i - 1].sealed, Buffer.from(`object ${i}`));
    expect((await open(1)).equals(made[0].plaintext)).toBe(true);
    await Promise.all([open(1), open(1)]);
    expect(inner.decrypts).toBe(1);
    // A sealed key under another binding is another entry, and the KMS refuses it.
    await expect(kms.decryptKey('k', made[0].sealed, Buffer.from('object 2'))).rejects.toThrow(S3Error);
    expect(inner.decrypts).toBe(2);
    // Bound of 2: opening 2 and 3 pushes out 1 (least recently used).
    await open(2);
    await open(3);
    expect(inner.decrypts).toBe(4);
    await open(3);
    await open(2);
    expect(inner.decrypts).toBe(4);
    await open(1);
    expect(inner.decrypts).toBe(5);
    // Expiry: counted from when the KMS opened the key, not renewed by use.
    clock = 999;
    await open(1);
    expect(inner.decrypts).toBe(5);
    clock = 1000;
    await open(1);
    expect(inner.decrypts).toBe(6);
  });

  it('forgets every key of a KMS key the KMS says is gone', async () => {
    const inner = counted(staticKms(`k:${randomBytes(32).toString('base64')}`));
    const kms = cachedKms(inner, { expiryMs: 60_000, maxEntries: 10 });
    const made = await kms.generateKey('k', Buffer.from('o'));
    await kms.decryptKey('k', made.sealed, Buffer.from('o'));
    inner.gone = true;
    await kms.decryptKey('k', made.sealed, Buffer.from('o')); // still cached: nothing said otherwise
    await expect(kms.generateKey('k', Buffer.from('p'))).rejects.toThrow(S3Error);
    await expect(kms.decryptKey('k', made.sealed, Buffer.from('o'))).rejects.toThrow(S3Error);
    expect(inner.decrypts).toBe(2);
  });

  it('hands each caller a copy to wipe, and wipes its own copy when an entry leaves', async () => {
    const inner = counted(staticKms(`k:${randomBytes(32).toString('base64')}`));
    let clock = 0;
    const kms = cachedKms(inner, { expiryMs: 1000, maxEntries: 1, now: () => clock });
    const made = await Promise.all([1, 2].map((i) => kms.generateKey('k', Buffer.from(`object ${i}`))));
    const open = (i: number) => kms.decryptKey('k', made[i - 1].sealed, Buffer.from(`object ${i}`));
    const first = await open(1);
    first.fill(0); // the caller is done with it (api/sse wipeKey)
    const again = await open(1);
    expect(again.equals(made[0].plaintext)).toBe(true);
    expect(inner.decrypts).toBe(1);
    const zero = Buffer.alloc(32);
    expect(inner.opened[0].equals(made[0].plaintext)).toBe(true);
    await open(2); // bound of 1: the entry of object 1 leaves, its plaintext overwritten
    expect(inner.opened[0].equals(zero)).toBe(true);
    expect(inner.opened[1].equals(made[1].plaintext)).toBe(true);
    clock = 1000;
    expect((await open(2)).equals(made[1].plaintext)).toBe(true); // expired: opened again, the old copy wiped
    expect(inner.opened[1].equals(zero)).toBe(true);
    expect(inner.decrypts).toBe(3);
  });

  it('reads its bounds from the environment', () => {
    expect(keyCacheFromEnv({})).toEqual({ expiryMs: 300_000, maxEntries: 10_000 });
    expect(keyCacheFromEnv({ CAIRN_KMS_CACHE_EXPIRY: '0', CAIRN_KMS_CACHE_MAX_KEYS: '5' })).toEqual({
      expiryMs: 0,
      maxEntries: 5,
    });
    expect(() => keyCacheFromEnv({ CAIRN_KMS_CACHE_EXPIRY: '5m' })).toThrow(/whole number/);
    expect(() => keyCacheFromEnv({ CAIRN_KMS_CACHE_MAX_KEYS: '-1' })).toThrow(/whole number/);
  });
});
