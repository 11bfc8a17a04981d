// ListObjects' `<Contents>` entries are written directly (list.ts contents, an XmlRaw) rather than built from an
// object by toXml: the bytes must be the ones the generic builder writes for the same fields, for keys that need
// escaping or URL encoding, with and without a checksum and an owner.
import { describe, expect, it } from 'vitest';
import { contents, encoder } from '../../src/api/list.js';
import { toXml, type XmlValue } from '../../src/api/xml.js';
import type { ObjectInfo } from '../../src/storage/object-layer.js';

const owner = { id: 'c0ffee&<id>', displayName: 'O\'Brien "ops"' };

/** The entry as list.ts built it before: an object for toXml. */
function generic(o: ObjectInfo, enc: (s: string) => string | undefined, withOwner: boolean): XmlValue {
  return {
    Key: enc(o.key),
    LastModified: o.lastModified,
    ETag: `"${o.etag}"`,
    ChecksumAlgorithm: o.checksum?.algorithm,
    ChecksumType: o.checksum?.type,
    Size: o.size,
    Owner: withOwner ? { ID: owner.id, DisplayName: owner.displayName } : undefined,
    StorageClass: o.storageClass,
  };
}

const objects = [
  { key: 'plain/key-1', size: 1 },
  { key: `a&b<c>"d'e\tf\ng\u0001h/é 日本`, size: 0 },
  { key: 'with checksum', size: 12345678901, checksum: { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: 'x' } },
].map(
  (o, i) =>
    ({
      ...o,
      etag: i === 1 ? 'abc-2' : '0cc175b9c0f1b6a831c399e269772661',
      lastModified: new Date(1_760_000_000_123 + i),
      storageClass: i === 2 ? 'REDUCED_REDUNDANCY' : 'STANDARD',
    }) as unknown as ObjectInfo,
);

describe('ListObjects Contents entries', () => {
  it.each([
    ['no encoding, no owner', undefined, false],
    ['encoding-type=url, owner', 'url', true],
    ['no encoding, owner', undefined, true],
  ] as const)('%s: the bytes toXml writes for the same fields', (_, type, withOwner) => {
    const enc = encoder(type);
    const direct = toXml('ListBucketResult', {
      Name: 'b',
      Contents: objects.map((o) => contents(o, enc, withOwner ? owner : undefined)),
    });
    const built = toXml('ListBucketResult', { Name: 'b', Contents: objects.map((o) => generic(o, enc, withOwner)) });
    expect(direct).toBe(built);
    expect(direct).toContain(
      type === 'url' ? 'a%26b%3Cc%3E%22d%27e%09f%0Ag%01h/%C3%A9%20' : '&amp;b&lt;c&gt;&quot;d&apos;e\tf&#xa;g&#x1;h',
    );
    expect(direct.includes('<Owner>')).toBe(withOwner);
  });
});
