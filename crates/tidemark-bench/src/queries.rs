//! The TSBS `devops` query families (timescale/tsbs, `cmd/tsbs_generate_queries/uses/devops`),
//! with seeded random parameters, rendered as InfluxQL (v1 `/query`) and as SQL
//! (`/api/v3/query_sql`).
//!
//! Parameters follow TSBS: distinct random hosts `host_<n>` out of the data's host count, and
//! unaligned windows whose start is uniform in `[data start, data end + 1 s - window)`. Unlike
//! TSBS the start is drawn in whole seconds: InfluxQL's RFC 3339 literals (as TSBS renders them)
//! carry whole seconds, and drawing seconds keeps the SQL form selecting exactly the same rows.
//! A window longer than the data starts at the data's start (TSBS would refuse to generate it).
//!
//! The InfluxQL forms are TSBS's, except two (see `Shape::LastPoint` and
//! `Shape::GroupByOrderByLimit`). The SQL forms select the same rows and name their columns like
//! InfluxQL does (`max`, `max_1`, ..., `mean`, `last`), with two differences that are inherent to
//! the languages: InfluxQL fills empty time buckets with null where `date_bin` emits only
//! non-empty buckets, and InfluxQL answers one series per `GROUP BY` tag where SQL gives the tag
//! as a column.

use crate::generate::{self, FIELDS};
use crate::Result;
use tidemark_tsbs::Rng;

/// What a family asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `max` of the first `metrics` fields for `hosts` random hosts over a `window_s` window, in
    /// `bucket_s` time buckets (single-groupby, cpu-max-all).
    MaxByTime {
        metrics: usize,
        hosts: usize,
        window_s: i64,
        bucket_s: i64,
    },
    /// `mean` of the first `metrics` fields per hour and host, all hosts, over 12 h
    /// (double-groupby).
    MeanByHourAndHost { metrics: usize },
    /// Every row with `usage_user > 90` over 12 h, of `hosts` random hosts, 0 meaning all
    /// (high-cpu).
    HighCpu { hosts: usize },
    /// The last `usage_user` of every host over all the data. InfluxQL:
    /// `SELECT last(usage_user) FROM cpu GROUP BY hostname` (TSBS's `SELECT * .. GROUP BY
    /// "hostname" ORDER BY time DESC LIMIT 1` asks the same for every field; this one-field form
    /// is the one our compatibility issue tracks). SQL: `SELECT DISTINCT ON (hostname)
    /// hostname, time, usage_user AS last FROM cpu ORDER BY hostname, time DESC`.
    LastPoint,
    /// The five latest 1-minute buckets of `max(usage_user)` before the end `$e` of a random
    /// 1-hour window, within that hour. InfluxQL: `SELECT max(usage_user) FROM cpu WHERE time >=
    /// '$e - 1h' AND time < '$e' GROUP BY time(1m) ORDER BY time DESC LIMIT 5`; SQL: the same
    /// with `date_bin` and `ORDER BY 1 DESC LIMIT 5`. TSBS's InfluxQL has neither the lower
    /// bound nor `DESC` and so answers the earliest buckets, unlike its SQL; the lower bound
    /// makes both languages ask the same without an unbounded fill of empty buckets.
    GroupByOrderByLimit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Family {
    pub(crate) name: &'static str,
    pub(crate) shape: Shape,
}

const HOUR: i64 = 3600;
const MINUTE: i64 = 60;

const fn max_by_time(name: &'static str, metrics: usize, hosts: usize, window_h: i64) -> Family {
    Family {
        name,
        shape: Shape::MaxByTime {
            metrics,
            hosts,
            window_s: window_h * HOUR,
            bucket_s: MINUTE,
        },
    }
}

const fn cpu_max_all(name: &'static str, hosts: usize) -> Family {
    Family {
        name,
        shape: Shape::MaxByTime {
            metrics: FIELDS.len(),
            hosts,
            window_s: 8 * HOUR,
            bucket_s: HOUR,
        },
    }
}

/// Every family, in the order the tables list them.
pub(crate) const FAMILIES: &[Family] = &[
    max_by_time("single-groupby-1-1-1", 1, 1, 1),
    max_by_time("single-groupby-5-1-1", 5, 1, 1),
    max_by_time("single-groupby-5-8-1", 5, 8, 1),
    cpu_max_all("cpu-max-all-1", 1),
    cpu_max_all("cpu-max-all-8", 8),
    Family {
        name: "double-groupby-1",
        shape: Shape::MeanByHourAndHost { metrics: 1 },
    },
    Family {
        name: "double-groupby-5",
        shape: Shape::MeanByHourAndHost { metrics: 5 },
    },
    Family {
        name: "double-groupby-all",
        shape: Shape::MeanByHourAndHost {
            metrics: FIELDS.len(),
        },
    },
    Family {
        name: "high-cpu-1",
        shape: Shape::HighCpu { hosts: 1 },
    },
    Family {
        name: "high-cpu-all",
        shape: Shape::HighCpu { hosts: 0 },
    },
    Family {
        name: "lastpoint",
        shape: Shape::LastPoint,
    },
    Family {
        name: "groupby-orderby-limit",
        shape: Shape::GroupByOrderByLimit,
    },
];

/// TSBS's window for double-groupby and high-cpu.
const TWELVE_HOURS: i64 = 12 * HOUR;

/// Parses `a,b,c` (or `all`) into families, in the order given.
pub(crate) fn select(list: Option<&str>) -> Result<Vec<Family>> {
    let Some(list) = list.map(str::trim).filter(|l| !l.is_empty() && *l != "all") else {
        return Ok(FAMILIES.to_vec());
    };
    list.split(',')
        .map(|name| {
            let name = name.trim();
            FAMILIES
                .iter()
                .find(|f| f.name == name)
                .copied()
                .ok_or_else(|| {
                    let known: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
                    format!("unknown query family {name:?}; known: {}", known.join(", ")).into()
                })
        })
        .collect()
}

/// The loaded data the parameters are drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DataRange {
    pub(crate) hosts: usize,
    pub(crate) start_ns: i64,
    /// Exclusive.
    pub(crate) end_ns: i64,
}

/// One query's parameters: host numbers and a window in whole seconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instance {
    pub(crate) hosts: Vec<usize>,
    pub(crate) start_s: i64,
    pub(crate) end_s: i64,
}

/// FNV-1a, so that each family has its own stream: adding a family or running a subset does
/// not change another family's parameters.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A window of `window_s` seconds whose start is uniform in whole seconds over
/// `[first second of the data, data end + 1 s - window)` (TSBS's `MustRandWindow` with its
/// end of data end + 1 s).
fn window(rng: &mut Rng, range: &DataRange, window_s: i64) -> (i64, i64) {
    const S: i64 = 1_000_000_000;
    let first = range.start_ns.div_euclid(S) + i64::from(range.start_ns.rem_euclid(S) != 0);
    let last = range.end_ns.div_euclid(S) + 1;
    let span = last - first - window_s;
    let start = if span > 0 {
        first + rng.below(usize::try_from(span).unwrap_or(usize::MAX)) as i64
    } else {
        first
    };
    (start, start + window_s)
}

/// `n` distinct hosts out of `0..total` in random order (a partial Fisher-Yates shuffle, like
/// TSBS's random subset); all of them when `n >= total`.
fn hosts(rng: &mut Rng, total: usize, n: usize) -> Vec<usize> {
    let mut all: Vec<usize> = (0..total).collect();
    let n = n.min(total);
    for i in 0..n {
        let j = i + rng.below(total - i);
        all.swap(i, j);
    }
    all.truncate(n);
    all
}

/// The first `count` instances of `family` for `seed`: the same inputs give the same list.
pub(crate) fn instances(
    family: &Family,
    range: &DataRange,
    seed: u64,
    count: usize,
) -> Vec<Instance> {
    let mut rng = Rng::new(seed ^ fnv1a(family.name));
    (0..count)
        .map(|_| {
            let (n_hosts, window_s) = match family.shape {
                Shape::MaxByTime {
                    hosts, window_s, ..
                } => (hosts, window_s),
                Shape::MeanByHourAndHost { .. } => (0, TWELVE_HOURS),
                Shape::HighCpu { hosts } => (hosts, TWELVE_HOURS),
                Shape::LastPoint => (0, 0),
                Shape::GroupByOrderByLimit => (0, HOUR),
            };
            let (start_s, end_s) = match family.shape {
                Shape::LastPoint => (0, 0),
                _ => window(&mut rng, range, window_s),
            };
            Instance {
                hosts: hosts(&mut rng, range.hosts, n_hosts),
                start_s,
                end_s,
            }
        })
        .collect()
}

fn time_literal(s: i64) -> String {
    format!("'{}'", generate::rfc3339(s.saturating_mul(1_000_000_000)))
}

/// `max(usage_user), max(usage_system)` (InfluxQL) or the same with InfluxQL's output names as
/// aliases (SQL: `max(usage_user) AS max, max(usage_system) AS max_1`).
fn aggregates(function: &str, sql_function: Option<&str>, metrics: usize) -> String {
    FIELDS[..metrics.min(FIELDS.len())]
        .iter()
        .enumerate()
        .map(|(i, field)| match sql_function {
            None => format!("{function}({field})"),
            Some(f) if i == 0 => format!("{f}({field}) AS {function}"),
            Some(f) => format!("{f}({field}) AS {function}_{i}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn influxql_hosts(hosts: &[usize]) -> String {
    let terms: Vec<String> = hosts
        .iter()
        .map(|h| format!("hostname = 'host_{h}'"))
        .collect();
    format!("({})", terms.join(" OR "))
}

fn sql_hosts(hosts: &[usize]) -> String {
    let terms: Vec<String> = hosts.iter().map(|h| format!("'host_{h}'")).collect();
    format!("hostname IN ({})", terms.join(", "))
}

fn influxql_duration(s: i64) -> String {
    if s % HOUR == 0 {
        format!("{}h", s / HOUR)
    } else {
        format!("{}m", s / MINUTE)
    }
}

fn sql_interval(s: i64) -> &'static str {
    if s == HOUR {
        "INTERVAL '1 hour'"
    } else {
        "INTERVAL '1 minute'"
    }
}

/// The InfluxQL for `/query`.
pub(crate) fn influxql(family: &Family, i: &Instance) -> String {
    let (s, e) = (time_literal(i.start_s), time_literal(i.end_s));
    match family.shape {
        Shape::MaxByTime {
            metrics, bucket_s, ..
        } => format!(
            "SELECT {} FROM cpu WHERE {} AND time >= {s} AND time < {e} GROUP BY time({})",
            aggregates("max", None, metrics),
            influxql_hosts(&i.hosts),
            influxql_duration(bucket_s)
        ),
        Shape::MeanByHourAndHost { metrics } => format!(
            "SELECT {} FROM cpu WHERE time >= {s} AND time < {e} GROUP BY time(1h), hostname",
            aggregates("mean", None, metrics)
        ),
        Shape::HighCpu { .. } => {
            let hosts = if i.hosts.is_empty() {
                String::new()
            } else {
                format!(" AND {}", influxql_hosts(&i.hosts))
            };
            format!("SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= {s} AND time < {e}{hosts}")
        }
        Shape::LastPoint => "SELECT last(usage_user) FROM cpu GROUP BY hostname".to_owned(),
        Shape::GroupByOrderByLimit => format!(
            "SELECT max(usage_user) FROM cpu WHERE time >= {s} AND time < {e} GROUP BY time(1m) ORDER BY time DESC LIMIT 5"
        ),
    }
}

/// The SQL for `/api/v3/query_sql`.
pub(crate) fn sql(family: &Family, i: &Instance) -> String {
    let (s, e) = (time_literal(i.start_s), time_literal(i.end_s));
    match family.shape {
        Shape::MaxByTime {
            metrics, bucket_s, ..
        } => format!(
            "SELECT date_bin({}, time) AS time, {} FROM cpu WHERE {} AND time >= {s} AND time < {e} GROUP BY 1 ORDER BY 1",
            sql_interval(bucket_s),
            aggregates("max", Some("max"), metrics),
            sql_hosts(&i.hosts),
        ),
        Shape::MeanByHourAndHost { metrics } => format!(
            "SELECT date_bin(INTERVAL '1 hour', time) AS time, hostname, {} FROM cpu WHERE time >= {s} AND time < {e} GROUP BY 1, 2 ORDER BY 2, 1",
            aggregates("mean", Some("avg"), metrics)
        ),
        Shape::HighCpu { .. } => {
            let hosts = if i.hosts.is_empty() {
                String::new()
            } else {
                format!(" AND {}", sql_hosts(&i.hosts))
            };
            format!("SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= {s} AND time < {e}{hosts}")
        }
        Shape::LastPoint => "SELECT DISTINCT ON (hostname) hostname, time, usage_user AS last FROM cpu ORDER BY hostname, time DESC".to_owned(),
        Shape::GroupByOrderByLimit => format!(
            "SELECT date_bin(INTERVAL '1 minute', time) AS time, max(usage_user) AS max FROM cpu WHERE time >= {s} AND time < {e} GROUP BY 1 ORDER BY 1 DESC LIMIT 5"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: DataRange = DataRange {
        hosts: 100,
        // 2024-01-01T00:00:00Z
        start_ns: 1_704_067_200_000_000_000,
        end_ns: 1_704_067_200_000_000_000 + 86_400_000_000_000,
    };

    fn family(name: &str) -> Family {
        select(Some(name)).unwrap()[0]
    }

    #[test]
    fn selection() {
        assert_eq!(select(None).unwrap().len(), 12);
        assert_eq!(select(Some("all")).unwrap().len(), 12);
        let two = select(Some("lastpoint, high-cpu-1")).unwrap();
        assert_eq!(
            two.iter().map(|f| f.name).collect::<Vec<_>>(),
            ["lastpoint", "high-cpu-1"]
        );
        assert!(select(Some("lastpoint,nope")).is_err());
        let mut names: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
        names.dedup();
        assert_eq!(names.len(), FAMILIES.len());
    }

    #[test]
    fn parameters_are_deterministic_and_inside_the_data() {
        for f in FAMILIES {
            let a = instances(f, &DAY, 7, 50);
            assert_eq!(a, instances(f, &DAY, 7, 50), "{}", f.name);
            if f.shape != Shape::LastPoint {
                assert_ne!(a, instances(f, &DAY, 8, 50), "{}", f.name);
            }
            // A longer list starts with the shorter one.
            assert_eq!(a[..10], instances(f, &DAY, 7, 10)[..], "{}", f.name);
            for i in &a {
                let mut h = i.hosts.clone();
                h.sort_unstable();
                h.dedup();
                assert_eq!(h.len(), i.hosts.len(), "distinct hosts");
                assert!(i.hosts.iter().all(|&h| h < DAY.hosts));
                if f.shape != Shape::LastPoint {
                    assert!(i.start_s >= DAY.start_ns / 1_000_000_000);
                    assert!(i.end_s <= DAY.end_ns / 1_000_000_000 + 1);
                }
            }
        }
        let one = instances(&family("single-groupby-5-8-1"), &DAY, 1, 200);
        assert!(one
            .iter()
            .all(|i| i.hosts.len() == 8 && i.end_s - i.start_s == 3600));
        // Unaligned: some windows do not start on a minute.
        assert!(one.iter().any(|i| i.start_s % 60 != 0));
        assert!(instances(&family("high-cpu-all"), &DAY, 1, 5)
            .iter()
            .all(|i| i.hosts.is_empty() && i.end_s - i.start_s == 12 * 3600));
    }

    #[test]
    fn short_data_and_few_hosts() {
        let small = DataRange {
            hosts: 3,
            start_ns: 1_000_000_000_500,
            end_ns: 1_000_000_000_500 + 3_600_000_000_000,
        };
        let i = &instances(&family("cpu-max-all-8"), &small, 1, 1)[0];
        // All three hosts, and the 8 h window starts at the first whole second of the data.
        assert_eq!(i.hosts.len(), 3);
        assert_eq!(i.start_s, 1001);
        assert_eq!(i.end_s, 1001 + 8 * 3600);
    }

    #[test]
    fn renderings() {
        let i = Instance {
            hosts: vec![3, 12],
            start_s: 1_704_067_263,
            end_s: 1_704_070_863,
        };
        assert_eq!(
            influxql(&family("single-groupby-5-8-1"), &i),
            "SELECT max(usage_user), max(usage_system), max(usage_idle), max(usage_nice), max(usage_iowait) FROM cpu WHERE (hostname = 'host_3' OR hostname = 'host_12') AND time >= '2024-01-01T00:01:03Z' AND time < '2024-01-01T01:01:03Z' GROUP BY time(1m)"
        );
        assert_eq!(
            sql(&family("single-groupby-1-1-1"), &i),
            "SELECT date_bin(INTERVAL '1 minute', time) AS time, max(usage_user) AS max FROM cpu WHERE hostname IN ('host_3', 'host_12') AND time >= '2024-01-01T00:01:03Z' AND time < '2024-01-01T01:01:03Z' GROUP BY 1 ORDER BY 1"
        );
        let all = sql(&family("cpu-max-all-8"), &i);
        assert!(all.starts_with("SELECT date_bin(INTERVAL '1 hour', time) AS time, max(usage_user) AS max, max(usage_system) AS max_1,"));
        assert!(all.contains("max(usage_guest_nice) AS max_9 FROM"));
        assert!(influxql(&family("cpu-max-all-1"), &i).ends_with("GROUP BY time(1h)"));
        assert_eq!(
            influxql(&family("double-groupby-1"), &i),
            "SELECT mean(usage_user) FROM cpu WHERE time >= '2024-01-01T00:01:03Z' AND time < '2024-01-01T01:01:03Z' GROUP BY time(1h), hostname"
        );
        assert!(sql(&family("double-groupby-5"), &i)
            .contains("hostname, avg(usage_user) AS mean, avg(usage_system) AS mean_1,"));
        let no_hosts = Instance {
            hosts: vec![],
            ..i.clone()
        };
        assert_eq!(
            influxql(&family("high-cpu-all"), &no_hosts),
            "SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= '2024-01-01T00:01:03Z' AND time < '2024-01-01T01:01:03Z'"
        );
        assert!(influxql(&family("high-cpu-1"), &i)
            .ends_with("AND (hostname = 'host_3' OR hostname = 'host_12')"));
        assert!(sql(&family("high-cpu-1"), &i).ends_with("AND hostname IN ('host_3', 'host_12')"));
        assert_eq!(
            influxql(&family("lastpoint"), &i),
            "SELECT last(usage_user) FROM cpu GROUP BY hostname"
        );
        assert_eq!(
            influxql(&family("groupby-orderby-limit"), &i),
            "SELECT max(usage_user) FROM cpu WHERE time >= '2024-01-01T00:01:03Z' AND time < '2024-01-01T01:01:03Z' GROUP BY time(1m) ORDER BY time DESC LIMIT 5"
        );
        assert!(sql(&family("groupby-orderby-limit"), &i)
            .ends_with("GROUP BY 1 ORDER BY 1 DESC LIMIT 5"));
    }
}
