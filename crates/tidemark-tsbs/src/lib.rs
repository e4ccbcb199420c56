//! TSBS `cpu-only` data as line protocol, generated in memory.
//!
//! The model is TSBS's (timescale/tsbs, `pkg/data/usecases/devops`): one `cpu` line per host per
//! epoch, ten tags fixed per host, ten integer fields that follow a clamped random walk on
//! [0, 100] (start uniform, each epoch += N(0, 1)), rows ordered by time, then host. The random
//! numbers come from our own seeded generator ([`rng`]), so the data follows TSBS's
//! distributions without being a byte-identical clone of Go's `math/rand` stream. Per host the
//! draws go in TSBS's order: ten initial states, region, datacenter, rack, arch, os, service,
//! service version, environment, team.
//!
//! One generator for every consumer (`tidemark-bench generate` and the criterion benches of the
//! parser, the write path and the query path), so every figure is measured on the same data.

pub mod rng;

pub use rng::Rng;

pub const MEASUREMENT: &str = "cpu";
pub const TAG_KEYS: [&str; 10] = [
    "hostname",
    "region",
    "datacenter",
    "rack",
    "os",
    "arch",
    "team",
    "service",
    "service_version",
    "service_environment",
];
pub const FIELDS: [&str; 10] = [
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
/// 2016-01-01T00:00:00Z, TSBS's default start.
pub const TSBS_START_NS: i64 = 1_451_606_400_000_000_000;
/// TSBS's default `--log-interval`.
pub const TSBS_INTERVAL_NS: i64 = 10_000_000_000;

const REGIONS: [(&str, &[&str]); 9] = [
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
const ARCHES: [&str; 2] = ["x64", "x86"];
const OSES: [&str; 3] = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"];
const ENVIRONMENTS: [&str; 3] = ["production", "staging", "test"];
const TEAMS: [&str; 4] = ["SF", "NYC", "LON", "CHI"];

/// One simulated host: its line prefix (measurement and tags) and its ten walks.
#[derive(Debug, Clone)]
struct Host {
    prefix: Vec<u8>,
    state: [f64; 10],
}

impl Host {
    fn new(index: usize, rng: &mut Rng) -> Self {
        let mut state = [0.0; 10];
        for s in &mut state {
            *s = rng.next_f64() * 100.0;
        }
        let (region, datacenters) = REGIONS[rng.below(REGIONS.len())];
        let datacenter = datacenters[rng.below(datacenters.len())];
        let rack = rng.below(100);
        let arch = ARCHES[rng.below(ARCHES.len())];
        let os = OSES[rng.below(OSES.len())];
        let service = rng.below(20);
        let service_version = rng.below(2);
        let environment = ENVIRONMENTS[rng.below(ENVIRONMENTS.len())];
        let team = TEAMS[rng.below(TEAMS.len())];
        let prefix = format!(
            "{MEASUREMENT},hostname=host_{index},region={region},datacenter={datacenter},rack={rack},os={os},arch={arch},team={team},service={service},service_version={service_version},service_environment={environment} "
        );
        Self {
            prefix: prefix.into_bytes(),
            state,
        }
    }

    fn tick(&mut self, rng: &mut Rng) {
        for s in &mut self.state {
            *s = (*s + rng.normal()).clamp(0.0, 100.0);
        }
    }

    fn write_line(&self, ts: i64, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.prefix);
        for (i, (name, value)) in FIELDS.iter().zip(self.state).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(name.as_bytes());
            out.push(b'=');
            // Truncated like TSBS's `int64(state)`; the clamp keeps it in 0..=100.
            push_small(out, value as u8);
            out.push(b'i');
        }
        out.push(b' ');
        out.extend_from_slice(ts.to_string().as_bytes());
        out.push(b'\n');
    }
}

fn push_small(out: &mut Vec<u8>, v: u8) {
    if v >= 100 {
        out.push(b'0' + v / 100);
    }
    if v >= 10 {
        out.push(b'0' + (v / 10) % 10);
    }
    out.push(b'0' + v % 10);
}

/// An endless, resumable stream of `cpu` lines: each call continues the walks and the clock
/// where the previous one stopped, so successive bodies never repeat a point, and how the stream
/// is cut into bodies never changes its bytes.
#[derive(Debug, Clone)]
pub struct CpuOnly {
    rng: Rng,
    hosts: Vec<Host>,
    start_ns: i64,
    interval_ns: i64,
    epoch: u64,
    host: usize,
    lines: u64,
}

impl CpuOnly {
    pub fn new(hosts: usize, seed: u64, start_ns: i64, interval_ns: i64) -> Self {
        let mut rng = Rng::new(seed);
        let hosts = (0..hosts).map(|i| Host::new(i, &mut rng)).collect();
        Self {
            rng,
            hosts,
            start_ns,
            interval_ns,
            epoch: 0,
            host: 0,
            lines: 0,
        }
    }

    /// TSBS's defaults: 2016-01-01, every 10 s, seed 1.
    pub fn tsbs(hosts: usize) -> Self {
        Self::new(hosts, 1, TSBS_START_NS, TSBS_INTERVAL_NS)
    }

    pub fn hosts(&self) -> usize {
        self.hosts.len()
    }

    /// Lines generated so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Appends the next `n` lines to `out` (none when there are no hosts).
    pub fn write_lines(&mut self, n: u64, out: &mut Vec<u8>) {
        if self.hosts.is_empty() {
            return;
        }
        for _ in 0..n {
            if self.host == 0 && self.epoch > 0 {
                // TSBS emits the first epoch before any tick, then ticks every host each epoch.
                for h in &mut self.hosts {
                    h.tick(&mut self.rng);
                }
            }
            let ts = self
                .start_ns
                .saturating_add(self.interval_ns.saturating_mul(self.epoch as i64));
            self.hosts[self.host].write_line(ts, out);
            self.lines += 1;
            self.host += 1;
            if self.host == self.hosts.len() {
                self.host = 0;
                self.epoch += 1;
            }
        }
    }

    /// The next `epochs` whole epochs as one body (`epochs × hosts` lines), from an epoch
    /// boundary on.
    pub fn body(&mut self, epochs: usize) -> Vec<u8> {
        let n = (epochs * self.hosts.len()) as u64;
        let mut out = Vec::with_capacity(n as usize * 330);
        self.write_lines(n, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tidemark_lp::{parse_lines, FieldValue};

    const START: i64 = 1_700_000_000_000_000_000;

    fn all(hosts: usize, seed: u64, lines: u64, chunk: u64) -> Vec<u8> {
        let mut g = CpuOnly::new(hosts, seed, START, TSBS_INTERVAL_NS);
        let mut out = Vec::new();
        while g.lines() < lines {
            g.write_lines(chunk.min(lines - g.lines()), &mut out);
        }
        out
    }

    #[test]
    fn deterministic_for_a_seed_however_cut() {
        let a = all(7, 42, 1260, 13);
        let b = all(7, 42, 1260, 5000);
        let c = all(7, 43, 1260, 13);
        assert_eq!(a, b, "cutting the stream must not change the data");
        assert_ne!(a, c, "another seed gives other data");
        let mut g = CpuOnly::new(7, 42, START, TSBS_INTERVAL_NS);
        let mut bodies = g.body(100);
        bodies.extend(g.body(80));
        assert_eq!(a, bodies);
    }

    #[test]
    fn no_hosts_no_lines() {
        let mut g = CpuOnly::new(0, 1, START, TSBS_INTERVAL_NS);
        assert!(g.body(10).is_empty());
        assert_eq!(g.lines(), 0);
    }

    #[test]
    fn row_count_order_and_values() {
        let body = all(5, 1, 300, 7);
        let mut lines = parse_lines(&body);
        let mut n = 0usize;
        let mut prev: Option<(i64, usize)> = None;
        while let Some(line) = lines.next_borrowed() {
            let line = line.expect("every generated line parses");
            assert_eq!(line.measurement, MEASUREMENT);
            let tag_keys: Vec<&str> = line.tags.iter().map(|t| t.key.as_ref()).collect();
            assert_eq!(tag_keys, TAG_KEYS);
            let field_keys: Vec<&str> = line.fields.iter().map(|f| f.key.as_ref()).collect();
            assert_eq!(field_keys, FIELDS);
            for f in &line.fields {
                match f.value {
                    FieldValue::I64(v) => assert!((0..=100).contains(&v), "{v}"),
                    ref other => panic!("field {} is not an integer: {other:?}", f.key),
                }
            }
            let host: usize = line.tag_value("hostname").unwrap()["host_".len()..]
                .parse()
                .unwrap();
            let ts = line.timestamp.unwrap();
            assert_eq!((ts - START) % TSBS_INTERVAL_NS, 0);
            // Time-major, then host order.
            if let Some((pts, phost)) = prev {
                assert!(
                    (ts == pts && host == phost + 1) || (ts == pts + TSBS_INTERVAL_NS && host == 0),
                    "({pts},{phost}) -> ({ts},{host})"
                );
            } else {
                assert_eq!((ts, host), (START, 0));
            }
            prev = Some((ts, host));
            n += 1;
        }
        assert_eq!(n, 300);
        assert_eq!(prev, Some((START + 59 * TSBS_INTERVAL_NS, 4)));
    }

    #[test]
    fn tags_are_fixed_per_host_and_values_walk() {
        let body = all(3, 9, 3 * 360, 100);
        let text = std::str::from_utf8(&body).unwrap();
        let mut prefixes = std::collections::HashMap::new();
        let mut changes = 0;
        let mut last: std::collections::HashMap<String, String> = Default::default();
        for line in text.lines() {
            let (prefix, rest) = line.split_once(' ').unwrap();
            let host = prefix.split(',').nth(1).unwrap().to_owned();
            assert_eq!(
                prefixes.entry(host.clone()).or_insert(prefix.to_owned()),
                prefix
            );
            let fields = rest.split_once(' ').unwrap().0.to_owned();
            if last.get(&host).is_some_and(|f| *f != fields) {
                changes += 1;
            }
            last.insert(host, fields);
        }
        assert_eq!(prefixes.len(), 3);
        assert!(changes > 300, "the walks move: {changes} changes");
    }
}
