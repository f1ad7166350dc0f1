//! `transport_client` and `transport_server`: the transport codecs in both roles.
//!
//! Input: a configuration byte, a chunk size, a frame limit, then the byte stream the peer
//! sends (see [`Config`]). The stream is fed in chunks of that size (any split must give the
//! same frames), every frame is polled, and the stream may end with an EOF.
//!
//! Checked: an error poisons the codec (polling again gives the same error), and the frames
//! that decoded survive a round trip: the matching peer re-encodes them for a fresh codec of
//! the same role and configuration, which decodes the same frames (padding and obfuscation
//! keystreams differ, the frames may not).

use ::mtproto_proto::transport::{
    Codec, Frame, MtProxySecret, Transport, TransportConfig, TransportError, DEFAULT_MAX_FRAME_LEN,
};
use ::rand_chacha::rand_core::SeedableRng;
use ::rand_chacha::ChaCha20Rng;

use super::input::{Input, Output};

/// The MTProxy secret of the harness (its key bytes).
pub const SECRET: [u8; 16] = *b"fuzz-mtproxy-key";
/// The DC id a client codec announces in its obfuscation header.
pub const DC_ID: i16 = 2;
/// Seed of the generator that draws obfuscation headers and padding.
const RNG_SEED: u64 = 0x7472_616e_7370;

/// A codec configuration, read from the first three input bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Client role: the framing (bits 0-1 of byte 0). A server detects it.
    pub transport: Transport,
    /// Client role: obfuscated2 (bit 2). Server role: an MTProxy endpoint with [`SECRET`].
    pub obfuscated: bool,
    /// Client role: through an MTProxy with [`SECRET`] (bit 3).
    pub secret: bool,
    /// The secret has the `0xdd` prefix: padded intermediate only (bit 4).
    pub padded_secret: bool,
    /// The stream ends with an EOF (bit 5).
    pub eof: bool,
    /// Bytes per `handle_input` call (byte 1); 0 feeds the whole stream at once.
    pub chunk: u8,
    /// `max_frame_len` in units of 16 bytes (byte 2); 0 is [`DEFAULT_MAX_FRAME_LEN`].
    pub max_frame: u8,
}

impl Config {
    /// Reads a configuration.
    pub fn read(input: &mut Input<'_>) -> Self {
        let flags = input.u8();
        Self {
            transport: [
                Transport::Abridged,
                Transport::Intermediate,
                Transport::PaddedIntermediate,
                Transport::Full,
            ][usize::from(flags & 3)],
            obfuscated: flags & 4 != 0,
            secret: flags & 8 != 0,
            padded_secret: flags & 16 != 0,
            eof: flags & 32 != 0,
            chunk: input.u8(),
            max_frame: input.u8(),
        }
    }

    /// Writes the configuration (for seeds).
    pub fn write(&self, out: &mut Output) {
        let transport = match self.transport {
            Transport::Abridged => 0,
            Transport::Intermediate => 1,
            Transport::PaddedIntermediate => 2,
            _ => 3,
        };
        let flags = transport
            | u8::from(self.obfuscated) << 2
            | u8::from(self.secret) << 3
            | u8::from(self.padded_secret) << 4
            | u8::from(self.eof) << 5;
        out.u8(flags).u8(self.chunk).u8(self.max_frame);
    }

    fn transport_config(&self, server: bool) -> TransportConfig {
        let mut config = if server {
            TransportConfig::for_server()
        } else {
            TransportConfig::for_client()
        };
        if self.max_frame != 0 {
            config.max_frame_len = usize::from(self.max_frame) * 16;
        } else {
            config.max_frame_len = DEFAULT_MAX_FRAME_LEN;
        }
        config
    }

    fn secret(&self) -> MtProxySecret {
        let mut bytes = vec![0xdd];
        bytes.extend_from_slice(&SECRET);
        let from = usize::from(!self.padded_secret);
        MtProxySecret::from_bytes(&bytes[from..]).expect("the harness secret is valid")
    }

    /// The client codec of this configuration (`None` for combinations a client refuses,
    /// such as obfuscated `full`), with its generator in a fixed state.
    pub fn client(&self) -> Option<Codec> {
        let config = self.transport_config(false);
        if !self.obfuscated {
            return Some(Codec::client(self.transport, config));
        }
        let secret = self.secret.then(|| self.secret());
        let mut rng = ChaCha20Rng::seed_from_u64(RNG_SEED);
        Codec::client_obfuscated(self.transport, DC_ID, secret.as_ref(), config, &mut rng).ok()
    }

    /// The server a client of this configuration talks to: an MTProxy endpoint when the
    /// client goes through one, else a server that detects the transport.
    pub fn server_for_client(&self) -> Codec {
        let config = self.transport_config(true);
        if self.obfuscated && self.secret {
            Codec::server_with_secret(config, self.secret())
        } else {
            Codec::server(config)
        }
    }

    /// The server codec of this configuration.
    pub fn server(&self) -> Codec {
        let config = self.transport_config(true);
        if self.obfuscated {
            Codec::server_with_secret(config, self.secret())
        } else {
            Codec::server(config)
        }
    }
}

/// The `transport_client` entry point: a client codec reads what a server sent.
pub fn client(data: &[u8]) {
    let mut input = Input::new(data);
    let config = Config::read(&mut input);
    let Some(mut codec) = config.client() else {
        return;
    };
    let frames = feed(&mut codec, &config, input.rest());
    client_round_trip(&config, &frames);
}

/// The `transport_server` entry point: a server codec reads what a client sent.
pub fn server(data: &[u8]) {
    let mut input = Input::new(data);
    let config = Config::read(&mut input);
    let mut codec = config.server();
    let frames = feed(&mut codec, &config, input.rest());
    server_round_trip(&config, &codec, &frames);
}

/// Feeds `stream` in chunks, polling after each; returns the frames decoded before the first
/// error (after checking that the error sticks).
fn feed(codec: &mut Codec, config: &Config, stream: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let chunk = match config.chunk {
        0 => stream.len().max(1),
        n => usize::from(n),
    };
    for piece in stream.chunks(chunk) {
        codec.handle_input(piece);
        if let Err(error) = poll_all(codec, &mut frames) {
            assert_poisoned(codec, &error);
            return frames;
        }
    }
    if config.eof {
        codec.handle_eof();
        if let Err(error) = poll_all(codec, &mut frames) {
            assert_poisoned(codec, &error);
        }
    }
    frames
}

fn poll_all(codec: &mut Codec, frames: &mut Vec<Frame>) -> Result<(), TransportError> {
    while let Some(frame) = codec.poll_frame()? {
        frames.push(frame);
    }
    Ok(())
}

fn assert_poisoned(codec: &mut Codec, error: &TransportError) {
    let _ = format!("{error} {error:?} {codec:?}");
    assert_eq!(
        codec.poll_frame().as_ref(),
        Err(error),
        "a decoding error must poison the codec"
    );
    codec.handle_input(&[0; 64]);
    assert_eq!(
        codec.poll_frame().as_ref(),
        Err(error),
        "input after an error is ignored"
    );
}

/// A server re-encodes the frames a client decoded; a fresh client must decode the same.
fn client_round_trip(config: &Config, frames: &[Frame]) {
    let Some(mut client) = config.client() else {
        return;
    };
    let mut server = config.server_for_client();
    let mut rng = ChaCha20Rng::seed_from_u64(RNG_SEED);
    let mut wire = Vec::new();
    // An unencrypted message with a 20-byte body: a packet every framing carries (padded
    // intermediate tells padding from payload by the packet's shape).
    let opening = ::mtproto_proto::plain::wrap(4, &[0; 20]);
    if client.encode(&opening, &mut rng, &mut wire).is_err() {
        // A frame limit below 40 bytes.
        return;
    }
    server.handle_input(&wire);
    assert!(
        matches!(server.poll_frame(), Ok(Some(Frame::Packet { .. }))),
        "our server reads our client's first packet ({config:?})"
    );
    let mut wire = Vec::new();
    let mut sent = 0;
    for frame in frames {
        let encoded = match frame {
            Frame::Packet { payload, .. } => server.encode(payload, &mut rng, &mut wire),
            Frame::QuickAck(token) => server.encode_quick_ack(*token, &mut wire),
            _ => break,
        };
        if encoded.is_err() {
            // Not every received frame can be sent (a padded payload of odd length).
            break;
        }
        sent += 1;
    }
    client.handle_input(&wire);
    let mut again = Vec::new();
    poll_all(&mut client, &mut again).unwrap_or_else(|e| {
        panic!("re-encoded server frames fail to decode: {e} ({config:?})");
    });
    assert_eq!(
        again,
        frames[..sent],
        "client frames change in a round trip ({config:?})"
    );
}

/// A client re-encodes the frames a server decoded; a fresh server must decode the same.
fn server_round_trip(config: &Config, codec: &Codec, frames: &[Frame]) {
    let Some(transport) = codec.transport() else {
        return;
    };
    let peer = Config {
        transport,
        obfuscated: codec.is_obfuscated(),
        secret: config.obfuscated,
        ..*config
    };
    let Some(mut client) = peer.client() else {
        return;
    };
    let mut server = config.server();
    let mut rng = ChaCha20Rng::seed_from_u64(RNG_SEED);
    let mut wire = Vec::new();
    let mut sent = 0;
    for frame in frames {
        let encoded = match frame {
            Frame::Packet {
                payload,
                quick_ack: true,
            } => client.encode_with_quick_ack(payload, &mut rng, &mut wire),
            Frame::Packet { payload, .. } => client.encode(payload, &mut rng, &mut wire),
            _ => break,
        };
        if encoded.is_err() {
            break;
        }
        sent += 1;
    }
    server.handle_input(&wire);
    let mut again = Vec::new();
    poll_all(&mut server, &mut again).unwrap_or_else(|e| {
        panic!("re-encoded client frames fail to decode: {e} ({config:?}, {transport:?})");
    });
    assert_eq!(
        again,
        frames[..sent],
        "server frames change in a round trip ({config:?})"
    );
}
