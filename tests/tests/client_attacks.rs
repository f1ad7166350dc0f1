//! Every session attack of the test DC reaches the client's user as an error that names the
//! violated check (PROTOCOL.md §9: drop, reconnect, redo — then give up, bounded), and the
//! client recovers once the server behaves: one test per check.

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_api::client::{Client, ClientConfig, ClientError, MemoryStore, SignIn};
use mtproto_proto::handshake::server::UnfactorablePq;
use project_tests::script::bounded;
use test_dc::{Account, SessionAttack, TestDc};

/// A one-DC test DC with one account (its knobs changed by `knobs` first) and a client of
/// it without a key.
async fn setup(knobs: impl FnOnce(&mut test_dc::server::Knobs)) -> (TestDc, Client) {
    let dc = TestDc::builder()
        .code("24680")
        .user(Account::new("+9996611111"))
        .start()
        .await
        .unwrap();
    dc.server(1).update_knobs(knobs);
    let mut config = ClientConfig::new(
        611_335,
        "hash",
        dc.dcs(),
        1,
        vec![test_dc::test_server_key().public_key().clone()],
    );
    config.store = Arc::new(MemoryStore::new());
    (dc, Client::new(config).unwrap())
}

async fn attacked(attack: SessionAttack, names: &[&str]) {
    bounded(async {
        let (dc, client) = setup(|_| {}).await;
        let token = client
            .send_code("+9996611111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        let SignIn::SignedIn(user) = client.sign_in(&token, "24680").await.unwrap() else {
            panic!("not signed in")
        };

        dc.server(1).update_knobs(|k| k.attack = Some(attack));
        let started = Instant::now();
        let error = client.get_me().await.unwrap_err();
        let ClientError::Security { dc: 1, check } = &error else {
            panic!("{attack:?}: not a security error: {error:?}")
        };
        assert!(
            names.iter().any(|name| check.contains(name)),
            "{attack:?}: {check}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{attack:?}: gave up only after {:?}",
            started.elapsed()
        );
        assert!(dc.server(1).stats().tampered_packets >= 1);

        // The server behaves again: the next call reconnects and succeeds, still signed in.
        dc.server(1).update_knobs(|k| k.attack = None);
        assert_eq!(client.get_me().await.unwrap().id, user.id);
    })
    .await;
}

#[tokio::test]
async fn a_wrong_msg_key_is_named() {
    attacked(SessionAttack::WrongMsgKey, &["failed to decrypt"]).await;
}

#[tokio::test]
async fn a_wrong_session_id_is_named() {
    attacked(SessionAttack::WrongSessionId, &["is not this session's"]).await;
}

#[tokio::test]
async fn an_even_msg_id_is_named() {
    attacked(SessionAttack::EvenMsgId, &["wrong parity"]).await;
}

#[tokio::test]
async fn a_replayed_msg_id_is_named() {
    attacked(
        SessionAttack::ReplayedMsgId,
        &["already received", "older than the replay window"],
    )
    .await;
}

#[tokio::test]
async fn a_stale_msg_id_is_named() {
    attacked(SessionAttack::StaleMsgId, &["outside the time window"]).await;
}

#[tokio::test]
async fn a_server_clock_jumping_ahead_is_refused_then_followed_on_a_new_connection() {
    // Check 13, ahead: once a connection has carried messages, a server message 60 s ahead
    // (the DC's clock stepped forward) is refused and the connection closed; the next connection's first message sets the clock,
    // so the call is answered after exactly one reconnect (not a lock-out, not a silent
    // acceptance).
    bounded(async {
        let (dc, client) = setup(|_| {}).await;
        let token = client
            .send_code("+9996611111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        let SignIn::SignedIn(user) = client.sign_in(&token, "24680").await.unwrap() else {
            panic!("not signed in")
        };
        let connections = dc.server(1).stats().connections;
        // The server's clock steps 60 s forward (its msg_ids and its own time checks).
        dc.server(1).update_knobs(|k| k.clock_offset = 60);
        assert_eq!(client.get_me().await.unwrap().id, user.id);
        let stats = dc.server(1).stats();
        assert_eq!(
            stats.connections,
            connections + 1,
            "the message 60 s ahead closed the connection; the next one followed the clock"
        );
        // The clock now runs 60 s ahead with the server's: further calls need no reconnect.
        assert_eq!(client.get_me().await.unwrap().id, user.id);
        assert_eq!(dc.server(1).stats().connections, connections + 1);
    })
    .await;
}

#[tokio::test]
async fn a_stale_forged_answer_inside_a_container_is_dropped_alone() {
    // Check 22: each answer arrives in a container behind a forged error answer for the same
    // request whose msg_id is ten minutes old. The stale inner message is dropped on its own
    // (time window); the real answer in the same container is delivered, with no error.
    bounded(async {
        let (dc, client) = setup(|_| {}).await;
        let token = client
            .send_code("+9996611111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        let SignIn::SignedIn(user) = client.sign_in(&token, "24680").await.unwrap() else {
            panic!("not signed in")
        };
        dc.server(1)
            .update_knobs(|k| k.attack = Some(SessionAttack::StaleAnswerInContainer));
        for _ in 0..3 {
            assert_eq!(client.get_me().await.unwrap().id, user.id);
        }
        assert!(dc.server(1).stats().tampered_packets >= 3);
    })
    .await;
}

#[tokio::test]
async fn bad_padding_is_named() {
    attacked(SessionAttack::BadPadding, &["failed to decrypt"]).await;
}

#[tokio::test]
async fn a_bad_length_is_named() {
    attacked(SessionAttack::BadLength, &["failed to decrypt"]).await;
}

#[tokio::test]
async fn a_wrong_auth_key_id_is_named() {
    attacked(SessionAttack::WrongAuthKeyId, &["failed to decrypt"]).await;
}

#[tokio::test]
async fn an_unaligned_encrypted_length_is_named() {
    attacked(SessionAttack::UnalignedLength, &["failed to decrypt"]).await;
}

#[tokio::test]
async fn oversize_padding_is_named() {
    attacked(SessionAttack::OversizePadding, &["failed to decrypt"]).await;
}

#[tokio::test]
async fn an_unaligned_body_length_is_named() {
    attacked(SessionAttack::UnalignedBodyLength, &["failed to decrypt"]).await;
}

#[tokio::test]
async fn a_wrong_seq_no_parity_is_named() {
    // An answer with an even seq_no, an ack or container with an odd one.
    attacked(SessionAttack::WrongSeqNoParity, &["has seq_no"]).await;
}

/// A client without a key against a DC whose key exchange misbehaves: the error names the
/// check; once the DC behaves, the same client connects and logs in.
async fn handshake_attacked(set: fn(&mut test_dc::server::Knobs), names: &[&str]) {
    bounded(async {
        let (dc, client) = setup(set).await;
        let started = Instant::now();
        let error = client
            .send_code("+9996611111")
            .await
            .unwrap_err()
            .to_string();
        assert!(names.iter().any(|name| error.contains(name)), "{error}");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{:?}",
            started.elapsed()
        );
        assert!(client.session().await.keys.is_empty(), "no key was kept");

        dc.server(1).update_knobs(|k| k.quirks = Default::default());
        let token = client
            .send_code("+9996611111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        assert!(matches!(
            client.sign_in(&token, "24680").await.unwrap(),
            SignIn::SignedIn(_)
        ));
    })
    .await;
}

#[tokio::test]
async fn handshake_bad_dh_prime_is_named() {
    handshake_attacked(|k| k.quirks.bad_dh_prime = true, &["not a safe prime"]).await;
}

#[tokio::test]
async fn handshake_bad_g_is_named() {
    handshake_attacked(|k| k.quirks.bad_g = true, &["generator g = 1"]).await;
}

#[tokio::test]
async fn handshake_bad_generator_residue_is_named() {
    // g = 2 with Telegram's prime: in 2..=7, but not a generator of the (p-1)/2 subgroup.
    handshake_attacked(
        |k| k.quirks.bad_generator_residue = true,
        &["generator g = 2 fails its quadratic residue condition"],
    )
    .await;
}

#[tokio::test]
async fn handshake_g_a_out_of_range_is_named() {
    handshake_attacked(|k| k.quirks.bad_g_a = true, &["g_a is not in"]).await;
}

#[tokio::test]
async fn handshake_g_a_below_the_safe_range_is_named() {
    // g_a = 2: inside (1, p-1), below 2^1984.
    handshake_attacked(
        |k| k.quirks.small_g_a = true,
        &["g_a is not in [2^1984, p - 2^1984]"],
    )
    .await;
}

#[tokio::test]
async fn handshake_wrong_nonce_is_named() {
    handshake_attacked(
        |k| k.quirks.wrong_res_pq_nonce = true,
        &["nonce in resPQ does not match"],
    )
    .await;
}

#[tokio::test]
async fn handshake_wrong_server_nonce_is_named() {
    handshake_attacked(
        |k| k.quirks.wrong_outer_server_nonce = true,
        &["server_nonce in server_DH_params_ok does not match"],
    )
    .await;
}

#[tokio::test]
async fn handshake_wrong_dh_gen_nonce_is_named() {
    handshake_attacked(
        |k| k.quirks.wrong_dh_gen_nonce = true,
        &["nonce in dh_gen_ok does not match"],
    )
    .await;
}

#[tokio::test]
async fn handshake_wrong_dh_gen_server_nonce_is_named() {
    handshake_attacked(
        |k| k.quirks.wrong_dh_gen_server_nonce = true,
        &["server_nonce in dh_gen_ok does not match"],
    )
    .await;
}

#[tokio::test]
async fn handshake_bad_answer_hash_is_named() {
    handshake_attacked(
        |k| k.quirks.corrupt_answer_hash = true,
        &["SHA1 of the decrypted answer"],
    )
    .await;
}

#[tokio::test]
async fn handshake_bad_new_nonce_hash_is_named() {
    handshake_attacked(
        |k| k.quirks.corrupt_new_nonce_hash = true,
        &["new_nonce_hash1 does not match"],
    )
    .await;
}

#[tokio::test]
async fn handshake_wrong_inner_nonce_is_named() {
    handshake_attacked(
        |k| k.quirks.wrong_inner_nonce = true,
        &["nonce in server_DH_inner_data does not match"],
    )
    .await;
}

#[tokio::test]
async fn handshake_wrong_inner_server_nonce_is_named() {
    handshake_attacked(
        |k| k.quirks.wrong_inner_server_nonce = true,
        &["server_nonce in server_DH_inner_data does not match"],
    )
    .await;
}

#[tokio::test]
async fn handshake_misnumbered_new_nonce_hash_is_named() {
    // dh_gen_ok carrying new_nonce_hash2: the client computes hash 1 and refuses.
    handshake_attacked(
        |k| k.quirks.misnumber_new_nonce_hash = true,
        &["new_nonce_hash1 does not match"],
    )
    .await;
}

#[tokio::test]
async fn handshake_unfactorable_pq_is_named() {
    handshake_attacked(
        |k| k.quirks.unfactorable_pq = Some(UnfactorablePq::Prime),
        &["is prime"],
    )
    .await;
    handshake_attacked(
        |k| k.quirks.unfactorable_pq = Some(UnfactorablePq::ThreeFactors),
        &["is not a product of exactly two primes"],
    )
    .await;
}

#[tokio::test]
async fn handshake_bad_plain_length_is_named() {
    // resPQ's unencrypted envelope claims 4 bytes more than its body.
    handshake_attacked(
        |k| k.quirks.bad_plain_length = true,
        &["message_data_length says"],
    )
    .await;
}

#[tokio::test]
async fn handshake_endless_retries_end_at_the_limit() {
    handshake_attacked(|k| k.quirks.retry_forever = true, &["dh_gen_retry answers"]).await;
}

#[tokio::test]
async fn handshake_refused_dh_params_are_named() {
    handshake_attacked(
        |k| k.quirks.refuse_dh_params = true,
        &["server_DH_params_fail"],
    )
    .await;
}

#[tokio::test]
async fn handshake_dh_gen_fail_is_named() {
    handshake_attacked(|k| k.quirks.fail_dh_gen = true, &["dh_gen_fail"]).await;
}

/// A DC whose RSA key the client does not trust: the exchange stops at `resPQ`, naming the
/// fingerprints, and nothing is encrypted to an unknown key.
#[tokio::test]
async fn an_untrusted_server_key_is_named() {
    bounded(async {
        let dc = TestDc::builder()
            .code("24680")
            .user(Account::new("+9996611111"))
            .start()
            .await
            .unwrap();
        let mut config = ClientConfig::new(
            611_335,
            "hash",
            dc.dcs(),
            1,
            vec![mtproto_crypto::rsa::telegram_production_key()],
        );
        config.store = Arc::new(MemoryStore::new());
        let client = Client::new(config).unwrap();
        let error = client
            .send_code("+9996611111")
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("no known RSA key"), "{error}");
        assert!(client.session().await.keys.is_empty());
        assert_eq!(dc.server(1).stats().key_exchanges, 0);
    })
    .await;
}

#[tokio::test]
async fn handshake_bad_hashes_of_failure_answers_are_named() {
    // A failure or retry answer is believed only when its own hash verifies.
    handshake_attacked(
        |k| {
            k.quirks.refuse_dh_params = true;
            k.quirks.corrupt_new_nonce_hash = true;
        },
        &["new_nonce_hash0 does not match"],
    )
    .await;
    handshake_attacked(
        |k| {
            k.quirks.retry_once = true;
            k.quirks.corrupt_new_nonce_hash = true;
        },
        &["new_nonce_hash2 does not match"],
    )
    .await;
    handshake_attacked(
        |k| {
            k.quirks.fail_dh_gen = true;
            k.quirks.corrupt_new_nonce_hash = true;
        },
        &["new_nonce_hash3 does not match"],
    )
    .await;
}
