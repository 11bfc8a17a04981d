//! An HTTPS server connection, sans-I/O: rustls (on ring) does the TLS, the caller moves the bytes. TLS bytes
//! read from the socket go in (`feed`), plaintext comes out; plaintext to send goes in (`seal`: a large Buffer
//! at once, cut into records here), TLS bytes come out to write. Node's own TLS (OpenSSL) seals at ~2 GB/s on
//! this CPU and copies each record twice on its way; ring's AES-GCM runs at ~5.7 GB/s (bench/load/README.md).
//!
//! The certificate is chosen after the ClientHello (`serverName`, then `accept` with the config the caller
//! picked for that name: SNI stays with the caller, as node's SNICallback). Only TLS 1.2 and 1.3; ALPN
//! `http/1.1`. With client CAs, clients are asked for a certificate but not required to send one, and one that
//! does not chain to the CAs does not fail the handshake (node's `requestCert` without `rejectUnauthorized`):
//! `peerError` says why it is not trusted (None: verified), the caller decides what it may do.
use std::io::{Read, Write};
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{Accepted, Acceptor, WebPkiClientVerifier};
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, ServerConnection, SignatureScheme,
};

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, msg.into())
}

fn failed(msg: impl std::fmt::Display) -> Error {
    Error::from_reason(msg.to_string())
}

/// ring, which the addon already carries for its AEAD (aead.rs). Deprecated in rustls 0.23.48 for want of
/// post-quantum key exchange (aws-lc-rs has it); key exchange is X25519, P-256, P-384 as with most clients.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Asks for a client certificate, accepts any (or none) once the handshake's signature proves the client holds
/// its key; the chain is checked against the CAs after the handshake (`TlsConnection::peer_error`).
#[derive(Debug)]
struct AskClientCert {
    hints: Vec<DistinguishedName>,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for AskClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The client CAs' verifier (None when CAs/ holds no usable certificate: then no client is trusted).
type PeerCheck = Option<Arc<dyn ClientCertVerifier>>;

/// One certificate (chain, leaf first) and its key as a TLS server presents them, with what it asks of clients.
#[napi]
pub struct TlsServerConfig {
    config: Arc<ServerConfig>,
    /// Some when clients are asked for a certificate.
    peers: Option<PeerCheck>,
}

#[napi]
impl TlsServerConfig {
    /// `cert`: PEM, leaf first then its chain; `key`: PEM (PKCS#8, RSA or SEC1 EC). `clientCas` (PEM texts, each
    /// holding one or more certificates): ask clients for a certificate and check it against these after the
    /// handshake; absent: no client certificate asked for.
    #[napi(constructor)]
    pub fn new(cert: &[u8], key: &[u8], client_cas: Option<Vec<String>>) -> Result<Self> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| invalid(format!("TlsServerConfig: cert is not PEM: {e}")))?;
        if chain.is_empty() {
            return Err(invalid("TlsServerConfig: cert holds no certificate"));
        }
        let key = PrivateKeyDer::from_pem_slice(key)
            .map_err(|e| invalid(format!("TlsServerConfig: key is not a PEM private key: {e}")))?;
        let provider = provider();
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(failed)?;
        let (builder, peers) = match client_cas {
            None => (builder.with_no_client_auth(), None),
            Some(pems) => {
                let mut roots = RootCertStore::empty();
                for pem in &pems {
                    for der in CertificateDer::pem_slice_iter(pem.as_bytes()).flatten() {
                        // Not a CA certificate webpki can use: skipped (node skips what it cannot parse too).
                        let _ = roots.add(der);
                    }
                }
                let hints = roots.subjects();
                let check: PeerCheck = if roots.is_empty() {
                    None
                } else {
                    Some(
                        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                            .allow_unauthenticated()
                            .build()
                            .map_err(failed)?,
                    )
                };
                let ask = Arc::new(AskClientCert { hints, provider: provider.clone() });
                (builder.with_client_cert_verifier(ask), Some(check))
            }
        };
        let mut config = builder.with_single_cert(chain, key).map_err(|e| invalid(format!("TlsServerConfig: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsServerConfig { config: Arc::new(config), peers })
    }
}

/// 16 KiB records, 22 bytes each more (header, tag, content type) in TLS 1.3, 29 in 1.2 (explicit nonce).
fn seal_bound(plain: usize) -> usize {
    plain + plain.div_ceil(16 * 1024).max(1) * 32
}

/// Plaintext that `tls` bytes fed can complete: at most their own length (a record's plaintext is shorter than the
/// record), and a record begun by earlier bytes (2^14 bytes of plaintext at most, as rustls enforces).
fn feed_bound(tls: usize) -> usize {
    tls + 16 * 1024
}

enum State {
    /// Reading the ClientHello.
    Hello(Box<Acceptor>),
    /// The ClientHello read; waiting for `accept` (the caller's choice of certificate).
    Chosen(Box<Accepted>),
    Open(Box<ServerConnection>),
    /// Failed or closed: every call but the accessors fails.
    Gone,
}

/// One HTTPS connection, server side (see the module's comment). Calls are made in order on the event loop.
#[napi]
pub struct TlsConnection {
    state: State,
    /// TLS bytes fed while waiting for `accept`, taken in after it.
    pending: Vec<u8>,
    /// TLS bytes to send (alerts and handshake messages made outside `seal`).
    out: Vec<u8>,
    peers: Option<PeerCheck>,
    /// The peer's close_notify came.
    closed: bool,
    /// Ours went (`close`): nothing more is sealed.
    ended: bool,
}

impl TlsConnection {
    /// Moves what rustls has to send into `out`.
    fn drain(conn: &mut ServerConnection, out: &mut Vec<u8>) {
        while conn.wants_write() {
            // Writing into a Vec cannot fail.
            if conn.write_tls(out).unwrap_or(0) == 0 {
                break;
            }
        }
    }

    fn fail(&mut self, e: rustls::Error) -> Error {
        if let State::Open(c) = &mut self.state {
            // The alert rustls queued for the peer goes out with `take`.
            Self::drain(c, &mut self.out);
        }
        self.state = State::Gone;
        failed(format!("TLS: {e}"))
    }

    /// Feeds TLS bytes to the open connection; the plaintext they complete is written into `plain` (room:
    /// `feed_bound(data.len())`), its length returned.
    fn feed_open(&mut self, mut data: &[u8], plain: &mut [u8]) -> Result<usize> {
        let mut at = 0;
        while !data.is_empty() && !self.closed {
            let State::Open(conn) = &mut self.state else {
                return Err(failed("TlsConnection.feed: the connection is not open"));
            };
            let n = conn.read_tls(&mut data).map_err(|e| failed(format!("TLS: {e}")))?;
            if n == 0 {
                break;
            }
            let state = match conn.process_new_packets() {
                Ok(s) => s,
                Err(e) => return Err(self.fail(e)),
            };
            let State::Open(conn) = &mut self.state else { unreachable!() };
            let got = state.plaintext_bytes_to_read();
            if got > plain.len() - at {
                // Never expected: `feed_bound` holds (one partial record's plaintext more than the bytes fed).
                self.state = State::Gone;
                return Err(failed("TLS: more plaintext than room for it"));
            }
            conn.reader().read_exact(&mut plain[at..at + got]).map_err(|e| failed(format!("TLS: {e}")))?;
            at += got;
            Self::drain(conn, &mut self.out);
            if state.peer_has_closed() {
                self.closed = true;
            }
        }
        Ok(at)
    }

    /// `feed_open` into a Buffer of its own (the handshake's leftovers, `feed`); None when no plaintext came.
    fn feed_open_owned(&mut self, data: &[u8]) -> Result<Option<Buffer>> {
        let mut plain = vec![0; feed_bound(data.len())];
        let n = self.feed_open(data, &mut plain)?;
        plain.truncate(n);
        Ok(if n == 0 { None } else { Some(plain.into()) })
    }
}

#[napi]
impl TlsConnection {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        TlsConnection {
            state: State::Hello(Box::default()),
            pending: Vec::new(),
            out: Vec::new(),
            peers: None,
            closed: false,
            ended: false,
        }
    }

    /// TLS bytes read from the socket. Returns the plaintext they carried (null when none). Throws when the
    /// bytes break TLS (an alert for the peer is then waiting in `take`). Before `accept`, bytes are kept.
    #[napi]
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<Buffer>> {
        match &mut self.state {
            State::Hello(acceptor) => {
                let mut rd = data;
                while !rd.is_empty() {
                    match acceptor.read_tls(&mut rd) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) => {
                            self.state = State::Gone;
                            return Err(failed(format!("TLS: {e}")));
                        }
                    }
                    match acceptor.accept() {
                        Ok(None) => {}
                        Ok(Some(accepted)) => {
                            self.pending.extend_from_slice(rd);
                            self.state = State::Chosen(Box::new(accepted));
                            return Ok(None);
                        }
                        Err((e, mut alert)) => {
                            let _ = alert.write_all(&mut self.out);
                            self.state = State::Gone;
                            return Err(failed(format!("TLS: {e}")));
                        }
                    }
                }
                Ok(None)
            }
            State::Chosen(_) => {
                if self.pending.len() + data.len() > 1 << 20 {
                    self.state = State::Gone;
                    return Err(failed("TLS: too much data before the handshake"));
                }
                self.pending.extend_from_slice(data);
                Ok(None)
            }
            State::Open(_) => self.feed_open_owned(data),
            State::Gone => Err(failed("TlsConnection.feed: the connection is closed")),
        }
    }

    /// TLS bytes read from the socket once the handshake is done: the plaintext they complete is written into
    /// `out`, which must have room for `feedBound(data.length)` bytes; returns its length (0: none yet). Throws as
    /// `feed` does. The caller owns `out`: no memory is made per call (a fresh Vec per socket read, handed over as
    /// an external Buffer, cost more in page faults than the decryption: bench/load/README.md).
    #[napi]
    pub fn feed_into(&mut self, data: &[u8], mut out: BufferSlice) -> Result<u32> {
        match &self.state {
            State::Open(c) if !c.is_handshaking() => {}
            State::Gone => return Err(failed("TlsConnection.feedInto: the connection is closed")),
            _ => return Err(failed("TlsConnection.feedInto: the handshake is not done (use feed)")),
        }
        let need = feed_bound(data.len());
        if out.len() < need {
            return Err(invalid(format!("TlsConnection.feedInto: out has {} bytes, {need} needed", out.len())));
        }
        Ok(self.feed_open(data, &mut out)? as u32)
    }

    /// The room `feedInto` needs for `tls` bytes: as many, and one record's plaintext begun by earlier bytes.
    #[napi]
    pub fn feed_bound(tls: u32) -> u32 {
        feed_bound(tls as usize) as u32
    }

    /// True once the ClientHello is read and the connection waits for `accept`.
    #[napi(getter)]
    pub fn wants_config(&self) -> bool {
        matches!(self.state, State::Chosen(_))
    }

    /// The name the client asked for (SNI), once the ClientHello is read; null when it sent none.
    #[napi(getter)]
    pub fn server_name(&self) -> Option<String> {
        match &self.state {
            State::Chosen(a) => a.client_hello().server_name().map(str::to_string),
            State::Open(c) => c.server_name().map(str::to_string),
            _ => None,
        }
    }

    /// Goes on with `config`'s certificate (chosen for `serverName`). Returns plaintext the bytes fed meanwhile
    /// carried (null when none).
    #[napi]
    pub fn accept(&mut self, config: &TlsServerConfig) -> Result<Option<Buffer>> {
        let accepted = match std::mem::replace(&mut self.state, State::Gone) {
            State::Chosen(a) => a,
            other => {
                self.state = other;
                return Err(failed("TlsConnection.accept: no ClientHello waiting"));
            }
        };
        let mut conn = match accepted.into_connection(config.config.clone()) {
            Ok(c) => c,
            Err((e, mut alert)) => {
                let _ = alert.write_all(&mut self.out);
                return Err(failed(format!("TLS: {e}")));
            }
        };
        // Plaintext written at once is sealed at once, whatever its size (the caller bounds its writes).
        conn.set_buffer_limit(None);
        Self::drain(&mut conn, &mut self.out);
        self.state = State::Open(Box::new(conn));
        self.peers = config.peers.clone();
        let pending = std::mem::take(&mut self.pending);
        self.feed_open_owned(&pending)
    }

    /// TLS bytes to write to the socket (handshake messages, alerts); null when none.
    #[napi]
    pub fn take(&mut self) -> Option<Buffer> {
        if self.out.is_empty() {
            return None;
        }
        Some(std::mem::take(&mut self.out).into())
    }

    /// Seals `plain` into TLS records written into `out` (with anything `take` held first), which must have room
    /// for `sealBound(plain.length)` bytes; returns the bytes written. The caller reuses `out` once the socket has
    /// sent them: fresh memory per call costs more in page faults than the encryption (bench/load/README.md).
    #[napi]
    pub fn seal_into(&mut self, plain: &[u8], mut out: BufferSlice) -> Result<u32> {
        let State::Open(conn) = &mut self.state else {
            return Err(failed("TlsConnection.sealInto: the connection is not open"));
        };
        if self.ended {
            return Err(failed("TlsConnection.sealInto: the connection was closed (close_notify sent)"));
        }
        if conn.is_handshaking() {
            return Err(failed("TlsConnection.sealInto: the handshake is not done"));
        }
        let need = self.out.len() + seal_bound(plain.len());
        if out.len() < need {
            return Err(invalid(format!("TlsConnection.sealInto: out has {} bytes, {need} needed", out.len())));
        }
        let held = self.out.len();
        out[..held].copy_from_slice(&self.out);
        self.out.clear();
        conn.writer().write_all(plain).map_err(|e| failed(format!("TLS: {e}")))?;
        let mut rest: &mut [u8] = &mut out[held..];
        let room = rest.len();
        while conn.wants_write() {
            // Writing into a slice with room (checked above) only stops when every record is out.
            if conn.write_tls(&mut rest).unwrap_or(0) == 0 {
                break;
            }
        }
        let written = held + room - rest.len();
        // Never expected (the bound holds): what did not fit waits for `take`.
        Self::drain(conn, &mut self.out);
        Ok(written as u32)
    }

    /// The room `sealInto` needs for `plain` bytes: 16 KiB records of at most 32 bytes more each.
    #[napi]
    pub fn seal_bound(plain: u32) -> u32 {
        seal_bound(plain as usize) as u32
    }

    /// Queues the close_notify alert (then `take`); later seals fail.
    #[napi]
    pub fn close(&mut self) {
        if let State::Open(c) = &mut self.state {
            if !self.ended {
                c.send_close_notify();
                Self::drain(c, &mut self.out);
            }
        }
        self.ended = true;
    }

    /// True while the handshake is not done.
    #[napi(getter)]
    pub fn handshaking(&self) -> bool {
        match &self.state {
            State::Open(c) => c.is_handshaking(),
            _ => true,
        }
    }

    /// True once the peer's close_notify came.
    #[napi(getter)]
    pub fn peer_closed(&self) -> bool {
        self.closed
    }

    /// `TLSv1.3` or `TLSv1.2` once negotiated (node's `getProtocol()` names), else null.
    #[napi(getter)]
    pub fn protocol(&self) -> Option<String> {
        let State::Open(c) = &self.state else { return None };
        match c.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_3 => Some("TLSv1.3".into()),
            rustls::ProtocolVersion::TLSv1_2 => Some("TLSv1.2".into()),
            _ => None,
        }
    }

    /// The cipher suite's IANA name once negotiated.
    #[napi(getter)]
    pub fn cipher(&self) -> Option<String> {
        let State::Open(c) = &self.state else { return None };
        c.negotiated_cipher_suite()?.suite().as_str().map(str::to_string)
    }

    /// The ALPN protocol agreed (`http/1.1`), null when the client offered none.
    #[napi(getter)]
    pub fn alpn(&self) -> Option<String> {
        let State::Open(c) = &self.state else { return None };
        c.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned())
    }

    /// The client's certificates (DER, leaf first); empty when it sent none.
    #[napi]
    pub fn peer_certificates(&self) -> Vec<Buffer> {
        let State::Open(c) = &self.state else { return Vec::new() };
        c.peer_certificates().unwrap_or_default().iter().map(|d| d.as_ref().to_vec().into()).collect()
    }

    /// Why the client's certificate is not trusted (none sent, it does not chain to the CAs, no CAs, not asked
    /// for), or null when it chains to the CAs (checked now, against the time now).
    #[napi]
    pub fn peer_error(&self) -> Option<String> {
        self.check_peer().err()
    }

    /// True when the client's certificate chains to the CAs.
    #[napi(getter)]
    pub fn authorized(&self) -> bool {
        self.check_peer().is_ok()
    }
}

impl TlsConnection {
    fn check_peer(&self) -> std::result::Result<(), String> {
        let State::Open(c) = &self.state else { return Err("handshake not done".into()) };
        let Some(check) = &self.peers else { return Err("no client certificate asked for".into()) };
        let Some(chain) = c.peer_certificates().filter(|c| !c.is_empty()) else {
            return Err("no certificate".into());
        };
        let Some(verifier) = check else { return Err("no trusted CAs (CAs/ is empty)".into()) };
        verifier.verify_client_cert(&chain[0], &chain[1..], UnixTime::now()).map(|_| ()).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_pem() {
        assert!(TlsServerConfig::new(b"nope", b"nope", None).is_err());
    }

    #[test]
    fn garbage_fails_the_hello() {
        let mut c = TlsConnection::new();
        assert!(c.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").is_err());
        assert!(c.feed(b"x").is_err());
    }
}
