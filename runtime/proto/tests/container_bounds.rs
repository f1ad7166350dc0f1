//! Check 23 (SECURITY.md): the bounds of a `msg_container` from the server. Each malformed
//! container is a typed error naming what was wrong; nothing is allocated from a count the
//! bytes do not back.

use mtproto_proto::session::wire::{parse_container, MAX_CONTAINER_MESSAGES};
use tl_wire::DecodeError;

/// `msg_container#73f1f8dc`.
const MSG_CONTAINER: u32 = 0x73f1_f8dc;

/// A container body: the count word, then each message as (msg_id, seq_no, declared length,
/// bytes).
fn container(count: i32, messages: &[(i64, i32, i32, &[u8])]) -> Vec<u8> {
    let mut out = MSG_CONTAINER.to_le_bytes().to_vec();
    out.extend_from_slice(&count.to_le_bytes());
    for (msg_id, seq_no, len, body) in messages {
        out.extend_from_slice(&msg_id.to_le_bytes());
        out.extend_from_slice(&seq_no.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
    }
    out
}

/// `count` messages with empty bodies.
fn empties(count: usize) -> Vec<(i64, i32, i32, &'static [u8])> {
    (0..count)
        .map(|n| (n as i64 * 4 + 1, 0, 0, &[][..]))
        .collect()
}

#[test]
fn a_well_formed_container_and_the_largest_allowed_count_parse() {
    let body = [1u8, 2, 3, 4];
    let parsed = parse_container(&container(2, &[(5, 1, 4, &body), (9, 2, 0, &[])])).unwrap();
    assert_eq!(parsed.len(), 2);
    assert_eq!((parsed[0].msg_id, parsed[0].seq_no), (5, 1));
    assert_eq!(parsed[0].body, body);
    assert!(parsed[1].body.is_empty());
    let limit = MAX_CONTAINER_MESSAGES;
    assert_eq!(limit, 1020, "the documented limit");
    let parsed = parse_container(&container(limit as i32, &empties(limit))).unwrap();
    assert_eq!(parsed.len(), limit);
}

#[test]
fn more_than_1020_messages_are_refused_even_when_the_bytes_are_there() {
    let count = MAX_CONTAINER_MESSAGES + 1;
    let error = parse_container(&container(count as i32, &empties(count))).unwrap_err();
    assert!(
        matches!(error, DecodeError::VectorTooLong { count: 1021, .. }),
        "{error:?}"
    );
}

#[test]
fn a_negative_count_or_one_the_bytes_cannot_hold_is_refused() {
    for count in [-1, i32::MIN, 3] {
        // Two messages' worth of bytes at most.
        let error = parse_container(&container(count, &empties(2))).unwrap_err();
        assert!(
            matches!(error, DecodeError::VectorTooLong { .. }),
            "count {count}: {error:?}"
        );
    }
}

#[test]
fn an_inner_length_past_the_end_or_negative_is_refused() {
    for len in [5, -4, i32::MAX] {
        let error = parse_container(&container(1, &[(5, 1, len, &[0; 4])])).unwrap_err();
        assert!(
            matches!(error, DecodeError::LengthPrefixTooLarge { .. }),
            "length {len}: {error:?}"
        );
    }
}

#[test]
fn trailing_bytes_after_the_last_message_are_refused() {
    let mut bytes = container(1, &[(5, 1, 4, &[0; 4])]);
    bytes.extend_from_slice(&[0; 4]);
    assert_eq!(
        parse_container(&bytes).unwrap_err(),
        DecodeError::TrailingBytes { count: 4 }
    );
}
