//! TSBS `cpu-only` line protocol, shared by the storage and query benches (the query bench
//! includes this file with `#[path]`), so both measure the same data.
//!
//! TSBS's devops model (timescale/tsbs `pkg/data/usecases/devops`): hosts with ten fixed tags,
//! ten integer `usage_*` gauges doing a clamped random walk, one line per host every 10 s,
//! time-major. The generator is the one of `tidemark-lp/benches/parse.rs`, made resumable: each
//! body continues the walk and the clock where the previous one stopped, so successive bodies
//! never repeat a point. A fixed seed makes every run write the same bytes.
//!
//! [`open`] builds the engine both benches write into, as the crates' tests do: a SQLite catalog
//! and a local object store in a temporary directory.

// Each bench includes this file but uses only part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use tidemark_catalog::{
    Bucket, BucketType, Catalog, CatalogConfig, NewBucket, NewOrg, SchemaLimits, SchemaType,
};
use tidemark_lp::Precision;
use tidemark_storage::wal::{Recovery, WalConfig};
use tidemark_storage::{Engine, EngineConfig, PersistConfig, WriteRequest};

/// 2016-01-01T00:00:00Z, TSBS's default start.
pub(crate) const START_NS: i64 = 1_451_606_400_000_000_000;
/// TSBS's `--log-interval`.
pub(crate) const INTERVAL_NS: i64 = 10_000_000_000;

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

/// A resumable TSBS `cpu-only` generator.
pub(crate) struct Tsbs {
    /// xorshift64* state: deterministic, and good enough to vary the digits.
    state: u64,
    /// Each host's tag set, already in line-protocol form.
    tag_sets: Vec<String>,
    /// Each host's current field values.
    values: Vec<Vec<i64>>,
    /// The next epoch (10 s step) to write.
    epoch: i64,
}

impl Tsbs {
    pub(crate) fn new(hosts: usize) -> Self {
        let mut g = Self {
            state: 0x9E37_79B9_7F4A_7C15,
            tag_sets: Vec::new(),
            values: Vec::new(),
            epoch: 0,
        };
        g.tag_sets = (0..hosts)
            .map(|h| {
                let (region, dcs) = REGIONS[g.next(REGIONS.len() as u64) as usize];
                let dc = dcs[g.next(dcs.len() as u64) as usize];
                let os = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"][g.next(3) as usize];
                let arch = ["x64", "x86"][g.next(2) as usize];
                let team = ["SF", "NYC", "LON", "CHI"][g.next(4) as usize];
                let env = ["production", "staging", "test"][g.next(3) as usize];
                format!(
                    "hostname=host_{h},region={region},datacenter={dc},rack={},os={os},arch={arch},\
                     team={team},service={},service_version={},service_environment={env}",
                    g.next(100),
                    g.next(20),
                    g.next(2),
                )
            })
            .collect();
        g.values = (0..hosts)
            .map(|_| (0..FIELDS.len()).map(|_| g.next(101) as i64).collect())
            .collect();
        g
    }

    fn next(&mut self, n: u64) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }

    /// The next `epochs` epochs as one body: `epochs × hosts` lines, nanosecond timestamps.
    pub(crate) fn body(&mut self, epochs: usize) -> Vec<u8> {
        use std::fmt::Write as _;
        let mut body = String::with_capacity(epochs * self.tag_sets.len() * 330);
        for _ in 0..epochs {
            let ts = START_NS + self.epoch * INTERVAL_NS;
            self.epoch += 1;
            for host in 0..self.tag_sets.len() {
                body.push_str("cpu,");
                body.push_str(&self.tag_sets[host]);
                for (i, name) in FIELDS.iter().enumerate() {
                    let step = self.next(5) as i64 - 2;
                    let v = &mut self.values[host][i];
                    *v = (*v + step).clamp(0, 100);
                    body.push(if i == 0 { ' ' } else { ',' });
                    // Writing to a String cannot fail.
                    let _ = write!(body, "{name}={v}i");
                }
                let _ = writeln!(body, " {ts}");
            }
        }
        body.into_bytes()
    }
}

/// An engine over a fresh temporary directory, with one org. The directory lives as long as the
/// returned guard.
pub(crate) struct Fixture {
    pub(crate) _tmp: tempfile::TempDir,
    pub(crate) engine: Arc<Engine>,
    pub(crate) catalog: Arc<dyn Catalog>,
    org: tidemark_catalog::Id,
}

pub(crate) async fn open() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_owned();
    let catalog = tidemark_catalog::open(&CatalogConfig::Sqlite {
        path: dir.join("catalog.sqlite"),
    })
    .await
    .expect("catalog");
    let org = catalog
        .create_org(NewOrg {
            name: "o".into(),
            description: String::new(),
        })
        .await
        .expect("org")
        .id;
    let objects = dir.join("objects");
    std::fs::create_dir_all(&objects).expect("objects dir");
    let store =
        Arc::new(object_store::local::LocalFileSystem::new_with_prefix(&objects).expect("store"));
    let config = EngineConfig {
        wal: WalConfig {
            dir: dir.join("wal"),
            flush_window: Duration::from_millis(1),
            recovery: Recovery::Strict,
            // Large segments, so segment rollover is not what a write bench measures.
            segment_max_bytes: 64 << 20,
        },
        limits: SchemaLimits::default(),
        // No persister task is spawned, so only the benches' own `persist` calls move rows.
        persist: PersistConfig::default(),
        compact: tidemark_storage::CompactConfig::default(),
        local_object_root: Some(objects),
    };
    let (engine, _) = Engine::open(config, Arc::clone(&catalog), store)
        .await
        .expect("engine");
    Fixture {
        _tmp: tmp,
        engine,
        catalog,
        org,
    }
}

impl Fixture {
    /// A new bucket, without retention (the data is from 2016).
    pub(crate) async fn bucket(&self, name: &str) -> Bucket {
        self.catalog
            .create_bucket(NewBucket {
                org_id: self.org,
                name: name.into(),
                description: String::new(),
                bucket_type: BucketType::User,
                retention_seconds: 0,
                shard_group_duration_seconds: None,
                schema_type: SchemaType::Implicit,
            })
            .await
            .expect("bucket")
    }

    /// Writes `body` without waiting for the fsync, and checks every line was taken.
    pub(crate) async fn write(&self, bucket: &Bucket, body: &[u8]) -> usize {
        let out = self
            .engine
            .write(WriteRequest {
                bucket,
                body,
                precision: Some(Precision::Nanosecond),
                now: START_NS,
                accept_partial: false,
                sync: false,
            })
            .await
            .expect("write");
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        out.lines_written
    }
}
