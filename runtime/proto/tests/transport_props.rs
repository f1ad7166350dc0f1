//! Property tests: random split points for every setup, obfuscation headers from random
//! seeds never start with a forbidden prefix and always reach the server intact, and no
//! input makes a decoder panic.

mod transport_util;

use mtproto_proto::transport::{Codec, MtProxySecret, Transport, TransportConfig, TransportError};
use proptest::prelude::*;
use rand::RngCore;
use transport_util::*;

fn setup_strategy() -> impl Strategy<Value = Setup> {
    (0..all_setups().len()).prop_map(|i| all_setups()[i].clone())
}

fn inner_transport() -> impl Strategy<Value = Transport> {
    prop_oneof![
        Just(Transport::Abridged),
        Just(Transport::Intermediate),
        Just(Transport::PaddedIntermediate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Frames of random sizes, cut at random points, both directions.
    #[test]
    fn random_split_points(
        setup in setup_strategy(),
        words in prop::collection::vec(5usize..700, 1..6),
        seed in any::<u64>(),
        cut_count in 0usize..12,
    ) {
        let mut r = rng(seed);
        let (mut client, mut server) = pair(&setup, seed);
        let up: Vec<Vec<u8>> = words.iter().map(|&w| payload(w * 4, setup.padded(), &mut r)).collect();
        let mut wire = Vec::new();
        for p in &up {
            client.encode(p, &mut r, &mut wire).unwrap();
        }
        let cuts = random_cuts(wire.len(), cut_count, &mut r);
        prop_assert_eq!(deliver_cut(&mut server, &wire, &cuts), packets(&up));
        let down: Vec<Vec<u8>> = words.iter().map(|&w| payload(w * 4, setup.padded(), &mut r)).collect();
        wire.clear();
        for p in &down {
            server.encode(p, &mut r, &mut wire).unwrap();
        }
        let cuts = random_cuts(wire.len(), cut_count, &mut r);
        prop_assert_eq!(deliver_cut(&mut client, &wire, &cuts), packets(&down));
    }

    /// The header a client sends never starts like another protocol, and the server
    /// recovers the transport and DC id from it (with and without an MTProxy secret).
    #[test]
    fn obfuscation_headers(
        seed in any::<u64>(),
        transport in inner_transport(),
        dc_id in any::<i16>(),
        secret in prop::option::of(any::<[u8; 16]>()),
    ) {
        let secret = secret.map(|s| MtProxySecret::from_bytes(&s).unwrap());
        let mut client = Codec::client_obfuscated(
            transport, dc_id, secret.as_ref(), TransportConfig::for_client(), &mut rng(seed),
        ).unwrap();
        let mut r = rng(seed ^ 1);
        let mut wire = Vec::new();
        client.encode(&payload(40, true, &mut r), &mut r, &mut wire).unwrap();
        let h = &wire[..64];
        prop_assert_ne!(h[0], 0xef);
        for bad in [*b"HEAD", *b"POST", *b"GET ", *b"OPTI", *b"PVrG", [0x16, 0x03, 0x01, 0x02], [0xdd; 4], [0xee; 4]] {
            prop_assert_ne!(&h[..4], &bad[..]);
        }
        prop_assert_ne!(&h[4..8], &[0u8; 4][..]);
        let mut server = match secret {
            Some(s) => Codec::server_with_secret(TransportConfig::for_server(), s),
            None => Codec::server(TransportConfig::for_server()),
        };
        server.handle_input(&wire);
        prop_assert_eq!(drain(&mut server).unwrap().len(), 1);
        prop_assert_eq!(server.transport(), Some(transport));
        prop_assert_eq!(server.dc_id(), Some(dc_id));
    }

    /// Arbitrary bytes never panic a server, and an error repeats once raised.
    #[test]
    fn server_never_panics(data in prop::collection::vec(any::<u8>(), 0..300), prefix in 0usize..5) {
        let prefixes: [&[u8]; 5] = [&[], &[0xef], &[0xee; 4], &[0xdd; 4], &[16, 0, 0, 0, 0, 0, 0, 0]];
        let mut server = Codec::server(TransportConfig { max_frame_len: 256, ..TransportConfig::for_server() });
        server.handle_input(prefixes[prefix]);
        server.handle_input(&data);
        server.handle_eof();
        check_no_panic(&mut server)?;
    }

    /// Arbitrary bytes never panic a client of any transport.
    #[test]
    fn client_never_panics(data in prop::collection::vec(any::<u8>(), 0..300), setup in setup_strategy()) {
        let (mut client, _) = pair(&setup, 0);
        let mut out = Vec::new();
        client.encode(&[0; 20], &mut rng(0), &mut out).unwrap();
        client.handle_input(&data);
        client.handle_eof();
        check_no_panic(&mut client)?;
    }
}

fn check_no_panic(codec: &mut Codec) -> Result<(), TestCaseError> {
    for _ in 0..400 {
        match codec.poll_frame() {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            Err(e) => {
                prop_assert_eq!(codec.poll_frame(), Err(e.clone()));
                let _: TransportError = e;
                return Ok(());
            }
        }
    }
    prop_assert!(false, "more frames than bytes");
    Ok(())
}

/// Sanity check of the generator used above: distinct seeds give distinct headers.
#[test]
fn headers_differ_by_seed() {
    let mut seen = std::collections::HashSet::new();
    for seed in 0..64 {
        let mut c = Codec::client_obfuscated(
            Transport::Abridged,
            1,
            None,
            TransportConfig::for_client(),
            &mut rng(seed),
        )
        .unwrap();
        let mut wire = Vec::new();
        let mut r = rng(0);
        let mut p = [0u8; 8];
        r.fill_bytes(&mut p);
        c.encode(&p, &mut r, &mut wire).unwrap();
        assert!(seen.insert(wire[..64].to_vec()));
    }
}
