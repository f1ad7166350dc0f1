//! One inflation budget for all the `gzip_packed` layers of a value, and no allocation that
//! the input cannot justify: measured with a counting allocator on the hostile objects of
//! `fixtures/` (made by `fixtures/make_gzip_attacks.py`).

use tl_wire::{DecodeError, Deserialize, Limits, RawObject};

#[path = "util/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{exclusive, peak_during, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// 63 nested layers of just under 16 MiB each, in 56 KB.
const NESTED: &[u8] = include_bytes!("fixtures/nested_gzip.bin");
/// 32 bytes whose gzip trailer claims 4 GiB.
const FORGED_SIZE: &[u8] = include_bytes!("fixtures/forged_size_gzip.bin");

#[test]
fn nested_layers_share_one_budget() {
    let _guard = exclusive();
    let limit = tl_wire::DEFAULT_MAX_INFLATED;
    let (result, peak) = peak_during(|| bool::from_bytes(NESTED));
    // The first layer fits in the budget; the second does not.
    assert_eq!(result, Err(DecodeError::InflatedTooLarge { limit }));
    assert!(
        peak < 2 * limit,
        "peak {peak} bytes for a {limit}-byte budget"
    );

    // A smaller budget is the budget of every layer together, too.
    let small = 4 << 20;
    let limits = Limits::DEFAULT.with_max_inflated(small);
    let (result, peak) = peak_during(|| RawObject::from_bytes_with_limits(NESTED, limits));
    assert!(
        result.is_ok(),
        "RawObject keeps the bytes without inflating"
    );
    assert!(peak < 64 << 10, "{peak}");
    let (result, peak) = peak_during(|| bool::from_bytes_with_limits(NESTED, limits));
    assert_eq!(result, Err(DecodeError::InflatedTooLarge { limit: small }));
    assert!(
        peak < 2 * small,
        "peak {peak} bytes for a {small}-byte budget"
    );
}

#[test]
fn a_forged_size_trailer_allocates_only_what_the_input_justifies() {
    let _guard = exclusive();
    let (result, peak) = peak_during(|| bool::from_bytes(FORGED_SIZE));
    assert!(
        matches!(result, Err(DecodeError::BadGzip { .. })),
        "{result:?}"
    );
    // 26 bytes of deflate inflate to at most 27 KB; with the inflater's own state (about
    // 40 KB) that is far from the 16 MiB budget the trailer asks for.
    assert!(
        peak < 128 << 10,
        "peak {peak} bytes for a {}-byte input",
        FORGED_SIZE.len()
    );
}

#[test]
fn gzip_can_be_refused_outright() {
    let _guard = exclusive();
    let (result, peak) = peak_during(|| bool::from_bytes_with_limits(NESTED, Limits::NO_GZIP));
    assert_eq!(result, Err(DecodeError::GzipNotAllowed));
    assert!(peak < 4 << 10, "{peak}");
    // The same value without gzip_packed is read normally.
    assert_eq!(
        bool::from_bytes_with_limits(&tl_wire::BOOL_TRUE_ID.to_le_bytes(), Limits::NO_GZIP),
        Ok(true)
    );
}
