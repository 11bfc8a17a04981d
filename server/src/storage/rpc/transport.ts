// How one node dials another (the storage RPC's RpcPeer and the cluster's PeerClient): plain HTTP to an http://
// node, HTTPS to an https:// one, the peer's certificate verified against this node's trusted roots (the
// system's and the certificates directory's CAs/, as MinIO trusts them) and its host name or IP address checked
// against the certificate's names. Never without verification: a node whose certificate this node cannot
// verify is not reached, and start-up says why (certificateProblem). Mutual TLS (an https:// deployment with
// CAs/ in the certificates directory, as cluster/node.ts decides): each node also presents its own certificate
// when it dials, and the internode routes refuse a connection whose certificate does not chain to CAs/
// (peerRefusal), so a client holding the root credentials' token but not a deployment certificate is refused.
import type { AgentOptions, ClientRequest } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from '../../node-http.js';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { X509Certificate } from 'node:crypto';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type ConnectionOptions,
  connect as tlsConnect,
  createSecureContext,
  rootCertificates,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';

/** As the S3 listener (http/tls.ts): TLS 1.2 and 1.3 only. */
const MIN_TLS_VERSION = 'TLSv1.2';

/** What this node trusts when it dials an https:// node: PEM roots. */
export interface InternodeTrust {
  ca: string[];
  /** Where an operator puts more roots (said in errors). */
  casDir: string;
  /** Mutual TLS: the certificate and key this node presents to the nodes it dials (the current ones: reloaded). */
  identity?: () => { cert: Buffer; key: Buffer };
}

/** The system's roots and the PEM certificates of the certificates directory's CAs/ folder. */
export function internodeTrust(
  cas: string[],
  casDir: string,
  identity?: () => { cert: Buffer; key: Buffer },
): InternodeTrust {
  return { ca: [...rootCertificates, ...cas], casDir, identity };
}

/** Marks a refusal for want of a client certificate (peers.ts's and the storage RPC's 403 bodies). */
export const PEER_CERTIFICATE_REFUSED = 'mutual TLS';

/**
 * Mutual TLS: why the connection `socket` may not use the internode routes (no certificate, or one that does
 * not chain to CAs/), or undefined when its certificate was verified.
 */
export function peerRefusal(socket: Socket): string | undefined {
  const tls = socket as TLSSocket;
  if (tls.authorized === true) return undefined;
  const why = tls.authorizationError ? String(tls.authorizationError) : 'no certificate';
  return (
    `${PEER_CERTIFICATE_REFUSED}: the connecting node's certificate does not chain to this node's CAs/ (${why}); ` +
    'every node must present a certificate signed by the deployment’s CA, with extendedKeyUsage clientAuth'
  );
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Mutual TLS: a certificate whose extended key usage (when it has one) leaves out clientAuth cannot be presented. */
export function allowsClientAuth(leaf: X509Certificate): boolean {
  const usages = leaf.keyUsage as string[] | undefined;
  return usages === undefined || usages.includes(CLIENT_AUTH);
}

/** A keep-alive agent for the node at `origin`; https:// needs `trust`. */
export function internodeAgent(origin: URL, trust: InternodeTrust | undefined, opts: AgentOptions): HttpAgent {
  if (origin.protocol !== 'https:') return new HttpAgent(opts);
  if (!trust) throw new Error(`${origin.origin} is an https:// node: this node needs certificates (--certs-dir)`);
  return new InternodeAgent(opts, trust);
}

/** Each new connection takes the TLS context of the moment (a renewed certificate is presented once reloaded). */
class InternodeAgent extends HttpsAgent {
  constructor(
    opts: AgentOptions,
    private readonly trust: InternodeTrust,
  ) {
    super(opts);
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void) {
    const secureContext = contextOf(this.trust);
    return super.createConnection({ ...options, secureContext } as RequestOptions, callback);
  }
}

const contexts = new WeakMap<InternodeTrust, { cert?: Buffer; context: SecureContext }>();

/** One TLS context per trust and certificate: else every connection would parse the system's ~150 roots again. */
function contextOf(trust: InternodeTrust): SecureContext {
  const identity = trust.identity?.();
  let cached = contexts.get(trust);
  if (!cached || cached.cert !== identity?.cert) {
    cached = {
      cert: identity?.cert,
      context: createSecureContext({ ca: trust.ca, minVersion: MIN_TLS_VERSION, ...identity }),
    };
    contexts.set(trust, cached);
  }
  return cached.context;
}

/** A request to the node at `origin` (over `options.agent`, made by internodeAgent for that origin). */
export function internodeRequest(origin: URL, options: Omit<RequestOptions, 'host' | 'port'>): ClientRequest {
  const to = { ...options, ...dialed(origin) };
  return origin.protocol === 'https:' ? httpsRequest(to) : httpRequest(to);
}

/** Where a raw connection's reads go (net's and tls's `onread`): no Buffer allocated per read. */
export interface ReadInto {
  /** The memory the next read lands in (asked before the first read and after every callback). */
  buffer: () => Uint8Array;
  /** `n` bytes were read into `buf` (the memory `buffer` gave last). */
  callback: (n: number, buf: Uint8Array) => boolean;
}

/**
 * A raw connection to the node at `origin`, its reads going where `onread` says: plain TCP to an http:// node,
 * TLS (verified and, with mutual TLS, presenting this node's certificate, as the agents do) to an https:// one.
 */
export function internodeConnect(origin: URL, trust: InternodeTrust | undefined, onread: ReadInto): Socket {
  const to = dialed(origin);
  if (origin.protocol !== 'https:') return netConnect({ ...to, noDelay: true, onread });
  if (!trust) throw new Error(`${origin.origin} is an https:// node: this node needs certificates (--certs-dir)`);
  const options: ConnectionOptions & { onread: ReadInto } = {
    ...to,
    secureContext: contextOf(trust),
    minVersion: MIN_TLS_VERSION,
    onread,
  };
  const socket = tlsConnect(options);
  socket.setNoDelay(true);
  return socket;
}

let via: Map<string, { host: string; port: number }> | undefined;

/**
 * Where the connection to `origin` goes: its host and port, or, in tests, the TCP proxy the test put between
 * this node and that one (CAIRN_TEST_INTERNODE_VIA=`origin=host:port,...`; test/helpers/tcp-proxy.ts cuts links
 * for partition tests). Certificates are still checked against the origin's host name.
 */
function dialed(origin: URL): { host: string; port: number; servername?: string } {
  via ??= new Map(
    (process.env.CAIRN_TEST_INTERNODE_VIA ?? '')
      .split(',')
      .filter((e) => e.includes('='))
      .map((e) => {
        const [from, to] = e.split('=');
        const u = new URL(`tcp://${to}`);
        return [new URL(from).origin, { host: u.hostname, port: Number(u.port) }];
      }),
  );
  const hop = via.get(origin.origin);
  const host = origin.hostname.replace(/^\[(.*)\]$/, '$1');
  // (SNI carries names only: a node named by its IP address is checked against the proxy's, the same on loopback.)
  return hop ? { ...hop, servername: isIP(host) ? undefined : host } : { host, port: Number(origin.port) };
}

/** OpenSSL's and node:tls's codes for a certificate the client does not accept. */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * When `e` is the failure to verify `origin`'s certificate: what an operator should know, else undefined.
 * (A node that speaks plain HTTP where TLS is expected fails with EPROTO, said too.)
 */
export function certificateProblem(e: unknown, origin: string, trust: InternodeTrust | undefined): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? '';
  const message = (e as Error | undefined)?.message ?? String(e);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `the certificate of ${origin} does not name its host (${message}): give each node a certificate for the name or address its endpoints use`;
  if (CERTIFICATE_CODES.has(code))
    return (
      `the certificate of ${origin} is not trusted by this node (${code}: ${message}): every node must trust the ` +
      `CA that signed the nodes' certificates; put it in ${trust?.casDir ?? 'the certificates directory’s CAs/'}`
    );
  if (code === 'EPROTO') return `${origin} does not answer TLS (${message}): is it serving plain HTTP?`;
  return undefined;
}
