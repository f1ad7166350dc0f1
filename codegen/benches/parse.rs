//! Parsing and validating `schema/api.tl` (layer 230, about 290 KB).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench_parse(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/api.tl");
    let source = std::fs::read_to_string(path).expect("schema/api.tl");
    let mut group = c.benchmark_group("api.tl");
    group.throughput(Throughput::Bytes(source.len() as u64));
    group.bench_function("parse", |b| b.iter(|| tl_codegen::parse(&source)));
    group.bench_function("parse+validate", |b| b.iter(|| tl_codegen::check(&source)));
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
