//! One TCP connection with its transport codec, and the client key exchange over it.

use mtproto_crypto::PrimeCache;
use mtproto_proto::handshake::client::{self, ClientConfig, DhGenStep};
use mtproto_proto::handshake::KeyExchangeOutcome;
use mtproto_proto::transport::{Codec, Frame, TransportConfig};
use rand::rngs::StdRng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::clock::Clock;
use crate::config::ConnectConfig;
use crate::error::NetError;

/// Bytes read from the socket at a time.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// A connected socket and the codec that frames it.
pub(crate) struct Link {
    pub(crate) stream: TcpStream,
    pub(crate) codec: Codec,
}

impl Link {
    /// Opens a TCP connection to the configured address and prepares the codec (the
    /// transport's opening bytes go out with the first packet).
    pub(crate) async fn open(config: &ConnectConfig, rng: &mut StdRng) -> Result<Self, NetError> {
        let stream = TcpStream::connect(config.addr)
            .await
            .map_err(|e| NetError::Connect {
                addr: config.addr,
                source: e.into(),
            })?;
        // MTProto packets are small and latency-bound.
        stream.set_nodelay(true).map_err(NetError::io)?;
        let transport_config = TransportConfig::for_client();
        let codec = if config.is_obfuscated() {
            Codec::client_obfuscated(
                config.transport,
                config.obfuscation_dc_id()?,
                config.mtproxy.as_ref(),
                transport_config,
                rng,
            )?
        } else {
            Codec::client(config.transport, transport_config)
        };
        Ok(Self { stream, codec })
    }

    /// Frames and writes one packet.
    async fn send(&mut self, packet: &[u8], rng: &mut StdRng) -> Result<(), NetError> {
        let mut out = Vec::with_capacity(packet.len() + 80);
        self.codec.encode(packet, rng, &mut out)?;
        self.stream.write_all(&out).await.map_err(NetError::io)
    }

    /// Reads until a whole packet arrives.
    async fn recv(&mut self) -> Result<Vec<u8>, NetError> {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            match self.codec.poll_frame()? {
                Some(Frame::Packet { payload, .. }) => return Ok(payload),
                Some(_) => continue,
                None => {}
            }
            let n = self.stream.read(&mut buf).await.map_err(NetError::io)?;
            if n == 0 {
                self.codec.handle_eof();
                self.codec.poll_frame()?;
                return Err(NetError::Eof);
            }
            self.codec.handle_input(&buf[..n]);
        }
    }

    /// Runs the client key exchange (`req_pq_multi` to `dh_gen_ok`) over this link.
    pub(crate) async fn key_exchange(
        &mut self,
        config: &ConnectConfig,
        rng: &mut StdRng,
        primes: &mut PrimeCache,
        clock: &Clock,
    ) -> Result<KeyExchangeOutcome, NetError> {
        let kex_config = ClientConfig {
            dc_id: config.dc_id,
            public_keys: config.public_keys.clone(),
            temp_key_expires_in: None,
            max_retries: config.max_kex_retries,
        };
        let (step, packet) = client::start(kex_config, clock.now(), rng);
        self.send(&packet, rng).await?;
        let answer = self.recv().await?;
        let (step, packet) = step.handle(&answer, clock.now(), rng)?;
        self.send(&packet, rng).await?;
        let answer = self.recv().await?;
        let (mut step, packet) = step.handle(&answer, clock.now(), rng, primes)?;
        self.send(&packet, rng).await?;
        loop {
            let answer = self.recv().await?;
            match step.handle(&answer, clock.now(), rng)? {
                DhGenStep::Done(outcome) => return Ok(outcome),
                DhGenStep::Retry(next, packet) => {
                    tracing::debug!("dh_gen_retry: sending a new g_b");
                    self.send(&packet, rng).await?;
                    step = *next;
                }
            }
        }
    }
}
