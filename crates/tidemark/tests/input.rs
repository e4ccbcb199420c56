//! Bad input: malformed JSON, wrong types, unknown fields, bodies over 10 MiB, hostile requests,
//! and concurrent requests racing for the same name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{perm, send, TestServer, OPERATOR_TOKEN};
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MIB: usize = 1024 * 1024;

/// Sends raw bytes on a fresh connection and returns what the server answered (maybe nothing),
/// reading until it closes the connection or goes quiet for 2 s.
async fn raw(addr: &str, bytes: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(bytes).await;
    let _ = stream.flush().await;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn malformed_json_and_wrong_types_are_400() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let bucket = s.create_bucket(&org, "b").await;
    let (auth, _) = s
        .create_token(&org, json!([perm("read", "buckets", Some(&org), None)]))
        .await;
    let dbrp = s
        .post(
            "/api/v2/dbrps",
            json!({"bucketID": bucket, "database": "db", "retention_policy": "rp"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let targets = [
        (Method::POST, "/api/v2/orgs".to_owned()),
        (Method::PATCH, format!("/api/v2/orgs/{org}")),
        (Method::POST, "/api/v2/buckets".to_owned()),
        (Method::PATCH, format!("/api/v2/buckets/{bucket}")),
        (Method::POST, "/api/v2/authorizations".to_owned()),
        (Method::PATCH, format!("/api/v2/authorizations/{auth}")),
        (Method::POST, "/api/v2/dbrps".to_owned()),
        (Method::PATCH, format!("/api/v2/dbrps/{dbrp}")),
    ];
    let bodies: [&[u8]; 11] = [
        b"",
        b"{",
        b"{\"name\": \"x\",}",
        b"null",
        b"[]",
        // serde would read these as structs, field by field, were they allowed.
        b"[\"x\"]",
        b" [\"x\", \"y\", false]",
        b"\"a string\"",
        b"42",
        b"\xff\xfe{}",
        b"{\"name\": \"x\"} trailing",
    ];
    for (method, path) in &targets {
        for body in bodies {
            let r = send(
                s.op(method.clone(), path)
                    .header("content-type", "application/json")
                    .body(body.to_vec()),
            )
            .await;
            r.expect_error_containing(400, "invalid", "failed to decode request body");
        }
    }
    // Wrong types, one field at a time.
    let wrong = [
        (
            Method::POST,
            "/api/v2/orgs".to_owned(),
            json!({"name": ["x"]}),
        ),
        (
            Method::PATCH,
            format!("/api/v2/orgs/{org}"),
            json!({"description": 1}),
        ),
        (
            Method::POST,
            "/api/v2/buckets".to_owned(),
            json!({"orgID": 1, "name": "x"}),
        ),
        (
            Method::PATCH,
            format!("/api/v2/buckets/{bucket}"),
            json!({"retentionRules": {}}),
        ),
        (
            Method::PATCH,
            format!("/api/v2/buckets/{bucket}"),
            json!({"retentionRules": [{"everySeconds": 1.5}]}),
        ),
        (
            Method::PATCH,
            format!("/api/v2/buckets/{bucket}"),
            json!({"retentionRules": [{"everySeconds": 9_223_372_036_854_775_808_u64}]}),
        ),
        (
            Method::POST,
            "/api/v2/authorizations".to_owned(),
            json!({"orgID": org, "permissions": [1]}),
        ),
        (
            Method::PATCH,
            format!("/api/v2/authorizations/{auth}"),
            json!({"description": false}),
        ),
        (
            Method::POST,
            "/api/v2/dbrps".to_owned(),
            json!({"bucketID": bucket, "database": 1, "retention_policy": "r"}),
        ),
        (
            Method::PATCH,
            format!("/api/v2/dbrps/{dbrp}"),
            json!({"default": "true"}),
        ),
    ];
    for (method, path, body) in wrong {
        let r = s
            .call(method.clone(), &path, Some(OPERATOR_TOKEN), Some(&body))
            .await;
        assert_eq!(r.status, 400, "{method} {path} {body}: {}", r.text);
        r.expect_error_containing(400, "invalid", "failed to decode request body: ");
    }
    // Unknown fields are ignored.
    let r = s
        .patch(
            &format!("/api/v2/orgs/{org}"),
            json!({"description": "d", "links": {"self": "x"}, "id": "ignored", "nonsense": [1]}),
        )
        .await;
    assert_eq!(r.expect(200)["description"], "d");
    assert_eq!(r.body["id"], org.as_str());
    let r = s
        .patch(
            &format!("/api/v2/buckets/{bucket}"),
            json!({"description": "d", "type": "system", "orgID": "0000000000000001", "rp": "x"}),
        )
        .await;
    assert_eq!(r.expect(200)["type"], "user");
    assert_eq!(r.body["orgID"], org.as_str());
    // Nothing was changed by the rejected ones.
    let b = s.get(&format!("/api/v2/buckets/{bucket}")).await;
    assert_eq!(b.expect(200)["name"], "b");
    assert_eq!(b.body["retentionRules"][0]["everySeconds"], 2_592_000);
}

#[tokio::test]
async fn bodies_over_10_mib_are_413() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;

    // Exactly at the limit is fine.
    let head = format!("{{\"orgID\":\"{org}\",\"name\":\"big\",\"description\":\"");
    let tail = "\"}";
    let mut at_limit = head.clone().into_bytes();
    at_limit.resize(10 * MIB - tail.len(), b'd');
    at_limit.extend_from_slice(tail.as_bytes());
    assert_eq!(at_limit.len(), 10 * MIB);
    let r = send(s.op(Method::POST, "/api/v2/buckets").body(at_limit)).await;
    assert_eq!(
        r.expect(201)["description"].as_str().unwrap().len(),
        10 * MIB - head.len() - 2
    );

    // One byte more is not, for any body-taking route.
    let mut over = head.into_bytes();
    over.resize(10 * MIB + 1 - tail.len(), b'd');
    over.extend_from_slice(tail.as_bytes());
    for (method, path) in [
        (Method::POST, "/api/v2/buckets".to_owned()),
        (Method::POST, "/api/v2/orgs".to_owned()),
        (Method::POST, "/api/v2/authorizations".to_owned()),
        (Method::POST, "/api/v2/dbrps".to_owned()),
        (Method::PATCH, format!("/api/v2/orgs/{org}")),
    ] {
        let r = send(s.op(method.clone(), &path).body(over.clone())).await;
        r.expect_error_containing(413, "request too large", "too large");
    }

    // Chunked, with no length announced: cut off at the limit as well.
    let mut req = format!(
        "POST /api/v2/buckets HTTP/1.1\r\nHost: {}\r\nAuthorization: Token {OPERATOR_TOKEN}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        s.addr
    )
    .into_bytes();
    let chunk = vec![b' '; MIB];
    for _ in 0..11 {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(&chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let answer = raw(&s.addr, &req).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("x-platform-error-code: request too large"),
        "{answer}"
    );

    let r = s.get(&format!("/api/v2/buckets?orgID={org}")).await;
    assert_eq!(r.expect(200)["buckets"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn hostile_requests_cannot_hurt_the_server() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let bucket = s.create_bucket(&org, "b").await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let long_name = "n".repeat(100_000);

    let mut statuses = vec![];
    let mut push = |what: String, status: u16| statuses.push((what, status));

    // Through HTTP proper.
    let json_cases: Vec<(Method, String, Vec<u8>)> = vec![
        (Method::POST, "/api/v2/buckets".into(), deep.clone().into_bytes()),
        (Method::POST, "/api/v2/buckets".into(), deep_obj.clone().into_bytes()),
        (Method::POST, "/api/v2/orgs".into(), deep_obj.into_bytes()),
        (
            Method::POST,
            "/api/v2/buckets".into(),
            json!({"orgID": org, "name": long_name}).to_string().into_bytes(),
        ),
        (
            Method::POST,
            "/api/v2/buckets".into(),
            json!({"orgID": org, "name": "nul\u{0}byte"}).to_string().into_bytes(),
        ),
        (
            Method::POST,
            "/api/v2/buckets".into(),
            json!({"orgID": org, "name": "max", "retentionRules": [{"everySeconds": i64::MAX}]})
                .to_string()
                .into_bytes(),
        ),
        (
            Method::POST,
            "/api/v2/buckets".into(),
            json!({"orgID": org, "name": "min", "retentionRules": [{"everySeconds": i64::MIN}]})
                .to_string()
                .into_bytes(),
        ),
        (
            Method::POST,
            "/api/v2/buckets".into(),
            json!({"orgID": org, "name": "shard", "retentionRules": [{"everySeconds": 1, "shardGroupDurationSeconds": i64::MAX}]})
                .to_string()
                .into_bytes(),
        ),
        (
            Method::POST,
            "/api/v2/buckets".into(),
            br#"{"orgID":"ffffffffffffffff","name":"1e999","retentionRules":[{"everySeconds":1e999}]}"#.to_vec(),
        ),
        (
            Method::PATCH,
            format!("/api/v2/buckets/{bucket}"),
            json!({"retentionRules": [{"everySeconds": i64::MAX}]}).to_string().into_bytes(),
        ),
        (
            Method::POST,
            "/api/v2/authorizations".into(),
            json!({"orgID": org, "permissions": vec![perm("read", "buckets", Some(&org), None); 10_000]})
                .to_string()
                .into_bytes(),
        ),
        (
            Method::POST,
            "/api/v2/dbrps".into(),
            json!({"bucketID": bucket, "database": "d".repeat(100_000), "retention_policy": "r"})
                .to_string()
                .into_bytes(),
        ),
    ];
    for (method, path, body) in json_cases {
        let r = send(s.op(method.clone(), &path).body(body)).await;
        push(format!("{method} {path}"), r.status);
    }
    let queries = [
        "/api/v2/buckets?limit=99999999999999999999999999",
        "/api/v2/buckets?offset=99999999999999999999999999",
        "/api/v2/buckets?offset=18446744073709551615",
        "/api/v2/buckets?offset=18446744073709551615&limit=100",
        "/api/v2/buckets?name=%FF%FE&org=%00",
        "/api/v2/buckets?after=ffffffffffffffff&descending=maybe",
        "/api/v2/buckets?id=%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00",
        "/api/v2/buckets/%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00",
        "/api/v2/buckets/%F0%9F%8C%8A%F0%9F%8C%8A%F0%9F%8C%8A%F0%9F%8C%8A",
        "/api/v2/buckets/ffffffffffffffff",
        "/api/v2/buckets/..%2F..%2Fetc%2Fpasswd",
        "/api/v2/orgs?org=&orgID=&userID=",
        "/api/v2/dbrps?default=&db=&rp=&id=",
        "/api/v2/authorizations?token=&user=&userID=",
        "/api/v2//buckets",
        "/api/v2/buckets/",
        "/%2e%2e/%2e%2e/health",
    ];
    for q in queries {
        let r = send(s.op(Method::GET, q)).await;
        push(format!("GET {q}"), r.status);
    }
    let long_path = format!("/api/v2/buckets/{}", "a".repeat(60_000));
    let r = s.op(Method::GET, &long_path).send().await.unwrap();
    push("GET very long path".to_owned(), r.status().as_u16());
    let r = s
        .client
        .get(s.url("/api/v2/buckets"))
        .header("Authorization", format!("Token {}", "t".repeat(60_000)))
        .send()
        .await
        .unwrap();
    push("very long token".to_owned(), r.status().as_u16());
    let r = s
        .client
        .get(s.url("/api/v2/buckets"))
        .header("Authorization", &b"Token \xff\xfe\xfd"[..])
        .send()
        .await
        .unwrap();
    push("non-UTF-8 token".to_owned(), r.status().as_u16());

    // Below HTTP: garbage, truncated and contradictory requests.
    let raw_cases: Vec<Vec<u8>> = vec![
        b"\x00\x01\x02\x03garbage\r\n\r\n".to_vec(),
        b"GET / HTTP/9.9\r\n\r\n".to_vec(),
        b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec(),
        b"POST /api/v2/buckets HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
        b"POST /api/v2/buckets HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na".to_vec(),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x09\x00\x00\x00\x00\x00".to_vec(),
        format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "h".repeat(200_000)).into_bytes(),
        b"GET /health HTTP/1.0\r\n\r\n".to_vec(),
    ];
    for answer in join_all(raw_cases.iter().map(|bytes| raw(&s.addr, bytes))).await {
        assert!(!answer.contains(" 500 "), "{answer}");
    }

    for (what, status) in &statuses {
        assert!(*status < 500, "{what}: {status}");
    }
    // Still standing, still serving.
    send(s.client.get(s.url("/health"))).await.expect(200);
    s.get(&format!("/api/v2/buckets/{bucket}"))
        .await
        .expect(200);
}

#[tokio::test]
async fn concurrent_creates_keep_names_unique_and_one_default() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;

    let body = json!({"orgID": org, "name": "contested"});
    let attempts = (0..16).map(|_| {
        s.call(
            Method::POST,
            "/api/v2/buckets",
            Some(OPERATOR_TOKEN),
            Some(&body),
        )
    });
    let replies = join_all(attempts).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    for r in replies.iter().filter(|r| r.status != 201) {
        r.expect_error(422, "conflict", "bucket with name contested already exists");
    }
    assert_eq!(created, 1);

    let bucket = s.create_bucket(&org, "target").await;
    let bodies: Vec<_> = (0..16)
        .map(|i| json!({"bucketID": bucket, "database": "db", "retention_policy": format!("rp{i}"), "default": true}))
        .collect();
    let attempts = bodies.iter().map(|body| {
        s.call(
            Method::POST,
            "/api/v2/dbrps",
            Some(OPERATOR_TOKEN),
            Some(body),
        )
    });
    for r in join_all(attempts).await {
        r.expect(201);
    }
    let r = s.get("/api/v2/dbrps?db=db&default=true").await;
    assert_eq!(r.expect(200)["content"].as_array().unwrap().len(), 1);
    let r = s.get("/api/v2/dbrps?db=db").await;
    assert_eq!(r.expect(200)["content"].as_array().unwrap().len(), 16);
}
