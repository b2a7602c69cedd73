//! TLS for the mocks: a test CA, a server certificate for localhost/127.0.0.1 signed by it,
//! client certificates it issues (PEM and PKCS#12), and an HTTPS server that speaks HTTP/2 (and
//! HTTP/1.1) negotiated by ALPN, as the providers do, optionally asking for a client certificate.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// The client address of the connection a request came over (set per connection by
/// [`HttpsServer`]).
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

/// The DER of the client certificate the connection presented, if any.
#[derive(Clone, Debug)]
pub struct ClientCert(pub Option<Vec<u8>>);

/// A CA that signs the mocks' server certificates and clients' certificates. Herald trusts it
/// through `HERALD_EXTRA_CA_FILE` (or the provider endpoints' extra CA) in tests.
pub struct TestCa {
    pub cert_pem: String,
    ca_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    server_cert: CertificateDer<'static>,
    server_key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// A client certificate the test CA issued.
#[derive(Clone, Debug)]
pub struct ClientIdentity {
    pub certificate_pem: String,
    pub private_key_pem: String,
    /// The same certificate and key as PKCS#12, protected by `p12_password`.
    pub p12: Vec<u8>,
    pub p12_password: String,
    pub der: Vec<u8>,
}

impl TestCa {
    pub fn new() -> anyhow::Result<Self> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Herald test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate()?;
        let server_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        let server_cert = server_params.signed_by(&server_key, &issuer)?;
        Ok(Self {
            cert_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            issuer,
            server_cert: server_cert.der().clone(),
            server_key: PrivatePkcs8KeyDer::from(server_key.serialize_der()),
        })
    }

    /// Issues a client certificate for `common_name`.
    pub fn issue_client(&self, common_name: &str) -> anyhow::Result<ClientIdentity> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        let cert = params.signed_by(&key, &self.issuer)?;
        let password = "p12-test-password".to_owned();
        let chain = PrivateKeyChain::new(
            b"herald-test".to_vec(),
            PrivateKey::from_der(&key.serialize_der())?,
            [Certificate::from_der(cert.der())?],
        );
        let mut store = KeyStore::new();
        store.add_entry(common_name, KeyStoreEntry::PrivateKeyChain(chain));
        Ok(ClientIdentity {
            certificate_pem: cert.pem(),
            private_key_pem: key.serialize_pem(),
            p12: store.writer(&password).write()?,
            p12_password: password,
            der: cert.der().to_vec(),
        })
    }

    pub(crate) fn acceptor(&self, client_auth: bool) -> anyhow::Result<TlsAcceptor> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let builder = if client_auth {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(self.ca_der.clone())?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()?;
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let mut config = builder.with_single_cert(
            vec![self.server_cert.clone()],
            PrivateKeyDer::Pkcs8(self.server_key.clone_key()),
        )?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// `port`, or a free one for 0: mocks that put their own address in what they hand out (a
/// token URI, subscription endpoints) need the port before they serve.
pub fn resolve_port(port: u16) -> std::io::Result<u16> {
    if port != 0 {
        return Ok(port);
    }
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

/// A mock server; stops when dropped.
#[derive(Debug)]
pub struct HttpsServer {
    pub addr: SocketAddr,
    /// TCP connections accepted so far (each one a TLS handshake a client started).
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
    /// Dropped with the server: its open connections end too.
    _alive: tokio::sync::watch::Sender<()>,
}

impl HttpsServer {
    /// Serves `router` over TLS on 127.0.0.1 at `port` (0: any free port).
    pub async fn start(ca: &TestCa, router: axum::Router, port: u16) -> anyhow::Result<Self> {
        Self::serve(ca.acceptor(false)?, router, port).await
    }

    /// Like [`HttpsServer::start`], also asking clients for a certificate (optional, verified
    /// against the test CA); handlers see it as [`ClientCert`].
    pub async fn start_with_client_auth(
        ca: &TestCa,
        router: axum::Router,
        port: u16,
    ) -> anyhow::Result<Self> {
        Self::serve(ca.acceptor(true)?, router, port).await
    }

    pub(crate) async fn serve(
        acceptor: TlsAcceptor,
        router: axum::Router,
        port: u16,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = connections.clone();
        let (alive, watch) = tokio::sync::watch::channel(());
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, peer)) = listener.accept().await else {
                    continue;
                };
                accepted.fetch_add(1, Ordering::Relaxed);
                let acceptor = acceptor.clone();
                let router = router.clone();
                let mut watch = watch.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let client_cert = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| c.to_vec());
                    let router = router
                        .layer(axum::Extension(Peer(peer)))
                        .layer(axum::Extension(ClientCert(client_cert)));
                    let service = TowerToHyperService::new(router);
                    let builder = auto::Builder::new(TokioExecutor::new());
                    let serving = builder.serve_connection(TokioIo::new(tls), service);
                    tokio::select! {
                        _ = serving => {}
                        _ = watch.changed() => {}
                    }
                });
            }
        });
        Ok(Self {
            addr,
            connections,
            task,
            _alive: alive,
        })
    }

    pub fn base_url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// How many connections clients opened so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
