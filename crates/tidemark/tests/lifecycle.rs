//! The process: state across restarts, the generated operator token, graceful shutdown, start-up
//! failures, and flags as `TIDEMARK_*` environment variables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use common::{all_access, run_to_exit, Options, TestServer, OPERATOR_TOKEN};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn state_survives_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut s = TestServer::start_in(&dir, Options::standard()).await;
    let org = s.create_org("keep").await;
    let bucket = s.create_bucket(&org, "kept").await;
    let (auth, token) = s.create_token(&org, all_access(&org)).await;
    let dbrp = s
        .post(
            "/api/v2/dbrps",
            json!({"orgID": org, "bucketID": bucket, "database": "db", "retention_policy": "rp"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let paths = [
        format!("/api/v2/orgs/{org}"),
        format!("/api/v2/buckets/{bucket}"),
        format!("/api/v2/authorizations/{auth}"),
        format!("/api/v2/dbrps/{dbrp}?orgID={org}"),
        "/api/v2/orgs".to_owned(),
        "/api/v2/buckets".to_owned(),
        "/api/v2/authorizations".to_owned(),
    ];
    let mut before = vec![];
    for p in &paths {
        before.push(s.get(p).await.expect(200).clone());
    }
    assert!(s.stop().success());

    let s = TestServer::start_in(&dir, Options::standard()).await;
    assert!(
        !s.banner.iter().any(|l| l.contains("operator token")),
        "{:?}",
        s.banner
    );
    for (p, want) in paths.iter().zip(&before) {
        assert_eq!(s.get(p).await.expect(200), want, "{p}");
    }
    // The old token still works, with the same rights.
    let r = s
        .call(
            Method::GET,
            &format!("/api/v2/buckets/{bucket}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.expect(200)["name"], "kept");
    let r = s
        .call(
            Method::POST,
            "/api/v2/buckets",
            Some(&token),
            Some(&json!({"orgID": org, "name": "more"})),
        )
        .await;
    r.expect(201);
    // And the data still obeys its invariants: the name is still taken.
    s.post("/api/v2/buckets", json!({"orgID": org, "name": "kept"}))
        .await
        .expect_error(422, "conflict", "bucket with name kept already exists");
}

#[tokio::test]
async fn the_generated_operator_token_is_shown_once_and_kept_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let generated = Options {
        operator_token: None,
        ..Options::default()
    };
    let mut s = TestServer::start_in(&dir, generated.clone()).await;
    let token = s
        .banner
        .iter()
        .find_map(|l| l.strip_prefix("operator token (shown once): "))
        .unwrap_or_else(|| panic!("no token in {:?}", s.banner))
        .to_owned();
    assert!(token.len() >= 40, "{token}");
    let file = dir.join("operator-token");
    assert!(s
        .banner
        .iter()
        .any(|l| l.contains(&file.display().to_string())));
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim_end(), token);

    // It is an operator token: it can create orgs.
    let r = s
        .call(
            Method::POST,
            "/api/v2/orgs",
            Some(&token),
            Some(&json!({"name": "made"})),
        )
        .await;
    r.expect(201);
    s.call(Method::GET, "/api/v2/orgs", Some(OPERATOR_TOKEN), None)
        .await
        .expect_error(401, "unauthorized", "unauthorized access");
    assert!(s.stop().success());

    // Later starts neither print it nor replace it, and ignore a token given now.
    for options in [generated, Options::standard()] {
        let mut s = TestServer::start_in(&dir, options).await;
        assert!(
            !s.banner
                .iter()
                .any(|l| l.contains(&token) || l.contains("operator token")),
            "{:?}",
            s.banner
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap().trim_end(), token);
        let r = s
            .call(Method::GET, "/api/v2/orgs", Some(&token), None)
            .await;
        assert_eq!(r.expect(200)["orgs"].as_array().unwrap().len(), 2);
        s.call(Method::GET, "/api/v2/orgs", Some(OPERATOR_TOKEN), None)
            .await
            .expect_error(401, "unauthorized", "unauthorized access");
        assert!(s.stop().success());
    }
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    let mut s = TestServer::start().await;
    // A kept-alive idle connection must not hold the shutdown up.
    for _ in 0..3 {
        s.get("/api/v2/buckets").await.expect(200);
    }
    let started = Instant::now();
    let status = s.stop();
    assert!(status.success(), "{status:?}");
    assert_eq!(status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(s.client.get(s.url("/health")).send().await.is_err());
}

/// Asserts a failed start: exit code, and stderr of one line starting with `error: ` that
/// contains `part`.
#[track_caller]
fn assert_fails(args: &[&str], env: &[(&str, &str)], part: &str) {
    let exit = run_to_exit(args, env);
    assert_eq!(exit.status.code(), Some(1), "{args:?}: {exit:?}");
    let lines: Vec<&str> = exit
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{args:?}: not one line: {:?}", exit.stderr);
    assert!(lines[0].starts_with("error: "), "{:?}", lines[0]);
    assert!(lines[0].contains(part), "{:?} lacks {part:?}", lines[0]);
    assert!(!exit.stdout.contains("listening"), "{exit:?}");
}

#[test]
fn start_up_failures_say_why_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let dir = dir.to_str().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let under_file = file.join("data");
    let under_file = under_file.to_str().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let serve = |more: &[&'static str]| {
        let mut v: Vec<String> = ["serve", "--log-filter", "off", "--operator-token", "t"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        v.extend(more.iter().map(|s| (*s).to_owned()));
        v
    };
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            [
                serve(&["--bind", "127.0.0.1:0", "--data-dir"]),
                vec![under_file.to_owned()],
            ]
            .concat(),
            format!("data directory {under_file} is not usable"),
        ),
        (
            [
                serve(&[
                    "--bind",
                    "127.0.0.1:0",
                    "--catalog",
                    "postgres://u:hunter2@127.0.0.1:1/db",
                    "--data-dir",
                ]),
                vec![dir.to_owned()],
            ]
            .concat(),
            "catalog".to_owned(),
        ),
        (
            [
                serve(&[
                    "--bind",
                    "127.0.0.1:0",
                    "--catalog",
                    "mysql://x",
                    "--data-dir",
                ]),
                vec![dir.to_owned()],
            ]
            .concat(),
            "--catalog must be a postgres:// or postgresql:// URL, got \"mysql://x\"".to_owned(),
        ),
        (
            [
                serve(&["--data-dir"]),
                vec![dir.to_owned(), "--bind".to_owned(), taken.clone()],
            ]
            .concat(),
            format!("cannot listen on {taken}"),
        ),
        (
            [
                serve(&["--bind", "not-an-address", "--data-dir"]),
                vec![dir.to_owned()],
            ]
            .concat(),
            "cannot listen on not-an-address".to_owned(),
        ),
        (
            [
                serve(&["--bind", "127.0.0.1:0", "--org-name", "", "--data-dir"]),
                vec![tmp.path().join("fresh").to_str().unwrap().to_owned()],
            ]
            .concat(),
            "org name is empty".to_owned(),
        ),
        (
            vec![
                "serve".to_owned(),
                "--log-filter".to_owned(),
                "=[bad".to_owned(),
                "--data-dir".to_owned(),
                dir.to_owned(),
            ],
            "invalid --log-filter".to_owned(),
        ),
    ];
    for (args, part) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_fails(&args, &[], part);
    }
    // The password of a PostgreSQL URL is never printed.
    let exit = run_to_exit(
        &[
            "serve",
            "--log-filter",
            "off",
            "--data-dir",
            dir,
            "--catalog",
            "postgres://u:hunter2@127.0.0.1:1/db",
        ],
        &[],
    );
    assert!(!exit.stderr.contains("hunter2"), "{}", exit.stderr);

    // Command-line mistakes: clap's usage error, exit code 2, first line naming the problem.
    for (args, first) in [
        (
            vec!["serve", "--no-such-flag"],
            "error: unexpected argument '--no-such-flag' found",
        ),
        (
            vec!["serve", "--log-format", "xml"],
            "error: invalid value 'xml' for '--log-format <LOG_FORMAT>'",
        ),
        (
            vec!["frobnicate"],
            "error: unrecognized subcommand 'frobnicate'",
        ),
    ] {
        let exit = run_to_exit(&args, &[]);
        assert_eq!(exit.status.code(), Some(2), "{args:?}: {exit:?}");
        assert_eq!(exit.stderr.lines().next(), Some(first), "{}", exit.stderr);
    }
}

#[test]
fn environment_variables_configure_failing_starts_too() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let under_file = file.join("data");
    let dir = tmp.path().join("data");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let base = [
        ("TIDEMARK_LOG_FILTER", "off"),
        ("TIDEMARK_OPERATOR_TOKEN", "t"),
    ];
    let dir_env = ("TIDEMARK_DATA_DIR", dir.to_str().unwrap());
    let cases: Vec<(Vec<(&str, &str)>, String)> = vec![
        (
            vec![
                ("TIDEMARK_DATA_DIR", under_file.to_str().unwrap()),
                ("TIDEMARK_BIND", "127.0.0.1:0"),
            ],
            format!("data directory {} is not usable", under_file.display()),
        ),
        (
            vec![
                dir_env,
                ("TIDEMARK_BIND", "127.0.0.1:0"),
                ("TIDEMARK_CATALOG", "sqlite://x"),
            ],
            "--catalog must be a postgres://".to_owned(),
        ),
        (
            vec![dir_env, ("TIDEMARK_BIND", &taken)],
            format!("cannot listen on {taken}"),
        ),
    ];
    for (env, part) in cases {
        let env: Vec<(&str, &str)> = base.iter().copied().chain(env).collect();
        assert_fails(&["serve"], &env, &part);
    }
    let exit = run_to_exit(&["serve"], &[("TIDEMARK_LOG_FORMAT", "xml"), dir_env]);
    assert_eq!(exit.status.code(), Some(2), "{exit:?}");
    assert!(
        exit.stderr.starts_with("error: invalid value 'xml'"),
        "{}",
        exit.stderr
    );
    // A flag beats its variable: a good --bind wins over a bad TIDEMARK_BIND, so this one fails
    // later, on the catalog.
    let exit = run_to_exit(
        &["serve", "--bind", "127.0.0.1:0", "--catalog", "mysql://x"],
        &[
            dir_env,
            ("TIDEMARK_BIND", &taken),
            ("TIDEMARK_LOG_FILTER", "off"),
        ],
    );
    assert!(exit.stderr.contains("--catalog must be"), "{}", exit.stderr);
}

#[tokio::test]
async fn environment_variables_configure_the_server_and_flags_win() {
    // From the environment alone.
    let env = |org: &str, token: &str| {
        vec![
            ("TIDEMARK_ORG_NAME".to_owned(), org.to_owned()),
            ("TIDEMARK_OPERATOR_TOKEN".to_owned(), token.to_owned()),
        ]
    };
    let s = TestServer::start_with(Options {
        operator_token: None,
        env: env("env-org", "env-token"),
        ..Options::default()
    })
    .await;
    assert!(!s.data_dir.join("operator-token").exists());
    let r = s
        .call(Method::GET, "/api/v2/orgs", Some("env-token"), None)
        .await;
    assert_eq!(r.expect(200)["orgs"][0]["name"], "env-org");
    assert_eq!(r.body["orgs"].as_array().unwrap().len(), 1);
    drop(s);

    // Flags beat the environment.
    let s = TestServer::start_with(Options {
        operator_token: Some("flag-token".to_owned()),
        extra_args: vec!["--org-name".to_owned(), "flag-org".to_owned()],
        env: env("env-org", "env-token"),
        ..Options::default()
    })
    .await;
    let r = s
        .call(Method::GET, "/api/v2/orgs", Some("flag-token"), None)
        .await;
    assert_eq!(r.expect(200)["orgs"][0]["name"], "flag-org");
    assert_eq!(r.body["orgs"].as_array().unwrap().len(), 1);
    s.call(Method::GET, "/api/v2/orgs", Some("env-token"), None)
        .await
        .expect_error(401, "unauthorized", "unauthorized access");
}

/// `THP_enabled` of a process's `/proc/PID/status`, where the kernel reports it.
fn thp_enabled(pid: u32) -> Option<bool> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("THP_enabled:"))?;
    Some(line.split_whitespace().nth(1)? == "1")
}

#[tokio::test]
async fn transparent_huge_pages_are_off_unless_asked_for() {
    if thp_enabled(std::process::id()).is_none() {
        eprintln!("skipped: this kernel does not report THP_enabled");
        return;
    }
    let off = TestServer::start().await;
    assert_eq!(thp_enabled(off.pid()), Some(false));
    let on = TestServer::start_with(Options {
        extra_args: vec!["--transparent-huge-pages".into()],
        ..Options::standard()
    })
    .await;
    assert_eq!(
        thp_enabled(on.pid()),
        thp_enabled(std::process::id()),
        "the flag leaves the process as the test runner is"
    );
}
