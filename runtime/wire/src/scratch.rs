//! The per-thread scratch buffer behind [`crate::Serialize::to_bytes`]: a value is written
//! into it first and copied out in one exact-size allocation, instead of growing a fresh
//! `Vec` from empty (several reallocations and copies for a typical request).

use std::cell::Cell;

/// Scratch buffers that grew beyond this are dropped after use instead of kept (a rare big
/// message does not pin its memory for the thread's lifetime).
const KEEP_AT_MOST: usize = 64 * 1024;

thread_local! {
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Runs `write` on the (empty) scratch buffer and returns a copy of what it wrote. The
/// scratch bytes are zeroed afterwards: serialized values can hold secrets. Re-entrant: a
/// nested call finds the cell empty and works on a new buffer.
pub(crate) fn with_scratch(write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut buf = SCRATCH.with(Cell::take);
    buf.clear();
    write(&mut buf);
    let out = buf.as_slice().to_vec();
    // Zeroed, and kept at its length until the next use clears it: the zeros stay
    // observable, so the writes cannot be optimized away.
    buf.fill(0);
    if buf.capacity() <= KEEP_AT_MOST {
        SCRATCH.with(|cell| cell.set(buf));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_is_exact_and_the_scratch_is_wiped_and_reused() {
        let out = with_scratch(|b| b.extend_from_slice(b"secret code 12345"));
        assert_eq!(out, b"secret code 12345");
        assert_eq!(out.capacity(), out.len());
        let kept = SCRATCH.with(Cell::take);
        assert_eq!(kept, [0u8; 17], "the scratch still holds what was written");
        SCRATCH.with(|c| c.set(kept));
        assert_eq!(with_scratch(|b| b.push(9)), [9]);
    }

    #[test]
    fn nested_calls_and_big_buffers() {
        let out = with_scratch(|b| {
            b.push(1);
            let inner = with_scratch(|b| b.push(2));
            b.extend_from_slice(&inner);
        });
        assert_eq!(out, [1, 2]);
        let big = with_scratch(|b| b.resize(KEEP_AT_MOST + 1, 7));
        assert_eq!(big.len(), KEEP_AT_MOST + 1);
        assert!(SCRATCH.with(Cell::take).capacity() <= KEEP_AT_MOST);
    }
}
