// Streaming S3 checksums of a body. CRC32, SHA-1 and SHA-256 come from Node's built-ins (native code);
// CRC32C and CRC64NVME from @cairn/native's streaming hasher. (Bodies get theirs from the fused upload pass;
// this is for checksums of checksums: composite multipart values.)
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import * as native from '@cairn/native';
import { S3Error } from '../../errors.js';
import type { ChecksumAlgorithm } from '../object-layer.js';

export interface Hasher {
  update(b: Buffer): void;
  digest(): Buffer;
}

export function checksumHasher(algo: ChecksumAlgorithm): Hasher {
  switch (algo) {
    case 'CRC32': {
      let v = 0;
      return {
        update: (b) => void (v = crc32(b, v)),
        digest: () => {
          const out = Buffer.allocUnsafe(4);
          out.writeUInt32BE(v >>> 0);
          return out;
        },
      };
    }
    case 'SHA1':
    case 'SHA256': {
      const h = createHash(algo === 'SHA1' ? 'sha1' : 'sha256');
      return { update: (b) => void h.update(b), digest: () => h.digest() };
    }
    case 'CRC32C':
    case 'CRC64NVME': {
      const h = new native.Hasher(algo);
      return { update: (b) => h.update(b), digest: () => h.digest() };
    }
    default:
      throw new S3Error('InvalidArgument', `Unknown checksum algorithm ${String(algo)}.`);
  }
}
