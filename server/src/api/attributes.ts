// GetObjectAttributes: ETag, Checksum, ObjectParts, StorageClass, ObjectSize as asked by x-amz-object-attributes.
import { S3Error } from '../errors.js';
import { httpDate } from './object-headers.js';
import { readableVersion } from './object-read.js';
import { keysForRead, requestCustomerKey, wipeKey } from './sse/index.js';
import { xmlResponse, type ApiContext, type S3Request, type S3Response } from './types.js';
import { toXml, type XmlValue } from './xml.js';

const KNOWN = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']);

export async function getObjectAttributes(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<S3Response> {
  const wanted = new Set(
    String(req.headers['x-amz-object-attributes'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  if (wanted.size === 0)
    throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', {
      ArgumentName: 'x-amz-object-attributes',
    });
  for (const w of wanted)
    if (!KNOWN.has(w))
      throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', {
        ArgumentName: 'x-amz-object-attributes',
        ArgumentValue: w,
      });
  const info = await readableVersion(ctx, bucket, key, versionId, wanted.has('ObjectParts'));
  // An SSE-C object's attributes need its key, as its HEAD does (S3: 400 without it, the wrong one 403).
  if (info.encryption?.scheme === 'SSE-C' || requestCustomerKey(req, ctx.sse ?? {}))
    wipeKey(await keysForRead(req, ctx.sse ?? {}, info));
  const maxParts = Number(req.headers['x-amz-max-parts'] ?? 1000);
  const marker = Number(req.headers['x-amz-part-number-marker'] ?? 0);
  const body: Record<string, XmlValue> = {};
  if (wanted.has('ETag')) body.ETag = info.etag;
  if (wanted.has('Checksum') && info.checksum) {
    // GetObjectAttributes gives a composite multipart checksum without the `-N` part count HEAD/GET show.
    const value = info.checksum.value.replace(/-\d+$/, '');
    body.Checksum = { [`Checksum${info.checksum.algorithm}`]: value, ChecksumType: info.checksum.type };
  }
  if (wanted.has('ObjectParts') && info.parts && info.parts.length > 0) {
    const after = info.parts.filter((p) => p.number > marker);
    const page = after.slice(0, maxParts);
    body.ObjectParts = {
      PartsCount: info.parts.length,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.length ? page[page.length - 1].number : marker,
      MaxParts: maxParts,
      IsTruncated: after.length > page.length,
      Part: page.map((p) => ({
        PartNumber: p.number,
        Size: p.size,
        ...(p.checksum ? { [`Checksum${p.checksum.algorithm}`]: p.checksum.value } : {}),
      })),
    };
  }
  if (wanted.has('StorageClass')) body.StorageClass = info.storageClass;
  if (wanted.has('ObjectSize')) body.ObjectSize = info.size;
  const h: Record<string, string> = { 'last-modified': httpDate(info.lastModified) };
  if (info.versionId !== 'null') h['x-amz-version-id'] = info.versionId;
  return xmlResponse(toXml('GetObjectAttributesResponse', body), 200, h);
}
