// TLS certificates in MinIO's layout, reloaded without a restart:
//   DIR/public.crt + DIR/private.key      the default certificate (chain in public.crt, leaf first)
//   DIR/<any name>/public.crt + private.key   more certificates, chosen by the client's SNI name against
//                                          each certificate's subject alternative names (as MinIO does)
//   DIR/CAs/*                              trusted roots for connections Cairn makes (KMS, other nodes); with
//                                          requirePeerCertificates (mutual TLS between the nodes, cluster/node.ts)
//                                          also the roots a connecting node's certificate must chain to
// RSA and ECDSA keys both work (node:tls and rustls take either); only TLS 1.2 and 1.3 are offered.
// Who does the S3 listener's TLS (CAIRN_TLS_ENGINE): `node` (node:tls, OpenSSL) or `rustls` (the addon's rustls,
// http/rustls-socket.ts: records sealed at ring's speed). The console's listener always uses node:tls.
import { TlsServerConfig } from '@cairn/native';
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  createSecureContext,
  type SecureContext,
  type SecureContextOptions,
  type Server,
  type TLSSocket,
} from 'node:tls';

export const DEFAULT_CERTS_DIR = join(homedir(), '.cairn', 'certs');
export const MIN_TLS_VERSION = 'TLSv1.2';
const CERT_FILE = 'public.crt';

/** A connection's TLS version as AWS's s3:TlsVersion writes it (`1.2`, `1.3`); undefined over plain HTTP. */
export function tlsVersionOf(socket: Socket): string | undefined {
  const tls = socket as TLSSocket;
  if (tls.encrypted !== true) return undefined;
  const protocol = tls.getProtocol();
  return protocol?.startsWith('TLSv') ? protocol.slice('TLSv'.length) : undefined;
}

/** Who does the S3 listener's TLS. */
export type TlsEngine = 'node' | 'rustls';
export const TLS_ENGINES: readonly TlsEngine[] = ['node', 'rustls'];

/** CAIRN_TLS_ENGINE: `node` when unset; any other value than the engines' names is refused. */
export function tlsEngineFromEnv(env: NodeJS.ProcessEnv = process.env): TlsEngine {
  const v = env.CAIRN_TLS_ENGINE;
  if (v === undefined || v === '') return 'node';
  if (!(TLS_ENGINES as readonly string[]).includes(v))
    throw new Error(`CAIRN_TLS_ENGINE must be one of ${TLS_ENGINES.join(', ')}, not ${JSON.stringify(v)}`);
  return v as TlsEngine;
}

const KEY_FILE = 'private.key';
const CAS_DIR = 'CAs';
/** Editors and `cp` write a file in several steps; one reload after the burst, not one per event. */
const RELOAD_SETTLE_MS = 200;

interface Certificate {
  options: SecureContextOptions;
  context: SecureContext;
  leaf: X509Certificate;
  /** The same for the rustls engine (made at load: a key rustls cannot use fails the load, not a handshake). */
  rustls?: TlsServerConfig;
}

interface Loaded {
  main: Certificate;
  /** SNI certificates (subfolders), matched in folder-name order. */
  named: Certificate[];
  /** PEM certificates found under CAs/. */
  cas: string[];
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  );
}

/** true when DIR holds a default certificate, i.e. Cairn should serve HTTPS from it. */
export async function hasCertificate(dir: string): Promise<boolean> {
  return exists(join(dir, CERT_FILE));
}

/** `ca`: the roots client certificates are verified against (mutual TLS between nodes), else none. */
async function loadPair(dir: string, engine: TlsEngine, ca?: string[]): Promise<Certificate> {
  const [cert, key] = await Promise.all([readFile(join(dir, CERT_FILE)), readFile(join(dir, KEY_FILE))]);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (e) {
    throw new Error(`${join(dir, CERT_FILE)}: not a PEM certificate (${(e as Error).message})`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new Error(`${join(dir, KEY_FILE)}: not a PEM private key (${(e as Error).message})`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new Error(`${join(dir, KEY_FILE)} does not belong to the certificate in ${join(dir, CERT_FILE)}`);
  }
  const options: SecureContextOptions = { cert, key, minVersion: MIN_TLS_VERSION, ...(ca ? { ca } : {}) };
  let rustls: TlsServerConfig | undefined;
  if (engine === 'rustls') {
    try {
      rustls = new TlsServerConfig(cert, key, ca);
    } catch (e) {
      throw new Error(`${dir}: the certificate or key cannot be served by rustls (${(e as Error).message})`);
    }
  }
  return { options, context: createSecureContext(options), leaf, rustls };
}

async function loadDir(dir: string, verifyPeers: boolean, engine: TlsEngine): Promise<Loaded> {
  const cas: string[] = [];
  const subs: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = join(dir, e.name);
    if (e.name === CAS_DIR) {
      for (const f of await readdir(sub, { withFileTypes: true })) {
        if (f.isFile()) cas.push(await readFile(join(sub, f.name), 'utf8'));
      }
    } else if (await exists(join(sub, CERT_FILE))) {
      subs.push(sub);
    }
  }
  // Every context (SNI ones too: a node may dial another by name) verifies client certificates against CAs/.
  const ca = verifyPeers ? cas : undefined;
  const main = await loadPair(dir, engine, ca);
  const named: Certificate[] = [];
  for (const sub of subs) named.push(await loadPair(sub, engine, ca));
  return { main, named, cas };
}

export interface ReloadResult {
  ok: boolean;
  error?: Error;
}

/**
 * The certificates of one directory, as a TLS server uses them. `attach` wires a server to them; `reload`
 * re-reads the files (a bad or half-written set is refused and the previous one kept); `watch` reloads
 * when a file in the directory changes. Emits 'reload' with a ReloadResult after every attempt.
 */
export class TlsCertificates extends EventEmitter<{ reload: [ReloadResult] }> {
  /** The S3 listener and, with --console-address, the console's: both get every reloaded certificate. */
  private readonly servers: Server[] = [];
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  /** Mutual TLS between the nodes: connecting clients are asked for a certificate, verified against CAs/. */
  private verifyPeers = false;

  private constructor(
    readonly dir: string,
    /** Who does the S3 listener's TLS. */
    readonly engine: TlsEngine,
    private current: Loaded,
  ) {
    super();
  }

  static async load(dir: string, engine: TlsEngine = 'node'): Promise<TlsCertificates> {
    return new TlsCertificates(dir, engine, await loadDir(dir, false, engine));
  }

  /**
   * From now on (before the listeners are made) every connection to the S3 address (not the console's) is asked
   * for a client certificate, verified against CAs/ only (not the system's roots): `socket.authorized` then says
   * whether a connecting node chains to the deployment's CA. Clients without one (S3 clients) still connect; only
   * the internode routes require it.
   */
  async requirePeerCertificates(): Promise<void> {
    this.verifyPeers = true;
    this.current = await loadDir(this.dir, true, this.engine);
  }

  /** The default certificate and key (PEM), which this node presents when it dials another (mutual TLS). */
  get identity(): { cert: Buffer; key: Buffer; leaf: X509Certificate } {
    const { cert, key } = this.current.main.options as { cert: Buffer; key: Buffer };
    return { cert, key, leaf: this.current.main.leaf };
  }

  /** Trusted roots from CAs/ (PEM text), for clients Cairn opens (a KMS over HTTPS). */
  get trustedCAs(): string[] {
    return this.current.cas;
  }

  /**
   * The options for https.createServer: the default certificate, TLS >= 1.2 and the SNI choice. With mutual TLS
   * between the nodes, connections are asked for a client certificate unless `askPeers` is false: the console's
   * listener, where no node calls and a browser asked for one would offer the user a certificate to pick.
   */
  serverOptions(askPeers = true): SecureContextOptions & {
    SNICallback: (name: string, cb: SniCallback) => void;
    requestCert?: boolean;
    rejectUnauthorized?: boolean;
  } {
    return {
      ...this.current.main.options,
      SNICallback: (name, cb) => cb(null, this.contextFor(name)),
      ...(this.verifyPeers && askPeers ? { requestCert: true, rejectUnauthorized: false } : {}),
    };
  }

  attach(server: Server): void {
    this.servers.push(server);
  }

  private certificateFor(servername: string | null | undefined): Certificate {
    if (!servername) return this.current.main;
    const named = this.current.named.find((c) => c.leaf.checkHost(servername) !== undefined);
    return named ?? this.current.main;
  }

  private contextFor(servername: string): SecureContext {
    return this.certificateFor(servername).context;
  }

  /**
   * The rustls engine's config for a client that asked for `servername` (SNI; the default certificate without
   * one), as node's SNICallback chooses; the current certificates (reloaded ones from the next connection on).
   */
  rustlsConfigFor(servername: string | null | undefined): TlsServerConfig {
    const config = this.certificateFor(servername).rustls;
    if (!config) throw new Error('TLS certificates loaded for the node engine, not rustls');
    return config;
  }

  async reload(): Promise<ReloadResult> {
    let result: ReloadResult;
    try {
      const next = await loadDir(this.dir, this.verifyPeers, this.engine);
      this.current = next;
      // Connections without SNI (clients that dial an IP address) get the server's own context.
      for (const server of this.servers) server.setSecureContext(next.main.options);
      result = { ok: true };
    } catch (e) {
      result = { ok: false, error: e as Error };
    }
    this.emit('reload', result);
    return result;
  }

  /** Reloads after files under the directory change (renames and symlink swaps included). */
  watch(): void {
    if (this.watcher) return;
    this.watcher = watch(this.dir, { recursive: true, persistent: false }, () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), RELOAD_SETTLE_MS);
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}

type SniCallback = (err: Error | null, ctx?: SecureContext) => void;
