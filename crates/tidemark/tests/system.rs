//! `/ping`, `/health`, `/metrics`, `/api/v2`, `/api/v2/resources`, unknown paths and methods,
//! `X-Request-Id`, and HTTP/1.1, h2c and gRPC on one port.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use common::{send, TestServer, OPERATOR_TOKEN};
use reqwest::Method;

#[tokio::test]
async fn ping_health_and_metrics_answer_without_a_token() {
    let s = TestServer::start().await;
    for method in [Method::GET, Method::HEAD] {
        let r = send(s.client.request(method.clone(), s.url("/ping"))).await;
        r.expect(204);
        assert!(r.text.is_empty(), "{method} /ping: {:?}", r.text);
        let version = r.header("x-influxdb-version").unwrap();
        assert!(version.starts_with("3."), "{version}");
        assert_eq!(r.header("x-influxdb-build"), Some("cloud2"));
    }

    let r = send(s.client.get(s.url("/ping?verbose=true"))).await;
    let body = r.expect(200);
    assert_eq!(
        body["version"].as_str(),
        r.header("x-influxdb-version"),
        "{body}"
    );
    assert_eq!(body["build"], "cloud2");
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));

    // A bad token does not matter where no token is needed.
    let r = send(s.request(Method::GET, "/health", Some("not-a-token"))).await;
    let body = r.expect(200);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["checks", "commit", "message", "name", "status", "version"]
    );
    assert_eq!(body["status"], "pass");
    assert_eq!(body["checks"], serde_json::json!([]));
    assert!(body["version"].as_str().unwrap().starts_with("3."));
    assert!(!body["commit"].as_str().unwrap().is_empty());
    assert!(!body["name"].as_str().unwrap().is_empty());

    let r = send(s.client.get(s.url("/metrics"))).await;
    r.expect(200);
    assert!(r.text.ends_with("# EOF\n"), "{}", r.text);
}

#[tokio::test]
async fn metrics_count_requests_and_latency_by_route_and_status() {
    let s = TestServer::start().await;
    for _ in 0..2 {
        send(s.client.get(s.url("/health"))).await.expect(200);
    }
    s.get("/api/v2/buckets/0000000000000001").await.expect(404);
    send(s.client.get(s.url("/api/v2/buckets")))
        .await
        .expect(401);
    send(s.client.get(s.url("/no/such/path"))).await.expect(404);

    let r = send(s.client.get(s.url("/metrics"))).await;
    r.expect(200);
    let content_type = r.header("content-type").unwrap();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let lines: HashSet<&str> = r.text.lines().collect();
    for want in [
        "# TYPE tidemark_http_requests counter",
        "# TYPE tidemark_http_request_duration_seconds histogram",
        r#"tidemark_http_requests_total{method="GET",route="/health",status="200"} 2"#,
        r#"tidemark_http_requests_total{method="GET",route="/api/v2/buckets/{id}",status="404"} 1"#,
        r#"tidemark_http_requests_total{method="GET",route="/api/v2/buckets",status="401"} 1"#,
        r#"tidemark_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"tidemark_http_request_duration_seconds_count{method="GET",route="/health",status="200"} 2"#,
        r#"tidemark_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/health",status="200"} 2"#,
        r#"tidemark_http_request_duration_seconds_count{method="GET",route="/api/v2/buckets",status="401"} 1"#,
    ] {
        assert!(lines.contains(want), "missing {want:?} in:\n{}", r.text);
    }
    let sum = r
        .text
        .lines()
        .find(|l| {
            l.starts_with(
                r#"tidemark_http_request_duration_seconds_sum{method="GET",route="/health",status="200"}"#,
            )
        })
        .unwrap();
    let seconds: f64 = sum.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(seconds > 0.0 && seconds < 10.0, "{sum}");
}

#[tokio::test]
async fn routes_and_resources_need_a_token() {
    let s = TestServer::start().await;
    for path in ["/api/v2", "/api/v2/resources"] {
        send(s.client.get(s.url(path))).await.expect_error(
            401,
            "unauthorized",
            "unauthorized access",
        );
    }
    let r = s.get("/api/v2").await;
    let body = r.expect(200);
    assert_eq!(body["buckets"], "/api/v2/buckets");
    assert_eq!(body["orgs"], "/api/v2/orgs");
    assert_eq!(body["authorizations"], "/api/v2/authorizations");
    assert_eq!(body["system"]["health"], "/health");
    assert_eq!(body["system"]["metrics"], "/metrics");

    let r = s.get("/api/v2/resources").await;
    let names: Vec<&str> = r
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for want in ["authorizations", "buckets", "dbrp", "orgs", "instance"] {
        assert!(names.contains(&want), "{names:?}");
    }
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_answer_json() {
    let s = TestServer::start().await;
    let mut request_ids = HashSet::new();

    for (token, path) in [
        (None, "/nope"),
        (Some(OPERATOR_TOKEN), "/api/v2/nope"),
        (
            Some(OPERATOR_TOKEN),
            "/api/v2/buckets/0000000000000001/nope",
        ),
        (None, "/api/v3/ping"),
    ] {
        let r = send(s.request(Method::GET, path, token)).await;
        r.expect_error(404, "not found", "path not found");
        request_ids.insert(r.header("x-request-id").unwrap().to_owned());
    }

    let foo = Method::from_bytes(b"FOO").unwrap();
    for (method, path) in [
        (Method::DELETE, "/api/v2/buckets"),
        (Method::PUT, "/api/v2/orgs/0000000000000001"),
        (Method::POST, "/health"),
        (Method::POST, "/api/v2/resources"),
        (Method::DELETE, "/metrics"),
        (foo, "/ping"),
    ] {
        let r = send(s.request(method.clone(), path, Some(OPERATOR_TOKEN))).await;
        r.expect_error(405, "method not allowed", "method not allowed");
        request_ids.insert(r.header("x-request-id").unwrap().to_owned());
    }
    // Successes carry an id too (checked by `send`), and ids are never reused.
    request_ids.insert(
        send(s.client.get(s.url("/health")))
            .await
            .header("x-request-id")
            .unwrap()
            .to_owned(),
    );
    assert_eq!(request_ids.len(), 11);
}

#[tokio::test]
async fn rest_http2_and_grpc_share_one_port() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    let s = TestServer::start().await;

    // gRPC (HTTP/2, h2c) on the address...
    let channel = tonic::transport::Channel::from_shared(s.url(""))
        .unwrap()
        .connect()
        .await
        .expect("gRPC connect");
    let mut health = HealthClient::new(channel);
    let reply = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("grpc.health.v1.Health/Check")
        .into_inner();
    assert_eq!(reply.status, ServingStatus::Serving as i32);
    let unknown = health
        .check(HealthCheckRequest {
            service: "no.such.Service".to_owned(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    // ...REST over HTTP/1.1 on the same address...
    let r = s.client.get(s.url("/health")).send().await.unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_11);
    assert_eq!(r.status(), 200);

    // ...and REST over h2c (prior knowledge), with and without a token.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = h2.get(s.url("/health")).send().await.unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 200);
    let r = h2
        .get(s.url("/api/v2/buckets"))
        .header("Authorization", format!("Token {OPERATOR_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert!(r.headers().contains_key("x-request-id"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["buckets"].as_array().unwrap().len(), 2, "{body}");
    let r = h2.get(s.url("/api/v2/buckets")).send().await.unwrap();
    assert_eq!(r.status(), 401);
}
