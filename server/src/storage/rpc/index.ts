// The storage RPC: drives of this node served to others (serve.ts), drives of other nodes used here
// (remote-drive.ts over peer.ts). Protocol in protocol.ts, tokens in token.ts; server/src/storage/README.md
// describes both.
import { LocalDrive } from '../drive/local-drive.js';
import type { OpenDrive } from '../drive/format.js';
import { RpcPeer } from './peer.js';
import { parseRemoteEndpoint, RemoteDrive } from './remote-drive.js';
import type { RootCredentials } from './token.js';
import type { InternodeTrust } from './transport.js';

export { storageRpcServer, type StorageRpcServer } from './serve.js';
export { parseRemoteEndpoint, RemoteDrive } from './remote-drive.js';
export { RpcPeer } from './peer.js';
export {
  allowsClientAuth,
  certificateProblem,
  type InternodeTrust,
  internodeTrust,
  PEER_CERTIFICATE_REFUSED,
  peerRefusal,
} from './transport.js';

/**
 * Opens endpoints `http://host:port/folder` (or https://, verified against `trust`) as RemoteDrives (one RpcPeer
 * per node), anything else as a local folder. `close` drops the peers' connections.
 */
export function remoteDrives(
  credentials: RootCredentials,
  timeoutMs?: number,
  trust?: InternodeTrust,
): { open: OpenDrive; close(): void } {
  const peers = new Map<string, RpcPeer>();
  return {
    open: (endpoint) => {
      const remote = parseRemoteEndpoint(endpoint);
      if (!remote) return new LocalDrive(endpoint);
      let peer = peers.get(remote.origin);
      if (!peer) peers.set(remote.origin, (peer = new RpcPeer(remote.origin, credentials, timeoutMs, trust)));
      return new RemoteDrive(endpoint, peer, remote.folder);
    },
    close: () => {
      for (const p of peers.values()) p.close();
    },
  };
}
