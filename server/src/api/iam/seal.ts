// Keys derived from the root credentials, and AES-256-GCM sealing with them: the secrets IAM stores on the
// drives (access keys' secrets, service accounts' secrets), remote tiers' secrets (api/tier), the server
// configuration (api/admin/config) and the STS session tokens, which carry their temporary secret inside, sealed
// so that only this deployment's server can open them and no one can forge or alter one. Each use has its own key (HKDF with a distinct label), so a
// sealed secret is never a token.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export type SealPurpose = 'iam-secrets' | 'sts-tokens' | 'tier-secrets' | 'replication-secrets' | 'config';

const NONCE = 12;
const TAG = 16;

export class Sealer {
  private readonly keys = new Map<SealPurpose, Buffer>();

  /**
   * Keys derive from the root user's access key and secret and from the deployment's id: changing the root
   * credentials makes what was sealed unreadable, and another deployment (even with the same root
   * credentials) cannot open this one's tokens.
   */
  constructor(rootAccessKey: string, rootSecret: string, deploymentId: string) {
    const ikm = Buffer.from(`${rootAccessKey}\0${rootSecret}`, 'utf8');
    const salt = `cairn-root-credentials\0${deploymentId}`;
    for (const purpose of ['iam-secrets', 'sts-tokens', 'tier-secrets', 'replication-secrets', 'config'] as const) {
      this.keys.set(purpose, Buffer.from(hkdfSync('sha256', ikm, salt, `cairn ${purpose} v1`, 32)));
    }
  }

  /** nonce | ciphertext | tag. `label` is authenticated with it (a value sealed for one place opens only there). */
  seal(purpose: SealPurpose, plain: Buffer, label: string): Buffer {
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', this.keys.get(purpose)!, nonce);
    c.setAAD(Buffer.from(label, 'utf8'));
    return Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]);
  }

  /** The plaintext, or undefined when the box was altered, sealed with another key or for another label. */
  open(purpose: SealPurpose, box: Buffer, label: string): Buffer | undefined {
    if (box.length < NONCE + TAG) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', this.keys.get(purpose)!, box.subarray(0, NONCE));
      d.setAAD(Buffer.from(label, 'utf8'));
      d.setAuthTag(box.subarray(box.length - TAG));
      return Buffer.concat([d.update(box.subarray(NONCE, box.length - TAG)), d.final()]);
    } catch {
      return undefined;
    }
  }
}
