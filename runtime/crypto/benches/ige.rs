//! AES-256-IGE throughput: `cargo bench -p mtproto-crypto --bench ige`.
//!
//! Throughput is set in decimal bytes, so criterion prints MB/s or GB/s (10^6 / 10^9 bytes per
//! second), the unit of `openssl speed`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mtproto_crypto::ige::{decrypt_ige, encrypt_ige};

fn bench_ige(c: &mut Criterion) {
    let key = [0x42u8; 32];
    let iv = [0x24u8; 32];
    let mut group = c.benchmark_group("aes256_ige");
    for &size in &[1024usize, 16 * 1024, 1024 * 1024] {
        let mut data = vec![0x5Au8; size];
        group.throughput(Throughput::BytesDecimal(size as u64));
        group.bench_with_input(BenchmarkId::new("encrypt", size), &size, |b, _| {
            b.iter(|| encrypt_ige(black_box(&mut data), black_box(&key), black_box(&iv)))
        });
        group.bench_with_input(BenchmarkId::new("decrypt", size), &size, |b, _| {
            b.iter(|| decrypt_ige(black_box(&mut data), black_box(&key), black_box(&iv)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_ige);
criterion_main!(benches);
