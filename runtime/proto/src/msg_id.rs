//! Message identifiers: about `unixtime * 2^32`, strictly increasing, with the low two bits
//! telling who sent the message (client `0`, server reply `1`, other server message `3`).

use std::time::Duration;

/// Which kind of message an id is for; sets the id's value modulo 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgIdKind {
    /// Sent by a client: divisible by 4.
    Client,
    /// A server's answer to a client message: 1 mod 4.
    ServerReply,
    /// Any other server message: 3 mod 4.
    ServerOther,
}

impl MsgIdKind {
    fn low_bits(self) -> i64 {
        match self {
            MsgIdKind::Client => 0,
            MsgIdKind::ServerReply => 1,
            MsgIdKind::ServerOther => 3,
        }
    }
}

/// The Unix times a msg_id can carry: positive, and small enough that `time << 32` is an
/// `i64`.
pub const SERVER_TIME_RANGE: std::ops::RangeInclusive<i64> = 0..=(i32::MAX as i64);

/// Seconds of a local clock reading, saturated into `i64`.
fn local_secs(now: Duration) -> i64 {
    i64::try_from(now.as_secs()).unwrap_or(i64::MAX)
}

/// Generates message ids from the caller's clock plus a correction learned from the server.
///
/// `now` is the time since the Unix epoch on the local clock; the generator adds
/// [`MsgIdGenerator::time_offset`] so ids follow the server's clock.
#[derive(Clone, Debug, Default)]
pub struct MsgIdGenerator {
    last: i64,
    offset_secs: i64,
}

impl MsgIdGenerator {
    /// A generator with no time correction yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Seconds added to the local clock (server time minus local time).
    pub fn time_offset(&self) -> i64 {
        self.offset_secs
    }

    /// Sets the correction to `server_unix_secs - local`, as learned from `server_time` or a
    /// server message id.
    ///
    /// Ids generated before were by the wrong clock (the server refused those ahead of its
    /// time), so the next id follows the corrected clock even if that is lower. A server
    /// time outside [`SERVER_TIME_RANGE`] (which no msg_id can carry) is clamped into it.
    pub fn sync_to_server_time(&mut self, now: Duration, server_unix_secs: i64) {
        let server = server_unix_secs.clamp(*SERVER_TIME_RANGE.start(), *SERVER_TIME_RANGE.end());
        self.offset_secs = server - local_secs(now);
        self.last = 0;
    }

    /// The server's time according to the local clock and the correction, in seconds.
    pub fn server_now(&self, now: Duration) -> i64 {
        local_secs(now).saturating_add(self.offset_secs)
    }

    /// A fresh id of `kind`: strictly greater than every id this generator returned, with
    /// non-zero low 32 bits.
    pub fn next(&mut self, now: Duration, kind: MsgIdKind) -> i64 {
        let secs = self
            .server_now(now)
            .clamp(*SERVER_TIME_RANGE.start(), *SERVER_TIME_RANGE.end());
        let frac = (u64::from(now.subsec_nanos()) << 32) / 1_000_000_000;
        let mut id = (secs << 32) | (frac as i64);
        id = (id & !3) | kind.low_bits();
        if id <= self.last {
            id = (self.last & !3).saturating_add(4) + kind.low_bits();
        }
        if id & 0xffff_ffff == kind.low_bits() {
            id += 4; // the low 32 bits of a message id are never zero
        }
        self.last = id;
        id
    }
}

/// The Unix time (seconds) a message id was created at, by its sender's clock.
pub fn msg_id_time(msg_id: i64) -> i64 {
    msg_id >> 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_increasing_and_typed() {
        let mut g = MsgIdGenerator::new();
        let now = Duration::new(1_700_000_000, 500_000_000);
        let a = g.next(now, MsgIdKind::Client);
        let b = g.next(now, MsgIdKind::Client);
        assert!(b > a);
        assert_eq!(a % 4, 0);
        assert_eq!(msg_id_time(a), 1_700_000_000);
        // Half a second is 2^31 in the low word.
        assert_eq!(a & 0xffff_ffff, 1 << 31);
        let r = g.next(now, MsgIdKind::ServerReply);
        let o = g.next(now, MsgIdKind::ServerOther);
        assert_eq!((r % 4, o % 4), (1, 3));
        assert!(o > r && r > b);
    }

    #[test]
    fn offset_follows_server_and_low_word_is_never_zero() {
        let mut g = MsgIdGenerator::new();
        let now = Duration::from_secs(1_000);
        g.sync_to_server_time(now, 5_000);
        let id = g.next(now, MsgIdKind::Client);
        assert_eq!(msg_id_time(id), 5_000);
        assert_ne!(id & 0xffff_ffff, 0);
        // A clock going backwards still yields increasing ids.
        let earlier = g.next(Duration::from_secs(900), MsgIdKind::Client);
        assert!(earlier > id);
    }

    #[test]
    fn server_times_no_msg_id_can_carry_are_clamped() {
        let now = Duration::from_secs(1_700_000_000);
        for (server, expected) in [(i64::MAX, i64::from(i32::MAX)), (-5, 0), (i64::MIN, 0)] {
            let mut g = MsgIdGenerator::new();
            g.sync_to_server_time(now, server);
            assert_eq!(g.server_now(now), expected, "{server}");
            let id = g.next(now, MsgIdKind::Client);
            assert!(id > 0 && id % 4 == 0, "{server}: {id:#x}");
            assert_eq!(msg_id_time(id), expected);
            // Still strictly increasing at the edge.
            assert!(g.next(now, MsgIdKind::Client) > id);
        }
    }
}
