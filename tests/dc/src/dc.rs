//! [`TestDc`]: several DCs in one process, on consecutive loopback ports, sharing one
//! [`AuthBackend`].

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use mtproto_crypto::RsaPrivateKey;
use mtproto_proto::session::SessionConfig;
use mtproto_proto::transport::MtProxySecret;
use tokio::net::TcpListener;

use crate::auth::{Account, AuthBackend, AuthConfig};
use crate::server::{ServerLimits, TestServer, TestServerConfig, TestServerHandle};

/// How many times to look for a free run of consecutive ports.
const PORT_ATTEMPTS: usize = 32;

/// Configures a [`TestDc`].
#[derive(Debug)]
pub struct TestDcBuilder {
    dcs: usize,
    host: IpAddr,
    base_port: Option<u16>,
    accounts: Vec<Account>,
    bots: Vec<(String, String, Option<i32>)>,
    auth: AuthConfig,
    keys: Vec<RsaPrivateKey>,
    limits: ServerLimits,
    session: SessionConfig,
    mtproxy_secret: Option<MtProxySecret>,
}

impl Default for TestDcBuilder {
    fn default() -> Self {
        Self {
            dcs: 1,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            base_port: None,
            accounts: Vec::new(),
            bots: Vec::new(),
            auth: AuthConfig::default(),
            keys: Vec::new(),
            limits: ServerLimits::default(),
            session: SessionConfig::default(),
            mtproxy_secret: None,
        }
    }
}

impl TestDcBuilder {
    /// How many DCs (ids 1..=n); 1 by default.
    pub fn dcs(mut self, n: usize) -> Self {
        self.dcs = n.max(1);
        self
    }

    /// Listen on `addr`: DC i on `addr.port() + i - 1`. By default: 127.0.0.1, on the first
    /// free run of ports.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.host = addr.ip();
        self.base_port = (addr.port() != 0).then_some(addr.port());
        self
    }

    /// Registers an account.
    pub fn user(mut self, account: Account) -> Self {
        self.accounts.push(account);
        self
    }

    /// Registers a bot with token `ID:SECRET` (its user id is ID), named `name`, homed on
    /// `home_dc` (DC 2, or DC 1 when there is only one, by default).
    pub fn bot(
        mut self,
        token: impl Into<String>,
        name: impl Into<String>,
        home_dc: Option<i32>,
    ) -> Self {
        self.bots.push((token.into(), name.into(), home_dc));
        self
    }

    /// Every login code is `code` (instead of a random one per request).
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.auth.code = Some(code.into());
        self
    }

    /// The backend's settings (code, expiries, flood limits).
    pub fn auth_config(mut self, config: AuthConfig) -> Self {
        self.auth = config;
        self
    }

    /// The RSA key the DCs use (the bundled [`crate::test_server_key`] by default).
    pub fn rsa_key(mut self, key: RsaPrivateKey) -> Self {
        self.keys = vec![key];
        self
    }

    /// Bounds per DC.
    pub fn limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The server sessions' tunables.
    pub fn session(mut self, session: SessionConfig) -> Self {
        self.session = session;
        self
    }

    /// Every DC acts as an MTProxy endpoint with this secret.
    pub fn mtproxy_secret(mut self, secret: MtProxySecret) -> Self {
        self.mtproxy_secret = Some(secret);
        self
    }

    /// Binds the DCs and serves them on the current tokio runtime until the [`TestDc`] is
    /// dropped.
    pub async fn start(self) -> io::Result<TestDc> {
        let listeners = self.bind().await?;
        let keys = if self.keys.is_empty() {
            vec![crate::test_server_key()]
        } else {
            self.keys.clone()
        };
        let backend = AuthBackend::new(self.auth.clone());
        let mut dcs = Vec::new();
        for (i, listener) in listeners.into_iter().enumerate() {
            let id = i as i32 + 1;
            let addr = listener.local_addr()?;
            let mut config =
                TestServerConfig::with_backend(keys.clone(), Arc::new(backend.clone()));
            config.dc = id;
            config.session = self.session.clone();
            config.limits = self.limits.clone();
            config.mtproxy_secret = self.mtproxy_secret.clone();
            let handle = TestServer::serve(listener, config);
            backend.add_dc(id, addr, Some(handle.link()));
            dcs.push(Dc { id, addr, handle });
        }
        for account in &self.accounts {
            backend
                .add_account(account)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
        let default_home = if self.dcs >= 2 { 2 } else { 1 };
        for (token, name, home) in &self.bots {
            backend
                .add_bot(token, name, home.unwrap_or(default_home))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
        Ok(TestDc {
            dcs,
            backend,
            key: keys.into_iter().next().expect("one key at least"),
        })
    }

    async fn bind(&self) -> io::Result<Vec<TcpListener>> {
        if let Some(base) = self.base_port {
            let mut listeners = Vec::new();
            for i in 0..self.dcs {
                let port = base.checked_add(i as u16).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidInput, "ports past 65535")
                })?;
                listeners.push(TcpListener::bind((self.host, port)).await?);
            }
            return Ok(listeners);
        }
        'attempt: for _ in 0..PORT_ATTEMPTS {
            let first = TcpListener::bind((self.host, 0)).await?;
            let base = first.local_addr()?.port();
            let mut listeners = vec![first];
            for i in 1..self.dcs {
                let Some(port) = base.checked_add(i as u16) else {
                    continue 'attempt;
                };
                match TcpListener::bind((self.host, port)).await {
                    Ok(listener) => listeners.push(listener),
                    Err(_) => continue 'attempt,
                }
            }
            return Ok(listeners);
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("no {} consecutive free ports found", self.dcs),
        ))
    }
}

struct Dc {
    id: i32,
    addr: SocketAddr,
    handle: TestServerHandle,
}

/// A running multi-DC test Telegram; dropping it stops every DC.
pub struct TestDc {
    dcs: Vec<Dc>,
    backend: AuthBackend,
    key: RsaPrivateKey,
}

impl std::fmt::Debug for TestDc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDc")
            .field(
                "dcs",
                &self.dcs.iter().map(|d| (d.id, d.addr)).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl TestDc {
    /// Starts configuring one.
    pub fn builder() -> TestDcBuilder {
        TestDcBuilder::default()
    }

    /// The address of DC `id` (1-based). Panics for a DC that does not exist.
    pub fn addr(&self, id: i32) -> SocketAddr {
        self.dc(id).addr
    }

    /// The server of DC `id` (knobs, stats). Panics for a DC that does not exist.
    pub fn server(&self, id: i32) -> &TestServerHandle {
        &self.dc(id).handle
    }

    fn dc(&self, id: i32) -> &Dc {
        self.dcs
            .iter()
            .find(|d| d.id == id)
            .unwrap_or_else(|| panic!("this test DC has no DC {id}"))
    }

    /// Every DC: (id, address).
    pub fn dcs(&self) -> Vec<(i32, SocketAddr)> {
        self.dcs.iter().map(|d| (d.id, d.addr)).collect()
    }

    /// The shared backend (accounts, codes, authorizations).
    pub fn backend(&self) -> &AuthBackend {
        &self.backend
    }

    /// The last login code sent to `phone`.
    pub fn last_code(&self, phone: &str) -> Option<String> {
        self.backend.last_code(phone)
    }

    /// The DCs' RSA public key as PKCS#1 PEM (what clients must trust).
    pub fn public_key_pem(&self) -> String {
        self.key.public_key().to_pkcs1_pem()
    }
}
