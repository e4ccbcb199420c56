//! The write endpoints end to end: every response InfluxDB clients rely on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write as _;

use common::{status_json, TestServer, OPERATOR_TOKEN};
use reqwest::Method;
use serde_json::{json, Value};

async fn create_bucket(s: &TestServer, name: &str) -> String {
    let org = s.default_org_id().await;
    let (status, body) = status_json(
        s.op(Method::POST, "/api/v2/buckets")
            .json(&json!({"orgID": org, "name": name}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn v2(s: &TestServer, query: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    status_json(
        s.op(Method::POST, &format!("/api/v2/write?{query}"))
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn v2_write_answers() {
    let s = TestServer::start().await;
    let id = create_bucket(&s, "w").await;

    // All written; bucket by name and by ID; every precision.
    assert_eq!(v2(&s, "org=default&bucket=w", "m,t=a f=1 1").await.0, 204);
    assert_eq!(v2(&s, &format!("bucket={id}"), "m,t=a f=2 2").await.0, 204);
    for p in ["ns", "us", "ms", "s"] {
        assert_eq!(
            v2(&s, &format!("bucket=w&precision={p}"), "m f=1 3")
                .await
                .0,
            204,
            "{p}"
        );
    }
    let (status, body) = v2(&s, "bucket=w&precision=m", "m f=1 3").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid")));

    // Partial write: 400 naming the first bad line, every bad line listed.
    let (status, body) = v2(&s, "bucket=w", "m f=1 4\nbad line\nm f=\"str\" 5\nm f=2 6").await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid");
    assert_eq!(body["line"], 2);
    let msg = body["message"].as_str().unwrap();
    assert!(msg.starts_with("partial write has occurred, errors encountered on line(s): error parsing line 2 (1-based)"), "{msg}");
    assert!(
        msg.contains("\nerror writing line 3 (1-based): field type conflict"),
        "{msg}"
    );

    // Nothing written.
    let (status, body) = v2(&s, "bucket=w", "nope\nnope nope").await;
    assert_eq!(status, 400);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("no data written, errors encountered on line(s):"));
    assert_eq!(body["line"], 1);

    // At most 100 line errors are listed.
    let many: String = (0..150).map(|_| "bad\n").collect();
    let (_, body) = v2(&s, "bucket=w", many).await;
    assert_eq!(
        body["message"]
            .as_str()
            .unwrap()
            .matches("error parsing line")
            .count(),
        100
    );

    // An empty body is refused like InfluxDB 2 refuses it.
    let (status, body) = v2(&s, "bucket=w", "").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("writing requires points"))
    );

    // Unknown bucket.
    let (status, body) = v2(&s, "bucket=nosuch", "m f=1").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"code": "not found", "message": "bucket \"nosuch\" not found"})
    );

    // No token; a read-only token.
    let r = s
        .client
        .post(s.url("/api/v2/write?bucket=w"))
        .body("m f=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn gzip_and_size_limits() {
    let s = TestServer::start().await;
    create_bucket(&s, "z").await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"m f=1 1\nm f=2 2\n").unwrap();
    let r = s
        .op(Method::POST, "/api/v2/write?bucket=z")
        .header("Content-Encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    // A gzip bomb: tiny on the wire, over 250 MB inflated (260 gzip members of 1 MiB each).
    // Refused without inflating it all.
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    member.write_all(&vec![b'a'; 1 << 20]).unwrap();
    let member = member.finish().unwrap();
    let bomb: Vec<u8> = member
        .iter()
        .copied()
        .cycle()
        .take(member.len() * 260)
        .collect();
    assert!(bomb.len() < 2 << 20);
    let (status, body) = status_json(
        s.op(Method::POST, "/api/v2/write?bucket=z")
            .header("Content-Encoding", "gzip")
            .body(bomb)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "request too large");

    // Over 50 MB on the wire.
    let big = vec![b'#'; 51 * 1024 * 1024];
    let r = s
        .op(Method::POST, "/api/v2/write?bucket=z")
        .body(big)
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), 413);
    }
    // Still serving. (The refused upload's connection was closed mid-body: use a new one.)
    let fresh = reqwest::Client::new();
    assert_eq!(
        fresh.get(s.url("/health")).send().await.unwrap().status(),
        200
    );

    let r = fresh
        .post(s.url("/api/v2/write?bucket=z"))
        .header("Authorization", format!("Token {OPERATOR_TOKEN}"))
        .header("Content-Encoding", "br")
        .body("m f=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
}

#[tokio::test]
async fn v1_write_creates_bucket_and_mapping_and_answers_like_v1() {
    let s = TestServer::start().await;
    let url = |q: &str| format!("/write?{q}");
    // u/p authentication; first write creates bucket "telegraf" and its default mapping.
    let r = s
        .client
        .post(s.url(&url(&format!("db=telegraf&u=any&p={OPERATOR_TOKEN}"))))
        .body("cpu,host=a usage=1 1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, body) = status_json(
        s.op(Method::GET, "/api/v2/buckets?name=telegraf")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["buckets"][0]["name"], "telegraf");
    assert_eq!(
        body["buckets"][0]["retentionRules"][0]["everySeconds"],
        259200
    );
    let (_, dbrps) = status_json(
        s.op(Method::GET, "/api/v2/dbrps?db=telegraf")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(dbrps["content"][0]["retention_policy"], "autogen");
    assert_eq!(dbrps["content"][0]["default"], true);

    // A named retention policy maps to bucket db/rp.
    let r = s
        .op(Method::POST, &url("db=telegraf&rp=weekly&precision=s"))
        .body("cpu f=1 1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, body) = status_json(
        s.op(Method::GET, "/api/v2/buckets?name=telegraf%2Fweekly")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["buckets"].as_array().unwrap().len(), 1);

    // Partial: 201; nothing: 400.
    let (status, body) = status_json(
        s.op(Method::POST, &url("db=telegraf"))
            .body("cpu usage=2 2\nbad")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    assert!(body["message"].as_str().unwrap().starts_with(
        "failed to parse line protocol: errors encountered on line(s): error parsing line 2"
    ));
    let (status, _) = status_json(
        s.op(Method::POST, &url("db=telegraf"))
            .body("bad")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = status_json(
        s.op(Method::POST, &url("db=telegraf&precision=x"))
            .body("cpu f=1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "invalid precision \"x\" (use n, u, ms, s, m or h)"
    );
    let r = s
        .client
        .post(s.url(&url("db=telegraf&u=a&p=wrong")))
        .body("cpu f=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn v3_write_lp_answers_like_influxdb3_core() {
    let s = TestServer::start().await;
    let r = s
        .op(Method::POST, "/api/v3/write_lp?db=core&precision=auto")
        .body("m f=1 1700000000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, body) = status_json(
        s.op(Method::POST, "/api/v3/write_lp?db=core")
            .body("m f=1 1\nm f=oops 2")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "partial write of line protocol occurred");
    assert_eq!(body["data"][0]["line_number"], 2);
    assert_eq!(body["data"][0]["original_line"], "m f=oops 2");
    let (status, body) = status_json(
        s.op(
            Method::POST,
            "/api/v3/write_lp?db=core&accept_partial=false",
        )
        .body("m f=1 1\nm f=oops 2")
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "line protocol parsing error");
    assert_eq!(body["data"]["line_number"], 2);
    let r = s
        .op(Method::POST, "/api/v3/write_lp?db=core&no_sync=true")
        .body("m f=3 3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}
