//! The simulator in the normal test suite: a few hundred seeds pass, and a planted bug (a
//! lost connection forgetting its requests instead of resending them) is caught by some
//! seed, which replays to the same failure.

use mtproto_sim::{run, Bug, Violation};

/// Seeds run by `cargo test` (debug build); `cargo xtask sim --seeds N` runs more.
const SEEDS: u64 = 200;

#[test]
fn seeded_schedules_keep_every_invariant() {
    let mut answered = 0;
    for seed in 0..SEEDS {
        match run(seed, None) {
            Ok(report) => answered += report.answered,
            Err(violation) => {
                panic!("seed {seed}: {violation} (reproduce: cargo xtask sim --seed {seed})")
            }
        }
    }
    assert!(answered > SEEDS as usize * 10, "{answered}");
}

#[test]
fn a_planted_bug_is_caught_by_a_seed_that_replays() {
    let bug = Some(Bug::ForgetUnansweredOnReconnect);
    let caught = (0..SEEDS)
        .find_map(|seed| run(seed, bug).err().map(|v| (seed, v)))
        .expect("no seed caught the planted bug");
    let (seed, violation) = caught;
    assert!(
        matches!(violation, Violation::Lost { .. }),
        "seed {seed}: {violation}"
    );
    // Deterministic: the same seed fails the same way, and passes without the bug.
    assert_eq!(run(seed, bug).err(), Some(violation));
    assert!(run(seed, None).is_ok());
}
