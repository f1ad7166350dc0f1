//! The message layer shared by both roles: inner-message headers, containers, `rpc_result`,
//! and the ids of the service messages that `mtproto.tl` leaves to be parsed by hand.

use mtproto_crypto::message::{encrypt_v2, DecryptedMessage};
use mtproto_crypto::{AuthKey, Direction};
use rand_core::CryptoRngCore;
use tl_wire::{DecodeError, Deserialize, Identifiable, Limits, Reader, Serialize};

use crate::schema::types;

/// `msg_container#73f1f8dc messages:vector<%Message> = MessageContainer;`
pub const MSG_CONTAINER_ID: u32 = 0x73f1_f8dc;
/// `rpc_result#f35c6d01 req_msg_id:long result:Object = RpcResult;`
pub const RPC_RESULT_ID: u32 = 0xf35c_6d01;
/// `rpc_error#2144ca19 error_code:int error_message:string = RpcError;`
pub const RPC_ERROR_ID: u32 = 0x2144_ca19;
/// `gzip_packed#3072cfa1 packed_data:bytes = Object;`
pub const GZIP_PACKED_ID: u32 = tl_wire::GZIP_PACKED_ID;

/// Most messages one container may hold (Telegram's limit is 1020).
pub const MAX_CONTAINER_MESSAGES: usize = 1020;
/// Bytes of an inner message header in a container: msg_id, seqno, bytes.
pub const INNER_HEADER_LEN: usize = 16;
/// Bytes of the plaintext header of an encrypted message: salt, session_id, msg_id, seq_no, length.
pub const PLAINTEXT_HEADER_LEN: usize = 32;

/// One message: its id, sequence number and TL body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The message id.
    pub msg_id: i64,
    /// The sequence number (odd when content-related).
    pub seq_no: i32,
    /// The TL body.
    pub body: Vec<u8>,
}

impl Message {
    /// Whether the peer must acknowledge it.
    pub fn is_content_related(&self) -> bool {
        self.seq_no & 1 == 1
    }
}

impl From<DecryptedMessage> for Message {
    fn from(m: DecryptedMessage) -> Self {
        Self {
            msg_id: m.msg_id,
            seq_no: m.seq_no,
            body: m.body,
        }
    }
}

/// The sequence numbers one side of a session gives its messages: twice the number of
/// content-related messages sent before, plus one for a content-related message.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeqNo {
    content_sent: i32,
}

impl SeqNo {
    /// The seq_no of the next message.
    pub fn next(&mut self, content_related: bool) -> i32 {
        if content_related {
            self.content_sent += 1;
            self.content_sent * 2 - 1
        } else {
            self.content_sent * 2
        }
    }
}

/// Encrypts one outer message (a single message or a container) for the peer.
pub fn seal(
    auth_key: &AuthKey,
    direction: Direction,
    salt: i64,
    session_id: i64,
    msg: &Message,
    rng: &mut impl CryptoRngCore,
) -> Vec<u8> {
    encrypt_v2(auth_key, direction, &plaintext(salt, session_id, msg), rng)
}

/// The body of a `msgs_ack` for up to 8192 of `pending` ids (those are removed), if any.
pub fn take_acks(pending: &mut Vec<i64>) -> Option<Vec<u8>> {
    if pending.is_empty() {
        return None;
    }
    let take = pending.len().min(8192);
    let msg_ids: Vec<i64> = pending.drain(..take).collect();
    Some(crate::schema::enums::MsgsAck::from(crate::schema::types::MsgsAck { msg_ids }).to_bytes())
}

/// The constructor id at the start of `body`, if it has four bytes.
pub fn peek_id(body: &[u8]) -> Option<u32> {
    Reader::new(body).peek_u32().ok()
}

/// Parses the body of a `msg_container` (after its constructor id has been checked).
///
/// Counts and lengths are checked against the input before anything is allocated.
pub fn parse_container(body: &[u8]) -> Result<Vec<Message>, DecodeError> {
    let mut r = Reader::new(body);
    r.expect_id(MSG_CONTAINER_ID, "msg_container")?;
    let count = r.read_i32()?;
    let at = r.position();
    let max_by_len = r.remaining() / INNER_HEADER_LEN;
    if count < 0 || count as usize > MAX_CONTAINER_MESSAGES.min(max_by_len) {
        return Err(DecodeError::VectorTooLong {
            count: count as u32,
            at,
            remaining: r.remaining(),
        });
    }
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let msg_id = r.read_i64()?;
        let seq_no = r.read_i32()?;
        let len = r.read_i32()?;
        let at = r.position();
        if len < 0 || len as usize > r.remaining() {
            return Err(DecodeError::LengthPrefixTooLarge {
                at,
                len: len as u32 as usize,
                remaining: r.remaining(),
            });
        }
        let body = r.read_raw(len as usize)?.to_vec();
        out.push(Message {
            msg_id,
            seq_no,
            body,
        });
    }
    r.expect_end()?;
    Ok(out)
}

/// Builds a `msg_container` body from `messages`.
pub fn build_container(messages: &[Message]) -> Vec<u8> {
    let len: usize = messages
        .iter()
        .map(|m| INNER_HEADER_LEN + m.body.len())
        .sum();
    let mut out = Vec::with_capacity(8 + len);
    out.extend_from_slice(&MSG_CONTAINER_ID.to_le_bytes());
    out.extend_from_slice(&(messages.len() as i32).to_le_bytes());
    for m in messages {
        out.extend_from_slice(&m.msg_id.to_le_bytes());
        out.extend_from_slice(&m.seq_no.to_le_bytes());
        out.extend_from_slice(&(m.body.len() as i32).to_le_bytes());
        out.extend_from_slice(&m.body);
    }
    out
}

/// Splits an `rpc_result` body into `req_msg_id` and the result object's bytes.
pub fn parse_rpc_result(body: &[u8]) -> Result<(i64, &[u8]), DecodeError> {
    let mut r = Reader::new(body);
    r.expect_id(RPC_RESULT_ID, "rpc_result")?;
    let req_msg_id = r.read_i64()?;
    Ok((req_msg_id, r.read_rest()))
}

/// Builds an `rpc_result` body.
pub fn build_rpc_result(req_msg_id: i64, result: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + result.len());
    out.extend_from_slice(&RPC_RESULT_ID.to_le_bytes());
    out.extend_from_slice(&req_msg_id.to_le_bytes());
    out.extend_from_slice(result);
    out
}

/// The plaintext of an encrypted message: header, then the body (padding is added by the
/// encryption).
pub fn plaintext(salt: i64, session_id: i64, msg: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(PLAINTEXT_HEADER_LEN + msg.body.len());
    out.extend_from_slice(&salt.to_le_bytes());
    out.extend_from_slice(&session_id.to_le_bytes());
    out.extend_from_slice(&msg.msg_id.to_le_bytes());
    out.extend_from_slice(&msg.seq_no.to_le_bytes());
    out.extend_from_slice(&(msg.body.len() as u32).to_le_bytes());
    out.extend_from_slice(&msg.body);
    out
}

/// Unwraps `gzip_packed` around `body` if present (either framing). What it inflates is
/// taken from `budget`, the bytes one incoming packet may still inflate to (all its
/// messages and layers together); more is [`DecodeError::InflatedTooLarge`] with `limit`.
pub fn unpack<'a>(
    body: &'a [u8],
    budget: &mut usize,
    limit: usize,
) -> Result<std::borrow::Cow<'a, [u8]>, DecodeError> {
    if peek_id(body) != Some(GZIP_PACKED_ID) {
        return Ok(std::borrow::Cow::Borrowed(body));
    }
    let mut r = Reader::new(body);
    r.read_u32()?;
    let packed = r.read_bytes_ref()?;
    r.expect_end()?;
    let inflated = tl_wire::gzip::inflate(packed, *budget).map_err(|e| match e {
        DecodeError::InflatedTooLarge { .. } => DecodeError::InflatedTooLarge { limit },
        e => e,
    })?;
    *budget -= inflated.len().min(*budget);
    Ok(std::borrow::Cow::Owned(inflated))
}

/// Decodes a service message whose outer `gzip_packed` (if any) was already unwrapped by
/// [`unpack`]: a `gzip_packed` inside it is refused, as the protocol never nests one there.
pub fn decode<T: Deserialize>(body: &[u8]) -> Result<T, DecodeError> {
    T::from_bytes_with_limits(body, Limits::NO_GZIP)
}

/// Which `msg_seqno` parity an incoming message must have, by its (unpacked) constructor
/// id: even (`Some(false)`) for what is not content-related (acknowledgements, containers);
/// either (`None`) for notifications and state messages, on which senders differ; odd
/// (`Some(true)`) for everything else (requests, answers, pings, updates).
pub fn expected_parity(id: u32) -> Option<bool> {
    match id {
        types::MsgsAck::CONSTRUCTOR_ID | MSG_CONTAINER_ID => Some(false),
        types::BadServerSalt::CONSTRUCTOR_ID
        | types::BadMsgNotification::CONSTRUCTOR_ID
        | types::MsgsStateReq::CONSTRUCTOR_ID
        | types::MsgsStateInfo::CONSTRUCTOR_ID
        | types::MsgsAllInfo::CONSTRUCTOR_ID
        | types::MsgDetailedInfo::CONSTRUCTOR_ID
        | types::MsgNewDetailedInfo::CONSTRUCTOR_ID
        | types::MsgResendReq::CONSTRUCTOR_ID
        | types::MsgResendAnsReq::CONSTRUCTOR_ID => None,
        _ => Some(true),
    }
}

/// Whether `msg`'s seq_no parity is wrong for its unpacked body: `Some(expected_odd)` if so.
///
/// A server passes `client_acks_either: true`: mtcute 0.30.3 sends `msgs_ack` with an odd
/// seq_no (as content-related) and Telegram's servers accept it, so a server that refused it
/// would break a real client. Clients hold servers to the rule.
pub fn parity_violation(msg: &Message, unpacked: &[u8], client_acks_either: bool) -> Option<bool> {
    let id = peek_id(unpacked)?;
    if client_acks_either && id == types::MsgsAck::CONSTRUCTOR_ID {
        return None;
    }
    let expected = expected_parity(id)?;
    (msg.is_content_related() != expected).then_some(expected)
}

/// An RPC error: `error_code` and `error_message` split into name and numeric value
/// (`FLOOD_WAIT_17` → `FLOOD_WAIT`, `Some(17)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcError {
    /// The HTTP-like code (400, 401, 420, 500, ...; 303 for DC migration).
    pub code: i32,
    /// The message without its numeric suffix (`PHONE_MIGRATE`).
    pub name: String,
    /// The numeric suffix (`2` in `PHONE_MIGRATE_2`), if any.
    pub value: Option<u32>,
    /// The message as sent.
    pub message: String,
}

impl RpcError {
    /// Splits `message` into name and value.
    pub fn new(code: i32, message: String) -> Self {
        let (name, value) = match message.rsplit_once('_') {
            Some((name, digits))
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                match digits.parse() {
                    Ok(v) => (name.to_string(), Some(v)),
                    Err(_) => (message.clone(), None),
                }
            }
            _ => (message.clone(), None),
        };
        Self {
            code,
            name,
            value,
            message,
        }
    }

    /// Parses an `rpc_error` object (already out of any `gzip_packed`).
    pub fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::with_limits(body, Limits::NO_GZIP);
        r.expect_id(RPC_ERROR_ID, "rpc_error")?;
        let code = r.read_i32()?;
        let message = r.read_string()?;
        Ok(Self::new(code, message))
    }

    /// The `rpc_error` object.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = RPC_ERROR_ID.to_le_bytes().to_vec();
        out.extend_from_slice(&self.code.to_le_bytes());
        tl_wire::write_bytes(&mut out, self.message.as_bytes());
        out
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RPC error {}: {}", self.code, self.message)
    }
}

impl std::error::Error for RpcError {}
