//! The server on a PostgreSQL catalog, end to end: a CRUD flow, a restart, and two nodes sharing
//! one catalog.
//!
//! Needs `TIDEMARK_TEST_POSTGRES_URL` (an admin URL; `eval "$(scripts/postgres.sh | tail -1)"`
//! from the workspace root starts a local server and prints it). Each test creates a database
//! of its own and drops it afterwards. Without the variable the tests fail, unless
//! `TIDEMARK_SKIP_POSTGRES=1` says to skip them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::str::FromStr;
use std::time::{Duration, Instant};

use common::{all_access, perm, Options, TestServer};
use futures::FutureExt;
use reqwest::Method;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection};

const URL_VAR: &str = "TIDEMARK_TEST_POSTGRES_URL";
const SKIP_VAR: &str = "TIDEMARK_SKIP_POSTGRES";

/// The admin URL, or `None` when told to skip; panics when neither is configured.
fn admin_url() -> Option<String> {
    if let Ok(url) = std::env::var(URL_VAR) {
        return Some(url);
    }
    if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
        eprintln!("skipped: {URL_VAR} is not set and {SKIP_VAR}=1");
        return None;
    }
    panic!(
        "{URL_VAR} is not set, so the PostgreSQL end-to-end tests cannot run. Start a server \
         with `eval \"$(scripts/postgres.sh | tail -1)\"` (from the workspace root), or set \
         {SKIP_VAR}=1 to skip these tests."
    );
}

/// Runs `test` with the URL of a fresh database, dropped afterwards whatever happens.
async fn with_database<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(admin) = admin_url() else { return };
    let name = format!("tm_e2e_{:016x}", rand_u64());
    let mut conn = PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {URL_VAR}: {e}"));
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    let url = PgConnectOptions::from_str(&admin)
        .expect("parse the admin URL")
        .database(&name)
        .to_url_lossy()
        .to_string();

    let outcome = AssertUnwindSafe(test(url)).catch_unwind().await;

    // WITH (FORCE) ends connections of servers that may still be shutting down.
    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    if let Err(e) = sqlx::raw_sql(AssertSqlSafe(drop)).execute(&mut conn).await {
        eprintln!("could not drop test database {name}: {e}");
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Random enough for a database name, without another dependency.
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

fn on(url: &str) -> Options {
    Options {
        catalog: Some(url.to_owned()),
        ..Options::standard()
    }
}

#[tokio::test]
async fn crud_flow_and_restart_on_postgres() {
    with_database(|url| async move {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let mut s = TestServer::start_in(&dir, on(&url)).await;
        // The catalog lives in PostgreSQL, not in the data directory.
        assert!(!dir.join("catalog.sqlite").exists());

        let org = s.create_org("pg").await;
        let bucket = s.create_bucket(&org, "metrics").await;
        let other = s.create_bucket(&org, "other").await;
        s.post("/api/v2/buckets", json!({"orgID": org, "name": "metrics"}))
            .await
            .expect_error(422, "conflict", "bucket with name metrics already exists");
        let r = s
            .patch(
                &format!("/api/v2/buckets/{bucket}"),
                json!({"description": "on pg", "retentionRules": [{"everySeconds": 0}]}),
            )
            .await;
        assert_eq!(r.expect(200)["retentionRules"], json!([]));
        let r = s.get(&format!("/api/v2/buckets?orgID={org}&limit=2&offset=1")).await;
        let names: Vec<&str> = r.expect(200)["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["_tasks", "metrics"]);

        let (auth, token) = s.create_token(&org, all_access(&org)).await;
        let (_, reader) = s
            .create_token(&org, json!([perm("read", "buckets", Some(&org), Some(&bucket))]))
            .await;
        s.call(Method::DELETE, &format!("/api/v2/buckets/{other}"), Some(&reader), None)
            .await
            .expect_error(
                401,
                "unauthorized",
                &format!("write:orgs/{org}/buckets/{other} is unauthorized"),
            );

        let dbrp = |bucket: &str, rp: &str| {
            json!({"orgID": org, "bucketID": bucket, "database": "db", "retention_policy": rp})
        };
        let first = s.post("/api/v2/dbrps", dbrp(&bucket, "a")).await;
        assert_eq!(first.expect(201)["default"], true);
        let first = first.body["id"].as_str().unwrap().to_owned();
        let second = s.post("/api/v2/dbrps", dbrp(&other, "b")).await;
        assert_eq!(second.expect(201)["default"], false);
        let second = second.body["id"].as_str().unwrap().to_owned();
        s.post("/api/v2/dbrps", dbrp(&other, "a"))
            .await
            .expect_error(422, "conflict", "another DBRP mapping with same orgID, db, and rp exists");
        s.delete(&format!("/api/v2/dbrps/{first}?orgID={org}")).await.expect(204);
        let r = s.get(&format!("/api/v2/dbrps/{second}?orgID={org}")).await;
        assert_eq!(r.expect(200)["content"]["default"], true);
        s.delete(&format!("/api/v2/buckets/{other}")).await.expect(204);
        let r = s.get(&format!("/api/v2/dbrps?orgID={org}")).await;
        assert_eq!(r.expect(200)["content"], json!([]));
        let kept = s
            .post("/api/v2/dbrps", dbrp(&bucket, "kept"))
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Deactivation is immediate on this node.
        let path = format!("/api/v2/authorizations/{auth}");
        s.call(Method::GET, "/api/v2/buckets", Some(&token), None).await.expect(200);
        s.patch(&path, json!({"status": "inactive"})).await.expect(200);
        s.call(Method::GET, "/api/v2/buckets", Some(&token), None)
            .await
            .expect_error(401, "unauthorized", "unauthorized access");
        s.patch(&path, json!({"status": "active"})).await.expect(200);

        let paths = [
            format!("/api/v2/orgs/{org}"),
            format!("/api/v2/buckets/{bucket}"),
            format!("/api/v2/authorizations/{auth}"),
            format!("/api/v2/dbrps/{kept}?orgID={org}"),
            "/api/v2/buckets".to_owned(),
            "/api/v2/authorizations".to_owned(),
        ];
        let mut before = vec![];
        for p in &paths {
            before.push(s.get(p).await.expect(200).clone());
        }
        assert!(s.stop().success());

        // A restart, even on an empty data directory, finds everything in the catalog.
        let s = TestServer::start_in(&tmp.path().join("elsewhere"), on(&url)).await;
        assert!(!s.banner.iter().any(|l| l.contains("operator token")), "{:?}", s.banner);
        for (p, want) in paths.iter().zip(&before) {
            assert_eq!(s.get(p).await.expect(200), want, "{p}");
        }
        let r = s
            .call(Method::GET, &format!("/api/v2/buckets/{bucket}"), Some(&token), None)
            .await;
        assert_eq!(r.expect(200)["description"], "on pg");
        s.call(Method::GET, &format!("/api/v2/buckets/{bucket}"), Some(&reader), None)
            .await
            .expect(200);
        s.delete(&format!("/api/v2/orgs/{org}")).await.expect(204);
        s.call(Method::GET, "/api/v2/buckets", Some(&token), None)
            .await
            .expect_error(401, "unauthorized", "unauthorized access");
    })
    .await;
}

#[tokio::test]
async fn two_nodes_share_one_postgres_catalog() {
    with_database(|url| async move {
        let a = TestServer::start_with(on(&url)).await;
        // The second node finds the catalog initialised and bootstraps nothing.
        let b = TestServer::start_with(on(&url)).await;
        assert!(
            !b.banner.iter().any(|l| l.contains("operator token")),
            "{:?}",
            b.banner
        );
        let r = b.get("/api/v2/orgs").await;
        assert_eq!(r.expect(200)["orgs"].as_array().unwrap().len(), 1);

        let org = a.default_org_id().await;
        let bucket = a.create_bucket(&org, "shared").await;
        let r = b.get(&format!("/api/v2/buckets/{bucket}")).await;
        assert_eq!(r.expect(200)["name"], "shared");
        b.post("/api/v2/buckets", json!({"orgID": org, "name": "shared"}))
            .await
            .expect_error(422, "conflict", "bucket with name shared already exists");

        let (auth, token) = a
            .create_token(&org, json!([perm("read", "buckets", Some(&org), None)]))
            .await;
        // Node B caches the token and the bucket's name.
        b.call(Method::GET, "/api/v2/buckets", Some(&token), None)
            .await
            .expect(200);
        let by_name = |name: &str| format!("/api/v2/buckets?orgID={org}&name={name}");
        let names = |r: &common::Reply| r.expect(200)["buckets"].as_array().unwrap().len();
        assert_eq!(names(&b.get(&by_name("shared")).await), 1);

        // Changed through node A: node B sees both changes within the caches' TTL (5 s).
        a.patch(
            &format!("/api/v2/authorizations/{auth}"),
            json!({"status": "inactive"}),
        )
        .await
        .expect(200);
        a.patch(
            &format!("/api/v2/buckets/{bucket}"),
            json!({"name": "renamed"}),
        )
        .await
        .expect(200);
        let started = Instant::now();
        loop {
            let r = b
                .call(Method::GET, "/api/v2/buckets", Some(&token), None)
                .await;
            assert!(r.status == 200 || r.status == 401, "{}", r.text);
            let token_refused = r.status == 401;
            let old_name_gone = names(&b.get(&by_name("shared")).await) == 0;
            let new_name_found = names(&b.get(&by_name("renamed")).await) == 1;
            if token_refused && old_name_gone && new_name_found {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "node B still trusts stale data: token refused {token_refused}, old name gone \
                 {old_name_gone}, new name found {new_name_found}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
}
