// One node of a distributed deployment (`cairn server http://host{1...4}:9000/mnt/d{1...4}`), as the composition
// root (main.ts) starts it: the plan of the arguments (endpoints.ts), this node's drives served to the others
// over the storage RPC and the peer routes (bootstrap, change bus) on its address from the first moment (a
// bare listener, until the S3 server takes the port over), the start-up check with the other nodes
// (bootstrap.ts), then storage opened over local and remote drives, retried until the deployment's format is
// there (the node of the first endpoint formats it). Locks are taken with a majority of the nodes (dsync.ts);
// one node, the holder of the leader lease (leader.ts), runs the deployment's background work.
// https:// endpoints: the nodes serve and dial HTTPS (the S3 listener's certificates; peers verified against the
// system's roots and CAs/, storage/rpc/transport.ts). With certificates in CAs/ the TLS is mutual: each node
// presents its certificate when it dials, and the internode routes answer only connections whose certificate
// chains to CAs/ (S3 clients on the same port need none).
// With `--workers N` each worker joins as a part of its node (`worker`): the node's identity, its lock table in the
// primary (dsync.ts), changes relayed to the sibling workers (peer-bus.ts); worker 1 of the first node formats.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from '../node-http.js';
import { createServer as createHttpsServer } from 'node:https';
import { pack } from 'msgpackr';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { InternodeHandler } from '../http/app.js';
import { parseAddress } from '../http/address.js';
import type { ChangeBus, Locks } from '../storage/index.js';
import { LocalDrive } from '../storage/drive/local-drive.js';
import type { FrameVerifier } from '../storage/drive/drive.js';
import type { OpenDrive } from '../storage/drive/format.js';
import type { TlsCertificates } from '../http/tls.js';
import {
  allowsClientAuth,
  internodeTrust,
  parseRemoteEndpoint,
  peerRefusal,
  remoteDrives,
  storageRpcServer,
} from '../storage/rpc/index.js';
import type { RootCredentials } from '../storage/rpc/token.js';
import { checkOwnCertificate, checkPeers, serveBootstrap } from './bootstrap.js';
import { DsyncLocks } from './dsync.js';
import { type PoolsPlan, planPools } from './endpoints.js';
import { Leadership } from './leader.js';
import { LOCK_EXPIRY_MS } from './lock-table.js';
import { PeerBus } from './peer-bus.js';
import { PeerClient, PeerRoutes } from './peers.js';
import type { PrimaryLink } from './primary-link.js';

export interface ClusterNode {
  /** The deployment's server pools (one, unless several ellipsis arguments were given) and this node's place. */
  plan: PoolsPlan;
  /** `node1` ... (its temp area and reap logs on every drive, with `-wK` for worker K of several). */
  name: string;
  /** This process is worker `slot` of the node's `workers` (absent: the node is one process). */
  worker?: { slot: number; workers: number };
  /** The storage RPC and the peer routes, for the S3 server to serve beside S3. */
  internode: InternodeHandler;
  openDrive: OpenDrive;
  locks: Locks;
  bus: ChangeBus;
  /** Stop the early listener, once the S3 server listens on the same address (with SO_REUSEPORT). */
  handOver(): Promise<void>;
  /** Compete for the leader lease (leader.ts); `onChange` hears when this node starts or stops leading. */
  lead(onChange: (leading: boolean) => void): void;
  /** Give the leader lease back, when held, and wait until the nodes heard it (before close()). */
  resign(): Promise<void>;
  close(): void;
}

export async function joinCluster(opts: {
  endpoints: string[];
  address: string;
  credentials: RootCredentials;
  version: string;
  verify?: FrameVerifier;
  /** The S3 listener's certificates: required with https:// endpoints, refused with http:// ones. */
  tls?: TlsCertificates;
  log: Logger;
  /** How long a grant its holder stopped refreshing is kept (CAIRN_DSYNC_LOCK_EXPIRY; 30 s). */
  lockExpiryMs?: number;
  /** This process is worker `slot` of `workers` of the node; `link`: its primary (locks' table, sibling changes). */
  worker?: { slot: number; workers: number; link: PrimaryLink };
}): Promise<ClusterNode> {
  const plan = planPools(opts.endpoints, opts.address);
  const self = plan.nodes[plan.self];
  const { tls } = opts;
  if (plan.secure && !tls)
    throw new Error(
      'https:// endpoints: this node needs its certificate (public.crt and private.key in the certificates ' +
        'directory, --certs-dir) and the CA that signed the nodes’ certificates in its CAs/ folder',
    );
  if (!plan.secure && tls)
    throw new Error(
      `this node serves HTTPS (certificates in ${tls.dir}): give https:// endpoints so that the nodes reach ` +
        'each other over TLS',
    );
  const mutual = tls !== undefined && tls.trustedCAs.length > 0;
  if (mutual) {
    if (!allowsClientAuth(tls.identity.leaf))
      throw new Error(
        `mutual TLS between the nodes (certificates in ${join(tls.dir, 'CAs')}): this node presents its ` +
          `certificate (${join(tls.dir, 'public.crt')}) to the others, so it must allow client authentication ` +
          '(extendedKeyUsage clientAuth beside serverAuth)',
      );
    await tls.requirePeerCertificates();
  }
  const trust = tls && internodeTrust(tls.trustedCAs, join(tls.dir, 'CAs'), mutual ? () => tls.identity : undefined);
  const routes = new PeerRoutes(opts.credentials);
  const rpc = storageRpcServer({ roots: plan.localFolders, credentials: opts.credentials, verify: opts.verify });
  const internode: InternodeHandler = {
    matches: (url) => rpc.matches(url) || routes.matches(url),
    handle: (req, res) => {
      const toRpc = rpc.matches(req.url?.split('?')[0] ?? '');
      const refused = mutual ? peerRefusal(req.socket) : undefined;
      if (refused) return refuse(req, res, refused, toRpc);
      return toRpc ? rpc.handle(req, res) : routes.handle(req, res);
    },
  };
  serveBootstrap(routes, { version: opts.version, digest: plan.digest });
  const client = new PeerClient(opts.credentials, undefined, trust);
  const others = plan.nodes.filter((_, i) => i !== plan.self);
  const w = opts.worker;
  const bus = new PeerBus(client, others, routes, opts.log, undefined, w?.link);
  const name = `node${plan.self + 1}`;
  // Registered before the node answers anyone: the others may ask for locks as soon as they run.
  const table = w && { slot: w.slot, table: (route: string, body: unknown) => w.link.table(route, body) };
  const expiryMs = opts.lockExpiryMs ?? LOCK_EXPIRY_MS;
  const locks = new DsyncLocks(
    plan.nodes,
    self,
    name,
    client,
    routes,
    opts.log,
    { expiryMs, refreshMs: Math.round(expiryMs / 3) },
    table,
  );
  const remote = remoteDrives(opts.credentials, undefined, trust);
  // This node's own endpoints are local folders: no round trip through its own RPC.
  const openDrive: OpenDrive = (endpoint) => {
    const r = parseRemoteEndpoint(endpoint);
    return r && r.origin === self ? new LocalDrive(r.folder) : remote.open(endpoint);
  };
  const early = await listenEarly(opts.address, internode, tls);
  opts.log.info(
    {
      node: self,
      nodes: plan.nodes.length,
      pools: plan.pools.length,
      drives: plan.pools.reduce((n, p) => n + p.endpoints.length, 0),
      setSize: plan.pools.length === 1 ? plan.pools[0].setSize : plan.pools.map((p) => p.setSize),
    },
    'serving this node’s drives to the other nodes; checking with them',
  );
  try {
    await checkOwnCertificate(plan, client, opts.log);
    await checkPeers(plan, client, { version: opts.version, digest: plan.digest }, opts.log);
    // Grants this node held in an earlier life (killed while writing) are void at once, not after their expiry.
    await locks.announce();
    // Its caches are empty: the others take it back at once if they left it out while it started.
    await bus.hello(self);
  } catch (e) {
    await early.close();
    remote.close();
    client.close();
    throw e;
  }
  let leadership: Leadership | undefined;
  return {
    plan,
    name,
    ...(w ? { worker: { slot: w.slot, workers: w.workers } } : {}),
    internode,
    openDrive,
    locks,
    bus,
    handOver: () => early.close(),
    lead: (onChange) => {
      leadership ??= new Leadership(locks, opts.log, onChange);
      leadership.start();
    },
    resign: async () => {
      leadership?.stop();
      await locks.settle();
    },
    close: () => {
      leadership?.stop();
      locks.stop();
      remote.close();
      client.close();
    },
  };
}

/**
 * A bare HTTP server answering the internode requests (and 503 to anything else) while storage opens. It binds
 * with SO_REUSEPORT, as the S3 server then does beside it: the other nodes reach this node's drives without a
 * gap while the S3 server starts; then this one stops accepting and lets its requests in flight finish.
 */
async function listenEarly(
  address: string,
  internode: InternodeHandler,
  tls: TlsCertificates | undefined,
): Promise<{ close(): Promise<void> }> {
  let closing = false;
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    if (closing) res.setHeader('connection', 'close');
    if (internode.matches(req.url?.split('?')[0] ?? '')) return internode.handle(req, res);
    req.resume();
    res.writeHead(503, { 'retry-after': '1', 'content-length': 0 });
    res.end();
  };
  const server = tls ? createHttpsServer(tls.serverOptions(), answer) : createServer(answer);
  server.keepAliveTimeout = 1000;
  const { host, port } = parseAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // exclusive: a node:cluster worker binds the port itself (as its S3 server then does), not through the primary.
    server.listen({ port, host, reusePort: true, exclusive: true }, () => resolve());
  });
  let closed: Promise<void> | undefined;
  return {
    close: () =>
      (closed ??= new Promise((resolve) => {
        closing = true;
        server.close(() => resolve());
        server.closeIdleConnections();
      })),
  };
}

/**
 * 403 to a connection without a deployment certificate (mutual TLS), in the body its caller reads: JSON
 * `{code, message}` for the storage RPC (peer.ts's statusError), msgpack `{error}` for the peer routes.
 */
function refuse(req: IncomingMessage, res: ServerResponse, message: string, rpc: boolean): void {
  req.resume();
  const body = rpc ? Buffer.from(JSON.stringify({ code: 'EACCES', message })) : pack({ error: message });
  res.writeHead(403, {
    'content-type': rpc ? 'application/json' : 'application/msgpack',
    'content-length': body.length,
    connection: 'close',
  });
  res.end(body);
}
