//! TSBS `cpu-only` data as line-protocol files: the generator (`tidemark-tsbs`) cut into bodies of
//! `batch_size` lines, with a manifest.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Result;
use tidemark_tsbs::CpuOnly;

pub(crate) use tidemark_tsbs::{FIELDS, MEASUREMENT};
pub(crate) const MANIFEST: &str = "manifest.json";

/// What a generation produced; `manifest.json` next to the batch files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Manifest {
    pub(crate) measurement: String,
    pub(crate) hosts: usize,
    pub(crate) seed: u64,
    pub(crate) interval_seconds: u64,
    /// Lines (rows) in all files.
    pub(crate) rows: u64,
    /// Field values: rows × 10.
    pub(crate) values: u64,
    /// Bytes of line protocol in all files.
    pub(crate) bytes: u64,
    /// First timestamp, RFC 3339.
    pub(crate) start: String,
    /// End of the generated range (exclusive), RFC 3339.
    pub(crate) end: String,
    pub(crate) start_ns: i64,
    pub(crate) end_ns: i64,
    /// Lines per file (the last file may hold fewer).
    pub(crate) batch_size: usize,
    /// File names, relative to the manifest, in time order.
    pub(crate) files: Vec<String>,
}

impl Manifest {
    pub(crate) fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(serde_json::from_str(&text)
            .map_err(|e| format!("cannot parse {}: {e}", path.display()))?)
    }
}

/// The generation parameters.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) hosts: usize,
    pub(crate) duration: Duration,
    pub(crate) interval: Duration,
    pub(crate) seed: u64,
    /// Nanoseconds since the epoch of the first row.
    pub(crate) start_ns: i64,
    pub(crate) batch_size: usize,
}

impl Spec {
    pub(crate) fn epochs(&self) -> u64 {
        let interval = self.interval.as_nanos().max(1);
        (self.duration.as_nanos() / interval) as u64
    }
}

/// Parses `90s`, `10m`, `6h`, `1d`, `1h30m`, or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(format!("bad duration {text:?}: unknown unit {c:?}").into()),
        };
        let n: u64 = number
            .parse()
            .map_err(|_| format!("bad duration {text:?}: a number must come before {c:?}"))?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration {text:?} is too long"))?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(
            format!("bad duration {text:?}: a unit (s, m, h, d) must follow {number}").into(),
        );
    }
    Ok(Duration::from_secs(total))
}

/// Parses RFC 3339 (`2024-01-01T00:00:00Z`) or integer seconds since the epoch; gives nanoseconds.
pub(crate) fn parse_start(text: &str) -> Result<i64> {
    if let Ok(secs) = text.parse::<i64>() {
        return secs
            .checked_mul(1_000_000_000)
            .ok_or_else(|| format!("start {text} is out of range").into());
    }
    let t = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("bad --start {text:?} (use RFC 3339 or epoch seconds): {e}"))?;
    t.timestamp_nanos_opt()
        .ok_or_else(|| format!("start {text} is out of range").into())
}

pub(crate) fn rfc3339(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

pub(crate) fn now_ns() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// The default start: `now - duration`, aligned down to the interval.
pub(crate) fn recent_start(duration: Duration, interval: Duration) -> i64 {
    let now = now_ns();
    let start = now.saturating_sub(i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX));
    let step = i64::try_from(interval.as_nanos()).unwrap_or(1).max(1);
    start.div_euclid(step) * step
}

/// The start at UTC midnight of the day of `now - duration`, so that a range of at most a day
/// lies in one daily partition and still ends in the past.
pub(crate) fn midnight_start(duration: Duration) -> i64 {
    const DAY: i64 = 86_400 * 1_000_000_000;
    let start = now_ns().saturating_sub(i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX));
    start.div_euclid(DAY) * DAY
}

/// The rows in order, handed out in batches of `batch_size` lines.
#[derive(Debug)]
pub(crate) struct Generator {
    batch_size: usize,
    rows: u64,
    lines: CpuOnly,
}

impl Generator {
    pub(crate) fn new(spec: Spec) -> Self {
        let interval = i64::try_from(spec.interval.as_nanos()).unwrap_or(i64::MAX);
        Self {
            batch_size: spec.batch_size,
            rows: spec.epochs().saturating_mul(spec.hosts as u64),
            lines: CpuOnly::new(spec.hosts, spec.seed, spec.start_ns, interval),
        }
    }

    /// Appends up to `batch_size` lines to `out`; gives how many (0 when done).
    pub(crate) fn next_batch(&mut self, out: &mut Vec<u8>) -> usize {
        let n = (self.rows - self.lines.lines()).min(self.batch_size as u64);
        self.lines.write_lines(n, out);
        n as usize
    }
}

/// Writes the batch files and the manifest into `dir` (created if missing).
pub(crate) fn generate(spec: &Spec, dir: &Path) -> Result<Manifest> {
    if spec.batch_size == 0 {
        return Err("--batch-size must be at least 1".into());
    }
    if spec.hosts == 0 || spec.epochs() == 0 {
        return Err(
            "nothing to generate: need at least one host and a duration of at least one interval"
                .into(),
        );
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut generator = Generator::new(spec.clone());
    let mut files = Vec::new();
    let (mut rows, mut bytes) = (0u64, 0u64);
    let mut buf = Vec::with_capacity(spec.batch_size * 400);
    loop {
        buf.clear();
        let n = generator.next_batch(&mut buf);
        if n == 0 {
            break;
        }
        let name = format!("batch-{:06}.lp", files.len());
        let path: PathBuf = dir.join(&name);
        let mut f = BufWriter::new(
            File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?,
        );
        f.write_all(&buf)
            .and_then(|()| f.flush())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        rows += n as u64;
        bytes += buf.len() as u64;
        files.push(name);
    }
    let end_ns = spec.start_ns.saturating_add(
        i64::try_from(spec.interval.as_nanos())
            .unwrap_or(i64::MAX)
            .saturating_mul(spec.epochs() as i64),
    );
    let manifest = Manifest {
        measurement: MEASUREMENT.to_owned(),
        hosts: spec.hosts,
        seed: spec.seed,
        interval_seconds: spec.interval.as_secs(),
        rows,
        values: rows * FIELDS.len() as u64,
        bytes,
        start: rfc3339(spec.start_ns),
        end: rfc3339(end_ns),
        start_ns: spec.start_ns,
        end_ns,
        batch_size: spec.batch_size,
        files,
    };
    let path = dir.join(MANIFEST);
    let json = serde_json::to_string_pretty(&manifest)?;
    std::fs::write(&path, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(hosts: usize, duration: &str, seed: u64, batch_size: usize) -> Spec {
        Spec {
            hosts,
            duration: parse_duration(duration).unwrap(),
            interval: Duration::from_secs(10),
            seed,
            start_ns: 1_700_000_000_000_000_000,
            batch_size,
        }
    }

    fn all(spec: Spec) -> Vec<u8> {
        let mut g = Generator::new(spec);
        let mut out = Vec::new();
        while g.next_batch(&mut out) > 0 {}
        out
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("6h").unwrap(), Duration::from_secs(6 * 3600));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        assert!(parse_duration("6x").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("10").is_ok());
        assert!(parse_duration("1h30").is_err());
    }

    #[test]
    fn starts() {
        assert_eq!(
            parse_start("2016-01-01T00:00:00Z").unwrap(),
            1_451_606_400_000_000_000
        );
        assert_eq!(
            parse_start("1451606400").unwrap(),
            1_451_606_400_000_000_000
        );
        assert!(parse_start("yesterday").is_err());
        let s = recent_start(Duration::from_secs(3600), Duration::from_secs(10));
        assert_eq!(s % 10_000_000_000, 0);
        assert!(s <= now_ns() - 3_600_000_000_000);
        let m = midnight_start(Duration::from_secs(6 * 3600));
        assert_eq!(m % (86_400 * 1_000_000_000), 0);
        assert!(m + 6 * 3_600_000_000_000 <= now_ns());
    }

    #[test]
    fn deterministic_for_a_seed() {
        let a = all(spec(7, "30m", 42, 13));
        let b = all(spec(7, "30m", 42, 5000));
        let c = all(spec(7, "30m", 43, 13));
        assert_eq!(a, b, "batching must not change the data");
        assert_ne!(a, c, "another seed gives other data");
    }

    #[test]
    fn files_and_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let s = spec(4, "10m", 3, 50);
        let m = generate(&s, dir.path()).unwrap();
        assert_eq!(m.rows, 240);
        assert_eq!(m.values, 2400);
        assert_eq!(m.files.len(), 5);
        assert_eq!(m.end_ns - m.start_ns, 600_000_000_000);
        assert_eq!(m.start, "2023-11-14T22:13:20Z");
        let mut bytes = 0;
        let mut lines = 0;
        for f in &m.files {
            let body = std::fs::read(dir.path().join(f)).unwrap();
            bytes += body.len() as u64;
            lines += body.iter().filter(|&&b| b == b'\n').count();
        }
        assert_eq!(bytes, m.bytes);
        assert_eq!(lines, 240);
        assert_eq!(Manifest::read(dir.path()).unwrap(), m);
        assert_eq!(all(s), {
            let mut v = Vec::new();
            for f in &m.files {
                v.extend(std::fs::read(dir.path().join(f)).unwrap());
            }
            v
        });
    }
}
