//! Helpers shared by the transport tests: codec pairs for every setup, MTProto-shaped
//! payloads, and delivery of a byte stream in chosen pieces.

#![allow(dead_code)]

use mtproto_proto::transport::{
    Codec, Frame, MtProxySecret, Transport, TransportConfig, TransportError,
};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// A 16-byte MTProxy secret used by the tests (arbitrary bytes).
pub const SECRET: [u8; 16] = *b"0123456789abcdef";

/// One way of connecting.
#[derive(Debug, Clone)]
pub enum Setup {
    /// A plain transport.
    Plain(Transport),
    /// obfuscated2 around `transport`, optionally with an MTProxy secret (16 or 17 bytes).
    Obfuscated {
        transport: Transport,
        dc_id: i16,
        secret: Option<Vec<u8>>,
    },
}

impl Setup {
    pub fn transport(&self) -> Transport {
        match self {
            Setup::Plain(t) | Setup::Obfuscated { transport: t, .. } => *t,
        }
    }

    pub fn padded(&self) -> bool {
        self.transport() == Transport::PaddedIntermediate
    }

    pub fn obfuscated(&self) -> bool {
        matches!(self, Setup::Obfuscated { .. })
    }
}

/// Every transport, plain and obfuscated, with and without MTProxy secrets.
pub fn all_setups() -> Vec<Setup> {
    let mut v: Vec<Setup> = [
        Transport::Abridged,
        Transport::Intermediate,
        Transport::PaddedIntermediate,
        Transport::Full,
    ]
    .into_iter()
    .map(Setup::Plain)
    .collect();
    for (transport, dc_id) in [
        (Transport::Abridged, 2),
        (Transport::Intermediate, -3),
        (Transport::PaddedIntermediate, 10002),
    ] {
        v.push(Setup::Obfuscated {
            transport,
            dc_id,
            secret: None,
        });
    }
    v.push(Setup::Obfuscated {
        transport: Transport::Intermediate,
        dc_id: 4,
        secret: Some(SECRET.to_vec()),
    });
    let mut dd = vec![0xdd];
    dd.extend_from_slice(&SECRET);
    v.push(Setup::Obfuscated {
        transport: Transport::PaddedIntermediate,
        dc_id: -5,
        secret: Some(dd),
    });
    v
}

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// A client and a server for `setup`; the client's obfuscation header comes from `seed`.
pub fn pair(setup: &Setup, seed: u64) -> (Codec, Codec) {
    pair_with(
        setup,
        seed,
        TransportConfig::for_client(),
        TransportConfig::for_server(),
    )
}

pub fn pair_with(
    setup: &Setup,
    seed: u64,
    client_config: TransportConfig,
    server_config: TransportConfig,
) -> (Codec, Codec) {
    match setup {
        Setup::Plain(t) => (
            Codec::client(*t, client_config),
            Codec::server(server_config),
        ),
        Setup::Obfuscated {
            transport,
            dc_id,
            secret,
        } => {
            let secret = secret
                .as_ref()
                .map(|s| MtProxySecret::from_bytes(s).unwrap());
            let client = Codec::client_obfuscated(
                *transport,
                *dc_id,
                secret.as_ref(),
                client_config,
                &mut rng(seed),
            )
            .unwrap();
            let server = match secret {
                Some(s) => Codec::server_with_secret(server_config, s),
                None => Codec::server(server_config),
            };
            (client, server)
        }
    }
}

/// A payload of `len` bytes. With `shaped`, it looks like an MTProto message so that padded
/// intermediate can find its end: encrypted (`auth_key_id != 0`, 24 + 16k bytes) when the
/// length allows, else unencrypted (`auth_key_id = 0`, msg_id, length, body; >= 20 bytes).
pub fn payload(len: usize, shaped: bool, rng: &mut impl RngCore) -> Vec<u8> {
    let mut p = vec![0u8; len];
    rng.fill_bytes(&mut p);
    if !shaped {
        if len == 4 {
            // A negative 4-byte payload from a server is a transport error.
            p[3] &= 0x7f;
        }
        return p;
    }
    if len >= 40 && (len - 24) % 16 == 0 {
        p[0] |= 1;
    } else {
        assert!(len >= 20, "no MTProto message is {len} bytes");
        p[..8].fill(0);
        p[16..20].copy_from_slice(&((len - 20) as u32).to_le_bytes());
    }
    p
}

/// Payload sizes for `setup`: the brief's list, minus the sizes no MTProto message has for
/// padded intermediate.
pub fn sizes(setup: &Setup, large: bool) -> Vec<usize> {
    let mut v = vec![
        4,
        8,
        12,
        16,
        20,
        24,
        32,
        40,
        48,
        64,
        256,
        1020,
        1024,
        4 * 126,
        4 * 127,
        4 * 128,
    ];
    if large {
        v.push(1 << 20);
    }
    if setup.padded() {
        v.retain(|&n| n >= 20);
    }
    v
}

/// Polls every complete frame.
pub fn drain(codec: &mut Codec) -> Result<Vec<Frame>, TransportError> {
    let mut frames = Vec::new();
    while let Some(frame) = codec.poll_frame()? {
        frames.push(frame);
    }
    Ok(frames)
}

/// Feeds `wire` cut at `cuts` (sorted offsets), polling after every piece.
pub fn deliver_cut(codec: &mut Codec, wire: &[u8], cuts: &[usize]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&wire.len())) {
        let cut = cut.clamp(at, wire.len());
        codec.handle_input(&wire[at..cut]);
        at = cut;
        frames.extend(drain(codec).unwrap());
    }
    codec.handle_eof();
    assert_eq!(
        codec.poll_frame(),
        Ok(None),
        "bytes left over after the last frame"
    );
    frames
}

pub fn deliver_whole(codec: &mut Codec, wire: &[u8]) -> Vec<Frame> {
    deliver_cut(codec, wire, &[])
}

pub fn deliver_bytewise(codec: &mut Codec, wire: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    for b in wire {
        codec.handle_input(std::slice::from_ref(b));
        if let Some(f) = codec.poll_frame().unwrap() {
            frames.push(f);
            frames.extend(drain(codec).unwrap());
        }
    }
    codec.handle_eof();
    assert_eq!(codec.poll_frame(), Ok(None));
    frames
}

pub fn packets(payloads: &[Vec<u8>]) -> Vec<Frame> {
    payloads
        .iter()
        .map(|p| Frame::Packet {
            payload: p.clone(),
            quick_ack: false,
        })
        .collect()
}

/// Random sorted cut points within `len`.
pub fn random_cuts(len: usize, count: usize, rng: &mut impl RngCore) -> Vec<usize> {
    let mut cuts: Vec<usize> = (0..count).map(|_| rng.gen_range(0..=len)).collect();
    cuts.sort_unstable();
    cuts
}
