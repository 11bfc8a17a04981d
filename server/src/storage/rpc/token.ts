// Tokens of the storage RPC, derived from the root credentials as MinIO's storage REST derives its JWTs: every
// node of a deployment holds the same root secret, so any node can mint a token the others accept, and a node
// with another secret is refused. A token is `<expiry ms>.<HMAC-SHA256 hex>` over the access key and the
// expiry, keyed by a key derived from the secret (the secret itself never travels); it lives TOKEN_TTL_MS.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface RootCredentials {
  accessKey: string;
  secretKey: string;
}

/** How long a token is accepted; clients mint a new one once half of it has passed. */
export const TOKEN_TTL_MS = 15 * 60 * 1000;
/** Clock difference between nodes tolerated on the expiry. */
const SKEW_MS = 60 * 1000;

function tokenKey(c: RootCredentials): Buffer {
  return createHmac('sha256', c.secretKey).update('cairn-storage-rpc-v1').digest();
}

function mac(key: Buffer, accessKey: string, expiry: number): Buffer {
  return createHmac('sha256', key).update(`${accessKey}\n${expiry}`).digest();
}

/** Mints tokens, the same one until half of its life has passed. */
export class TokenSource {
  private readonly key: Buffer;
  private current = '';
  private renewAt = 0;

  constructor(
    private readonly creds: RootCredentials,
    private readonly now: () => number = Date.now,
  ) {
    this.key = tokenKey(creds);
  }

  token(): string {
    const t = this.now();
    if (t >= this.renewAt) {
      const expiry = t + TOKEN_TTL_MS;
      this.current = `${expiry}.${mac(this.key, this.creds.accessKey, expiry).toString('hex')}`;
      this.renewAt = t + TOKEN_TTL_MS / 2;
    }
    return this.current;
  }
}

/** Checks tokens: the MAC (constant time) and an expiry neither past nor further than a token's life ahead. */
export class TokenCheck {
  private readonly key: Buffer;

  constructor(
    private readonly creds: RootCredentials,
    private readonly now: () => number = Date.now,
  ) {
    this.key = tokenKey(creds);
  }

  valid(token: string | undefined): boolean {
    if (!token || token.length > 100) return false;
    const dot = token.indexOf('.');
    const expiry = Number(token.slice(0, dot));
    const given = Buffer.from(token.slice(dot + 1), 'hex');
    if (dot < 1 || !Number.isSafeInteger(expiry) || given.length !== 32) return false;
    const t = this.now();
    if (expiry <= t || expiry > t + TOKEN_TTL_MS + SKEW_MS) return false;
    return timingSafeEqual(given, mac(this.key, this.creds.accessKey, expiry));
  }
}
