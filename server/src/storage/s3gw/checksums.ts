// Checksums the S3 gateway has its backend store, so that GET and HEAD with ChecksumMode answer them: a PUT's
// or a part's checksum (as a header when the client declared it in one, else as an aws-chunked trailer the SDK
// computes on the way, with Cairn's native hashers: backend.ts), and the parts' checksums a completion names.
import { multipartChecksum } from '../multipart-rules.js';
import type * as L from '../object-layer.js';
import type { Sdk } from './backend.js';

/**
 * The checksum fields of a PutObject or UploadPart. The body's last chunk, and so a trailer, goes only once the
 * gateway's own check of the client's value passed (convert.ts VerifyingBody).
 */
export function checksumFields(opts: Pick<L.PutOptions, 'checksumAlgorithm' | 'checksumDeclared'>) {
  const alg = opts.checksumAlgorithm;
  if (!alg) return {};
  if (opts.checksumDeclared !== undefined) return { [`Checksum${alg}`]: opts.checksumDeclared };
  return { ChecksumAlgorithm: alg };
}

type Call = <T>(cmd: object, notFound?: 'NoSuchUpload') => Promise<T>;
type Listed = { PartNumber?: number; Size?: number } & Record<string, unknown>;

/**
 * Before the backend's Complete: the parts' checksums it wants (an upload started with an algorithm through this
 * process; the backend's own where the client's list leaves one out), and the client's whole-object checksum
 * checked against the one these parts give (multipart-rules.ts), so a mismatch completes nothing. An upload
 * without an algorithm has no checksum: a completion asking for one is refused by `verify`.
 */
export async function completionChecksums(
  call: Call,
  sdk: Sdk,
  upload: L.MultipartUploadInfo | undefined,
  wanted: L.CompletePart[],
  verify: ((c: L.StoredChecksum | undefined) => void) | undefined,
): Promise<((p: L.CompletePart) => Record<string, string>) | undefined> {
  const algorithm = upload?.checksumAlgorithm;
  if (!upload || !algorithm) {
    verify?.(undefined);
    return undefined;
  }
  const listed = new Map<number, { checksum?: string; size: number }>();
  if (verify || wanted.some((p) => p.checksum === undefined)) {
    let marker: string | undefined;
    for (;;) {
      const page = await call<{ Parts?: Listed[]; IsTruncated?: boolean; NextPartNumberMarker?: string }>(
        new sdk.ListPartsCommand({
          Bucket: upload.bucket,
          Key: upload.key,
          UploadId: upload.uploadId,
          PartNumberMarker: marker,
        }),
        'NoSuchUpload',
      );
      for (const p of page.Parts ?? []) {
        const value = p[`Checksum${algorithm}`];
        listed.set(p.PartNumber ?? 0, { checksum: typeof value === 'string' ? value : undefined, size: p.Size ?? 0 });
      }
      if (!page.IsTruncated || !page.NextPartNumberMarker) break;
      marker = page.NextPartNumberMarker;
    }
  }
  const sum = (p: L.CompletePart) => p.checksum ?? listed.get(p.number)?.checksum;
  if (verify) {
    const parts = wanted.map((p) => ({ ...p, checksum: sum(p) }));
    verify(multipartChecksum(algorithm, upload.checksumType, parts, (p) => listed.get(p.number)?.size ?? 0));
  }
  return (p) => {
    const value = sum(p);
    return value === undefined ? {} : { [`Checksum${algorithm}`]: value };
  };
}
