//! Session attacks: each [`SessionAttack`] makes the server's encrypted packets violate
//! exactly one client-side check of `shared/PROTOCOL.md` section 9, or the `seq_no` parity
//! rule (the key-exchange checks are `ServerQuirks` of the server handshake). Switched with
//! [`crate::Knobs::attack`].
//!
//! The server seals its packets correctly; the tamper function installed in the
//! `ServerEndpoint` (feature `testing`) opens each with the key, changes one thing and seals
//! it again (or, for a wrong `msg_key`, `auth_key_id` or encrypted length, changes the
//! envelope only). Padding over 1024 bytes is sealed by hand, as `encrypt_v2_with_padding`
//! refuses it.

use std::sync::{Arc, Mutex};

use mtproto_crypto::keys::{derive_v2, msg_key_v2};
use mtproto_crypto::message::{decrypt_v2, encrypt_v2_with_padding, MAX_PADDING_V2};
use mtproto_crypto::{encrypt_ige, AuthKey, Direction};

/// One client check to violate in every encrypted packet the server sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionAttack {
    /// A `msg_key` that does not match the plaintext (one bit flipped).
    WrongMsgKey,
    /// Another `session_id` than the client's.
    WrongSessionId,
    /// An even `msg_id` (server message ids are odd).
    EvenMsgId,
    /// The `msg_id` of the last packet sent before the attack began, again and again (a
    /// replay of what the client already accepted).
    ReplayedMsgId,
    /// A `msg_id` from ten minutes ago (beyond the 300 s window).
    StaleMsgId,
    /// Fewer than 12 padding bytes (the length field claims 16 of them as data).
    BadPadding,
    /// A `message_data_length` beyond the decrypted data.
    BadLength,
    /// An `auth_key_id` that is not the key's (one bit of its first byte flipped).
    WrongAuthKeyId,
    /// An encrypted part whose length is not a multiple of 16 (the packet's last 4 bytes cut).
    UnalignedLength,
    /// More than 1024 padding bytes, under a `msg_key` that matches (sealed by hand).
    OversizePadding,
    /// Every packet that carries answers becomes a container in which each answer is preceded
    /// by a forged one for the same request (an `rpc_error`, 500 `STALE_FAKE_ANSWER`) whose
    /// `msg_id` is ten minutes old: the container passes, the stale inner message must be
    /// dropped on its own.
    StaleAnswerInContainer,
    /// A `message_data_length` that is not a multiple of 4 (2 less than the body's length),
    /// under a `msg_key` that matches; the padding stays within 12..=1024 bytes.
    UnalignedBodyLength,
    /// A `seq_no` of the wrong parity for the message (bit 0 flipped: content-related
    /// messages get an even one, acknowledgements and containers an odd one), under a
    /// `msg_key` that matches.
    WrongSeqNoParity,
}

/// The attack in force, shared between the knobs and the tamper function.
#[derive(Default)]
pub(crate) struct AttackState {
    pub attack: Option<SessionAttack>,
    last_msg_id: Option<i64>,
    pub tampered: u64,
}

/// The tamper function to install in the endpoint.
pub(crate) fn tamper_fn(state: Arc<Mutex<AttackState>>) -> mtproto_proto::endpoint::PacketTamper {
    Box::new(move |key: &AuthKey, packet: Vec<u8>| {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        match state.attack {
            Some(attack) => match apply(attack, key, &packet, &mut state.last_msg_id) {
                Some(tampered) => {
                    state.tampered += 1;
                    tampered
                }
                None => packet,
            },
            None => {
                state.last_msg_id = msg_id_of(key, &packet).or(state.last_msg_id);
                packet
            }
        }
    })
}

const HEADER: usize = 32;

fn msg_id_of(key: &AuthKey, packet: &[u8]) -> Option<i64> {
    let plain = decrypt_v2(key, Direction::ServerToClient, packet).ok()?;
    Some(i64::from_le_bytes(plain.get(16..24)?.try_into().ok()?))
}

/// The tampered packet; `None` when it cannot be opened (then it goes out unchanged).
fn apply(
    attack: SessionAttack,
    key: &AuthKey,
    packet: &[u8],
    last_msg_id: &mut Option<i64>,
) -> Option<Vec<u8>> {
    match attack {
        SessionAttack::WrongMsgKey => {
            let mut out = packet.to_vec();
            *out.get_mut(8)? ^= 1;
            return Some(out);
        }
        SessionAttack::WrongAuthKeyId => {
            let mut out = packet.to_vec();
            *out.get_mut(0)? ^= 1;
            return Some(out);
        }
        SessionAttack::UnalignedLength => {
            let cut = packet.len().checked_sub(4)?;
            return Some(packet[..cut].to_vec());
        }
        _ => {}
    }
    let plain = decrypt_v2(key, Direction::ServerToClient, packet).ok()?;
    let len = u32::from_le_bytes(plain.get(28..32)?.try_into().ok()?) as usize;
    let mut content = plain.get(..HEADER + len)?.to_vec();
    let padding = plain.get(HEADER + len..)?.to_vec();
    let msg_id = i64::from_le_bytes(content[16..24].try_into().ok()?);
    if attack == SessionAttack::StaleAnswerInContainer {
        let sealed = stale_answers_in_container(key, &content, msg_id)?;
        *last_msg_id = Some(msg_id);
        return Some(sealed);
    }
    match attack {
        SessionAttack::WrongMsgKey
        | SessionAttack::WrongAuthKeyId
        | SessionAttack::UnalignedLength
        | SessionAttack::StaleAnswerInContainer => unreachable!("handled above"),
        SessionAttack::WrongSessionId => content[8] ^= 1,
        // `seq_no` is the little-endian word at 24..28: its bit 0 is the low bit of byte 24.
        SessionAttack::WrongSeqNoParity => content[24] ^= 1,
        SessionAttack::EvenMsgId => content[16..24].copy_from_slice(&(msg_id & !3).to_le_bytes()),
        SessionAttack::ReplayedMsgId => {
            let previous = last_msg_id.unwrap_or(msg_id);
            content[16..24].copy_from_slice(&previous.to_le_bytes());
        }
        SessionAttack::StaleMsgId => {
            let stale = msg_id - (600 << 32);
            content[16..24].copy_from_slice(&stale.to_le_bytes());
        }
        SessionAttack::BadPadding => {
            // Claim `extra` padding bytes as data so that fewer than 12 remain.
            let mut extra = 4;
            while (16 - (HEADER + len + extra) % 16) % 16 >= 12 {
                extra += 4;
            }
            let left = (16 - (HEADER + len + extra) % 16) % 16;
            content[28..32].copy_from_slice(&((len + extra) as u32).to_le_bytes());
            content.resize(HEADER + len + extra + left, 0x5c);
            // Sealing takes data and padding apart only to check sizes; the sealed bytes are
            // the same whatever the split.
            let split = content.len() - 16;
            *last_msg_id = Some(msg_id);
            return encrypt_v2_with_padding(
                key,
                Direction::ServerToClient,
                &content[..split],
                &content[split..],
            )
            .ok();
        }
        SessionAttack::BadLength => {
            let room = content.len() - HEADER + padding.len();
            content[28..32].copy_from_slice(&((room + 4) as u32).to_le_bytes());
        }
        SessionAttack::OversizePadding => {
            // The fewest bytes over 1024 that keep the whole a multiple of 16.
            let mut pad = MAX_PADDING_V2 + 1;
            while (content.len() + pad) % 16 != 0 {
                pad += 1;
            }
            content.resize(content.len() + pad, 0x5c);
            *last_msg_id = Some(msg_id);
            return Some(seal_by_hand(key, content));
        }
        SessionAttack::UnalignedBodyLength => {
            // Every body is at least a 4-byte constructor id.
            let short = len.checked_sub(2)?;
            content[28..32].copy_from_slice(&(short as u32).to_le_bytes());
        }
    }
    // A replay repeats the last msg_id the client really received, every time (with
    // nothing sent before, the first packet goes out as it is and is the one replayed).
    if attack != SessionAttack::ReplayedMsgId || last_msg_id.is_none() {
        *last_msg_id = Some(msg_id);
    }
    encrypt_v2_with_padding(key, Direction::ServerToClient, &content, &padding).ok()
}

/// [`SessionAttack::StaleAnswerInContainer`]: `content` (header and body of one message,
/// perhaps a container) again as a container in which a forged, ten-minute-old error
/// answer precedes each `rpc_result`; `None` when it carries no answer.
fn stale_answers_in_container(key: &AuthKey, content: &[u8], msg_id: i64) -> Option<Vec<u8>> {
    use mtproto_proto::session::wire::{
        build_container, build_rpc_result, parse_container, Message, RpcError, MSG_CONTAINER_ID,
        RPC_RESULT_ID,
    };
    let seq_no = i32::from_le_bytes(content.get(24..28)?.try_into().ok()?);
    let body = content.get(HEADER..)?;
    let inner = if body.get(..4)? == MSG_CONTAINER_ID.to_le_bytes() {
        parse_container(body).ok()?
    } else {
        vec![Message {
            msg_id,
            seq_no,
            body: body.to_vec(),
        }]
    };
    let forged_error = RpcError::new(500, "STALE_FAKE_ANSWER".into()).to_bytes();
    let mut messages = Vec::new();
    let mut forged = 0;
    for message in inner {
        if message.body.get(..4) == Some(&RPC_RESULT_ID.to_le_bytes()[..]) {
            let req_msg_id = i64::from_le_bytes(message.body.get(4..12)?.try_into().ok()?);
            messages.push(Message {
                msg_id: message.msg_id - (600 << 32),
                seq_no: message.seq_no,
                body: build_rpc_result(req_msg_id, &forged_error),
            });
            forged += 1;
        }
        messages.push(message);
    }
    if forged == 0 {
        return None;
    }
    let container = build_container(&messages);
    let mut plain = content.get(..HEADER)?.to_vec();
    // A fresh odd id for the container when the answer was alone (its own id stays inside),
    // and an even seq_no (containers are not content-related).
    let outer_id = if body.get(..4)? == MSG_CONTAINER_ID.to_le_bytes() {
        msg_id
    } else {
        msg_id + 2
    };
    plain[16..24].copy_from_slice(&outer_id.to_le_bytes());
    plain[24..28].copy_from_slice(&(seq_no & !1).to_le_bytes());
    plain[28..32].copy_from_slice(&(container.len() as u32).to_le_bytes());
    plain.extend_from_slice(&container);
    let padding = vec![0x42u8; 12 + (16 - (plain.len() + 12) % 16) % 16];
    encrypt_v2_with_padding(key, Direction::ServerToClient, &plain, &padding).ok()
}

/// Seals a padded plaintext as MTProto 2.0 does (server to client), whatever its padding:
/// `msg_key` from the plaintext, then AES-IGE with the keys it derives. The caller makes the
/// length a multiple of 16.
fn seal_by_hand(key: &AuthKey, mut plain: Vec<u8>) -> Vec<u8> {
    let msg_key = msg_key_v2(key, Direction::ServerToClient, &plain);
    let aes = derive_v2(key, Direction::ServerToClient, &msg_key);
    // The length is a multiple of 16 by construction.
    let sealed = encrypt_ige(&mut plain, aes.key(), aes.iv());
    debug_assert!(sealed.is_ok());
    let mut out = key.id_bytes().to_vec();
    out.extend_from_slice(&msg_key);
    out.extend_from_slice(&plain);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtproto_crypto::message::decrypt_v2_message;

    fn sealed(key: &AuthKey, msg_id: i64, body: &[u8]) -> Vec<u8> {
        let mut plain = Vec::new();
        plain.extend_from_slice(&7i64.to_le_bytes());
        plain.extend_from_slice(&42i64.to_le_bytes());
        plain.extend_from_slice(&msg_id.to_le_bytes());
        plain.extend_from_slice(&1i32.to_le_bytes());
        plain.extend_from_slice(&(body.len() as u32).to_le_bytes());
        plain.extend_from_slice(body);
        let pad = 12 + (16 - (plain.len() + 12) % 16) % 16;
        encrypt_v2_with_padding(key, Direction::ServerToClient, &plain, &vec![1; pad]).unwrap()
    }

    fn open(key: &AuthKey, packet: &[u8]) -> Option<(i64, i64)> {
        decrypt_v2_message(key, Direction::ServerToClient, packet)
            .ok()
            .map(|m| (m.session_id, m.msg_id))
    }

    #[test]
    fn each_attack_breaks_exactly_its_check() {
        let key = AuthKey::from_bytes([9; 256]);
        let msg_id = (1_700_000_000_i64 << 32) | 1;
        let packet = sealed(&key, msg_id, &[0xab; 20]);
        assert_eq!(open(&key, &packet), Some((42, msg_id)));
        let mut last = Some(msg_id - 4);
        let run = |attack, last: &mut Option<i64>| apply(attack, &key, &packet, last).unwrap();

        // The envelope no longer authenticates: nothing decrypts.
        for attack in [
            SessionAttack::WrongMsgKey,
            SessionAttack::WrongAuthKeyId,
            SessionAttack::UnalignedLength,
        ] {
            let bad = run(attack, &mut last);
            assert!(
                decrypt_v2(&key, Direction::ServerToClient, &bad).is_err(),
                "{attack:?}"
            );
        }
        let wrong_id = run(SessionAttack::WrongAuthKeyId, &mut last);
        assert_eq!((wrong_id[0] ^ 1, &wrong_id[1..]), (packet[0], &packet[1..]));
        let cut = run(SessionAttack::UnalignedLength, &mut last);
        assert_eq!(&cut[..], &packet[..packet.len() - 4]);
        // Authentic packets whose header breaks one rule.
        assert_eq!(
            open(&key, &run(SessionAttack::WrongSessionId, &mut last)),
            Some((43, msg_id))
        );
        let (_, even) = open(&key, &run(SessionAttack::EvenMsgId, &mut last)).unwrap();
        assert_eq!(even % 2, 0);
        let mut last = Some(msg_id - 4);
        let (_, replayed) = open(&key, &run(SessionAttack::ReplayedMsgId, &mut last)).unwrap();
        assert_eq!(replayed, msg_id - 4);
        let (_, stale) = open(&key, &run(SessionAttack::StaleMsgId, &mut last)).unwrap();
        assert_eq!((msg_id >> 32) - (stale >> 32), 600);
        // Only the seq_no's parity changes (1, content-related, becomes 0).
        let flipped = decrypt_v2_message(
            &key,
            Direction::ServerToClient,
            &run(SessionAttack::WrongSeqNoParity, &mut last),
        )
        .unwrap();
        assert_eq!(
            (
                flipped.salt,
                flipped.session_id,
                flipped.msg_id,
                flipped.seq_no
            ),
            (7, 42, msg_id, 0)
        );
        assert_eq!(flipped.body, [0xab; 20]);
        // The padding and length rules: the envelope authenticates (decrypt_v2) but the
        // header check (decrypt_v2_message) refuses.
        for attack in [
            SessionAttack::BadPadding,
            SessionAttack::BadLength,
            SessionAttack::OversizePadding,
            SessionAttack::UnalignedBodyLength,
        ] {
            let bad = run(attack, &mut last);
            assert!(
                decrypt_v2(&key, Direction::ServerToClient, &bad).is_ok(),
                "{attack:?}"
            );
            assert_eq!(open(&key, &bad), None, "{attack:?}");
        }
    }
}
