//! Parsing TSBS `cpu-only` bodies: ours against IOx's `influxdb-line-protocol`.
//!
//! Every contender starts from the body's bytes (so IOx's side includes the UTF-8 check its
//! HTTP layer does before parsing), parses every line and reads every name and value.
//!
//! `cargo bench -p tidemark-lp --bench parse`

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tidemark_lp::{parse_lines, FieldValue, ParsedLine};

/// Reads every part of a line into a checksum, so nothing can be optimised away.
fn touch(line: &ParsedLine<'_>) -> u64 {
    let mut sum = line.measurement.len() as u64;
    for tag in &line.tags {
        sum += (tag.key.len() + tag.value.len()) as u64;
    }
    for field in &line.fields {
        sum += field.key.len() as u64;
        sum = sum.wrapping_add(match &field.value {
            FieldValue::I64(v) => *v as u64,
            FieldValue::U64(v) => *v,
            FieldValue::F64(v) => v.to_bits(),
            FieldValue::Str(s) => s.len() as u64,
            FieldValue::Bool(b) => u64::from(*b),
        });
    }
    sum.wrapping_add(line.timestamp.unwrap_or_default() as u64)
}

fn ours_borrowed(body: &[u8]) -> (u64, usize) {
    let (mut sum, mut errors) = (0u64, 0);
    let mut lines = parse_lines(body);
    while let Some(line) = lines.next_borrowed() {
        match line {
            Ok(line) => sum = sum.wrapping_add(touch(line)),
            Err(_) => errors += 1,
        }
    }
    (sum, errors)
}

fn ours_owned(body: &[u8]) -> (u64, usize) {
    let (mut sum, mut errors) = (0u64, 0);
    for line in parse_lines(body) {
        match line {
            Ok(line) => sum = sum.wrapping_add(touch(&line)),
            Err(_) => errors += 1,
        }
    }
    (sum, errors)
}

fn iox(body: &[u8]) -> (u64, usize) {
    use influxdb_line_protocol::FieldValue as V;
    let Ok(text) = std::str::from_utf8(body) else {
        return (0, 1);
    };
    let (mut sum, mut errors) = (0u64, 0);
    for line in influxdb_line_protocol::parse_lines(text) {
        let Ok(line) = line else {
            errors += 1;
            continue;
        };
        sum = sum.wrapping_add(line.series.measurement.len() as u64);
        for (k, v) in line.series.tag_set.iter().flatten() {
            sum += (k.len() + v.len()) as u64;
        }
        for (k, v) in &line.field_set {
            sum += k.len() as u64;
            sum = sum.wrapping_add(match v {
                V::I64(v) => *v as u64,
                V::U64(v) => *v,
                V::F64(v) => v.to_bits(),
                V::String(s) => s.len() as u64,
                V::Boolean(b) => u64::from(*b),
            });
        }
        sum = sum.wrapping_add(line.timestamp.unwrap_or_default() as u64);
    }
    (sum, errors)
}

fn bench(c: &mut Criterion) {
    // 100 hosts x 50 epochs: 5,000 lines, about 1.6 MB, like one TSBS loader batch.
    // 100 hosts × 50 epochs: 5,000 lines, one TSBS loader batch.
    let body = tidemark_tsbs::CpuOnly::tsbs(100).body(50);
    let expected = iox(&body);
    assert_eq!(expected.1, 0, "the generated body must be valid");
    assert_eq!(
        ours_borrowed(&body),
        expected,
        "both parsers must read the same values"
    );
    assert_eq!(ours_owned(&body), expected);

    let mut group = c.benchmark_group("tsbs-cpu-only-5000-lines");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("tidemark-lp next_borrowed", |b| {
        b.iter(|| ours_borrowed(black_box(&body)))
    });
    group.bench_function("tidemark-lp iterator", |b| {
        b.iter(|| ours_owned(black_box(&body)))
    });
    group.bench_function("influxdb-line-protocol 2.0", |b| {
        b.iter(|| iox(black_box(&body)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = bench
}
criterion_main!(benches);
