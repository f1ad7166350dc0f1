//! The replay window: the peer's recent message ids, so duplicates and ids older than the
//! window are rejected (security guidelines item 12).

use std::collections::{BTreeSet, HashSet};

/// Remembers the last `capacity` message ids received.
#[derive(Clone, Debug)]
pub struct ReplayWindow {
    capacity: usize,
    ids: BTreeSet<i64>,
    set: HashSet<i64>,
}

/// Why a message id was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayVerdict {
    /// New and inside the window.
    Fresh,
    /// Seen before.
    Duplicate,
    /// Older than every id the full window holds.
    TooOld,
}

impl ReplayWindow {
    /// A window of `capacity` ids (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            ids: BTreeSet::new(),
            set: HashSet::new(),
        }
    }

    /// Whether `msg_id` would be accepted; does not record it.
    pub fn check(&self, msg_id: i64) -> ReplayVerdict {
        if self.set.contains(&msg_id) {
            return ReplayVerdict::Duplicate;
        }
        match self.ids.first() {
            Some(&oldest) if self.ids.len() >= self.capacity && msg_id < oldest => {
                ReplayVerdict::TooOld
            }
            _ => ReplayVerdict::Fresh,
        }
    }

    /// Records `msg_id`, evicting the oldest when full.
    pub fn insert(&mut self, msg_id: i64) {
        if self.set.insert(msg_id) {
            self.ids.insert(msg_id);
            while self.ids.len() > self.capacity {
                if let Some(oldest) = self.ids.pop_first() {
                    self.set.remove(&oldest);
                }
            }
        }
    }

    /// Whether `msg_id` was received (and is still remembered).
    pub fn contains(&self, msg_id: i64) -> bool {
        self.set.contains(&msg_id)
    }

    /// What this side can say of `msg_id` in a `msgs_state_info` (low bits of its byte):
    /// 4 received; 1 nothing known (older than the window); 3 not received and newer than
    /// every id seen; 2 not received though inside the window.
    pub fn state_of(&self, msg_id: i64) -> u8 {
        if self.set.contains(&msg_id) {
            return 4;
        }
        match (self.ids.first(), self.ids.last()) {
            (Some(&oldest), _) if msg_id < oldest => 1,
            (_, Some(&newest)) if msg_id > newest => 3,
            (None, None) => 3,
            _ => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_old_ids_are_refused() {
        let mut w = ReplayWindow::new(3);
        for id in [10, 20, 30] {
            assert_eq!(w.check(id), ReplayVerdict::Fresh);
            w.insert(id);
        }
        assert_eq!(w.check(20), ReplayVerdict::Duplicate);
        assert_eq!(w.check(5), ReplayVerdict::TooOld);
        assert_eq!(
            w.check(15),
            ReplayVerdict::Fresh,
            "inside the window, unseen"
        );
        w.insert(40);
        assert!(!w.contains(10));
        assert_eq!(w.check(10), ReplayVerdict::TooOld);
    }
}
