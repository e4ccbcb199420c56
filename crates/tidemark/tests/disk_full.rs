//! A full disk: writes that cannot be made durable get 503 with `Retry-After`, never a false
//! 204; everything acknowledged stays; writing works again once space returns.
//!
//! Needs root to mount a small tmpfs (CI runs as root). Elsewhere set TIDEMARK_SKIP_DISK_FULL=1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{status_json, Options, TestServer};
use reqwest::Method;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self(dir.to_owned()))
    }

    fn resize(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

async fn count(s: &TestServer) -> i64 {
    let q: String = form_urlencoded::byte_serialize(b"SELECT count(*) AS n FROM m").collect();
    let (status, body) = status_json(
        s.op(Method::GET, &format!("/api/v3/query_sql?db=full&q={q}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body[0]["n"].as_i64().unwrap()
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_503_and_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(fs) = Tmpfs::mount(&tmp.path().join("fs"), "4m") else {
        if std::env::var("TIDEMARK_SKIP_DISK_FULL").as_deref() == Ok("1") {
            eprintln!("skipped: cannot mount a tmpfs here (TIDEMARK_SKIP_DISK_FULL=1)");
            return;
        }
        panic!("cannot mount a tmpfs (needs root); set TIDEMARK_SKIP_DISK_FULL=1 to skip");
    };
    let dir = fs.0.join("data");
    let s = TestServer::start_in(&dir, Options::standard()).await;

    let mut acked = 0i64;
    let mut refused = 0;
    for r in 0..400i64 {
        let body: String = (0..1000)
            .map(|i| {
                format!(
                    "m,host=h{} payload=\"{:0>100}\" {}\n",
                    i % 10,
                    i,
                    r * 1000 + i + 1
                )
            })
            .collect();
        let resp = s
            .op(Method::POST, "/api/v3/write_lp?db=full")
            .body(body)
            .send()
            .await
            .unwrap();
        match resp.status().as_u16() {
            204 => acked += 1000,
            503 => {
                assert_eq!(
                    resp.headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()),
                    Some("5")
                );
                refused += 1;
                if refused >= 3 {
                    break;
                }
            }
            other => panic!(
                "write {r}: unexpected {other}: {}",
                resp.text().await.unwrap()
            ),
        }
    }
    assert!(refused >= 3, "the disk never filled (acked {acked} rows)");
    assert!(acked > 0);
    assert_eq!(count(&s).await, acked, "every acknowledged row is there");

    // Space returns: writes work again, without a restart.
    fs.resize("64m");
    let resp = s
        .op(Method::POST, "/api/v3/write_lp?db=full")
        .body("m,host=late payload=\"x\" 1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(count(&s).await, acked + 1);
    drop(s);
}
