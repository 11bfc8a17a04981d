// The checksum constructor the AWS SDK's SigV4 signer expects (an HMAC when given a secret), on node:crypto.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

export class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | Uint8Array) {
    this.h = secret ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(data: string | Uint8Array): void {
    this.h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
}
