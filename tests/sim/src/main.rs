//! `mtproto-sim`: runs seeded fault schedules (see the library docs); `cargo xtask sim`
//! builds it in release mode and runs it.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

/// Runs deterministic simulations of the client and server endpoints, one per seed.
#[derive(Debug, Parser)]
#[command(name = "mtproto-sim")]
struct Args {
    /// How many seeds to run (from --start).
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// Run only this seed, and print its schedule.
    #[arg(long, conflicts_with_all = ["seeds", "start"])]
    seed: Option<u64>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let seeds = match args.seed {
        Some(seed) => {
            println!("{:#?}", mtproto_sim::Schedule::from_seed(seed));
            seed..seed + 1
        }
        None => args.start..args.start + args.seeds,
    };
    let started = Instant::now();
    let (mut answered, mut failed, mut connections, mut errors) = (0usize, 0usize, 0u64, 0u64);
    let count = seeds.end - seeds.start;
    for seed in seeds {
        match mtproto_sim::run(seed, None) {
            Ok(report) => {
                answered += report.answered;
                failed += report.failed;
                connections += u64::from(report.connections);
                errors += u64::from(report.connection_errors);
                if args.seed.is_some() {
                    println!("{report:#?}");
                }
            }
            Err(violation) => {
                println!("seed {seed}: FAILED: {violation}");
                println!("reproduce: cargo xtask sim --seed {seed}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!(
        "{count} schedules passed in {:.1?}: {answered} requests answered, {failed} failed clearly, {connections} connections, {errors} dropped after an error",
        started.elapsed()
    );
    ExitCode::SUCCESS
}
