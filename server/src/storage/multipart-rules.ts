// S3's rules for multipart uploads, in one place for every ObjectLayer that keeps uploads itself (the erasure
// engine and the NAS gateway): which part numbers exist, which checksum types go with which algorithms, how
// CompleteMultipartUpload's list of parts is checked, and the ETag and checksum of the completed object.
import { createHash } from 'node:crypto';
import * as native from '@cairn/native';
import { S3Error } from '../errors.js';
import { checksumHasher } from './engine/checksum.js';
import type * as L from './object-layer.js';

/** Every part but the last is at least this large. */
export const MIN_PART = 5 * 1024 * 1024;
export const MAX_PARTS = 10000;

/** A part as the upload stored it; `size` is what the client sent (callers give the plain size of sealed parts). */
export interface StoredPart {
  number: number;
  etag: string;
  checksum?: string;
}

export function checkPartNumber(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARTS)
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive.');
}

/** CreateMultipartUpload: FULL_OBJECT checksums exist only for the CRCs (they can be combined, hashes cannot). */
export function checkChecksumChoice(algorithm: L.ChecksumAlgorithm | undefined, type: L.ChecksumType | undefined) {
  if (type === 'FULL_OBJECT' && algorithm && !algorithm.startsWith('CRC'))
    throw new S3Error(
      'InvalidRequest',
      `The FULL_OBJECT checksum type cannot be used with the ${algorithm} algorithm.`,
    );
}

/**
 * CompleteMultipartUpload's checks: at least one part, in ascending order, each one uploaded with the ETag
 * (and checksum, when both have one) the client names, every part but the last at least MIN_PART bytes
 * (`size` gives a part's size as the client sent it). Returns the stored parts in the client's order.
 */
export function chooseParts<P extends StoredPart>(
  chosen: L.CompletePart[],
  stored: Iterable<P>,
  size: (p: P) => number,
): P[] {
  if (chosen.length === 0) throw new S3Error('MalformedXML', 'You must specify at least one part.');
  const have = new Map([...stored].map((p) => [p.number, p]));
  const invalid = (n: number) => new S3Error('InvalidPart', undefined, { PartNumber: String(n) });
  const parts = chosen.map((c, i) => {
    if (i > 0 && c.number <= chosen[i - 1].number) throw new S3Error('InvalidPartOrder');
    const p = have.get(c.number);
    if (!p || p.etag !== c.etag.replace(/"/g, '').toLowerCase()) throw invalid(c.number);
    if (c.checksum && p.checksum && c.checksum !== p.checksum) throw invalid(c.number);
    return p;
  });
  parts.forEach((p, i) => {
    if (i < parts.length - 1 && size(p) < MIN_PART)
      throw new S3Error('EntityTooSmall', undefined, { PartNumber: String(p.number) });
  });
  return parts;
}

/** The completed object's ETag: MD5 of the parts' binary MD5s, then `-` and the number of parts. */
export function multipartEtag(parts: StoredPart[]): string {
  const md5s = createHash('md5');
  for (const p of parts) md5s.update(Buffer.from(p.etag, 'hex'));
  return `${md5s.digest('hex')}-${parts.length}`;
}

/**
 * The completed object's checksum from its parts' (none unless every part has one): FULL_OBJECT CRCs combined
 * natively with each part's plain size (no data read), COMPOSITE a checksum of the checksums, `-` and the count.
 */
export function multipartChecksum<P extends StoredPart>(
  algo: L.ChecksumAlgorithm | undefined,
  type: L.ChecksumType | undefined,
  parts: P[],
  size: (p: P) => number,
): L.StoredChecksum | undefined {
  if (!algo || !parts.every((p) => p.checksum)) return undefined;
  if (type === 'FULL_OBJECT') {
    let crc: Buffer = Buffer.from(parts[0].checksum!, 'base64');
    for (const p of parts.slice(1))
      crc = native.checksumCombine(algo as native.CrcAlgorithm, crc, Buffer.from(p.checksum!, 'base64'), size(p));
    return { algorithm: algo, type: 'FULL_OBJECT', value: crc.toString('base64') };
  }
  const h = checksumHasher(algo);
  for (const p of parts) h.update(Buffer.from(p.checksum!, 'base64'));
  return { algorithm: algo, type: 'COMPOSITE', value: `${h.digest().toString('base64')}-${parts.length}` };
}

/** x-amz-mp-object-size: the client's announced size must be the sum of the parts it chose. */
export function checkExpectedSize(actual: number, expected: number | undefined): void {
  if (expected !== undefined && actual !== expected) {
    const message = `The object would be ${actual} bytes, not the ${expected} of x-amz-mp-object-size.`;
    throw new S3Error('InvalidRequest', message);
  }
}
