//! `impair`: a userspace link with real packet-level faults between two TUN devices, for
//! `cargo xtask netem` (this kernel has no `netem` qdisc). It creates TUN devices `--a` and
//! `--b`, prints `ready`, then forwards every IP packet read from one to the other: dropped
//! with probability `--loss`, duplicated with probability `--dup`, each copy delayed by
//! `--delay-ms` ± `--jitter-ms` (uniform, so packets overtake each other: reordering), and
//! everything dropped during the partition (`--partition-at` seconds after start, for
//! `--partition-for` seconds). Runs until killed, printing its counts on stderr every second.
//!
//! Linux only, root only (TUNSETIFF).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use rand::{Rng, SeedableRng};

#[derive(Parser, Clone)]
#[command(name = "impair", about = "Packet-level faults between two TUN devices")]
struct Args {
    /// Name of the first TUN device.
    #[arg(long)]
    a: String,
    /// Name of the second TUN device.
    #[arg(long)]
    b: String,
    /// Probability of dropping a packet.
    #[arg(long, default_value_t = 0.05)]
    loss: f64,
    /// Probability of duplicating a packet.
    #[arg(long, default_value_t = 0.01)]
    dup: f64,
    /// Mean one-way delay.
    #[arg(long, default_value_t = 100)]
    delay_ms: u64,
    /// Uniform jitter around the delay (reorders packets).
    #[arg(long, default_value_t = 50)]
    jitter_ms: u64,
    /// Seconds after start when the link goes down completely.
    #[arg(long)]
    partition_at: Option<u64>,
    /// Seconds the partition lasts.
    #[arg(long, default_value_t = 10)]
    partition_for: u64,
    /// Seed of the fault draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TUN: libc::c_short = 0x0001;
const IFF_NO_PI: libc::c_short = 0x1000;

/// Creates (or attaches to) the TUN device `name`.
fn open_tun(name: &str) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")?;
    let mut req = [0u8; 40]; // struct ifreq: 16-byte name, then the flags
    let bytes = name.as_bytes();
    if bytes.len() >= 16 {
        return Err(std::io::Error::other("TUN name longer than 15 bytes"));
    }
    req[..bytes.len()].copy_from_slice(bytes);
    req[16..18].copy_from_slice(&(IFF_TUN | IFF_NO_PI).to_ne_bytes());
    // SAFETY: TUNSETIFF reads and writes a `struct ifreq` (40 bytes on Linux x86_64), which
    // `req` is, for the lifetime of the call; the descriptor is open.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, req.as_mut_ptr()) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
}

/// A packet with its release time (and arrival order, to break ties).
type Scheduled = Reverse<(Instant, u64, Vec<u8>)>;

/// Packets waiting for their release time.
#[derive(Default)]
struct Queue {
    heap: Mutex<BinaryHeap<Scheduled>>,
    ready: Condvar,
}

#[derive(Default)]
struct Counts {
    forwarded: AtomicU64,
    dropped: AtomicU64,
    duplicated: AtomicU64,
    partitioned: AtomicU64,
}

fn reader(
    mut from: File,
    queue: Arc<Queue>,
    args: Args,
    start: Instant,
    counts: Arc<Counts>,
    seed: u64,
) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut buf = vec![0u8; 65536];
    let mut order = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("impair: read: {e}");
                return;
            }
        };
        let elapsed = start.elapsed();
        if let Some(at) = args.partition_at {
            let (from_s, to_s) = (at, at + args.partition_for);
            if elapsed >= Duration::from_secs(from_s) && elapsed < Duration::from_secs(to_s) {
                counts.partitioned.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        }
        if rng.gen_bool(args.loss) {
            counts.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let copies = if rng.gen_bool(args.dup) {
            counts.duplicated.fetch_add(1, Ordering::Relaxed);
            2
        } else {
            1
        };
        for _ in 0..copies {
            let jitter = rng.gen_range(0..=2 * args.jitter_ms) as i64 - args.jitter_ms as i64;
            let delay = (args.delay_ms as i64 + jitter).max(0) as u64;
            let release = Instant::now() + Duration::from_millis(delay);
            order += 1;
            queue.heap.lock().expect("queue lock").push(Reverse((
                release,
                order,
                buf[..n].to_vec(),
            )));
            queue.ready.notify_one();
        }
    }
}

fn writer(mut to: File, queue: Arc<Queue>, counts: Arc<Counts>) {
    let mut heap = queue.heap.lock().expect("queue lock");
    loop {
        let now = Instant::now();
        match heap.peek() {
            Some(Reverse((release, _, _))) if *release <= now => {
                let Some(Reverse((_, _, packet))) = heap.pop() else {
                    continue;
                };
                drop(heap);
                if to.write_all(&packet).is_ok() {
                    counts.forwarded.fetch_add(1, Ordering::Relaxed);
                }
                heap = queue.heap.lock().expect("queue lock");
            }
            Some(Reverse((release, _, _))) => {
                let wait = *release - now;
                heap = queue.ready.wait_timeout(heap, wait).expect("queue lock").0;
            }
            None => heap = queue.ready.wait(heap).expect("queue lock"),
        }
    }
}

fn main() {
    let args = Args::parse();
    let (a, b) = match (open_tun(&args.a), open_tun(&args.b)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("impair: cannot open the TUN devices: {e}");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let counts = Arc::new(Counts::default());
    let mut threads = Vec::new();
    for (from, to, seed) in [
        (
            a.try_clone().expect("dup"),
            b.try_clone().expect("dup"),
            args.seed,
        ),
        (b, a, args.seed.wrapping_add(1)),
    ] {
        let queue = Arc::new(Queue::default());
        let (q1, q2, c1, c2, a1) = (
            queue.clone(),
            queue,
            counts.clone(),
            counts.clone(),
            args.clone(),
        );
        threads.push(std::thread::spawn(move || {
            reader(from, q1, a1, start, c1, seed)
        }));
        threads.push(std::thread::spawn(move || writer(to, q2, c2)));
    }
    println!("ready");
    std::io::stdout().flush().ok();
    // Report the counts every second on stderr (the orchestrator keeps the last line).
    loop {
        std::thread::sleep(Duration::from_secs(1));
        eprintln!(
            "impair: forwarded={} dropped={} duplicated={} partitioned={}",
            counts.forwarded.load(Ordering::Relaxed),
            counts.dropped.load(Ordering::Relaxed),
            counts.duplicated.load(Ordering::Relaxed),
            counts.partitioned.load(Ordering::Relaxed)
        );
    }
}
