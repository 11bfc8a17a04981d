// An HTTPS server connection whose TLS is done by rustls in the addon, sans-I/O (tls.rs): the caller reads TLS
// bytes from the socket and feeds them in (plaintext comes out), and seals plaintext (a large Buffer at once:
// cut into 16 KiB records in one call, into a Buffer the caller reuses) into TLS bytes to write. The certificate is chosen after the
// ClientHello: `wantsConfig`, `serverName`, then `accept(config)`.
import { native } from './binding.js';

/**
 * One certificate (PEM chain, leaf first) and key (PEM: PKCS#8, RSA or SEC1 EC) as a server presents them; TLS
 * 1.2 and 1.3 only, ALPN http/1.1. `clientCas` (PEM texts): clients are asked for a certificate (not required),
 * checked against these after the handshake (`TlsConnection.authorized` / `peerError`).
 */
export const TlsServerConfig = native.TlsServerConfig;
export type TlsServerConfig = InstanceType<typeof native.TlsServerConfig>;

/**
 * One server-side TLS connection. `feed(tlsBytes)` returns plaintext or null (throws on a TLS failure: an alert
 * then waits in `take()`); once the handshake is done, `feedInto(tlsBytes, out)` writes the plaintext into `out`
 * (room: `TlsConnection.feedBound(tlsBytes.length)`) and returns its length; `take()` gives TLS bytes to write
 * (handshake, alerts); `sealInto(plain, out)` writes the TLS records of `plain` (and anything `take` held) into
 * `out` (room: `TlsConnection.sealBound(plain.length)`) and returns their length; `close()` queues close_notify.
 * After the handshake: `protocol` (`TLSv1.3`/`TLSv1.2`), `cipher`, `alpn`, `serverName`, `peerCertificates()`
 * (DER), `authorized`, `peerError()`.
 */
export const TlsConnection = native.TlsConnection;
export type TlsConnection = InstanceType<typeof native.TlsConnection>;
