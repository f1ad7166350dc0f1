//! Transport codecs: round trips for every transport in both roles, known byte layouts, and
//! the failure cases (bad CRC, bad seq, truncation, oversize, wrong tags, transport errors,
//! unknown protocols).

mod transport_util;

use mtproto_proto::transport::{
    padded_payload_len, Codec, Frame, MtProxySecret, Role, Transport, TransportConfig,
    TransportError, TransportErrorCode, DEFAULT_MAX_FRAME_LEN,
};
use rand::RngCore;
use transport_util::*;

/// Sends `sizes` both ways over `setup`, delivering with `deliver`.
fn both_ways(
    setup: &Setup,
    sizes: &[usize],
    seed: u64,
    deliver: &mut dyn FnMut(&mut Codec, &[u8]) -> Vec<Frame>,
) {
    let mut r = rng(seed);
    let (mut client, mut server) = pair(setup, seed);
    let up: Vec<Vec<u8>> = sizes
        .iter()
        .map(|&n| payload(n, setup.padded(), &mut r))
        .collect();
    let mut wire = Vec::new();
    for p in &up {
        client.encode(p, &mut r, &mut wire).unwrap();
    }
    assert_eq!(
        deliver(&mut server, &wire),
        packets(&up),
        "{setup:?} client to server"
    );
    assert_eq!(server.transport(), Some(setup.transport()));
    assert_eq!(server.is_obfuscated(), setup.obfuscated());
    if let Setup::Obfuscated { dc_id, .. } = setup {
        assert_eq!(server.dc_id(), Some(*dc_id));
    }
    let down: Vec<Vec<u8>> = sizes
        .iter()
        .rev()
        .map(|&n| payload(n, setup.padded(), &mut r))
        .collect();
    wire.clear();
    for p in &down {
        server.encode(p, &mut r, &mut wire).unwrap();
    }
    assert_eq!(
        deliver(&mut client, &wire),
        packets(&down),
        "{setup:?} server to client"
    );
}

#[test]
fn round_trip_whole_chunks() {
    for (i, setup) in all_setups().iter().enumerate() {
        both_ways(setup, &sizes(setup, true), i as u64, &mut |c, w| {
            deliver_whole(c, w)
        });
    }
}

#[test]
fn round_trip_byte_by_byte() {
    for (i, setup) in all_setups().iter().enumerate() {
        both_ways(setup, &sizes(setup, false), 100 + i as u64, &mut |c, w| {
            deliver_bytewise(c, w)
        });
    }
}

#[test]
fn round_trip_large_byte_by_byte() {
    for setup in [
        Setup::Plain(Transport::Full),
        Setup::Obfuscated {
            transport: Transport::PaddedIntermediate,
            dc_id: 1,
            secret: None,
        },
    ] {
        both_ways(&setup, &[1 << 20], 7, &mut |c, w| deliver_bytewise(c, w));
    }
}

/// Every split point of a stream of several frames, both directions, every setup.
#[test]
fn round_trip_every_split_point() {
    for (i, setup) in all_setups().iter().enumerate() {
        let sizes: &[usize] = if setup.padded() {
            &[20, 40, 508, 24]
        } else {
            &[4, 40, 508, 12]
        };
        let mut len = 0;
        let mut cut = 0;
        while cut <= len {
            both_ways(setup, sizes, 200 + i as u64, &mut |c, w| {
                len = len.max(w.len());
                deliver_cut(c, w, &[cut])
            });
            cut += 1;
        }
        assert!(len > 500);
    }
}

#[test]
fn abridged_layout() {
    let mut r = rng(1);
    let mut client = Codec::client(Transport::Abridged, TransportConfig::for_client());
    let mut out = Vec::new();
    client
        .encode(&[1, 2, 3, 4, 5, 6, 7, 8], &mut r, &mut out)
        .unwrap();
    assert_eq!(
        out,
        [0xef, 0x02, 1, 2, 3, 4, 5, 6, 7, 8],
        "tag once, then len/4"
    );
    for (len, header) in [
        (4 * 126, vec![0x7e]),
        (4 * 127, vec![0x7f, 0x7f, 0x00, 0x00]),
        (4 * 128, vec![0x7f, 0x80, 0x00, 0x00]),
        (4 * 0x012345, vec![0x7f, 0x45, 0x23, 0x01]),
    ] {
        let payload = vec![0x5a; len];
        out.clear();
        client.encode(&payload, &mut r, &mut out).unwrap();
        assert_eq!(out[..header.len()], header[..], "{len}");
        assert_eq!(out[header.len()..], payload[..]);
    }
    // Quick ACK requests set the top bit of the first byte.
    out.clear();
    client
        .encode_with_quick_ack(&[0; 8], &mut r, &mut out)
        .unwrap();
    assert_eq!(out[0], 0x82);
    out.clear();
    client
        .encode_with_quick_ack(&[0; 4 * 127], &mut r, &mut out)
        .unwrap();
    assert_eq!(out[..4], [0xff, 0x7f, 0, 0]);
}

#[test]
fn intermediate_layout() {
    let mut r = rng(2);
    let mut client = Codec::client(Transport::Intermediate, TransportConfig::for_client());
    let mut out = Vec::new();
    client.encode(&[9; 8], &mut r, &mut out).unwrap();
    assert_eq!(
        out,
        [0xee, 0xee, 0xee, 0xee, 8, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9]
    );
    out.clear();
    client.encode(&[1; 0x104], &mut r, &mut out).unwrap();
    assert_eq!(out[..4], [0x04, 0x01, 0, 0]);
    out.clear();
    client
        .encode_with_quick_ack(&[1; 8], &mut r, &mut out)
        .unwrap();
    assert_eq!(out[..4], [8, 0, 0, 0x80]);
}

#[test]
fn padded_layout_and_caps() {
    let mut r = rng(3);
    let payload = payload(64, true, &mut r);
    for (config, cap) in [
        (TransportConfig::for_client(), 15),
        (TransportConfig::for_server(), 3),
        (
            TransportConfig {
                max_padding: 200,
                ..TransportConfig::for_client()
            },
            15,
        ),
        (
            TransportConfig {
                max_padding: 0,
                ..TransportConfig::for_client()
            },
            0,
        ),
    ] {
        let mut client = Codec::client(Transport::PaddedIntermediate, config);
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..400 {
            let mut out = Vec::new();
            client.encode(&payload, &mut r, &mut out).unwrap();
            let body = if i == 0 {
                assert_eq!(out[..4], [0xdd; 4]);
                &out[4..]
            } else {
                &out[..]
            };
            let len = u32::from_le_bytes(body[..4].try_into().unwrap()) as usize;
            assert_eq!(len, body.len() - 4);
            assert_eq!(body[4..4 + 64], payload[..]);
            seen.insert(len - 64);
        }
        assert_eq!(
            seen,
            (0..=cap).collect(),
            "every padding length 0..={cap} occurs"
        );
    }
}

/// The CRC32 below is independent of crc32fast: computed with CPython's `zlib.crc32` over
/// `struct.pack('<ii', 28, seq) + bytes(range(16))`, giving 0x45d4be21 (seq 0) and
/// 0x20b38567 (seq 1).
#[test]
fn full_layout_matches_zlib_crc32() {
    let mut r = rng(4);
    let payload: Vec<u8> = (0..16).collect();
    let mut client = Codec::client(Transport::Full, TransportConfig::for_client());
    let mut out = Vec::new();
    client.encode(&payload, &mut r, &mut out).unwrap();
    assert_eq!(
        hex::encode(&out),
        "1c00000000000000000102030405060708090a0b0c0d0e0f21bed445"
    );
    out.clear();
    client.encode(&payload, &mut r, &mut out).unwrap();
    assert_eq!(
        hex::encode(&out),
        "1c00000001000000000102030405060708090a0b0c0d0e0f6785b320"
    );
    // The server reads both and rejects a third copy of seq 1.
    let mut server = Codec::server(TransportConfig::for_server());
    let wire = hex::decode(
        "1c00000000000000000102030405060708090a0b0c0d0e0f21bed445\
         1c00000001000000000102030405060708090a0b0c0d0e0f6785b320",
    )
    .unwrap();
    server.handle_input(&wire);
    assert_eq!(
        drain(&mut server).unwrap(),
        packets(&[payload.clone(), payload])
    );
    server.handle_input(&wire[28..]);
    assert_eq!(
        server.poll_frame(),
        Err(TransportError::BadSeq {
            expected: 2,
            got: 1
        })
    );
}

#[test]
fn full_bad_crc_poisons() {
    let mut r = rng(5);
    let mut client = Codec::client(Transport::Full, TransportConfig::for_client());
    let mut wire = Vec::new();
    client.encode(&[7; 32], &mut r, &mut wire).unwrap();
    client.encode(&[8; 32], &mut r, &mut wire).unwrap();
    wire[20] ^= 1;
    let mut server = Codec::server(TransportConfig::for_server());
    server.handle_input(&wire);
    let err = server.poll_frame().unwrap_err();
    let TransportError::BadCrc { expected, got } = err else {
        panic!("{err:?}")
    };
    assert_ne!(expected, got);
    // Poisoned: the next (valid) frame is not returned, the error repeats.
    assert_eq!(server.poll_frame(), Err(err.clone()));
    server.handle_input(&[0; 8]);
    assert_eq!(server.poll_frame(), Err(err));
}

#[test]
fn full_bad_seq_from_server() {
    let mut r = rng(6);
    let (mut client, mut server) = pair(&Setup::Plain(Transport::Full), 6);
    let mut wire = Vec::new();
    client.encode(&[1; 16], &mut r, &mut wire).unwrap();
    server.handle_input(&wire);
    drain(&mut server).unwrap();
    let mut first = Vec::new();
    server.encode(&[2; 16], &mut r, &mut first).unwrap();
    let mut second = Vec::new();
    server.encode(&[3; 16], &mut r, &mut second).unwrap();
    // The client skips frame 0 and sees frame 1.
    client.handle_input(&second);
    assert_eq!(
        client.poll_frame(),
        Err(TransportError::BadSeq {
            expected: 0,
            got: 1
        })
    );
}

#[test]
fn truncated_frames_wait_then_fail_at_eof() {
    for (i, setup) in all_setups().iter().enumerate() {
        let mut r = rng(300 + i as u64);
        let (mut client, mut server) = pair(setup, 300 + i as u64);
        let p = payload(520, setup.padded(), &mut r);
        let mut wire = Vec::new();
        client.encode(&p, &mut r, &mut wire).unwrap();
        for keep in [1, wire.len() / 2, wire.len() - 1] {
            let (_, mut server) = pair(setup, 300 + i as u64);
            server.handle_input(&wire[..keep]);
            assert_eq!(server.poll_frame(), Ok(None), "{setup:?} {keep}");
            server.handle_eof();
            let buffered = keep - consumed_header(setup, keep);
            let expected = match buffered {
                0 => Ok(None),
                _ => Err(TransportError::Truncated { buffered }),
            };
            assert_eq!(server.poll_frame(), expected, "{setup:?} {keep}");
        }
        server.handle_input(&wire);
        server.handle_eof();
        assert_eq!(drain(&mut server).unwrap(), packets(&[p]));
    }
}

/// Bytes of the transport header a server has consumed after seeing `keep` bytes.
fn consumed_header(setup: &Setup, keep: usize) -> usize {
    match setup {
        Setup::Plain(Transport::Abridged) => 1,
        Setup::Plain(Transport::Intermediate | Transport::PaddedIntermediate) if keep >= 4 => 4,
        Setup::Obfuscated { .. } if keep >= 64 => 64,
        _ => 0,
    }
}

#[test]
fn oversize_lengths_fail_on_the_header() {
    let config = TransportConfig {
        max_frame_len: 1024,
        ..TransportConfig::for_server()
    };
    let cases: [(&[u8], u64); 5] = [
        (&[0xef, 0x7f, 0xff, 0xff, 0xff], 0xff_ffff * 4),
        (&[0xef, 0x7f, 0x01, 0x01, 0x00], 0x101 * 4),
        (&[0xee, 0xee, 0xee, 0xee, 0x04, 0x04, 0x00, 0x00], 0x404),
        (
            &[0xdd, 0xdd, 0xdd, 0xdd, 0xff, 0xff, 0xff, 0x7f],
            0x7fff_ffff,
        ),
        (&[0x10, 0x04, 0x00, 0x00, 0, 0, 0, 0], 0x410 - 12),
    ];
    for (wire, len) in cases {
        let mut server = Codec::server(config.clone());
        server.handle_input(wire);
        assert_eq!(
            server.poll_frame(),
            Err(TransportError::FrameTooLarge { len, max: 1024 }),
            "{wire:02x?}"
        );
    }
    // The default limit.
    let mut server = Codec::server(TransportConfig::for_server());
    server.handle_input(&[0xee, 0xee, 0xee, 0xee, 0x04, 0x00, 0x40, 0x00]);
    assert_eq!(
        server.poll_frame(),
        Err(TransportError::FrameTooLarge {
            len: 0x40_0004,
            max: DEFAULT_MAX_FRAME_LEN
        })
    );
    // A frame of exactly the limit passes.
    let (mut client, mut server) = pair_with(
        &Setup::Plain(Transport::Intermediate),
        0,
        config.clone(),
        config,
    );
    let mut wire = Vec::new();
    client.encode(&[3; 1024], &mut rng(0), &mut wire).unwrap();
    assert_eq!(deliver_whole(&mut server, &wire), packets(&[vec![3; 1024]]));
}

#[test]
fn oversize_lengths_fail_on_the_header_in_the_client_role() {
    // The frames a client reads have no opening tag, and a top bit there means a quick ACK:
    // the same limit must still hold on the header alone, before any body arrives.
    let config = TransportConfig {
        max_frame_len: 1024,
        ..TransportConfig::for_client()
    };
    let cases: [(Transport, &[u8], u64); 7] = [
        (Transport::Abridged, &[0x7f, 0x01, 0x01, 0x00], 0x101 * 4),
        (
            Transport::Abridged,
            &[0x7f, 0xff, 0xff, 0xff],
            0xff_ffff * 4,
        ),
        (Transport::Intermediate, &[0x04, 0x04, 0x00, 0x00], 0x404),
        (
            Transport::Intermediate,
            &[0xfc, 0xff, 0xff, 0x7f],
            0x7fff_fffc,
        ),
        (
            Transport::PaddedIntermediate,
            &[0x01, 0x04, 0x00, 0x00],
            0x401,
        ),
        (Transport::Full, &[0x10, 0x04, 0x00, 0x00], 0x410 - 12),
        (Transport::Full, &[0xfc, 0xff, 0xff, 0x7f], 0x7fff_fffc - 12),
    ];
    for (transport, wire, len) in cases {
        let mut client = Codec::client(transport, config.clone());
        client.handle_input(wire);
        let expected = Err(TransportError::FrameTooLarge { len, max: 1024 });
        assert_eq!(client.poll_frame(), expected, "{transport:?} {wire:02x?}");
        // Poisoned: a body arriving later changes nothing.
        client.handle_input(&[0; 64]);
        assert_eq!(client.poll_frame(), expected, "{transport:?} {wire:02x?}");
    }
    // From a real server encoder, in every setup (obfuscated ones included): the server may
    // send 2048 bytes, the client accepts 1024; a 1032-byte packet is refused as soon as the
    // client has its first 4 bytes.
    for (i, setup) in all_setups().iter().enumerate() {
        let seed = 700 + i as u64;
        let mut r = rng(seed);
        let server_config = TransportConfig {
            max_frame_len: 2048,
            ..TransportConfig::for_server()
        };
        let (mut client, mut server) = pair_with(setup, seed, config.clone(), server_config);
        let mut wire = Vec::new();
        client
            .encode(&payload(40, setup.padded(), &mut r), &mut r, &mut wire)
            .unwrap();
        server.handle_input(&wire);
        drain(&mut server).unwrap();
        wire.clear();
        server
            .encode(&payload(1032, setup.padded(), &mut r), &mut r, &mut wire)
            .unwrap();
        client.handle_input(&wire[..4]);
        let err = client.poll_frame().unwrap_err();
        let TransportError::FrameTooLarge { len, max: 1024 } = err else {
            panic!("{setup:?}: {err:?}")
        };
        // Padded intermediate counts the server's 0-3 padding bytes.
        let padding = if setup.padded() { 0..=3 } else { 0..=0 };
        assert!(padding.contains(&(len - 1032)), "{setup:?}: {len}");
    }
}

#[test]
fn malformed_lengths() {
    let cases: [&[u8]; 6] = [
        &[0xef, 0x00],                            // abridged zero
        &[0xef, 0x7f, 0x00, 0x00, 0x00],          // abridged long zero
        &[0xee, 0xee, 0xee, 0xee, 0x06, 0, 0, 0], // intermediate not a multiple of 4
        &[0xdd, 0xdd, 0xdd, 0xdd, 0x00, 0, 0, 0], // padded zero
        &[0x0c, 0, 0, 0, 0, 0, 0, 0],             // full shorter than 16
        &[0x1e, 0, 0, 0, 0, 0, 0, 0],             // full not a multiple of 4
    ];
    for wire in cases {
        let mut server = Codec::server(TransportConfig::for_server());
        server.handle_input(wire);
        let err = server.poll_frame().unwrap_err();
        assert!(
            matches!(err, TransportError::BadLength { .. }),
            "{wire:02x?}: {err:?}"
        );
    }
}

#[test]
fn unknown_first_bytes() {
    let cases: [&[u8]; 6] = [
        b"GET / HTTP/1.1\r\n",
        b"POST /api HTTP/1.1\r\n",
        b"HEAD / HTTP/1.1\r\n",
        b"OPTIONS * HTTP/1.1\r\n",
        &[
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ],
        b"PVrG....",
    ];
    for wire in cases {
        let mut server = Codec::server(TransportConfig::for_server());
        server.handle_input(wire);
        assert_eq!(
            server.poll_frame(),
            Err(TransportError::UnknownTransport),
            "{wire:02x?}"
        );
        assert_eq!(server.transport(), None);
    }
    // Random bytes that look like none of the plain transports are taken for an obfuscated
    // header, whose tag then does not decrypt to a known value.
    let mut server = Codec::server(TransportConfig::for_server());
    let junk: Vec<u8> = (1..=64).collect();
    server.handle_input(&junk[..63]);
    assert_eq!(server.poll_frame(), Ok(None));
    server.handle_input(&junk[63..]);
    assert!(matches!(
        server.poll_frame(),
        Err(TransportError::BadObfuscationTag(_))
    ));
    // With an MTProxy secret, plain transports are refused.
    for wire in [
        &[0xef, 0x01, 0, 0, 0, 0][..],
        &[0xee; 8],
        &[0xdd; 8],
        &[16, 0, 0, 0, 0, 0, 0, 0],
    ] {
        let mut server = Codec::server_with_secret(
            TransportConfig::for_server(),
            MtProxySecret::from_bytes(&SECRET).unwrap(),
        );
        server.handle_input(wire);
        assert_eq!(
            server.poll_frame(),
            Err(TransportError::UnknownTransport),
            "{wire:02x?}"
        );
    }
}

#[test]
fn wrong_obfuscation_tag_or_secret() {
    let mut r = rng(8);
    let mut client = Codec::client_obfuscated(
        Transport::Intermediate,
        2,
        None,
        TransportConfig::for_client(),
        &mut rng(8),
    )
    .unwrap();
    let mut wire = Vec::new();
    client.encode(&[1; 32], &mut r, &mut wire).unwrap();
    // Flip one bit of the encrypted tag: the server decrypts 0xeeeeeeef.
    let mut bad = wire.clone();
    bad[56] ^= 1;
    let mut server = Codec::server(TransportConfig::for_server());
    server.handle_input(&bad);
    assert_eq!(
        server.poll_frame(),
        Err(TransportError::BadObfuscationTag(0xeeee_eeef))
    );
    assert_eq!(
        server.poll_frame(),
        Err(TransportError::BadObfuscationTag(0xeeee_eeef))
    );
    // A server expecting a secret cannot read a secretless client, and vice versa.
    let mut server = Codec::server_with_secret(
        TransportConfig::for_server(),
        MtProxySecret::from_bytes(&SECRET).unwrap(),
    );
    server.handle_input(&wire);
    assert!(matches!(
        server.poll_frame(),
        Err(TransportError::BadObfuscationTag(_))
    ));
    let secret = MtProxySecret::from_bytes(&SECRET).unwrap();
    let mut client = Codec::client_obfuscated(
        Transport::Abridged,
        2,
        Some(&secret),
        TransportConfig::for_client(),
        &mut rng(9),
    )
    .unwrap();
    wire.clear();
    client.encode(&[1; 32], &mut r, &mut wire).unwrap();
    let mut server = Codec::server(TransportConfig::for_server());
    server.handle_input(&wire);
    assert!(matches!(
        server.poll_frame(),
        Err(TransportError::BadObfuscationTag(_))
    ));
    let mut other = SECRET;
    other[15] ^= 1;
    let mut server = Codec::server_with_secret(
        TransportConfig::for_server(),
        MtProxySecret::from_bytes(&other).unwrap(),
    );
    server.handle_input(&wire);
    assert!(matches!(
        server.poll_frame(),
        Err(TransportError::BadObfuscationTag(_))
    ));
}

#[test]
fn dd_secret_requires_padding() {
    let mut dd = vec![0xdd];
    dd.extend_from_slice(&SECRET);
    let dd = MtProxySecret::from_bytes(&dd).unwrap();
    assert!(dd.requires_padding());
    assert_eq!(dd.key(), &SECRET);
    assert_eq!(
        Codec::client_obfuscated(
            Transport::Abridged,
            1,
            Some(&dd),
            TransportConfig::for_client(),
            &mut rng(1)
        )
        .unwrap_err(),
        TransportError::PaddingRequired
    );
    // A client using the bare 16 bytes with intermediate reaches a dd server: refused.
    let plain = MtProxySecret::from_bytes(&SECRET).unwrap();
    assert!(!plain.requires_padding());
    let mut client = Codec::client_obfuscated(
        Transport::Intermediate,
        1,
        Some(&plain),
        TransportConfig::for_client(),
        &mut rng(1),
    )
    .unwrap();
    let mut wire = Vec::new();
    client.encode(&[0; 8], &mut rng(1), &mut wire).unwrap();
    let mut server = Codec::server_with_secret(TransportConfig::for_server(), dd);
    server.handle_input(&wire);
    assert_eq!(server.poll_frame(), Err(TransportError::PaddingRequired));
}

#[test]
fn secret_parsing() {
    for bad in [&[0u8; 15][..], &[0; 18], &[0; 17], &[0xee; 17], &[]] {
        assert_eq!(
            MtProxySecret::from_bytes(bad),
            Err(TransportError::BadSecret { len: bad.len() })
        );
    }
    let secret = MtProxySecret::from_bytes(&SECRET).unwrap();
    assert!(!format!("{secret:?}").contains("0123"));
    assert!(format!("{secret:?}").contains("redacted"));
}

#[test]
fn transport_errors_are_typed() {
    for (i, setup) in all_setups().iter().enumerate() {
        for code in [
            TransportErrorCode::NoSuchKey,
            TransportErrorCode::Flood,
            TransportErrorCode::BadDc,
            TransportErrorCode::Other(-1),
        ] {
            let mut r = rng(400 + i as u64);
            let (mut client, mut server) = pair(setup, 400 + i as u64);
            let mut wire = Vec::new();
            client
                .encode(&payload(40, true, &mut r), &mut r, &mut wire)
                .unwrap();
            server.handle_input(&wire);
            assert_eq!(drain(&mut server).unwrap().len(), 1);
            wire.clear();
            server
                .encode_transport_error(code, &mut r, &mut wire)
                .unwrap();
            client.handle_input(&wire);
            assert_eq!(
                client.poll_frame(),
                Err(TransportError::Server(code)),
                "{setup:?}"
            );
            assert_eq!(
                client.poll_frame(),
                Err(TransportError::Server(code)),
                "poisoned"
            );
        }
    }
    assert_eq!(
        TransportErrorCode::from_code(-404),
        TransportErrorCode::NoSuchKey
    );
    assert_eq!(
        TransportErrorCode::from_code(-429),
        TransportErrorCode::Flood
    );
    assert_eq!(
        TransportErrorCode::from_code(-444),
        TransportErrorCode::BadDc
    );
    assert_eq!(
        TransportErrorCode::from_code(-500),
        TransportErrorCode::Other(-500)
    );
    assert_eq!(TransportErrorCode::Other(-500).code(), -500);
    assert_eq!(TransportErrorCode::Flood.to_string(), "-429 (flood)");
}

#[test]
fn transport_error_raw_bytes() {
    // Abridged: length 1 word, then -404.
    let mut client = Codec::client(Transport::Abridged, TransportConfig::for_client());
    client.handle_input(&[0x01, 0x6c, 0xfe, 0xff, 0xff]);
    assert_eq!(
        client.poll_frame(),
        Err(TransportError::Server(TransportErrorCode::NoSuchKey))
    );
    // Intermediate: length 4, then -444.
    let mut client = Codec::client(Transport::Intermediate, TransportConfig::for_client());
    client.handle_input(&[4, 0, 0, 0, 0x44, 0xfe, 0xff, 0xff]);
    assert_eq!(
        client.poll_frame(),
        Err(TransportError::Server(TransportErrorCode::BadDc))
    );
    // Padded, with 3 padding bytes.
    let mut client = Codec::client(Transport::PaddedIntermediate, TransportConfig::for_client());
    client.handle_input(&[7, 0, 0, 0, 0x53, 0xfe, 0xff, 0xff, 1, 2, 3]);
    assert_eq!(
        client.poll_frame(),
        Err(TransportError::Server(TransportErrorCode::Flood))
    );
    // Full: a bare -429 repeated instead of an envelope (reported by Telethon users).
    let mut client = Codec::client(Transport::Full, TransportConfig::for_client());
    client.handle_input(&(-429i32).to_le_bytes().repeat(3));
    assert_eq!(
        client.poll_frame(),
        Err(TransportError::Server(TransportErrorCode::Flood))
    );
    // A 4-byte positive payload is an ordinary packet.
    let mut client = Codec::client(Transport::Intermediate, TransportConfig::for_client());
    client.handle_input(&[4, 0, 0, 0, 1, 0, 0, 0]);
    assert_eq!(drain(&mut client).unwrap(), packets(&[vec![1, 0, 0, 0]]));
    // The server role does not interpret 4-byte payloads.
    let mut server = Codec::server(TransportConfig::for_server());
    server.handle_input(&[0xee, 0xee, 0xee, 0xee, 4, 0, 0, 0, 0x6c, 0xfe, 0xff, 0xff]);
    assert_eq!(
        drain(&mut server).unwrap(),
        packets(&[(-404i32).to_le_bytes().to_vec()])
    );
}

#[test]
fn quick_acks() {
    for (i, setup) in all_setups().iter().enumerate() {
        let mut r = rng(500 + i as u64);
        let (mut client, mut server) = pair(setup, 500 + i as u64);
        let p = payload(56, true, &mut r);
        let mut wire = Vec::new();
        if setup.transport() == Transport::Full {
            assert_eq!(
                client.encode_with_quick_ack(&p, &mut r, &mut wire),
                Err(TransportError::QuickAckUnsupported(Transport::Full))
            );
            continue;
        }
        client.encode_with_quick_ack(&p, &mut r, &mut wire).unwrap();
        client.encode(&p, &mut r, &mut wire).unwrap();
        let mut big = payload(4 * 130, true, &mut r);
        big[0] |= 1;
        client
            .encode_with_quick_ack(&big, &mut r, &mut wire)
            .unwrap();
        assert_eq!(
            deliver_whole(&mut server, &wire),
            vec![
                Frame::Packet {
                    payload: p.clone(),
                    quick_ack: true
                },
                Frame::Packet {
                    payload: p.clone(),
                    quick_ack: false
                },
                Frame::Packet {
                    payload: big,
                    quick_ack: true
                },
            ],
            "{setup:?}"
        );
        wire.clear();
        server.encode_quick_ack(0x1234_5678, &mut wire).unwrap();
        server.encode(&p, &mut r, &mut wire).unwrap();
        server.encode_quick_ack(0x8765_4321, &mut wire).unwrap();
        assert_eq!(
            deliver_whole(&mut client, &wire),
            vec![
                Frame::QuickAck(0x9234_5678),
                Frame::Packet {
                    payload: p,
                    quick_ack: false
                },
                Frame::QuickAck(0x8765_4321),
            ],
            "{setup:?}"
        );
    }
    // Byte layout of the server's token: big-endian in abridged, little-endian otherwise.
    let mut r = rng(1);
    for (transport, expected) in [
        (Transport::Abridged, [0x92, 0x34, 0x56, 0x78]),
        (Transport::Intermediate, [0x78, 0x56, 0x34, 0x92]),
    ] {
        let (mut client, mut server) = pair(&Setup::Plain(transport), 1);
        let mut wire = Vec::new();
        client.encode(&[0; 8], &mut r, &mut wire).unwrap();
        deliver_whole(&mut server, &wire);
        wire.clear();
        server.encode_quick_ack(0x1234_5678, &mut wire).unwrap();
        assert_eq!(wire, expected);
    }
}

#[test]
fn caller_errors_leave_the_codec_usable() {
    let mut r = rng(10);
    let mut client = Codec::client(
        Transport::Abridged,
        TransportConfig {
            max_frame_len: 64,
            ..TransportConfig::for_client()
        },
    );
    let mut out = Vec::new();
    for bad in [0, 6, 68] {
        assert_eq!(
            client.encode(&vec![0; bad], &mut r, &mut out),
            Err(TransportError::BadPayload { len: bad, max: 64 })
        );
    }
    assert!(out.is_empty());
    assert_eq!(
        client.encode_quick_ack(1, &mut out),
        Err(TransportError::WrongRole(Role::Client))
    );
    assert_eq!(
        client.encode_transport_error(TransportErrorCode::Flood, &mut r, &mut out),
        Err(TransportError::WrongRole(Role::Client))
    );
    client.encode(&[0; 4], &mut r, &mut out).unwrap();
    assert_eq!(out, [0xef, 1, 0, 0, 0, 0], "the tag is still sent first");

    let mut server = Codec::server(TransportConfig::for_server());
    assert_eq!(server.role(), Role::Server);
    assert_eq!(
        server.encode(&[0; 4], &mut r, &mut out),
        Err(TransportError::NotDetected)
    );
    assert_eq!(
        server.encode_quick_ack(1, &mut out),
        Err(TransportError::NotDetected)
    );
    assert_eq!(
        server.encode_with_quick_ack(&[0; 4], &mut r, &mut out),
        Err(TransportError::WrongRole(Role::Server))
    );
    assert_eq!(
        Codec::client_obfuscated(
            Transport::Full,
            2,
            None,
            TransportConfig::for_client(),
            &mut r
        )
        .unwrap_err(),
        TransportError::CannotObfuscate(Transport::Full)
    );
}

/// A generator stuck on forbidden headers, or failing, is reported, not looped on.
#[test]
fn broken_randomness() {
    struct Constant(u8);
    impl RngCore for Constant {
        fn next_u32(&mut self) -> u32 {
            u32::from_le_bytes([self.0; 4])
        }
        fn next_u64(&mut self) -> u64 {
            u64::from_le_bytes([self.0; 8])
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(self.0)
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
            if self.0 == 0x42 {
                return Err(rand::Error::new("broken"));
            }
            dest.fill(self.0);
            Ok(())
        }
    }
    impl rand::CryptoRng for Constant {}
    for byte in [0xef, 0xdd, 0xee, 0x00, 0x42] {
        assert_eq!(
            Codec::client_obfuscated(
                Transport::Abridged,
                2,
                None,
                TransportConfig::for_client(),
                &mut Constant(byte)
            )
            .unwrap_err(),
            TransportError::Randomness,
            "{byte:#x}"
        );
    }
    assert!(Codec::client_obfuscated(
        Transport::Abridged,
        2,
        None,
        TransportConfig::for_client(),
        &mut Constant(1)
    )
    .is_ok());
}

#[test]
fn padded_payload_len_rules() {
    let mut r = rng(11);
    // Unencrypted: exact length, up to 15 bytes of padding.
    let msg = payload(36, true, &mut r);
    for pad in 0..=15 {
        let mut frame = msg.clone();
        frame.extend(std::iter::repeat(0xaa).take(pad));
        assert_eq!(padded_payload_len(&frame), Some(36), "{pad}");
    }
    let mut frame = msg.clone();
    frame.extend([0; 16]);
    assert_eq!(padded_payload_len(&frame), None, "16 bytes of padding");
    assert_eq!(
        padded_payload_len(&msg[..35]),
        None,
        "shorter than announced"
    );
    // Encrypted: 24 + 16k.
    let msg = payload(24 + 16 * 5, true, &mut r);
    for pad in 0..=15 {
        let mut frame = msg.clone();
        frame.extend(std::iter::repeat(0).take(pad));
        assert_eq!(padded_payload_len(&frame), Some(msg.len()));
    }
    // Transport errors: 4 bytes, negative, with up to 15 bytes of padding.
    for pad in 0..=15 {
        let mut frame = (-404i32).to_le_bytes().to_vec();
        frame.extend(std::iter::repeat(0x11).take(pad));
        assert_eq!(padded_payload_len(&frame), Some(4));
    }
    // Nothing recognisable.
    for frame in [&[1u8, 0, 0, 0][..], &[0; 3], &[1; 36], &[0; 19], &[]] {
        assert_eq!(padded_payload_len(frame), None, "{frame:02x?}");
    }
    // A frame the codec cannot trim is an error.
    let mut client = Codec::client(Transport::PaddedIntermediate, TransportConfig::for_client());
    client.handle_input(&[12, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert_eq!(
        client.poll_frame(),
        Err(TransportError::BadPadding { len: 12 })
    );
}

#[test]
fn obfuscated_header_layout() {
    let (mut client, mut server) = pair(
        &Setup::Obfuscated {
            transport: Transport::PaddedIntermediate,
            dc_id: -10002,
            secret: None,
        },
        12,
    );
    assert_eq!(client.dc_id(), Some(-10002));
    assert!(client.is_obfuscated());
    let mut r = rng(12);
    let mut wire = Vec::new();
    client
        .encode(&payload(40, true, &mut r), &mut r, &mut wire)
        .unwrap();
    // The header's first 56 bytes are the generator's output as drawn.
    let mut drawn = [0u8; 64];
    rng(12).fill_bytes(&mut drawn);
    assert_eq!(wire[..56], drawn[..56]);
    assert_ne!(wire[56..64], drawn[56..64]);
    let mut second = Vec::new();
    client
        .encode(&payload(40, true, &mut r), &mut r, &mut second)
        .unwrap();
    assert!(second.len() < 64, "the header is sent once");
    server.handle_input(&wire[..63]);
    assert_eq!(server.poll_frame(), Ok(None));
    assert_eq!(server.transport(), None);
    server.handle_input(&wire[63..]);
    assert!(server.poll_frame().unwrap().is_some());
    assert_eq!(server.dc_id(), Some(-10002));
    assert_eq!(server.transport(), Some(Transport::PaddedIntermediate));
}

#[test]
fn buffer_is_released_after_large_frames() {
    let mut r = rng(13);
    let (mut client, mut server) = pair(&Setup::Plain(Transport::Intermediate), 13);
    let mut wire = Vec::new();
    client.encode(&vec![1; 1 << 20], &mut r, &mut wire).unwrap();
    server.handle_input(&wire);
    assert_eq!(
        server.buffered_len(),
        wire.len(),
        "nothing consumed before polling"
    );
    assert_eq!(drain(&mut server).unwrap().len(), 1);
    assert_eq!(server.buffered_len(), 0);
    server.handle_input(&[]);
    assert!(format!("{server:?}").contains("buffered: 0"));
}
