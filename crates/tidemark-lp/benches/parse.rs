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

/// TSBS's devops model (timescale/tsbs `pkg/data/usecases/devops`): hosts with fixed tags, ten
/// integer gauges doing a clamped random walk, one line per host every 10 s, time-major.
fn tsbs_cpu_only_body(hosts: usize, epochs: usize) -> Vec<u8> {
    const REGIONS: &[(&str, &[&str])] = &[
        (
            "us-east-1",
            &["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"],
        ),
        ("us-west-1", &["us-west-1a", "us-west-1b"]),
        ("us-west-2", &["us-west-2a", "us-west-2b", "us-west-2c"]),
        ("eu-west-1", &["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
        ("eu-central-1", &["eu-central-1a", "eu-central-1b"]),
        ("ap-southeast-1", &["ap-southeast-1a", "ap-southeast-1b"]),
        ("ap-southeast-2", &["ap-southeast-2a", "ap-southeast-2b"]),
        ("ap-northeast-1", &["ap-northeast-1a", "ap-northeast-1c"]),
        ("sa-east-1", &["sa-east-1a", "sa-east-1b", "sa-east-1c"]),
    ];
    const FIELDS: &[&str] = &[
        "usage_user",
        "usage_system",
        "usage_idle",
        "usage_nice",
        "usage_iowait",
        "usage_irq",
        "usage_softirq",
        "usage_steal",
        "usage_guest",
        "usage_guest_nice",
    ];
    // xorshift64*: deterministic, and good enough to vary the digits.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: u64| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    };
    let tag_sets: Vec<String> = (0..hosts)
        .map(|h| {
            let (region, dcs) = REGIONS[next(REGIONS.len() as u64) as usize];
            let dc = dcs[next(dcs.len() as u64) as usize];
            let os = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"][next(3) as usize];
            let arch = ["x64", "x86"][next(2) as usize];
            let team = ["SF", "NYC", "LON", "CHI"][next(4) as usize];
            let env = ["production", "staging", "test"][next(3) as usize];
            format!(
                "hostname=host_{h},region={region},datacenter={dc},rack={},os={os},arch={arch},team={team},\
                 service={},service_version={},service_environment={env}",
                next(100),
                next(20),
                next(2),
            )
        })
        .collect();
    let mut state_of: Vec<Vec<i64>> = (0..hosts)
        .map(|_| (0..FIELDS.len()).map(|_| next(101) as i64).collect())
        .collect();
    let start_ns = 1_451_606_400_000_000_000i64; // 2016-01-01T00:00:00Z
    let mut body = String::new();
    for epoch in 0..epochs {
        let ts = start_ns + epoch as i64 * 10_000_000_000;
        for (tags, values) in tag_sets.iter().zip(&mut state_of) {
            body.push_str("cpu,");
            body.push_str(tags);
            for (i, (name, v)) in FIELDS.iter().zip(values.iter_mut()).enumerate() {
                *v = (*v + next(5) as i64 - 2).clamp(0, 100);
                body.push(if i == 0 { ' ' } else { ',' });
                body.push_str(&format!("{name}={v}i"));
            }
            body.push_str(&format!(" {ts}\n"));
        }
    }
    body.into_bytes()
}

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
    let body = tsbs_cpu_only_body(100, 50);
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
