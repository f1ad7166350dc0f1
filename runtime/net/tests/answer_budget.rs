//! The inflation budget of `SessionConfig::max_inflated` reaches the typed decoding of
//! answers: a 56 KB answer hiding 63 nested `gzip_packed` layers of ~16 MiB each (the
//! fixture of `runtime/wire/tests/fixtures/`) fails within the configured budget, measured
//! with a counting allocator around the whole `invoke` (client and in-process server).

use std::sync::Arc;
use std::time::Duration;

use mtproto_crypto::AuthKey;
use mtproto_net::{Backoff, ConnectConfig, Connection, InvokeError, StoredAuth};
use mtproto_proto::schema::functions;
use test_dc::{Reply, TestServer, TestServerConfig};
use tl_wire::DecodeError;

#[path = "../../wire/tests/util/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{peak_during, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const NESTED: &[u8] = include_bytes!("../../wire/tests/fixtures/nested_gzip.bin");

/// A `Vector<Bool>` whose one element is the nested gzip_packed: the session hands it over
/// as is (no outer gzip), so only the typed decoding meets the layers.
fn hostile_answer() -> Vec<u8> {
    let mut answer = tl_wire::VECTOR_ID.to_le_bytes().to_vec();
    answer.extend_from_slice(&1i32.to_le_bytes());
    answer.extend_from_slice(NESTED);
    answer
}

/// Any call whose answer is a `Vec<bool>` (its elements are boxed, so gzip-capable).
struct AnyCall;

impl tl_wire::Identifiable for AnyCall {
    const CONSTRUCTOR_ID: u32 = 0x1234_5678;
}

impl tl_wire::Serialize for AnyCall {
    fn serialize(&self, buf: &mut impl tl_wire::bytes::BufMut) {
        buf.put_u32_le(<Self as tl_wire::Identifiable>::CONSTRUCTOR_ID);
    }
}

impl tl_wire::RemoteCall for AnyCall {
    type Return = Vec<bool>;
}

#[test]
fn typed_answers_decode_within_the_sessions_inflation_budget() {
    const BUDGET: usize = 4 << 20;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = test_dc::test_server_key();
    let answer = hostile_answer();
    let handler = Arc::new(move |_: &[u8]| Reply::Ok(answer.clone()));
    let (conn, _events, _server) = runtime.block_on(async {
        let (addr, server) = TestServer::bind(TestServerConfig::new(vec![key.clone()], handler))
            .await
            .expect("bind");
        let auth_key = AuthKey::from_bytes([7; 256]);
        server.add_key(auth_key.clone(), 1);
        let mut config = ConnectConfig::new(addr, 2, vec![key.public_key().clone()]);
        config.auth = Some(StoredAuth {
            auth_key,
            salt: 1,
            time_offset: 0,
        });
        config.session.max_inflated = BUDGET;
        config.reconnect = Backoff::default();
        config.request_timeout = Duration::from_secs(20);
        let (conn, events) = Connection::connect(config).await.expect("connect");
        // Warm up: the session is created and the first buffers are allocated.
        let ping = functions::Ping { ping_id: 1 };
        conn.invoke(&ping).await.expect("pong");
        (conn, events, server)
    });
    let (result, peak) = peak_during(|| runtime.block_on(conn.invoke(&AnyCall)));
    assert!(
        matches!(
            result,
            Err(InvokeError::Decode(DecodeError::InflatedTooLarge { .. }))
        ),
        "{result:?}"
    );
    assert!(
        peak < 2 * BUDGET,
        "peak {peak} bytes for a {BUDGET}-byte budget"
    );
}
