//! `check-compare`: validates the JSON of `compare --json-out` for CI.

use std::path::Path;

use crate::Result;

/// Checks a `compare --json-out` file: every run counted exactly `rows` rows, and every system
/// has the figures the table needs, all positive, and, when the query families ran, every
/// family has its figures and (with both systems) answers equal to InfluxDB's. For CI
/// (`scripts/bench-smoke.sh`).
pub(crate) fn check(path: &Path, rows: Option<u64>) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    check_value(&v, rows)
}

fn check_value(v: &serde_json::Value, rows: Option<u64>) -> Result<()> {
    let manifest_rows = v["manifest"]["rows"].as_u64().ok_or("no manifest.rows")?;
    if manifest_rows == 0 {
        return Err("the manifest lists no rows".into());
    }
    if let Some(r) = rows {
        if r != manifest_rows {
            return Err(format!("the manifest lists {manifest_rows} rows, expected {r}").into());
        }
    }
    let runs = v["runs"].as_array().ok_or("no runs")?;
    if runs.is_empty() {
        return Err("no runs".into());
    }
    let mut problems = Vec::new();
    for r in runs {
        let who = format!("{} run {}", r["system"], r["run"]);
        let sent = r["load"]["rows"].as_u64();
        let seen = r["load"]["count_seen"].as_u64();
        if sent != Some(manifest_rows) || seen != Some(manifest_rows) {
            problems.push(format!(
                "{who}: sent {sent:?} rows and counted {seen:?}, expected {manifest_rows}"
            ));
        }
    }
    // Positive in every run; CPU figures only need to be there, since a tiny run can take
    // less than one clock tick of server CPU.
    const POSITIVE: [&str; 6] = [
        "rows_per_second_ack",
        "rows_per_second_visible",
        "peak_rss_mib",
        "persisted_files",
        "bytes_per_value_persisted",
        "bytes_per_value_total",
    ];
    const PRESENT: [&str; 2] = ["cpu_seconds_load", "cpu_seconds_total"];
    let medians = v["medians"].as_object().ok_or("no medians")?;
    if medians.is_empty() {
        return Err("no medians".into());
    }
    for (system, m) in medians {
        for key in POSITIVE {
            match m[key].as_f64() {
                Some(x) if x > 0.0 && x.is_finite() => {}
                other => problems.push(format!("{system}: {key} is {other:?}")),
            }
        }
        for key in PRESENT {
            match m[key].as_f64() {
                Some(x) if x >= 0.0 && x.is_finite() => {}
                other => problems.push(format!("{system}: {key} is {other:?}")),
            }
        }
    }
    let systems: Vec<&str> = medians.keys().map(String::as_str).collect();
    check_queries(&v["queries"], &systems, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; ").into())
    }
}

/// The query part, when `compare` ran the families (`queries` absent or null with
/// `--no-queries`): every family has each system's p50 (and tidemark's SQL p50), and when both
/// systems ran, a speedup and answers equal to InfluxDB's.
fn check_queries(q: &serde_json::Value, systems: &[&str], problems: &mut Vec<String>) {
    if q.is_null() {
        return;
    }
    let Some(families) = q["families"].as_array().filter(|f| !f.is_empty()) else {
        problems.push("queries: no families".to_owned());
        return;
    };
    let both = systems.contains(&"tidemark") && systems.contains(&"influxdb");
    let mut keys = Vec::new();
    if systems.contains(&"tidemark") {
        keys.extend(["tidemark_p50_ms", "tidemark_sql_p50_ms"]);
    }
    if systems.contains(&"influxdb") {
        keys.push("influxdb_p50_ms");
    }
    if both {
        keys.push("speedup");
    }
    for f in families {
        let name = f["family"].as_str().unwrap_or("?");
        for key in &keys {
            match f[key].as_f64() {
                Some(x) if x > 0.0 && x.is_finite() => {}
                other => problems.push(format!("query {name}: {key} is {other:?}")),
            }
        }
        if both && f["answers_equal"].as_bool() != Some(true) {
            problems.push(format!(
                "query {name}: answers differ from InfluxDB's: {}",
                f["difference"].as_str().unwrap_or("no verdict")
            ));
        }
        if let Some(errors) = f["errors"].as_array().filter(|e| !e.is_empty()) {
            problems.push(format!("query {name}: {} failed queries", errors.len()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let good = serde_json::json!({
            "manifest": {"rows": 300},
            "runs": [{"system": "tidemark", "run": 0, "load": {"rows": 300, "count_seen": 300}}],
            "medians": {"tidemark": {
                "rows_per_second_ack": 1.0, "rows_per_second_visible": 1.0,
                "cpu_seconds_load": 0.1, "rows_per_cpu_second_load": 3000.0,
                "cpu_seconds_total": 0.2,
                "peak_rss_mib": 50.0, "persisted_files": 1.0,
                "bytes_per_value_persisted": 2.0, "bytes_per_value_total": 9.0
            }}
        });
        check_value(&good, Some(300)).unwrap();
        assert!(check_value(&good, Some(301)).is_err());
        let mut short = good.clone();
        short["runs"][0]["load"]["count_seen"] = 299.into();
        assert!(check_value(&short, None).is_err());
        let mut zero = good.clone();
        zero["medians"]["tidemark"]["persisted_files"] = 0.0.into();
        assert!(check_value(&zero, None).is_err());
        let mut idle = good.clone();
        idle["medians"]["tidemark"]["cpu_seconds_load"] = 0.0.into();
        idle["medians"]["tidemark"]
            .as_object_mut()
            .unwrap()
            .remove("rows_per_cpu_second_load");
        check_value(&idle, None).unwrap();
        let mut missing = good;
        missing["medians"]["tidemark"]
            .as_object_mut()
            .unwrap()
            .remove("peak_rss_mib");
        assert!(check_value(&missing, None).is_err());
    }

    #[test]
    fn checks_queries() {
        let mut v = serde_json::json!({
            "manifest": {"rows": 300},
            "runs": [{"system": "tidemark", "run": 0, "load": {"rows": 300, "count_seen": 300}},
                     {"system": "influxdb", "run": 0, "load": {"rows": 300, "count_seen": 300}}],
            "medians": {}
        });
        let figures = serde_json::json!({
            "rows_per_second_ack": 1.0, "rows_per_second_visible": 1.0,
            "cpu_seconds_load": 0.1, "cpu_seconds_total": 0.2,
            "peak_rss_mib": 50.0, "persisted_files": 1.0,
            "bytes_per_value_persisted": 2.0, "bytes_per_value_total": 9.0
        });
        v["medians"]["tidemark"] = figures.clone();
        v["medians"]["influxdb"] = figures;
        // No queries (--no-queries) is fine, as is null.
        check_value(&v, Some(300)).unwrap();
        v["queries"] = serde_json::Value::Null;
        check_value(&v, Some(300)).unwrap();
        let family = serde_json::json!({
            "family": "lastpoint", "tidemark_p50_ms": 1.0, "influxdb_p50_ms": 3.0,
            "tidemark_sql_p50_ms": 0.8, "speedup": 3.0, "answers_equal": true,
            "difference": null, "errors": []
        });
        v["queries"] = serde_json::json!({"families": [family]});
        check_value(&v, Some(300)).unwrap();
        let mut differ = v.clone();
        differ["queries"]["families"][0]["answers_equal"] = false.into();
        assert!(check_value(&differ, None).is_err());
        let mut missing = v.clone();
        missing["queries"]["families"][0]["tidemark_sql_p50_ms"] = serde_json::Value::Null;
        assert!(check_value(&missing, None).is_err());
        let mut failed = v.clone();
        failed["queries"]["families"][0]["errors"] = serde_json::json!(["tidemark sql: 400"]);
        assert!(check_value(&failed, None).is_err());
        let mut empty = v.clone();
        empty["queries"]["families"] = serde_json::json!([]);
        assert!(check_value(&empty, None).is_err());
        // One system: no speedup and no verdict needed.
        let mut only = v;
        only["medians"].as_object_mut().unwrap().remove("tidemark");
        only["runs"].as_array_mut().unwrap().remove(0);
        only["queries"]["families"][0]["speedup"] = serde_json::Value::Null;
        only["queries"]["families"][0]["answers_equal"] = serde_json::Value::Null;
        check_value(&only, None).unwrap();
    }
}
