// Object metadata as functions: where a key lives on a drive (key-path.ts), the metadata file's format
// (meta-file.ts) and the versions a set of drives agrees on (versions.ts). The storage tests prove the same
// rules through whole objects; these name each rule and its edges, and run in milliseconds.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Error } from '../../src/errors.js';
import { LocalDrive } from '../../src/storage/drive/local-drive.js';
import {
  compareKeys,
  escapeSegment,
  objectDir,
  parseEntry,
  prefixDir,
  unescapeSegment,
  validateKey,
} from '../../src/storage/meta/key-path.js';
import {
  CorruptMetaError,
  decodeMeta,
  encodeMeta,
  META_NAME,
  META_VERSION,
  type MetaFile,
  type VersionRecord,
} from '../../src/storage/meta/meta-file.js';
import {
  type DriveMeta,
  newerFirst,
  newVersionId,
  readDriveMeta,
  resolveVersions,
  toObjectInfo,
  versionKey,
} from '../../src/storage/meta/versions.js';

const codeOf = (f: () => unknown) => {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof S3Error ? e.code : String(e);
  }
};

describe('key paths', () => {
  it('each segment is a directory named with what it is: object, directory, continuation', () => {
    expect(objectDir('a')).toBe('a.o');
    expect(objectDir('a/b')).toBe('a.d/b.o');
    expect(objectDir('a/')).toBe('a.d/.o');
    expect(objectDir('..')).toBe('...o');
    expect(objectDir('//')).toBe('.d/.d/.o');
    expect(objectDir('x/../y')).toBe('x.d/...d/y.o');
  });

  it('escapes % and control characters only, as upper-case %XX, and reads them back', () => {
    expect(escapeSegment('a%b\u0000\u001f\u007f c/é')).toBe('a%25b%00%1F%7F c/é');
    expect(escapeSegment('\u0001\u0020\u007e')).toBe('%01 ~');
    for (const s of ['a%b\u0000\u001f\u007f c', 'plain', '%41', '100%', '\t\n']) {
      expect(unescapeSegment(escapeSegment(s)), JSON.stringify(s)).toBe(s);
    }
    // Only what escapeSegment writes is decoded: lower-case hex and a lone % stay as they are.
    expect(unescapeSegment('%2f%2F%')).toBe('%2f/%');
    expect(unescapeSegment('%41%7E')).toBe('A~');
  });

  it('a long segment is cut into chunks of at most 240 bytes, never inside %XX or a character', () => {
    const at = (n: number, fill = 'x') => objectDir(fill.repeat(n)).split('/');
    expect(at(240)).toEqual([`${'x'.repeat(240)}.o`]);
    expect(at(241)).toEqual([`${'x'.repeat(240)}.c`, 'x.o']);
    expect(at(481)).toEqual([`${'x'.repeat(240)}.c`, `${'x'.repeat(240)}.c`, 'x.o']);
    // Cut by bytes, not characters: 120 two-byte characters fit, 121 do not.
    expect(at(120, 'é')).toEqual([`${'é'.repeat(120)}.o`]);
    expect(at(121, 'é')).toEqual([`${'é'.repeat(120)}.c`, 'é.o']);
    // A four-byte character (two UTF-16 units) is never split.
    const rocket = at(61, '🚀');
    expect(rocket).toEqual([`${'🚀'.repeat(60)}.c`, '🚀.o']);
    // %XX counts three bytes and stays whole: 80 of them fill 240 bytes; after a 1-byte character only 79 fit.
    expect(at(80, '%')).toEqual([`${'%25'.repeat(80)}.o`]);
    expect(at(81, '%')).toEqual([`${'%25'.repeat(80)}.c`, '%25.o']);
    expect(objectDir(`y${'%'.repeat(80)}`).split('/')).toEqual([`y${'%25'.repeat(79)}.c`, '%25.o']);
    // A directory segment is cut the same way and ends as a directory.
    expect(objectDir(`${'d'.repeat(241)}/k`)).toBe(`${'d'.repeat(240)}.c/d.d/k.o`);
    for (const name of objectDir(`${'é'.repeat(500)}/${'%'.repeat(300)}`).split('/')) {
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(242);
    }
  });

  it('a prefix names the directory of its last / and the rest entries there must start with', () => {
    expect(prefixDir('')).toEqual({ dir: '', rest: '' });
    expect(prefixDir('ab')).toEqual({ dir: '', rest: 'ab' });
    expect(prefixDir('a/')).toEqual({ dir: 'a.d', rest: '' });
    expect(prefixDir('a/b/c')).toEqual({ dir: 'a.d/b.d', rest: 'c' });
    expect(prefixDir('/x')).toEqual({ dir: '.d', rest: 'x' });
    expect(prefixDir(`${'p'.repeat(241)}/q`)).toEqual({ dir: `${'p'.repeat(240)}.c/p.d`, rest: 'q' });
  });

  it('directory entries parse back to their kind and key text; names of the engine are none', () => {
    expect(parseEntry('a.o')).toEqual({ kind: 'obj', text: 'a' });
    expect(parseEntry('a.d')).toEqual({ kind: 'dir', text: 'a/' });
    expect(parseEntry('a.c')).toEqual({ kind: 'cont', text: 'a' });
    expect(parseEntry('.o')).toEqual({ kind: 'obj', text: '' });
    expect(parseEntry('%25%00.o')).toEqual({ kind: 'obj', text: '%\u0000' });
    for (const name of ['meta', '_idx', 'o', '', 'a.x', 'a.O', 'ao', 'a..']) expect(parseEntry(name), name).toBeNull();
  });

  it('keys are compared in UTF-8 byte order', () => {
    const keys = [
      '',
      'a',
      'ab',
      'b',
      '\u007f',
      'é',
      '\ud7ff',
      '\ue000',
      '\uffff',
      '\u{10000}',
      '\u{1F600}',
      'a\u{1F600}',
    ];
    const utf8 = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...keys].reverse().sort(compareKeys)).toEqual(utf8);
    for (const a of keys) {
      for (const b of keys) {
        expect(Math.sign(compareKeys(a, b)), `${a} ${b}`).toBe(Buffer.compare(Buffer.from(a), Buffer.from(b)));
      }
    }
  });

  it('a key is 1 to 1024 bytes of valid UTF-8', () => {
    expect(codeOf(() => validateKey('k'))).toBeUndefined();
    expect(codeOf(() => validateKey('k'.repeat(1024)))).toBeUndefined();
    expect(codeOf(() => validateKey('é'.repeat(512)))).toBeUndefined();
    expect(codeOf(() => validateKey(''))).toBe('InvalidArgument');
    expect(codeOf(() => validateKey('k'.repeat(1025)))).toBe('KeyTooLongError');
    expect(codeOf(() => validateKey(`${'é'.repeat(512)}k`))).toBe('KeyTooLongError');
    expect(codeOf(() => validateKey('a\ud800b'))).toBe('InvalidArgument');
    expect(codeOf(() => validateKey('\udc00'))).toBe('InvalidArgument');
  });
});

const version = (over: Partial<VersionRecord> = {}): VersionRecord => ({
  id: 'null',
  uid: 'u1',
  type: 'object',
  mtime: 1_700_000_000_000,
  size: 3,
  etag: 'abc',
  storageClass: 'STANDARD',
  contentHeaders: { 'content-type': 'text/plain' },
  userMetadata: { a: '1' },
  parts: [{ number: 1, size: 3, etag: 'abc', mtime: 1_700_000_000_000 }],
  ...over,
});

describe('metadata file', () => {
  const meta = {
    versions: [
      version({ inline: [Buffer.from('shard')] }),
      version({ id: 'v2', type: 'delete' }),
      // Format 6: the replication status at each target beside the overall one.
      version({
        id: 'v3',
        replication: 'PENDING',
        replicationTargets: {
          'arn:minio:replication::b:fan-b': { status: 'COMPLETED' },
          'arn:minio:replication::c:fan-c': { status: 'FAILED', change: 'Zm9vYmFy' },
        },
      }),
    ],
  };

  it('round-trips every field, inline shards as bytes', () => {
    const back = decodeMeta(encodeMeta(meta));
    expect(back).toEqual(meta);
    expect(Buffer.isBuffer(back.versions[0].inline?.[0])).toBe(true);
  });

  it('the format on the drives does not drift: a version 1 file decodes, encoding gives its body back', () => {
    // A file as this format writes it (msgpack maps of plain objects, no record extension, smallest map sizes).
    const onDisk = Buffer.from(
      '43524e4d0001000000b081a876657273696f6e73918ba26964a27631a3756964a175a474797065a66f626a656374a56d74696d' +
        '65cd03e8a473697a6503a465746167a165ac73746f72616765436c617373a85354414e44415244ae636f6e74656e74486561' +
        '646572738' +
        '1ac636f6e74656e742d74797065a174ac757365724d6574616461746180a6696e6c696e6591c403616263a570617274739184' +
        'a66e756d62657201a473697a6503a465746167a165a56d74696d65cd03e8de27b017',
      'hex',
    );
    const file: MetaFile = {
      versions: [
        {
          id: 'v1',
          uid: 'u',
          type: 'object',
          mtime: 1000,
          size: 3,
          etag: 'e',
          storageClass: 'STANDARD',
          contentHeaders: { 'content-type': 't' },
          userMetadata: {},
          inline: [Buffer.from('abc')],
          parts: [{ number: 1, size: 3, etag: 'e', mtime: 1000 }],
        },
      ],
    };
    // Written by format version 1: still read as it is.
    expect(decodeMeta(onDisk)).toStrictEqual(file);
    // Written today: the same body under the current format version, sealed by its CRC.
    const today = Buffer.from(onDisk);
    today.writeUInt16BE(META_VERSION, 4);
    today.writeUInt32BE(crc32(today.subarray(0, today.length - 4)), today.length - 4);
    expect(encodeMeta(file).toString('hex')).toBe(today.toString('hex'));
  });

  it('starts with CRNM, the format version and the body length; ends with the CRC32 of the rest', () => {
    const buf = encodeMeta(meta);
    expect(buf.subarray(0, 4).toString('latin1')).toBe('CRNM');
    expect(buf.readUInt16BE(4)).toBe(META_VERSION);
    expect(buf.readUInt32BE(6)).toBe(buf.length - 14);
  });

  it('any damage is CorruptMetaError: magic, length, a flipped bit anywhere, the version, the body', () => {
    const good = encodeMeta(meta);
    const corrupt = (buf: Buffer) => {
      try {
        decodeMeta(buf);
        return 'decoded';
      } catch (e) {
        return e instanceof CorruptMetaError ? 'corrupt' : String(e);
      }
    };
    for (let i = 0; i < good.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Buffer.from(good);
        bad[i] ^= bit;
        expect(corrupt(bad), `byte ${i} bit ${bit}`).toBe('corrupt');
      }
    }
    for (const n of [0, 4, 13, 14, good.length - 1]) expect(corrupt(good.subarray(0, n)), `${n} bytes`).toBe('corrupt');
    expect(corrupt(Buffer.concat([good, Buffer.alloc(1)]))).toBe('corrupt');
    // A well-formed file of another format version, or whose body is not a list of versions.
    const sealed = (version: number, body: Buffer) => {
      const out = Buffer.alloc(14 + body.length);
      out.write('CRNM', 0, 'latin1');
      out.writeUInt16BE(version, 4);
      out.writeUInt32BE(body.length, 6);
      body.copy(out, 10);
      const crc = crc32(out.subarray(0, 10 + body.length));
      out.writeUInt32BE(crc, 10 + body.length);
      return out;
    };
    const body = good.subarray(10, good.length - 4);
    expect(corrupt(sealed(META_VERSION, body))).toBe('decoded');
    const otherMagic = sealed(META_VERSION, body);
    otherMagic.write('CRNX', 0, 'latin1');
    otherMagic.writeUInt32BE(crc32(otherMagic.subarray(0, otherMagic.length - 4)), otherMagic.length - 4);
    expect(corrupt(otherMagic)).toBe('corrupt');
    expect(corrupt(sealed(META_VERSION + 1, body))).toBe('corrupt');
    expect(corrupt(sealed(1, body))).toBe('decoded');
    expect(corrupt(sealed(0, body))).toBe('corrupt');
    const other = encodeMeta({ versions: 'none' } as never).subarray(10, -4);
    expect(corrupt(sealed(META_VERSION, other))).toBe('corrupt');
    const nil = Buffer.from([0xc0]); // msgpack nil
    expect(corrupt(sealed(META_VERSION, nil))).toBe('corrupt');
  });
});

describe('versions agreed by the drives', () => {
  const ok = (...versions: VersionRecord[]): DriveMeta => ({ state: 'ok', meta: { versions } });
  const missing: DriveMeta = { state: 'missing', meta: null };
  const offline: DriveMeta = { state: 'offline', meta: null };
  const corrupt: DriveMeta = { state: 'corrupt', meta: null };
  const older = version({ id: 'v1', uid: 'a', mtime: 1000 });
  const newer = version({ id: 'v2', uid: 'b', mtime: 2000 });

  it('a version counts when as many drives hold it as its erasure code has data shards', () => {
    const ec = { data: 3, parity: 1, blockSize: 1 << 20, dist: [1, 2, 3, 4], bitrot: 'highwayhash256' as const };
    const three = version({ id: 'v3', uid: 'c', mtime: 3000, ec });
    const r = resolveVersions([ok(older, three), ok(older, three), ok(three), missing], 2);
    expect(r.versions.map((v) => v.id)).toEqual(['v3', 'v1']);
    expect(r.holders.get(versionKey(three))).toEqual([0, 1, 2]);
    expect(r.holders.get(versionKey(older))).toEqual([0, 1]);
    // On two drives only, the 3+1 version is below its quorum; the one without ec uses the default (2).
    const two = resolveVersions([ok(older, three), ok(older, three), missing, missing], 2);
    expect(two.versions.map((v) => v.id)).toEqual(['v1']);
    expect(resolveVersions([ok(older), missing, missing, missing], 2).versions).toEqual([]);
  });

  it('counts the drives that answered: holding it or not, but not offline or corrupt ones', () => {
    expect(resolveVersions([ok(older), missing, offline, corrupt], 1).answered).toBe(2);
    expect(resolveVersions([offline, corrupt], 1)).toEqual({ versions: [], holders: new Map(), answered: 0 });
  });

  it('newest first; the same instant orders by id, descending; the first drive holding a version gives it', () => {
    const tie = version({ id: 'v9', uid: 'z', mtime: 2000 });
    const r = resolveVersions([ok(older, newer, tie), ok(older, newer, tie)], 1);
    expect(r.versions.map((v) => v.id)).toEqual(['v9', 'v2', 'v1']);
    expect(newerFirst(newer, older)).toBeLessThan(0);
    expect(newerFirst(older, newer)).toBeGreaterThan(0);
    expect(newerFirst(tie, newer)).toBeLessThan(0);
    expect(newerFirst(newer, tie)).toBeGreaterThan(0);
    expect(newerFirst(newer, { ...newer })).toBe(0);
    const renamed = { ...older, userMetadata: { b: '2' } };
    expect(resolveVersions([ok(renamed), ok(older)], 2).versions[0].userMetadata).toEqual({ b: '2' });
  });

  it('new version ids are random UUIDs', () => {
    const ids = Array.from({ length: 100 }, newVersionId);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(100);
  });

  it('a version is the same across drives only with the same id, time, type and write', () => {
    const copies = [older, { ...older, id: 'v0' }, { ...older, mtime: 1 }, { ...older, type: 'delete' as const }];
    const keys = new Set([...copies, { ...older, uid: 'other' }].map(versionKey));
    expect(keys.size).toBe(5);
    expect(versionKey({ ...older, size: 99, userMetadata: {} })).toBe(versionKey(older));
  });

  it('object info: a copy of the headers and metadata, parts listed for multipart objects only', () => {
    const single = toObjectInfo('b', 'k', older, true);
    expect(single).toStrictEqual({
      bucket: 'b',
      key: 'k',
      versionId: 'v1',
      isLatest: true,
      deleteMarker: false,
      size: 3,
      etag: 'abc',
      lastModified: new Date(1000),
      storageClass: 'STANDARD',
      contentHeaders: { 'content-type': 'text/plain' },
      userMetadata: { a: '1' },
    });
    single.userMetadata.a = 'changed';
    expect(older.userMetadata.a).toBe('1');
    single.contentHeaders['content-type'] = 'changed';
    expect(older.contentHeaders['content-type']).toBe('text/plain');
    expect(toObjectInfo('b', 'k', { ...older, type: 'delete' }, false)).toMatchObject({
      deleteMarker: true,
      isLatest: false,
    });
    const checksum = { type: 'COMPOSITE', algorithm: 'CRC32', value: 'AAAAAA==' } as never;
    expect(toObjectInfo('b', 'k', { ...older, tagging: 'a=1', checksum }, true)).toMatchObject({
      tagging: 'a=1',
      checksum,
    });
    // One part with a multipart ETag (a one-part upload) or several parts: the parts are listed.
    const parts = [
      { number: 1, size: 5, etag: 'e1', mtime: 10, checksum },
      { number: 2, size: 1, etag: 'e2', mtime: 20 },
    ];
    expect(toObjectInfo('b', 'k', { ...older, etag: 'abc-2', parts }, true).parts).toEqual([
      { number: 1, size: 5, etag: 'e1', lastModified: new Date(10), checksum },
      { number: 2, size: 1, etag: 'e2', lastModified: new Date(20) },
    ]);
    expect(toObjectInfo('b', 'k', { ...older, etag: 'abc-1', parts: parts.slice(1) }, true).parts).toHaveLength(1);
    expect(toObjectInfo('b', 'k', { ...older, etag: 'abc-12', parts: parts.slice(1) }, true).parts).toHaveLength(1);
    expect(toObjectInfo('b', 'k', { ...older, etag: 'abc', parts }, true).parts).toHaveLength(2);
    expect(toObjectInfo('b', 'k', { ...older, etag: 'abc-', parts: parts.slice(1) }, true).parts).toBeUndefined();
    expect(toObjectInfo('b', 'k', { ...older, etag: 'a-1b', parts: parts.slice(1) }, true).parts).toBeUndefined();
  });

  describe('one drive', () => {
    let root: string;
    let drive: LocalDrive;
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'cairn-meta-'));
      drive = new LocalDrive(root);
      await mkdir(join(root, 'good'), { recursive: true });
      await writeFile(join(root, 'good', META_NAME), encodeMeta({ versions: [older] }));
      await mkdir(join(root, 'bad'), { recursive: true });
      await writeFile(join(root, 'bad', META_NAME), Buffer.from('not a metadata file'));
      await writeFile(join(root, 'file'), 'a file where a directory should be');
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('reports ok, missing (also under a file), corrupt, or offline (no drive, or an error reading)', async () => {
      expect(await readDriveMeta(drive, 'good')).toEqual({ state: 'ok', meta: { versions: [older] } });
      expect(await readDriveMeta(drive, 'none')).toEqual({ state: 'missing', meta: null });
      expect(await readDriveMeta(drive, 'bad')).toEqual({ state: 'corrupt', meta: null });
      expect(await readDriveMeta(null, 'good')).toEqual({ state: 'offline', meta: null });
      expect(await readDriveMeta(new LocalDrive(join(root, 'file')), 'good')).toEqual({ state: 'missing', meta: null });
      expect(await readDriveMeta(drive, 'n'.repeat(300))).toEqual({ state: 'offline', meta: null });
    });
  });
});
