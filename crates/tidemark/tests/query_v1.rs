//! v1 `/query` end to end: every parameter and body kind, the output formats, epochs, chunking
//! with its partial flags, gzip, statement and parse errors, every way of authenticating, and
//! the statements the service answers itself (SHOW DATABASES, SHOW RETENTION POLICIES,
//! CREATE DATABASE).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;

use common::{perm, send, Reply, TestServer, OPERATOR_TOKEN};
use reqwest::Method;
use serde_json::{json, Value};

/// 2024-01-01T00:00:00Z in seconds.
const T0: i64 = 1_704_067_200;

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A server with database `telegraf` (bucket `tg`, kept for ever, mapped through DBRP) holding
/// `cpu` for hosts a and b and `mem` for host a.
async fn setup() -> TestServer {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let forever = json!({"orgID": org, "name": "tg", "retentionRules": [{"type": "expire", "everySeconds": 0}]});
    let bucket = s.post("/api/v2/buckets", forever).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mapping = json!({"orgID": org, "bucketID": bucket, "database": "telegraf", "retention_policy": "autogen", "default": true});
    s.post("/api/v2/dbrps", mapping).await.expect(201);
    let lines = format!(
        "cpu,host=a usage=1.5 {t0}\ncpu,host=a usage=2 {t1}\ncpu,host=b usage=3.25 {t0}\nmem,host=a free=10i {t0}",
        t0 = T0,
        t1 = T0 + 10
    );
    let r = send(
        s.op(Method::POST, "/write?db=telegraf&precision=s")
            .body(lines),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    s
}

async fn get(s: &TestServer, query: &str) -> Reply {
    send(s.op(Method::GET, &format!("/query?{query}"))).await
}

async fn q(s: &TestServer, db: &str, statement: &str) -> Reply {
    get(s, &format!("db={db}&q={}", enc(statement))).await
}

#[tokio::test]
async fn show_statements_answer_in_1x_shape() {
    let s = setup().await;

    let r = q(&s, "", "SHOW DATABASES").await;
    assert_eq!(
        r.expect(200),
        &json!({"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["telegraf"]]}]}]})
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.text.ends_with('\n'), "a newline after the document");
    assert!(r.header("x-influxdb-version").is_some());

    let r = q(&s, "telegraf", "SHOW MEASUREMENTS").await;
    assert_eq!(
        r.expect(200),
        &json!({"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["cpu"],["mem"]]}]}]})
    );

    let r = q(&s, "telegraf", "SHOW RETENTION POLICIES").await;
    assert_eq!(
        r.expect(200),
        &json!({"results":[{"statement_id":0,"series":[{"columns":["name","duration","shardGroupDuration","replicaN","default"],"values":[["autogen","0s","168h0m0s",1,true]]}]}]})
    );

    let r = q(&s, "telegraf", "SHOW TAG VALUES WITH KEY = host").await;
    assert_eq!(
        r.expect(200)["results"][0]["series"],
        json!([
            {"name":"cpu","columns":["key","value"],"values":[["host","a"],["host","b"]]},
            {"name":"mem","columns":["key","value"],"values":[["host","a"]]}
        ])
    );
    let r = q(&s, "telegraf", "SHOW FIELD KEYS").await;
    assert_eq!(
        r.expect(200)["results"][0]["series"],
        json!([
            {"name":"cpu","columns":["fieldKey","fieldType"],"values":[["usage","float"]]},
            {"name":"mem","columns":["fieldKey","fieldType"],"values":[["free","integer"]]}
        ])
    );
    // 1.x gives SHOW SERIES one series without a name.
    let r = q(&s, "telegraf", "SHOW SERIES").await;
    assert_eq!(
        r.expect(200)["results"][0]["series"],
        json!([{"columns":["key"],"values":[["cpu,host=a"], ["cpu,host=b"], ["mem,host=a"]]}])
    );

    // The database in the statement wins over the parameter.
    let r = q(&s, "nope", "SHOW MEASUREMENTS ON telegraf").await;
    assert_eq!(
        r.expect(200)["results"][0]["series"][0]["values"],
        json!([["cpu"], ["mem"]])
    );
}

#[tokio::test]
async fn statement_errors_do_not_stop_the_others() {
    let s = setup().await;
    let r = q(
        &s,
        "",
        "SHOW MEASUREMENTS; SELECT * FROM nope..cpu; SHOW DATABASES; DROP MEASUREMENT cpu; CREATE USER u WITH PASSWORD 'p'",
    )
    .await;
    let body = r.expect(200);
    assert_eq!(
        body["results"][0],
        json!({"statement_id":0,"error":"database name required"})
    );
    assert_eq!(
        body["results"][1],
        json!({"statement_id":1,"error":"database not found: nope"})
    );
    assert_eq!(body["results"][2]["series"][0]["name"], "databases");
    assert_eq!(body["results"][3]["statement_id"], 3);
    assert!(body["results"][3]["error"]
        .as_str()
        .unwrap()
        .contains("DROP MEASUREMENT"));
    assert_eq!(body["results"][4]["error"], "CREATE USER is not supported");

    // A retention policy the database does not have.
    let r = get(
        &s,
        &format!("db=telegraf&rp=weekly&q={}", enc("SHOW MEASUREMENTS")),
    )
    .await;
    assert_eq!(
        r.expect(200)["results"][0]["error"],
        "retention policy not found: weekly"
    );
}

#[tokio::test]
async fn request_errors_are_400_with_1x_bodies() {
    let s = setup().await;
    let r = get(&s, "db=telegraf").await;
    assert_eq!(
        r.expect(400),
        &json!({"error": "missing required parameter \"q\""})
    );
    let r = q(&s, "telegraf", "SELECT FROM cpu").await;
    let body = r.expect(400);
    let message = body["error"].as_str().unwrap();
    assert!(
        message.starts_with("error parsing query: found FROM, expected identifier"),
        "{message}"
    );
    let r = get(&s, &format!("q={}&epoch=d", enc("SHOW DATABASES"))).await;
    r.expect(400);
    let r = get(&s, &format!("q={}&params=notjson", enc("SHOW DATABASES"))).await;
    r.expect(400);
}

#[tokio::test]
async fn every_way_to_authenticate() {
    let s = setup().await;
    let path = format!("/query?q={}", enc("SHOW DATABASES"));
    let ok = |r: &Reply| assert_eq!(r.status, 200, "{}", r.text);

    ok(&send(s.op(Method::GET, &path)).await);
    let bearer = s
        .client
        .get(s.url(&path))
        .header("Authorization", format!("Bearer {OPERATOR_TOKEN}"));
    ok(&send(bearer).await);
    let basic = s
        .client
        .get(s.url(&path))
        .basic_auth("anyone", Some(OPERATOR_TOKEN));
    ok(&send(basic).await);
    let up = s
        .client
        .get(s.url(&format!("{path}&u=anyone&p={OPERATOR_TOKEN}")));
    ok(&send(up).await);

    let none = send(s.client.get(s.url(&path))).await;
    none.expect_error(401, "unauthorized", "unauthorized access");
    let wrong = send(s.client.get(s.url(&format!("{path}&p=wrong")))).await;
    assert_eq!(wrong.status, 401);
    let basic_wrong = s.client.get(s.url(&path)).basic_auth("x", Some("wrong"));
    assert_eq!(send(basic_wrong).await.status, 401);

    // A token that may read nothing sees no databases and may not read telegraf.
    let org = s.default_org_id().await;
    let (_, weak) = s
        .create_token(&org, json!([perm("read", "orgs", None, Some(&org))]))
        .await;
    let r = send(s.with_token(Method::GET, &path, &weak)).await;
    assert_eq!(r.expect(200), &json!({"results":[{"statement_id":0}]}));
    let r = send(s.with_token(
        Method::GET,
        &format!("/query?db=telegraf&q={}", enc("SHOW MEASUREMENTS")),
        &weak,
    ))
    .await;
    assert!(r.expect(200)["results"][0]["error"]
        .as_str()
        .unwrap()
        .contains("unauthorized"));
}

#[tokio::test]
async fn every_body_kind() {
    let s = setup().await;
    let want = json!([["cpu"], ["mem"]]);
    let values = |r: &Reply| r.expect(200)["results"][0]["series"][0]["values"].clone();

    let form = s
        .op(Method::POST, "/query")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("q=SHOW+MEASUREMENTS&db=telegraf");
    assert_eq!(values(&send(form).await), want);

    // Form values override the URL's.
    let form = s
        .op(Method::POST, "/query?db=nope")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("q=SHOW+MEASUREMENTS&db=telegraf");
    assert_eq!(values(&send(form).await), want);

    for content_type in [None, Some("application/vnd.influxql"), Some("text/plain")] {
        let mut raw = s
            .op(Method::POST, "/query?db=telegraf")
            .body("SHOW MEASUREMENTS");
        if let Some(ct) = content_type {
            raw = raw.header("Content-Type", ct);
        }
        assert_eq!(values(&send(raw).await), want, "{content_type:?}");
    }

    let body = "--b0undary\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\nSHOW MEASUREMENTS\r\n--b0undary\r\nContent-Disposition: form-data; name=\"db\"\r\n\r\ntelegraf\r\n--b0undary--\r\n";
    let multipart = s
        .op(Method::POST, "/query")
        .header("Content-Type", "multipart/form-data; boundary=b0undary")
        .body(body);
    assert_eq!(values(&send(multipart).await), want);

    // influxdb-python: a JSON content type, no body, everything in the URL.
    let python = s
        .op(
            Method::POST,
            &format!("/query?db=telegraf&q={}", enc("SHOW MEASUREMENTS")),
        )
        .header("Content-Type", "application/json");
    assert_eq!(values(&send(python).await), want);

    let r = send(s.op(Method::PUT, "/query?q=x")).await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn output_formats_pretty_and_gzip() {
    let s = setup().await;
    let path = format!(
        "/query?db=telegraf&q={}",
        enc("SHOW MEASUREMENTS; SHOW DATABASES")
    );

    let csv = send(s.op(Method::GET, &path).header("Accept", "application/csv")).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("application/csv"));
    assert_eq!(
        csv.text,
        "name,tags,name\nmeasurements,,cpu\nmeasurements,,mem\n\nname,tags,name\ndatabases,,telegraf\n"
    );
    let csv = send(s.op(Method::GET, &path).header("Accept", "text/csv")).await;
    assert!(csv.text.starts_with("name,tags,name\n"));
    // Statement errors are left out of CSV; a request error is 1.x's `error` table.
    let csv = send(
        s.op(
            Method::GET,
            &format!("/query?q={}", enc("SHOW MEASUREMENTS; SHOW DATABASES")),
        )
        .header("Accept", "application/csv"),
    )
    .await;
    assert_eq!(csv.text, "name,tags,name\ndatabases,,telegraf\n");
    let csv = send(
        s.op(Method::GET, "/query?db=x")
            .header("Accept", "application/csv"),
    )
    .await;
    assert_eq!(
        (csv.status, csv.text.as_str()),
        (400, "error\n\"missing required parameter \"\"q\"\"\"\n")
    );

    let msgpack = s
        .op(Method::GET, &path)
        .header("Accept", "application/x-msgpack")
        .send()
        .await
        .unwrap();
    assert_eq!(
        msgpack.headers()["content-type"].to_str().unwrap(),
        "application/x-msgpack"
    );
    let bytes = msgpack.bytes().await.unwrap();
    // A map of one key, "results" (fixmap, fixstr), as 1.x encodes it.
    assert_eq!(&bytes[..9], b"\x81\xa7results");
    assert!(bytes.windows(8).any(|w| w == b"telegraf"));

    let pretty = send(s.op(Method::GET, &format!("{path}&pretty=true"))).await;
    assert!(
        pretty.text.starts_with("{\n    \"results\": ["),
        "{}",
        pretty.text
    );
    assert_eq!(
        pretty.body["results"][1]["series"][0]["values"],
        json!([["telegraf"]])
    );

    let gz = s
        .op(Method::GET, &path)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"].to_str().unwrap(), "gzip");
    let bytes = gz.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["results"][0]["series"][0]["values"],
        json!([["cpu"], ["mem"]])
    );
}

/// The JSON documents of a chunked answer, one per line.
fn documents(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn chunked_answers_carry_partial_flags() {
    let s = setup().await;
    let path = format!(
        "/query?db=telegraf&chunked=true&chunk_size=1&q={}",
        enc("SHOW MEASUREMENTS; SHOW DATABASES")
    );
    let r = send(s.op(Method::GET, &path)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        documents(&r.text),
        vec![
            json!({"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["cpu"]],"partial":true}],"partial":true}]}),
            json!({"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["mem"]]}]}]}),
            json!({"results":[{"statement_id":1,"series":[{"name":"databases","columns":["name"],"values":[["telegraf"]]}]}]}),
        ]
    );

    // Chunked and gzip together.
    let gz = s
        .op(Method::GET, &path)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    let bytes = gz.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(documents(&text).len(), 3);

    // A statement's error is a chunk of its own; the next statement still runs.
    let r = get(
        &s,
        &format!(
            "chunked=true&q={}",
            enc("SELECT * FROM nope..cpu; SHOW DATABASES")
        ),
    )
    .await;
    assert_eq!(
        documents(&r.text),
        vec![
            json!({"results":[{"statement_id":0,"error":"database not found: nope"}]}),
            json!({"results":[{"statement_id":1,"series":[{"name":"databases","columns":["name"],"values":[["telegraf"]]}]}]}),
        ]
    );

    // chunk_size is ignored without chunked=true.
    let r = get(
        &s,
        &format!("db=telegraf&chunk_size=1&q={}", enc("SHOW MEASUREMENTS")),
    )
    .await;
    assert_eq!(
        r.expect(200)["results"][0]["series"][0]["values"],
        json!([["cpu"], ["mem"]])
    );
}

#[tokio::test]
async fn create_database_then_write_then_query() {
    let s = TestServer::start().await;
    // Telegraf's v1 output creates its database first, and again on every start.
    for _ in 0..2 {
        let r = send(
            s.op(Method::POST, "/query")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("q=CREATE+DATABASE+%22telegraf%22"),
        )
        .await;
        assert_eq!(r.expect(200), &json!({"results":[{"statement_id":0}]}));
    }
    let r = q(&s, "", "SHOW DATABASES").await;
    assert_eq!(
        r.expect(200)["results"][0]["series"][0]["values"],
        json!([["telegraf"]])
    );
    let r = send(
        s.op(Method::POST, "/write?db=telegraf")
            .body("disk,host=a used=1i"),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = q(&s, "telegraf", "SHOW MEASUREMENTS").await;
    assert_eq!(
        r.expect(200)["results"][0]["series"][0]["values"],
        json!([["disk"]])
    );
    let r = q(&s, "telegraf", "SHOW TAG KEYS FROM disk").await;
    assert_eq!(
        r.expect(200)["results"][0]["series"][0],
        json!({"name":"disk","columns":["tagKey"],"values":[["host"]]})
    );

    // A token that may not create buckets cannot create a database.
    let org = s.default_org_id().await;
    let (_, reader) = s
        .create_token(&org, json!([perm("read", "buckets", Some(&org), None)]))
        .await;
    let r = send(s.with_token(
        Method::GET,
        &format!("/query?q={}", enc("CREATE DATABASE other")),
        &reader,
    ))
    .await;
    assert!(r.expect(200)["results"][0]["error"]
        .as_str()
        .unwrap()
        .contains("unauthorized"));
}

#[tokio::test]
async fn select_series_epochs_and_chunks() {
    let s = setup().await;
    let select = "SELECT usage FROM cpu GROUP BY host";
    let r = q(&s, "telegraf", select).await;
    assert_eq!(
        r.expect(200),
        &json!({"results":[{"statement_id":0,"series":[
            {"name":"cpu","tags":{"host":"a"},"columns":["time","usage"],"values":[["2024-01-01T00:00:00Z",1.5],["2024-01-01T00:00:10Z",2]]},
            {"name":"cpu","tags":{"host":"b"},"columns":["time","usage"],"values":[["2024-01-01T00:00:00Z",3.25]]}
        ]}]}),
    );
    // Floats without a fraction are written as integers, as Go writes them.
    assert!(
        r.text.contains("[\"2024-01-01T00:00:10Z\",2]"),
        "{}",
        r.text
    );

    for (epoch, t0) in [
        ("ns", T0 * 1_000_000_000),
        ("n", T0 * 1_000_000_000),
        ("u", T0 * 1_000_000),
        ("µ", T0 * 1_000_000),
        ("us", T0 * 1_000_000),
        ("ms", T0 * 1_000),
        ("s", T0),
        ("m", T0 / 60),
        ("h", T0 / 3600),
    ] {
        let r = get(
            &s,
            &format!("db=telegraf&epoch={}&q={}", enc(epoch), enc(select)),
        )
        .await;
        assert_eq!(
            r.expect(200)["results"][0]["series"][1]["values"][0][0],
            json!(t0),
            "{epoch}"
        );
    }

    // Windows with fill(null): empty windows are nulls.
    let r = get(
        &s,
        &format!(
            "db=telegraf&epoch=s&q={}",
            enc("SELECT mean(usage) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:00:15Z' GROUP BY time(5s)")
        ),
    )
    .await;
    assert_eq!(
        r.expect(200)["results"][0]["series"],
        json!([{"name":"cpu","columns":["time","mean"],"values":[[T0, 2.375], [T0 + 5, null], [T0 + 10, 2]]}])
    );

    // tz() writes times at the zone's offset, as 1.x does.
    let r = q(
        &s,
        "telegraf",
        "SELECT usage FROM cpu WHERE host = 'b' tz('America/Chicago')",
    )
    .await;
    assert_eq!(
        r.expect(200)["results"][0]["series"][0]["values"],
        json!([["2023-12-31T18:00:00-06:00", 3.25]])
    );

    // The database and retention policy in the statement.
    let r = q(&s, "", r#"SELECT free FROM "telegraf"."autogen"."mem""#).await;
    assert_eq!(
        r.expect(200)["results"][0]["series"][0]["values"],
        json!([["2024-01-01T00:00:00Z", 10]])
    );

    // Bound parameters.
    let r = get(
        &s,
        &format!(
            "db=telegraf&epoch=s&params={}&q={}",
            enc(r#"{"h":"b"}"#),
            enc("SELECT usage FROM cpu WHERE host = $h")
        ),
    )
    .await;
    assert_eq!(
        r.expect(200)["results"][0]["series"][0]["values"],
        json!([[T0, 3.25]])
    );

    let r = get(
        &s,
        &format!(
            "db=telegraf&epoch=s&chunked=true&chunk_size=1&q={}",
            enc(select)
        ),
    )
    .await;
    assert_eq!(
        documents(&r.text),
        vec![
            json!({"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","usage"],"values":[[T0,1.5]],"partial":true}],"partial":true}]}),
            json!({"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","usage"],"values":[[T0 + 10,2]]}],"partial":true}]}),
            json!({"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"b"},"columns":["time","usage"],"values":[[T0,3.25]]}]}]}),
        ]
    );

    let csv = send(
        s.op(
            Method::GET,
            &format!("/query?db=telegraf&q={}", enc(select)),
        )
        .header("Accept", "application/csv"),
    )
    .await;
    assert_eq!(
        csv.text,
        format!(
            "name,tags,time,usage\ncpu,host=a,{a}000000000,1.5\ncpu,host=a,{b}000000000,2\ncpu,host=b,{a}000000000,3.25\n",
            a = T0,
            b = T0 + 10
        )
    );
}

#[tokio::test]
async fn chunks_default_to_ten_thousand_rows() {
    let s = setup().await;
    let lines: String = (0..25_000)
        .map(|i| format!("big v={i}i {}\n", T0 * 1_000_000_000 + i))
        .collect();
    let r = send(s.op(Method::POST, "/write?db=telegraf").body(lines)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = get(
        &s,
        &format!(
            "db=telegraf&chunked=true&epoch=ns&q={}",
            enc("SELECT v FROM big")
        ),
    )
    .await;
    let docs = documents(&r.text);
    let shape: Vec<(usize, bool, bool)> = docs
        .iter()
        .map(|d| {
            let result = &d["results"][0];
            let series = &result["series"][0];
            (
                series["values"].as_array().unwrap().len(),
                series["partial"] == json!(true),
                result["partial"] == json!(true),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (10_000, true, true),
            (10_000, true, true),
            (5_000, false, false)
        ]
    );
    let last = &docs[2]["results"][0]["series"][0]["values"];
    assert_eq!(last[4_999], json!([T0 * 1_000_000_000 + 24_999, 24_999]));
}
