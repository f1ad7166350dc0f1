//! The TL decoding limits of `tl_wire::Reader` (SECURITY.md row 25) reach the typed
//! decoding of answers, end to end: a hostile handler of a test-DC `TestServer` answers over
//! a real socket with a vector count of 2^30 and no elements, or with boxed values nested 65
//! deep. `Connection::invoke` returns the typed `InvokeError::Decode(..)` at once (not a
//! timeout, not a panic), and the connection goes on serving calls.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mtproto_crypto::AuthKey;
use mtproto_net::{Backoff, ConnectConfig, Connection, InvokeError, StoredAuth};
use mtproto_proto::schema::functions;
use test_dc::{Reply, TestServer, TestServerConfig};
use tl_wire::{DecodeError, DEFAULT_MAX_DEPTH, VECTOR_ID};

/// How long a call may wait for its answer; the refusals must come well before.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// `Vector` nested four times.
type V4<T> = Vec<Vec<Vec<Vec<T>>>>;
/// `Vector` nested 16 times.
type V16<T> = V4<V4<V4<V4<T>>>>;
/// `Vector` nested 64 times around a `Bool`: 65 boxed levels, one past the default limit.
type Deep = V16<V16<V16<V16<bool>>>>;
/// `Vector` nested 63 times around a `Bool`: 64 boxed levels, exactly the default limit.
type Shallow = V16<V16<V16<V4<V4<V4<Vec<Vec<Vec<bool>>>>>>>>>;

/// A call (to an id the server does not know; the hostile handler answers anything) whose
/// answer decodes as `R`.
struct AnyCall<R>(std::marker::PhantomData<R>);

impl<R> AnyCall<R> {
    fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<R> tl_wire::Identifiable for AnyCall<R> {
    const CONSTRUCTOR_ID: u32 = 0x1234_5678;
}

impl<R> tl_wire::Serialize for AnyCall<R> {
    fn serialize(&self, buf: &mut impl tl_wire::bytes::BufMut) {
        buf.put_u32_le(<Self as tl_wire::Identifiable>::CONSTRUCTOR_ID);
    }
}

impl<R: tl_wire::Deserialize> tl_wire::RemoteCall for AnyCall<R> {
    type Return = R;
}

/// A `Vector<Bool>` that announces 2^30 elements and carries none.
fn vector_count_of_2_pow_30() -> Vec<u8> {
    let mut answer = VECTOR_ID.to_le_bytes().to_vec();
    answer.extend_from_slice(&(1i32 << 30).to_le_bytes());
    answer
}

/// 64 one-element `Vector`s nested around `boolTrue`: 65 boxed values, one inside the other.
fn nested_65_deep() -> Vec<u8> {
    let mut answer = Vec::new();
    for _ in 0..DEFAULT_MAX_DEPTH {
        answer.extend_from_slice(&VECTOR_ID.to_le_bytes());
        answer.extend_from_slice(&1i32.to_le_bytes());
    }
    answer.extend_from_slice(&tl_wire::Serialize::to_bytes(&true));
    answer
}

/// Connects to a `TestServer` whose handler answers every call with `answer`, invokes
/// [`AnyCall`] decoding as `R`, and returns its result and how long it took. Before and after
/// the call a ping is answered, so the connection outlives the refused answer.
fn invoke_against<R>(answer: Vec<u8>) -> (Result<R, InvokeError>, Duration)
where
    R: tl_wire::Deserialize,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let key = test_dc::test_server_key();
        let handler = Arc::new(move |_: &[u8]| Reply::Ok(answer.clone()));
        let (addr, server) = TestServer::bind(TestServerConfig::new(vec![key.clone()], handler))
            .await
            .expect("bind");
        let auth_key = AuthKey::from_bytes([9; 256]);
        server.add_key(auth_key.clone(), 1);
        let mut config = ConnectConfig::new(addr, 2, vec![key.public_key().clone()]);
        config.auth = Some(StoredAuth {
            auth_key,
            salt: 1,
            time_offset: 0,
        });
        config.reconnect = Backoff::default();
        config.request_timeout = REQUEST_TIMEOUT;
        let (conn, _events) = Connection::connect(config).await.expect("connect");
        conn.invoke(&functions::Ping { ping_id: 1 })
            .await
            .expect("pong before");
        let started = Instant::now();
        let result = conn.invoke(&AnyCall::<R>::new()).await;
        let took = started.elapsed();
        conn.invoke(&functions::Ping { ping_id: 2 })
            .await
            .expect("pong after: the connection goes on");
        let body = tl_wire::Serialize::to_bytes(&AnyCall::<R>::new());
        assert_eq!(
            server.stats().received(&body),
            1,
            "asked once, never resent"
        );
        (result, took)
    })
}

#[test]
fn a_vector_count_the_answer_cannot_hold_is_a_decode_error() {
    let (result, took) = invoke_against::<Vec<bool>>(vector_count_of_2_pow_30());
    match result {
        Err(InvokeError::Decode(
            error @ DecodeError::VectorTooLong {
                count: 0x4000_0000,
                at: 4,
                remaining: 0,
            },
        )) => assert_eq!(
            error.to_string(),
            "vector count 1073741824 at byte 4 is impossible with 0 bytes left"
        ),
        other => panic!("expected VectorTooLong, got {other:?}"),
    }
    assert!(took < REQUEST_TIMEOUT / 4, "refused after {took:?}");
}

#[test]
fn boxed_values_nested_65_deep_are_a_decode_error() {
    let (result, took) = invoke_against::<Deep>(nested_65_deep());
    match result {
        Err(InvokeError::Decode(error @ DecodeError::TooDeep { limit: 64 })) => assert_eq!(
            error.to_string(),
            "boxed values nested deeper than 64 levels"
        ),
        other => panic!("expected TooDeep, got {other:?}"),
    }
    assert!(took < REQUEST_TIMEOUT / 4, "refused after {took:?}");
}

/// The same nesting one level shallower (63 `Vector`s around the `Bool`: 64 boxed values)
/// is within the limit and decodes: the refusal above is about the depth alone.
#[test]
fn boxed_values_nested_64_deep_decode() {
    let answer = nested_65_deep()[8..].to_vec();
    let (result, _) = invoke_against::<Shallow>(answer.clone());
    let value = result.expect("64 levels decode");
    assert_eq!(tl_wire::Serialize::to_bytes(&value), answer);
}
