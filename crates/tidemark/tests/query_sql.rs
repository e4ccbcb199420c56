//! `/api/v3/query_sql` end to end: every output format, GET and POST, parameters and errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{send, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

async fn setup() -> TestServer {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let forever = json!({"orgID": org, "name": "qdb", "retentionRules": [{"type": "expire", "everySeconds": 0}]});
    s.post("/api/v2/buckets", forever).await.expect(201);
    let r = s
        .op(Method::POST, "/api/v2/write?org=default&bucket=qdb")
        .body("cpu,host=a usage=1,idle=2i 1000000000\ncpu,host=b usage=3 2000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    s
}

const SQL: &str = "SELECT host, idle, usage FROM cpu ORDER BY time";

async fn get(s: &TestServer, format: Option<&str>) -> common::Reply {
    let mut url = format!("/api/v3/query_sql?db=qdb&q={}", urlencode(SQL));
    if let Some(f) = format {
        url.push_str(&format!("&format={f}"));
    }
    send(s.op(Method::GET, &url)).await
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn every_format() {
    let s = setup().await;

    let json_rows = json!([{"host": "a", "idle": 2, "usage": 1.0}, {"host": "b", "usage": 3.0}]);
    for format in [None, Some("json")] {
        let r = get(&s, format).await;
        assert_eq!(r.expect(200), &json_rows, "nulls are left out");
        assert_eq!(r.header("content-type"), Some("application/json"));
    }

    let r = get(&s, Some("jsonl")).await;
    r.expect(200);
    let lines: Vec<Value> = r
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(Value::Array(lines), json_rows);

    let r = get(&s, Some("csv")).await;
    r.expect(200);
    assert_eq!(r.text, "host,idle,usage\na,2,1.0\nb,,3.0\n");

    let r = get(&s, Some("pretty")).await;
    r.expect(200);
    assert_eq!(
        r.text,
        "+------+------+-------+\n| host | idle | usage |\n+------+------+-------+\n| a    | 2    | 1.0   |\n| b    |      | 3.0   |\n+------+------+-------+\n"
    );

    let url = format!(
        "/api/v3/query_sql?db=qdb&q={}&format=parquet",
        urlencode(SQL)
    );
    let resp = s.op(Method::GET, &url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "application/vnd.apache.parquet"
    );
    let body = resp.bytes().await.unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(body)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    assert_eq!(
        arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string(),
        "+------+------+-------+\n| host | idle | usage |\n+------+------+-------+\n| a    | 2    | 1.0   |\n| b    |      | 3.0   |\n+------+------+-------+"
    );

    // An empty answer keeps its shape.
    let empty = "SELECT host FROM cpu WHERE usage > 100";
    let r = send(s.op(
        Method::GET,
        &format!("/api/v3/query_sql?db=qdb&q={}", urlencode(empty)),
    ))
    .await;
    assert_eq!(r.expect(200), &json!([]));
    let r = send(s.op(
        Method::GET,
        &format!("/api/v3/query_sql?db=qdb&format=csv&q={}", urlencode(empty)),
    ))
    .await;
    assert_eq!(r.text, "host\n");
}

#[tokio::test]
async fn post_bodies_and_parameters() {
    let s = setup().await;
    let r = s
        .post(
            "/api/v3/query_sql",
            json!({"db": "qdb", "q": "SELECT usage FROM cpu WHERE host = $h", "params": {"h": "b"}, "format": "jsonl"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.text.trim(), r#"{"usage":3.0}"#);

    let params = urlencode(r#"{"h":"a"}"#);
    let q = urlencode("SELECT usage FROM cpu WHERE host = $h");
    let r = send(s.op(
        Method::GET,
        &format!("/api/v3/query_sql?db=qdb&q={q}&params={params}"),
    ))
    .await;
    assert_eq!(r.expect(200), &json!([{"usage": 1.0}]));
}

#[tokio::test]
async fn errors() {
    let s = setup().await;
    let q = urlencode("SELECT 1");
    let r = s
        .call(
            Method::GET,
            &format!("/api/v3/query_sql?db=qdb&q={q}"),
            None,
            None,
        )
        .await;
    r.expect_error(401, "unauthorized", "unauthorized access");
    let r = s
        .call(
            Method::GET,
            &format!("/api/v3/query_sql?db=qdb&q={q}"),
            Some("nope"),
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    let r = s.get(&format!("/api/v3/query_sql?q={q}")).await;
    r.expect_error(400, "invalid", "missing required parameter \"db\"");
    let r = s.get("/api/v3/query_sql?db=qdb").await;
    r.expect_error(400, "invalid", "missing required parameter \"q\"");
    let r = s.get(&format!("/api/v3/query_sql?db=nope&q={q}")).await;
    r.expect_error(404, "not found", "Database 'nope' not found");
    let r = s
        .get(&format!(
            "/api/v3/query_sql?db=qdb&q={}",
            urlencode("SELEC 1")
        ))
        .await;
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("invalid")));
    let r = s
        .get(&format!("/api/v3/query_sql?db=qdb&q={q}&format=xml"))
        .await;
    assert_eq!(r.status, 400);
}

/// `--query-timeout-seconds` stops a query that runs too long, with 1.x's text and 504.
#[tokio::test]
async fn a_query_past_the_timeout_is_stopped() {
    let mut options = common::Options::standard();
    options.extra_args = vec!["--query-timeout-seconds".into(), "0.3".into()];
    let s = TestServer::start_with(options).await;
    let org = s.default_org_id().await;
    s.post("/api/v2/buckets", json!({"orgID": org, "name": "qdb"}))
        .await
        .expect(201);
    let endless = "SELECT count(*) FROM generate_series(1, 100000000000)";
    let started = std::time::Instant::now();
    let r = send(s.op(
        Method::GET,
        &format!("/api/v3/query_sql?db=qdb&q={}", urlencode(endless)),
    ))
    .await;
    r.expect_error(504, "request timeout", "query-timeout limit exceeded");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // The server goes on answering.
    let quick = send(s.op(
        Method::GET,
        &format!(
            "/api/v3/query_sql?db=qdb&q={}",
            urlencode("SELECT 1 AS one")
        ),
    ))
    .await;
    assert_eq!(quick.expect(200), &json!([{"one": 1}]));
}
