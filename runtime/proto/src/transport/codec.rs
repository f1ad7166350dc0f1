//! [`Codec`]: one end of a connection, composing detection, obfuscation and framing.

use std::fmt;

use rand_core::{CryptoRngCore, RngCore};

use super::detect::{detect, Detected};
use super::full::Full;
use super::obfuscated::{self, MtProxySecret, Streams, HEADER_LEN};
use super::{
    abridged, intermediate, padded_payload_len, DecodedKind, Frame, Role, Transport,
    TransportConfig, TransportError, TransportErrorCode, MAX_PADDING,
};

/// Received bytes kept allocated between frames; a larger buffer is released once drained.
const KEEP_CAPACITY: usize = 64 << 10;

/// One end of one MTProto transport connection (see the [module docs](super) for the
/// calling order).
///
/// Invariants: in the received buffer, every byte after the transport header has been
/// decrypted already when the connection is obfuscated; once [`Codec::poll_frame`] has
/// failed, it fails the same way forever.
pub struct Codec {
    role: Role,
    config: TransportConfig,
    /// `None` while a server has not yet seen enough bytes to detect the transport.
    framing: Option<Framing>,
    streams: Option<Streams>,
    /// Server role: the secret obfuscated clients must use.
    secret: Option<MtProxySecret>,
    dc_id: Option<i16>,
    /// Client role: opening bytes not yet sent.
    preamble: Vec<u8>,
    recv: Vec<u8>,
    /// `recv[read..]` is not yet consumed.
    read: usize,
    eof: bool,
    error: Option<TransportError>,
}

#[derive(Debug)]
enum Framing {
    Abridged,
    Intermediate,
    Padded,
    Full(Full),
}

impl Framing {
    fn new(transport: Transport) -> Self {
        match transport {
            Transport::Abridged => Self::Abridged,
            Transport::Intermediate => Self::Intermediate,
            Transport::PaddedIntermediate => Self::Padded,
            Transport::Full => Self::Full(Full::default()),
        }
    }

    fn transport(&self) -> Transport {
        match self {
            Self::Abridged => Transport::Abridged,
            Self::Intermediate => Transport::Intermediate,
            Self::Padded => Transport::PaddedIntermediate,
            Self::Full(_) => Transport::Full,
        }
    }

    /// The opening bytes a plain client sends.
    fn tag(&self) -> &'static [u8] {
        match self {
            Self::Abridged => &[0xef],
            Self::Intermediate => &[0xee; 4],
            Self::Padded => &[0xdd; 4],
            Self::Full(_) => &[],
        }
    }

    /// The transport's own payload limit.
    fn limit(&self) -> usize {
        match self {
            Self::Abridged => abridged::MAX_PAYLOAD,
            Self::Intermediate => intermediate::MAX_PAYLOAD,
            Self::Padded => intermediate::MAX_PAYLOAD - usize::from(MAX_PADDING),
            Self::Full(_) => super::full::MAX_PAYLOAD,
        }
    }
}

impl Codec {
    /// A client speaking `transport` in the clear. Its first [`Codec::encode`] output starts
    /// with the transport's tag.
    pub fn client(transport: Transport, config: TransportConfig) -> Self {
        let framing = Framing::new(transport);
        let preamble = framing.tag().to_vec();
        Self::new(Role::Client, config, Some(framing), preamble)
    }

    /// A client speaking `transport` inside obfuscated2, announcing `dc_id` (signed; negative
    /// for media DCs, +10000 for test DCs, as MTProxies expect), optionally through an
    /// MTProxy with `secret`. The 64-byte header is drawn from `rng` now and sent with the
    /// first [`Codec::encode`] output.
    ///
    /// Fails for [`Transport::Full`] ([`TransportError::CannotObfuscate`]), for a transport
    /// other than padded intermediate with a `dd` secret ([`TransportError::PaddingRequired`]),
    /// and when `rng` fails ([`TransportError::Randomness`]).
    pub fn client_obfuscated(
        transport: Transport,
        dc_id: i16,
        secret: Option<&MtProxySecret>,
        config: TransportConfig,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, TransportError> {
        if obfuscated::tag(transport).is_none() {
            return Err(TransportError::CannotObfuscate(transport));
        }
        if secret.is_some_and(MtProxySecret::requires_padding)
            && transport != Transport::PaddedIntermediate
        {
            return Err(TransportError::PaddingRequired);
        }
        let (header, streams) = obfuscated::client_header(rng, transport, dc_id, secret)?;
        let mut codec = Self::new(
            Role::Client,
            config,
            Some(Framing::new(transport)),
            header.to_vec(),
        );
        codec.streams = Some(streams);
        codec.dc_id = Some(dc_id);
        Ok(codec)
    }

    /// A server that detects the client's transport, plain or obfuscated2 (without an
    /// MTProxy secret).
    pub fn server(config: TransportConfig) -> Self {
        Self::new(Role::Server, config, None, Vec::new())
    }

    /// A server acting as an MTProxy endpoint: only obfuscated2 with `secret` is accepted
    /// (and only padded intermediate inside it, for a `dd` secret); plain transports are
    /// [`TransportError::UnknownTransport`].
    pub fn server_with_secret(config: TransportConfig, secret: MtProxySecret) -> Self {
        let mut codec = Self::server(config);
        codec.secret = Some(secret);
        codec
    }

    fn new(
        role: Role,
        config: TransportConfig,
        framing: Option<Framing>,
        preamble: Vec<u8>,
    ) -> Self {
        Self {
            role,
            config,
            framing,
            streams: None,
            secret: None,
            dc_id: None,
            preamble,
            recv: Vec::new(),
            read: 0,
            eof: false,
            error: None,
        }
    }

    /// This codec's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The framing in use; `None` for a server that has not detected it yet.
    pub fn transport(&self) -> Option<Transport> {
        self.framing.as_ref().map(Framing::transport)
    }

    /// Whether the connection is (or, for an undetected server, is known to be) obfuscated.
    pub fn is_obfuscated(&self) -> bool {
        self.streams.is_some()
    }

    /// The DC id of the obfuscation header: the one announced (client) or received (server).
    pub fn dc_id(&self) -> Option<i16> {
        self.dc_id
    }

    /// Received bytes not yet returned as frames.
    pub fn buffered_len(&self) -> usize {
        self.recv.len() - self.read
    }

    /// Appends to `out` the bytes that send one MTProto packet (and, on a client's first
    /// call, the opening bytes). `payload` must be a non-empty multiple of 4 bytes no longer
    /// than [`TransportConfig::max_frame_len`]. `rng` supplies padded intermediate's padding
    /// (other transports do not use it). On error nothing is written.
    pub fn encode(
        &mut self,
        payload: &[u8],
        rng: &mut impl RngCore,
        out: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        self.encode_packet(payload, false, rng, out)
    }

    /// Client role: like [`Codec::encode`], and asks the server for a quick ACK of this
    /// (encrypted) packet. Not available over `full`.
    pub fn encode_with_quick_ack(
        &mut self,
        payload: &[u8],
        rng: &mut impl RngCore,
        out: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        if self.role != Role::Client {
            return Err(TransportError::WrongRole(self.role));
        }
        if let Some(Framing::Full(_)) = self.framing {
            return Err(TransportError::QuickAckUnsupported(Transport::Full));
        }
        self.encode_packet(payload, true, rng, out)
    }

    /// Server role: appends a transport error (a 4-byte packet holding `code`, which should
    /// be negative for the client to recognise it). Servers close the connection after it.
    pub fn encode_transport_error(
        &mut self,
        code: TransportErrorCode,
        rng: &mut impl RngCore,
        out: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        if self.role != Role::Server {
            return Err(TransportError::WrongRole(self.role));
        }
        self.encode_packet(&code.code().to_le_bytes(), false, rng, out)
    }

    /// Server role: appends a quick-ACK token (its top bit is set on the wire whatever
    /// `token` holds). Not available over `full`.
    pub fn encode_quick_ack(
        &mut self,
        token: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        if self.role != Role::Server {
            return Err(TransportError::WrongRole(self.role));
        }
        let start = out.len();
        match self.framing.as_ref().ok_or(TransportError::NotDetected)? {
            Framing::Abridged => abridged::encode_quick_ack(token, out),
            Framing::Intermediate | Framing::Padded => intermediate::encode_quick_ack(token, out),
            Framing::Full(_) => return Err(TransportError::QuickAckUnsupported(Transport::Full)),
        }
        if let Some(streams) = &mut self.streams {
            streams.encrypt.apply(&mut out[start..]);
        }
        Ok(())
    }

    fn encode_packet(
        &mut self,
        payload: &[u8],
        quick_ack: bool,
        rng: &mut impl RngCore,
        out: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        let framing = self.framing.as_mut().ok_or(TransportError::NotDetected)?;
        let max = self.config.max_frame_len.min(framing.limit());
        if payload.is_empty() || payload.len() % 4 != 0 || payload.len() > max {
            return Err(TransportError::BadPayload {
                len: payload.len(),
                max,
            });
        }
        let mut padding = [0u8; MAX_PADDING as usize];
        let mut pad_len = 0;
        if let Framing::Padded = framing {
            let cap = usize::from(self.config.max_padding.min(MAX_PADDING))
                .min(self.config.max_frame_len - payload.len());
            pad_len = (rng.next_u32() as usize) % (cap + 1);
            rng.try_fill_bytes(&mut padding[..pad_len])
                .map_err(|_| TransportError::Randomness)?;
        }
        out.append(&mut self.preamble);
        let start = out.len();
        match framing {
            Framing::Abridged => abridged::encode(payload, quick_ack, out),
            Framing::Intermediate => intermediate::encode(payload, &[], quick_ack, out),
            Framing::Padded => intermediate::encode(payload, &padding[..pad_len], quick_ack, out),
            Framing::Full(full) => full.encode(payload, out),
        }
        if let Some(streams) = &mut self.streams {
            streams.encrypt.apply(&mut out[start..]);
        }
        Ok(())
    }

    /// Takes bytes received from the peer, split anywhere. Bytes after a decoding error or
    /// after [`Codec::handle_eof`] are ignored.
    pub fn handle_input(&mut self, data: &[u8]) {
        if self.error.is_some() || self.eof {
            return;
        }
        if self.read > 0 {
            self.recv.drain(..self.read);
            self.read = 0;
            if self.recv.is_empty() && self.recv.capacity() > KEEP_CAPACITY {
                self.recv.shrink_to(KEEP_CAPACITY);
            }
        }
        let from = self.recv.len();
        self.recv.extend_from_slice(data);
        if self.framing.is_some() {
            if let Some(streams) = &mut self.streams {
                streams.decrypt.apply(&mut self.recv[from..]);
            }
        }
    }

    /// Tells the codec the peer closed the stream: once the complete frames are polled,
    /// leftover bytes make [`Codec::poll_frame`] return [`TransportError::Truncated`].
    pub fn handle_eof(&mut self) {
        self.eof = true;
    }

    /// The next complete frame, or `Ok(None)` until more bytes arrive. In the client role a
    /// 4-byte packet holding a negative `int` is returned as [`TransportError::Server`]. Any
    /// error poisons the codec.
    pub fn poll_frame(&mut self) -> Result<Option<Frame>, TransportError> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        let result = self.poll_inner();
        if let Err(error) = &result {
            self.error = Some(error.clone());
        }
        result
    }

    fn poll_inner(&mut self) -> Result<Option<Frame>, TransportError> {
        if self.framing.is_none() && !self.detect()? {
            return self.nothing_complete();
        }
        let pending = &self.recv[self.read..];
        let max = self.config.max_frame_len;
        let decoded = match self.framing.as_mut().expect("detected") {
            Framing::Abridged => abridged::decode(pending, self.role, max),
            Framing::Intermediate => intermediate::decode(pending, self.role, false, max),
            Framing::Padded => intermediate::decode(pending, self.role, true, max),
            Framing::Full(full) => full.decode(pending, self.role, max),
        }?;
        let Some(decoded) = decoded else {
            return self.nothing_complete();
        };
        let frame = match decoded.kind {
            DecodedKind::QuickAck(token) => Frame::QuickAck(token),
            DecodedKind::Packet { payload, quick_ack } => {
                let mut payload = &pending[payload];
                if let Some(Framing::Padded) = self.framing {
                    let len = padded_payload_len(payload)
                        .ok_or(TransportError::BadPadding { len: payload.len() })?;
                    payload = &payload[..len];
                }
                if let (Role::Client, Ok(word)) = (self.role, <[u8; 4]>::try_from(payload)) {
                    let code = i32::from_le_bytes(word);
                    if code < 0 {
                        return Err(TransportError::Server(TransportErrorCode::from_code(code)));
                    }
                }
                Frame::Packet {
                    payload: payload.to_vec(),
                    quick_ack,
                }
            }
        };
        self.read += decoded.consumed;
        Ok(Some(frame))
    }

    /// `Ok(None)`, or [`TransportError::Truncated`] once the stream has ended.
    fn nothing_complete(&self) -> Result<Option<Frame>, TransportError> {
        let buffered = self.buffered_len();
        if self.eof && buffered > 0 {
            return Err(TransportError::Truncated { buffered });
        }
        Ok(None)
    }

    /// Server role: tries to detect the transport; `Ok(false)` if more bytes are needed.
    fn detect(&mut self) -> Result<bool, TransportError> {
        match detect(&self.recv[self.read..], self.secret.is_some())? {
            Detected::NeedMore => Ok(false),
            Detected::Plain { transport, tag_len } => {
                self.read += tag_len;
                self.framing = Some(Framing::new(transport));
                Ok(true)
            }
            Detected::Obfuscated => {
                let header: [u8; HEADER_LEN] = self.recv[self.read..self.read + HEADER_LEN]
                    .try_into()
                    .expect("detect waits for a whole header");
                let accepted = obfuscated::server_accept(&header, self.secret.as_ref())?;
                self.read += HEADER_LEN;
                let mut streams = accepted.streams;
                streams.decrypt.apply(&mut self.recv[self.read..]);
                self.streams = Some(streams);
                self.framing = Some(Framing::new(accepted.transport));
                self.dc_id = Some(accepted.dc_id);
                Ok(true)
            }
        }
    }
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codec")
            .field("role", &self.role)
            .field("transport", &self.transport())
            .field("obfuscated", &self.is_obfuscated())
            .field("dc_id", &self.dc_id)
            .field("buffered", &self.buffered_len())
            .field("eof", &self.eof)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}
