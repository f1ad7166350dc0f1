//! Telethon 1.45.0 as an independent implementation of the transports.
//!
//! - Plain abridged, intermediate, padded intermediate and full: Telethon's
//!   `encode_packet` output is read by our server and our client decoders, and our encoders'
//!   output is read by Telethon's `read_packet` (driven with an in-memory reader), which
//!   checks full's CRC. Our full decoder checks Telethon's sequence numbers.
//! - obfuscated2 and MTProxy: Telethon's client header code (`ObfuscatedIO.init_header`,
//!   `MTProxyIO.init_header`, with `os.urandom` replaced by fixed bytes) opens connections to
//!   our server, and Telethon's decrypting reader reads our server's replies. Telethon has no
//!   server side, so for our obfuscated client the script derives the server's keys the way
//!   Telethon derives the client's (same offsets, reversed bytes, `hashlib.sha256(key +
//!   secret)`), with Telethon's own `AESModeCTR`, and reads the frames with Telethon's codecs.
//! - Transport errors: our server's -404/-429/-444 are recognised by Telethon's
//!   `InvalidBufferError`, and Telethon-framed negative codes become our typed errors.
//!
//! Runs the oracle Python of `project_tests` (`.venv`, made by `cargo xtask py-setup`). A
//! missing interpreter is a failure, never a skip.

#[path = "../../runtime/proto/tests/transport_util/mod.rs"]
mod transport_util;

use project_tests::Oracle;

use mtproto_proto::transport::{
    Codec, Frame, MtProxySecret, Transport, TransportConfig, TransportError, TransportErrorCode,
};
use rand::RngCore;
use transport_util::*;

/// One request per line on stdin, one answer line on stdout. Byte strings are hex, `-`
/// means none; an exception is answered as `ERR <name> <message>`.
const SCRIPT: &str = r#"
import asyncio, hashlib, os, random, struct, sys, traceback
from telethon.crypto import AESModeCTR
from telethon.errors import InvalidBufferError
from telethon.network.connection import tcpobfuscated, tcpmtproxy
from telethon.network.connection.tcpabridged import AbridgedPacketCodec
from telethon.network.connection.tcpintermediate import IntermediatePacketCodec, RandomizedIntermediatePacketCodec
from telethon.network.connection.tcpfull import FullPacketCodec

random.seed(20240229)  # Telethon draws padded-intermediate padding lengths from `random`
CODECS = {"abridged": AbridgedPacketCodec, "intermediate": IntermediatePacketCodec,
          "padded": RandomizedIntermediatePacketCodec, "full": FullPacketCodec}
# What a client sends first; Telethon's RandomizedIntermediate has no plain tag (it is only
# used inside obfuscation), the documented one is 0xdddddddd.
TAGS = {"abridged": b"\xef", "intermediate": b"\xee" * 4, "padded": b"\xdd" * 4, "full": b""}
sessions = {}

class Reader:
    def __init__(self, data, decrypt=None):
        self.data, self.pos, self.decrypt = data, 0, decrypt
    async def readexactly(self, n):
        if self.pos + n > len(self.data):
            raise asyncio.IncompleteReadError(self.data[self.pos:], n)
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return self.decrypt.encrypt(chunk) if self.decrypt else chunk

def read_all(codec_name, reader):
    codec = CODECS[codec_name](None)
    out = []
    while reader.pos < len(reader.data):
        body = asyncio.run(codec.read_packet(reader))
        if len(body) == 4 and struct.unpack("<i", body)[0] < 0:
            out.append("E%d" % InvalidBufferError(body).code)
        else:
            out.append(body.hex())
    return out

def fixed_urandom(header):
    def urandom(n):
        assert n == 64
        return header
    return urandom

def handle(kind, args):
    if kind == "ENC":  # codec payloads... -> client stream (tag + frames)
        codec = CODECS[args[0]](None)
        return [(TAGS[args[0]] + b"".join(codec.encode_packet(bytes.fromhex(p)) for p in args[1:])).hex()]
    if kind == "DEC":  # codec stream -> payloads
        return read_all(args[0], Reader(bytes.fromhex(args[1])))
    if kind == "OENC":  # codec header64 secret dc payloads... -> session stream
        codec_cls = CODECS[args[0]]
        saved = os.urandom
        os.urandom = fixed_urandom(bytes.fromhex(args[1]))
        try:
            if args[2] == "-":
                header, enc, dec = tcpobfuscated.ObfuscatedIO.init_header(codec_cls)
            else:
                header, enc, dec = tcpmtproxy.MTProxyIO.init_header(bytes.fromhex(args[2]), int(args[3]), codec_cls)
        finally:
            os.urandom = saved
        sid = str(len(sessions))
        sessions[sid] = dec
        codec = codec_cls(None)
        body = enc.encrypt(b"".join(codec.encode_packet(bytes.fromhex(p)) for p in args[4:]))
        return [sid, (bytes(header) + body).hex()]
    if kind == "ODEC":  # session codec stream -> payloads
        return read_all(args[1], Reader(bytes.fromhex(args[2]), sessions[args[0]]))
    if kind == "SRV":  # codec secret client_stream replies... -> tag dc count payloads... reply_stream
        stream = bytes.fromhex(args[2])
        header = stream[:64]
        reversed_ = header[55:7:-1]
        dec_key, dec_iv = header[8:40], header[40:56]
        enc_key, enc_iv = reversed_[:32], reversed_[32:48]
        if args[1] != "-":
            secret = bytes.fromhex(args[1])
            dec_key = hashlib.sha256(dec_key + secret).digest()
            enc_key = hashlib.sha256(enc_key + secret).digest()
        decryptor = AESModeCTR(bytes(dec_key), bytes(dec_iv))
        plain = decryptor.encrypt(header)
        payloads = read_all(args[0], Reader(stream[64:], decryptor))
        codec = CODECS[args[0]](None)
        reply = AESModeCTR(bytes(enc_key), bytes(enc_iv)).encrypt(
            b"".join(codec.encode_packet(bytes.fromhex(p)) for p in args[3:]) or b"")
        dc = int.from_bytes(plain[60:62], "little", signed=True)
        return [plain[56:60].hex(), str(dc), str(len(payloads))] + payloads + [reply.hex() or "-"]
    raise SystemExit("unknown request " + kind)

for line in sys.stdin:
    kind, *args = line.split()
    try:
        out = handle(kind, args)
    except Exception as e:
        out = ["ERR", type(e).__name__, str(e).replace(" ", "_").replace("\n", "_") or "-"]
    print(" ".join(out) or "-", flush=True)
"#;

fn name(t: Transport) -> &'static str {
    match t {
        Transport::Abridged => "abridged",
        Transport::Intermediate => "intermediate",
        Transport::PaddedIntermediate => "padded",
        Transport::Full => "full",
        _ => unreachable!(),
    }
}

fn tag_len(t: Transport) -> usize {
    match t {
        Transport::Abridged => 1,
        Transport::Full => 0,
        _ => 4,
    }
}

const ALL: [Transport; 4] = [
    Transport::Abridged,
    Transport::Intermediate,
    Transport::PaddedIntermediate,
    Transport::Full,
];

/// MTProto-shaped payloads around the interesting lengths (abridged's 0x7f boundary
/// included), plus a large one.
fn payloads(r: &mut impl RngCore, large: bool) -> Vec<Vec<u8>> {
    let mut sizes = vec![20, 24, 40, 56, 100, 4 * 126, 4 * 127, 4 * 128, 1020, 1024];
    if large {
        sizes.push(300_000);
    }
    sizes.into_iter().map(|n| payload(n, true, r)).collect()
}

fn request(kind: &str, args: impl IntoIterator<Item = String>) -> Vec<String> {
    std::iter::once(kind.to_owned()).chain(args).collect()
}

#[test]
fn plain_transports_agree_with_telethon() {
    let mut oracle = Oracle::start(SCRIPT);
    for (i, t) in ALL.into_iter().enumerate() {
        let mut r = rng(900 + i as u64);
        let up = payloads(&mut r, true);
        // Telethon client -> our server.
        let answer = oracle.ask(&request(
            "ENC",
            std::iter::once(name(t).to_owned()).chain(up.iter().map(hex::encode)),
        ));
        let wire = hex::decode(&answer[0]).unwrap();
        let mut server = Codec::server(TransportConfig::for_server());
        assert_eq!(
            deliver_whole(&mut server, &wire),
            packets(&up),
            "{t:?}: Telethon to our server"
        );
        assert_eq!(server.transport(), Some(t));
        // Our server -> Telethon, ending with a transport error.
        let down = payloads(&mut r, true);
        let mut wire = Vec::new();
        for p in &down {
            server.encode(p, &mut r, &mut wire).unwrap();
        }
        server
            .encode_transport_error(TransportErrorCode::NoSuchKey, &mut r, &mut wire)
            .unwrap();
        let answer = oracle.ask(&request("DEC", [name(t).to_owned(), hex::encode(&wire)]));
        let mut expected: Vec<String> = down.iter().map(hex::encode).collect();
        expected.push("E404".into());
        assert_eq!(answer, expected, "{t:?}: our server to Telethon");
        // Our client -> Telethon's reader (padding capped at 3: Telethon trims with len % 4).
        let config = TransportConfig {
            max_padding: 3,
            ..TransportConfig::for_client()
        };
        let mut client = Codec::client(t, config);
        let mut wire = Vec::new();
        for p in &up {
            client.encode(p, &mut r, &mut wire).unwrap();
        }
        let answer = oracle.ask(&request(
            "DEC",
            [name(t).to_owned(), hex::encode(&wire[tag_len(t)..])],
        ));
        assert_eq!(
            answer,
            up.iter().map(hex::encode).collect::<Vec<_>>(),
            "{t:?}: our client to Telethon"
        );
        // Telethon-framed server packets -> our client, ending with -429.
        let mut framed = down.iter().map(hex::encode).collect::<Vec<_>>();
        framed.push(hex::encode((-429i32).to_le_bytes()));
        let answer = oracle.ask(&request(
            "ENC",
            std::iter::once(name(t).to_owned()).chain(framed),
        ));
        let wire = hex::decode(&answer[0]).unwrap();
        let mut client = Codec::client(t, TransportConfig::for_client());
        client.handle_input(&wire[tag_len(t)..]);
        for p in &down {
            assert_eq!(
                client.poll_frame().unwrap(),
                Some(Frame::Packet {
                    payload: p.clone(),
                    quick_ack: false
                }),
                "{t:?}: Telethon frames to our client"
            );
        }
        assert_eq!(
            client.poll_frame(),
            Err(TransportError::Server(TransportErrorCode::Flood))
        );
    }
}

/// A 64-byte header that Telethon's own retry loop accepts (else it would spin forever on
/// the fixed `os.urandom`).
fn telethon_header(r: &mut impl RngCore) -> [u8; 64] {
    loop {
        let mut h = [0u8; 64];
        r.fill_bytes(&mut h);
        let bad = [*b"PVrG", *b"GET ", *b"POST", [0xee; 4]];
        if h[0] != 0xef && !bad.iter().any(|b| h[..4] == b[..]) && h[4..8] != [0; 4] {
            return h;
        }
    }
}

#[test]
fn telethon_obfuscated_clients_reach_our_server() {
    let mut oracle = Oracle::start(SCRIPT);
    let mut dd = vec![0xdd];
    dd.extend_from_slice(&SECRET);
    let cases: [(Transport, Option<&[u8]>, i16); 7] = [
        (Transport::Abridged, None, 0),
        (Transport::Intermediate, None, 0),
        (Transport::PaddedIntermediate, None, 0),
        (Transport::Abridged, Some(&SECRET), 2),
        (Transport::Intermediate, Some(&SECRET), -2),
        (Transport::PaddedIntermediate, Some(&SECRET), 10004),
        (Transport::PaddedIntermediate, Some(&dd), -10005),
    ];
    for (i, (t, secret, dc_id)) in cases.into_iter().enumerate() {
        let mut r = rng(950 + i as u64);
        let header = telethon_header(&mut r);
        let up = payloads(&mut r, false);
        let args = [
            name(t).to_owned(),
            hex::encode(header),
            secret.map_or("-".into(), hex::encode),
            dc_id.to_string(),
        ];
        let answer = oracle.ask(&request(
            "OENC",
            args.into_iter().chain(up.iter().map(hex::encode)),
        ));
        let (session, wire) = (answer[0].clone(), hex::decode(&answer[1]).unwrap());
        assert_eq!(wire[..56], header[..56]);
        let mut server = match secret {
            Some(s) => Codec::server_with_secret(
                TransportConfig::for_server(),
                MtProxySecret::from_bytes(s).unwrap(),
            ),
            None => Codec::server(TransportConfig::for_server()),
        };
        assert_eq!(
            deliver_cut(&mut server, &wire, &[30, 63, 64, 65, 700]),
            packets(&up),
            "{t:?} {secret:?}"
        );
        assert_eq!(server.transport(), Some(t));
        assert!(server.is_obfuscated());
        // Telethon's plain obfuscation leaves bytes 60..62 random; MTProxyIO writes the DC.
        let expected_dc = match secret {
            Some(_) => dc_id,
            None => i16::from_le_bytes([header[60], header[61]]),
        };
        assert_eq!(server.dc_id(), Some(expected_dc));
        let down = payloads(&mut r, false);
        let mut wire = Vec::new();
        for p in &down {
            server.encode(p, &mut r, &mut wire).unwrap();
        }
        server
            .encode_transport_error(TransportErrorCode::BadDc, &mut r, &mut wire)
            .unwrap();
        let answer = oracle.ask(&request(
            "ODEC",
            [session, name(t).to_owned(), hex::encode(&wire)],
        ));
        let mut expected: Vec<String> = down.iter().map(hex::encode).collect();
        expected.push("E444".into());
        assert_eq!(answer, expected, "{t:?} {secret:?}: our server to Telethon");
    }
}

#[test]
fn our_obfuscated_client_matches_telethon_key_derivation() {
    let mut oracle = Oracle::start(SCRIPT);
    let mut dd = vec![0xdd];
    dd.extend_from_slice(&SECRET);
    let cases: [(Transport, Option<&[u8]>, i16, &str); 6] = [
        (Transport::Abridged, None, 2, "efefefef"),
        (Transport::Intermediate, None, -4, "eeeeeeee"),
        (Transport::PaddedIntermediate, None, 10003, "dddddddd"),
        (Transport::Abridged, Some(&SECRET), 1, "efefefef"),
        (Transport::Intermediate, Some(&SECRET), -10001, "eeeeeeee"),
        (Transport::PaddedIntermediate, Some(&dd), 5, "dddddddd"),
    ];
    for (i, (t, secret, dc_id, tag)) in cases.into_iter().enumerate() {
        let mut r = rng(970 + i as u64);
        let parsed = secret.map(|s| MtProxySecret::from_bytes(s).unwrap());
        let config = TransportConfig {
            max_padding: 3,
            ..TransportConfig::for_client()
        };
        let mut client =
            Codec::client_obfuscated(t, dc_id, parsed.as_ref(), config, &mut r).unwrap();
        let up = payloads(&mut r, false);
        let mut wire = Vec::new();
        for p in &up {
            client.encode(p, &mut r, &mut wire).unwrap();
        }
        let down = payloads(&mut r, false);
        // Telethon's secret is the 16 bytes without the dd marker.
        let key = parsed.as_ref().map_or("-".into(), |s| hex::encode(s.key()));
        let args = [name(t).to_owned(), key, hex::encode(&wire)];
        let answer = oracle.ask(&request(
            "SRV",
            args.into_iter().chain(down.iter().map(hex::encode)),
        ));
        assert_eq!(answer[0], tag, "{t:?} {secret:?}: tag");
        assert_eq!(answer[1], dc_id.to_string(), "{t:?}: DC id");
        let n: usize = answer[2].parse().unwrap();
        assert_eq!(
            answer[3..3 + n],
            up.iter().map(hex::encode).collect::<Vec<_>>()[..],
            "{t:?}: frames"
        );
        let reply = hex::decode(&answer[3 + n]).unwrap();
        assert_eq!(
            deliver_whole(&mut client, &reply),
            packets(&down),
            "{t:?}: replies"
        );
    }
}
