// A KMS backed by the transit engine of HashiCorp Vault or OpenBao (same HTTP API). Data keys are made by
// transit (datakey/plaintext) and opened by it (decrypt): Cairn stores only transit's ciphertext
// ("vault:vN:..."), and the plaintext key lives in memory for one request. The key's context (object id,
// SSE-KMS encryption context) is transit's associated data, so a sealed key opens only for its own object.
// Plaintext data keys cross the API in base64 inside JSON: they are read out of (and written into) the raw
// bodies as bytes, never as JS strings, and the raw bodies are overwritten once used (secret-json.ts).
// Configuration in MinIO's former names (MINIO_KMS_VAULT_*) with the CAIRN_ prefix, see vaultConfigFromEnv.
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from '../../node-http.js';
import { request as httpsRequest } from 'node:https';
import { S3Error } from '../../errors.js';
import type { Kms } from './kms.js';
import { isMasked, jsonWithSecret, takeSecretField } from './secret-json.js';

export interface VaultConfig {
  /** http(s)://host:port of the Vault/OpenBao server. */
  endpoint: string;
  /** A token (CAIRN_KMS_VAULT_TOKEN), or an AppRole to log in with (CAIRN_KMS_VAULT_APPROLE_ID/_SECRET). */
  token?: string;
  appRole?: { id: string; secret: string };
  /** Where the transit engine is mounted (CAIRN_KMS_VAULT_TRANSIT_MOUNT, default `transit`). */
  transitMount: string;
  /** The key new objects are sealed with unless a request names another (CAIRN_KMS_VAULT_KEY_NAME). */
  keyName: string;
  /** Vault Enterprise / OpenBao namespace (CAIRN_KMS_VAULT_NAMESPACE). */
  namespace?: string;
  /** PEM CA certificates trusted for an https endpoint (CAIRN_KMS_VAULT_CAPATH, a file). */
  ca?: Buffer;
  /** Per request to the KMS; default 10 s. */
  timeoutMs?: number;
}

/** The Vault KMS configuration from the environment, or undefined when CAIRN_KMS_VAULT_ENDPOINT is unset. */
export function vaultConfigFromEnv(env: NodeJS.ProcessEnv): VaultConfig | undefined {
  const endpoint = env.CAIRN_KMS_VAULT_ENDPOINT;
  if (!endpoint) return undefined;
  const keyName = env.CAIRN_KMS_VAULT_KEY_NAME ?? '';
  const roleId = env.CAIRN_KMS_VAULT_APPROLE_ID;
  const roleSecret = env.CAIRN_KMS_VAULT_APPROLE_SECRET;
  const config: VaultConfig = {
    endpoint,
    token: env.CAIRN_KMS_VAULT_TOKEN,
    appRole: roleId || roleSecret ? { id: roleId ?? '', secret: roleSecret ?? '' } : undefined,
    transitMount: env.CAIRN_KMS_VAULT_TRANSIT_MOUNT || 'transit',
    keyName,
    namespace: env.CAIRN_KMS_VAULT_NAMESPACE || undefined,
    ca: env.CAIRN_KMS_VAULT_CAPATH ? readFileSync(env.CAIRN_KMS_VAULT_CAPATH) : undefined,
  };
  checkVaultConfig(config);
  return config;
}

function checkVaultConfig(c: VaultConfig): void {
  let url: URL;
  try {
    url = new URL(c.endpoint);
  } catch {
    throw new Error(`CAIRN_KMS_VAULT_ENDPOINT is not a URL: ${c.endpoint}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error('CAIRN_KMS_VAULT_ENDPOINT must be an http:// or https:// URL');
  }
  if (!validKeyName(c.keyName))
    throw new Error('CAIRN_KMS_VAULT_KEY_NAME must name the transit key (A-Z a-z 0-9 _ - .)');
  if (!validKeyName(c.transitMount.replaceAll('/', '-')))
    throw new Error('CAIRN_KMS_VAULT_TRANSIT_MOUNT is not a path');
  if (c.token && c.appRole) throw new Error('CAIRN_KMS_VAULT_TOKEN and CAIRN_KMS_VAULT_APPROLE_* are exclusive');
  if (!c.token && !(c.appRole?.id && c.appRole.secret)) {
    throw new Error('the Vault KMS needs CAIRN_KMS_VAULT_TOKEN or CAIRN_KMS_VAULT_APPROLE_ID and _SECRET');
  }
}

/** Transit key names as they may appear in a URL path: no separators, no dot segments, bounded. */
function validKeyName(name: string): boolean {
  return name.length > 0 && name.length <= 128 && /^[A-Za-z0-9_.-]+$/.test(name) && !/^\.+$/.test(name);
}

interface VaultAnswer {
  status: number;
  /** The field named by the call's `secretField`, decoded from base64 (body holds `*`s in its place). */
  secret?: Buffer;
  body: {
    data?: Record<string, unknown>;
    auth?: { client_token?: string; lease_duration?: number };
    errors?: string[];
  };
}

const MAX_ANSWER = 1 << 20;

/**
 * The KMS outage every failure to get an answer from Vault becomes. The client learns only that; the cause
 * (which can name the KMS's address or its errors) goes to the server log as the error's `cause`.
 */
function unavailable(why: string): S3Error {
  const e = new S3Error('KMS.KMSInternalException', 'The KMS could not be used (the server log has the cause).');
  e.cause = why;
  return e;
}

export function vaultKms(config: VaultConfig): Kms {
  checkVaultConfig(config);
  const base = new URL(config.endpoint);
  const timeoutMs = config.timeoutMs ?? 10_000;
  let token = config.token;
  let tokenExpires = Number.POSITIVE_INFINITY;

  /**
   * One request to Vault. `payload`: an object sent as JSON, or a Buffer of JSON (holding a secret: its caller
   * wipes it); `secretField`: a field of the answer taken out as bytes (VaultAnswer.secret).
   */
  function call(
    method: string,
    path: string,
    payload: unknown,
    auth: string | undefined,
    secretField?: string,
  ): Promise<VaultAnswer> {
    const body = Buffer.isBuffer(payload)
      ? payload
      : payload === undefined
        ? Buffer.alloc(0)
        : Buffer.from(JSON.stringify(payload));
    const headers: Record<string, string | number> = { 'content-length': body.length };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (auth) headers['x-vault-token'] = auth;
    if (config.namespace) headers['x-vault-namespace'] = config.namespace;
    const url = new URL(`/v1/${path}`, base);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<VaultAnswer>((resolve, reject) => {
      const req = send(url, { method, headers, ca: config.ca, timeout: timeoutMs }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER) res.destroy(new Error('answer too large'));
          else chunks.push(c);
        });
        res.on('error', (e) => reject(unavailable(e.message)));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          for (const c of chunks) c.fill(0);
          const status = res.statusCode ?? 0;
          try {
            if (raw.length === 0) return resolve({ status, body: {} });
            if (!secretField) return resolve({ status, body: JSON.parse(raw.toString('utf8')) });
            const { secret, json } = takeSecretField(raw, secretField);
            resolve({ status, body: json as VaultAnswer['body'], secret });
          } catch {
            reject(unavailable(`unreadable answer (HTTP ${res.statusCode})`));
          } finally {
            raw.fill(0);
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (e) => reject(unavailable(e.message)));
      req.end(body);
    });
  }

  async function login(): Promise<string> {
    const role = config.appRole as { id: string; secret: string };
    const answer = await call('POST', 'auth/approle/login', { role_id: role.id, secret_id: role.secret }, undefined);
    const auth = answer.body.auth;
    if (answer.status !== 200 || !auth?.client_token) {
      throw unavailable(`AppRole login refused (HTTP ${answer.status}: ${answer.body.errors?.join('; ') ?? ''})`);
    }
    token = auth.client_token;
    // Renewed by logging in again a little before the lease ends (0: no expiry).
    const lease = auth.lease_duration ?? 0;
    tokenExpires = lease > 0 ? Date.now() + lease * 900 : Number.POSITIVE_INFINITY;
    return token;
  }

  /** A Vault call with the token; an AppRole token that expired or was revoked is replaced once. */
  async function authorized(
    method: string,
    path: string,
    payload: unknown,
    secretField?: string,
  ): Promise<VaultAnswer> {
    const fresh = config.appRole && (!token || Date.now() >= tokenExpires);
    const answer = await call(method, path, payload, fresh ? await login() : token, secretField);
    if (answer.status === 403 && config.appRole) {
      answer.secret?.fill(0);
      return call(method, path, payload, await login(), secretField);
    }
    return answer;
  }

  /** The data key transit gave back in `data.plaintext` (32 bytes), or a KMS error (nothing left unwiped). */
  function dataKeyOf(answer: VaultAnswer): Buffer {
    const key = answer.secret;
    if (key?.length === 32 && isMasked(answer.body.data?.plaintext)) return key;
    key?.fill(0);
    throw unavailable('malformed data key');
  }

  /** A transit call on `keyId` (POST `op/keyId`, or `keys/keyId` with `method`). */
  async function transit(
    op: string,
    keyId: string,
    payload: Record<string, unknown> | Buffer | undefined,
    method = 'POST',
    expected = [200],
    secretField?: string,
  ): Promise<VaultAnswer> {
    // The key id comes from a request header: only plain names reach the URL.
    if (!validKeyName(keyId)) throw new S3Error('KMS.NotFoundException', `Invalid keyId '${keyId}'.`);
    const answer = await authorized(method, `${config.transitMount}/${op}/${keyId}`, payload, secretField);
    if (expected.includes(answer.status)) return answer;
    answer.secret?.fill(0);
    const errors = answer.body.errors ?? [];
    // Transit answers 400 "encryption key not found" for a key that does not exist.
    if (errors.some((e) => e.includes('key not found'))) {
      throw new S3Error('KMS.NotFoundException', `Key '${keyId}' does not exist.`);
    }
    // Transit refuses ciphertexts of a key version below its min_decryption_version ("disallowed by policy").
    if (op === 'decrypt' && errors.some((e) => e.includes('disallowed by policy'))) {
      const why = `Key '${keyId}' no longer decrypts the version this object's data key was sealed with`;
      throw new S3Error(
        'KMS.DisabledException',
        `${why} (min_decryption_version); re-wrap with cairn admin kms rewrap.`,
      );
    }
    if (answer.status === 400 && op === 'decrypt') {
      throw new S3Error('XMinioObjectTampered', "The KMS could not unseal the object's key.");
    }
    throw unavailable(`${op} on key '${keyId}' failed (HTTP ${answer.status}: ${errors.join('; ')})`);
  }

  async function decrypt(keyId: string, sealed: Buffer, context: Buffer): Promise<Buffer> {
    const payload = { ciphertext: sealed.toString(), associated_data: context.toString('base64') };
    return dataKeyOf(await transit('decrypt', keyId, payload, 'POST', [200], 'plaintext'));
  }

  return {
    defaultKeyId: config.keyName,
    rotates: true,
    async generateKey(keyId, context) {
      const payload = { bits: 256, associated_data: context.toString('base64') };
      const answer = await transit('datakey/plaintext', keyId, payload, 'POST', [200], 'plaintext');
      const plaintext = dataKeyOf(answer);
      const ciphertext = String(answer.body.data?.ciphertext ?? '');
      if (!ciphertext.startsWith('vault:')) {
        plaintext.fill(0);
        throw unavailable('malformed data key');
      }
      return { plaintext, sealed: Buffer.from(ciphertext) };
    },
    decryptKey: decrypt,
    async status() {
      // sys/health answers without a token: 200 active, 429 standby, 472/473 performance/DR secondaries.
      const health = await call('GET', 'sys/health?standbyok=true', undefined, undefined).catch(() => undefined);
      const online = health !== undefined && health.status >= 200 && health.status < 500 && health.status !== 501;
      return {
        name: 'Vault',
        'default-key-id': config.keyName,
        endpoints: { [config.endpoint]: { state: online ? 'online' : 'offline' } },
      };
    },
    async createKey(keyId) {
      // Transit's create is an upsert: ask first, so an existing key is reported rather than "made" again.
      const read = await transit('keys', keyId, undefined, 'GET', [200, 404]);
      if (read.status === 200) throw new S3Error('KMS.AlreadyExistsException', `Key '${keyId}' already exists.`);
      await transit('keys', keyId, { type: 'aes256-gcm96' }, 'POST', [200, 204]);
    },
    async rewrapKey(keyId, sealed, context) {
      // Transit's own `rewrap` endpoint cannot be used: it takes no associated_data (OpenBao 2.7 and Vault pass
      // none to the decryption), and every data key here is bound to its object by associated data, so it
      // fails authentication. The same two steps are done here instead: the data key is opened (as any GET of
      // the object does) and sealed by the key's newest version with the same binding, then wiped.
      const plaintext = await decrypt(keyId, sealed, context);
      try {
        const payload = jsonWithSecret('plaintext', plaintext, { associated_data: context.toString('base64') });
        // Overwritten once the exchange is over (sent and answered, or failed; a retried login sends it again).
        const answer = await transit('encrypt', keyId, payload).finally(() => payload.fill(0));
        const ciphertext = String(answer.body.data?.ciphertext ?? '');
        if (!ciphertext.startsWith('vault:v')) throw unavailable('malformed ciphertext');
        return sealedVersion(ciphertext) === sealedVersion(sealed.toString()) ? undefined : Buffer.from(ciphertext);
      } finally {
        plaintext.fill(0);
      }
    },
  };
}

/** `vault:v3:...` -> `v3`: the transit key version that made a ciphertext. */
function sealedVersion(ciphertext: string): string {
  return ciphertext.split(':', 2)[1] ?? '';
}
