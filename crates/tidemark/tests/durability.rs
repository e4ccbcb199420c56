//! Durability end to end: every acknowledged write is there after a graceful restart, after
//! `kill -9`, and after a crash that tore the WAL's last record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{status_json, Options, TestServer};
use reqwest::Method;

async fn count(s: &TestServer, db: &str) -> i64 {
    let q: String = form_urlencoded::byte_serialize(b"SELECT count(*) AS n FROM m").collect();
    let (status, body) = status_json(
        s.op(Method::GET, &format!("/api/v3/query_sql?db={db}&q={q}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body[0]["n"].as_i64().unwrap()
}

/// Writes `requests` bodies of 100 distinct points each; returns how many points were acknowledged.
async fn write_acknowledged(s: &TestServer, db: &str, requests: usize, offset: usize) -> i64 {
    let mut acked = 0;
    for r in 0..requests {
        let body: String = (0..100)
            .map(|i| {
                format!(
                    "m,host=h{} v={i} {}\n",
                    i % 7,
                    1_000_000 + (offset + r) * 100 + i
                )
            })
            .collect();
        let resp = s
            .op(Method::POST, &format!("/api/v3/write_lp?db={db}"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
        acked += 100;
    }
    acked
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_and_graceful_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut s = TestServer::start_in(&dir, Options::standard()).await;
    let mut acked = write_acknowledged(&s, "d", 30, 0).await;
    // Killed right after the last acknowledgement: nothing may be lost.
    s.kill();
    let mut s = TestServer::start_in(&dir, Options::standard()).await;
    assert_eq!(count(&s, "d").await, acked);

    acked += write_acknowledged(&s, "d", 10, 30).await;
    assert_eq!(s.stop().code(), Some(0));
    let s = TestServer::start_in(&dir, Options::standard()).await;
    assert_eq!(count(&s, "d").await, acked);
}

#[tokio::test]
async fn a_torn_wal_tail_is_cut_and_the_acknowledged_rows_remain() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut s = TestServer::start_in(&dir, Options::standard()).await;
    let acked = write_acknowledged(&s, "t", 5, 0).await;
    s.kill();
    // A crash in the middle of the next append leaves half a record at the end of the log.
    let wal = dir.join("wal");
    let mut segments: Vec<_> = std::fs::read_dir(&wal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    segments.sort();
    let last = segments
        .iter()
        .rev()
        .find(|p| std::fs::metadata(p).unwrap().len() > 8)
        .unwrap();
    let mut bytes = std::fs::read(last).unwrap();
    bytes.extend_from_slice(&[0x10, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]);
    std::fs::write(last, bytes).unwrap();

    let s = TestServer::start_in(&dir, Options::standard()).await;
    assert_eq!(count(&s, "t").await, acked);
    // And the server goes on taking writes.
    let more = write_acknowledged(&s, "t", 1, 5).await;
    assert_eq!(count(&s, "t").await, acked + more);
}

#[tokio::test]
async fn corruption_inside_the_wal_stops_start_up_with_a_clear_message_unless_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut s = TestServer::start_in(&dir, Options::standard()).await;
    write_acknowledged(&s, "c", 3, 0).await;
    s.kill();
    let wal = dir.join("wal");
    let seg = std::fs::read_dir(&wal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "wal") && std::fs::metadata(p).unwrap().len() > 100
        })
        .unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[40] ^= 0xff; // inside the first record's payload: later records are intact
    std::fs::write(&seg, bytes).unwrap();

    let out = std::process::Command::new(common::binary())
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--operator-token",
            "x",
            "--data-dir",
        ])
        .arg(&dir)
        .env_remove("TIDEMARK_WAL_RECOVERY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("corrupt WAL") && err.contains("skip-corrupt"),
        "{err}"
    );

    let options = Options {
        extra_args: vec!["--wal-recovery".into(), "skip-corrupt".into()],
        ..Options::standard()
    };
    let s = TestServer::start_in(&dir, options).await;
    // Only the damaged record (the first request's 100 rows) is dropped.
    assert_eq!(count(&s, "c").await, 200);
}

/// A figure of the server's `/metrics`.
async fn metric(s: &TestServer, name: &str) -> i64 {
    let text = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// Waits until the buffer is persisted and no merge is left to do.
async fn wait_settled(s: &TestServer) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while metric(s, "tidemark_buffered_rows").await > 0
        || metric(s, "tidemark_storage_compactions_pending").await > 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "not settled within 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_cold_day_is_rewritten_as_one_file_that_keeps_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut options = Options::standard();
    options.extra_args = [
        "--persist-max-age-seconds",
        "1",
        "--compact-cold-seconds",
        "0",
    ]
    .map(String::from)
    .to_vec();
    let mut s = TestServer::start_in(&dir, options.clone()).await;
    // Three persisted files of one day, each later than the one before.
    let mut acked = 0;
    for round in 0..3 {
        acked += write_acknowledged(&s, "d", 5, round * 5).await;
        wait_settled(&s).await;
    }
    assert_eq!(count(&s, "d").await, acked);
    // Replaced objects stay for a grace period; besides them, one file is left.
    let mut parquet = 0;
    for entry in walk(&dir.join("objects")) {
        parquet += i64::from(entry.extension().is_some_and(|e| e == "parquet"));
    }
    let replaced = metric(&s, "tidemark_storage_deletes_pending").await;
    assert!(replaced >= 2, "{replaced} objects replaced");
    assert_eq!(parquet - replaced, 1);

    assert_eq!(s.stop().code(), Some(0));
    let s = TestServer::start_in(&dir, options).await;
    assert_eq!(count(&s, "d").await, acked);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
