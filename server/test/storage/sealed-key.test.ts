// replaceSealedKey (a KMS key rotation's re-wrap): the version's sealed data key is replaced under the object's
// lock only while it is still the one the caller read, and only the metadata is rewritten: the shard files keep
// their bytes and modification times. The whole flow against OpenBao is in test/python/test_sse_kms.py.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ErasureObjects, StoredEncryption } from '../../src/storage/index.js';
import { body, data, drives, open } from './helpers.js';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});

async function sealedObject(): Promise<{ s: ErasureObjects; paths: string[]; enc: StoredEncryption }> {
  const d = await drives(4);
  const s = await open(d.paths);
  cleanups.push(async () => {
    await s.close();
    await d.cleanup();
  });
  await s.makeBucket('bkt');
  const enc: StoredEncryption = {
    scheme: 'SSE-KMS',
    cipher: 'AES-256-GCM',
    objectId: Buffer.alloc(16, 7),
    sealedKey: Buffer.from('vault:v1:old'),
    kmsKeyId: 'k',
  };
  const buf = data(600_000); // shard files of their own, not inline
  await s.putObject('bkt', 'obj', body(buf), {
    size: buf.length,
    sealed: { encryption: enc, digests: () => ({ etag: 'ab'.repeat(16) }) },
  });
  return { s, paths: d.paths, enc };
}

/** Each drive's shard files of the object: bytes and mtime. */
async function shards(paths: string[]): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const out: string[] = [];
  for (const p of paths) {
    const dir = join(p, 'bkt', 'obj.o');
    for (const e of await readdir(dir, { recursive: true })) {
      if (!String(e).includes('part.')) continue;
      const f = join(dir, String(e));
      out.push(`${f} ${(await stat(f)).mtimeMs} ${(await readFile(f)).toString('base64')}`);
    }
  }
  return out;
}

describe('replaceSealedKey', () => {
  it('replaces the sealed key of the version read, metadata only', async () => {
    const { s, paths, enc } = await sealedObject();
    const before = await s.headObject('bkt', 'obj');
    const files = await shards(paths);
    expect(files.length).toBe(4);
    const to = Buffer.from('vault:v2:new');
    expect(await s.replaceSealedKey('bkt', 'obj', before.versionId, enc.sealedKey, to)).toBe(true);
    const after = await s.headObject('bkt', 'obj');
    expect(after.encryption?.sealedKey.equals(to)).toBe(true);
    expect({ ...after.encryption, sealedKey: undefined }).toEqual({ ...enc, sealedKey: undefined });
    expect([after.versionId, after.etag, after.size, after.lastModified]).toEqual([
      before.versionId,
      before.etag,
      before.size,
      before.lastModified,
    ]);
    expect(await shards(paths)).toEqual(files);
  });

  it('leaves a version whose sealed key is no longer the one read, and says so', async () => {
    const { s, enc } = await sealedObject();
    const { versionId } = await s.headObject('bkt', 'obj');
    expect(await s.replaceSealedKey('bkt', 'obj', versionId, Buffer.from('vault:v1:other'), Buffer.from('x'))).toBe(
      false,
    );
    expect((await s.headObject('bkt', 'obj')).encryption?.sealedKey.equals(enc.sealedKey)).toBe(true);
    await expect(
      s.replaceSealedKey('bkt', 'obj', 'no-such-version', enc.sealedKey, Buffer.from('x')),
    ).rejects.toMatchObject({
      code: 'NoSuchVersion',
    });
  });
});
