//! Golden files: the exact JSON of representative responses, in `tests/golden/<case>.json`.
//!
//! Volatile values are replaced by placeholders: the ids the fixture creates by their names
//! (`<org_id>`, `<bucket_id>`, ...), any other id by `<id>`, times by `<time>`, new tokens by
//! `<token>` and the commit by `<commit>`. `UPDATE_GOLDEN=1 cargo test -p tidemark --test golden`
//! rewrites the files (and removes those no case produces); review the diff before committing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{perm, send, TestServer, OPERATOR_TOKEN};
use reqwest::Method;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy)]
enum Token {
    None,
    Operator,
    /// A token that may only read the golden org's buckets.
    Reader,
}

/// One request. `{org_id}`-style names in the path and body are filled in from the fixture.
#[derive(Debug)]
struct Case {
    name: &'static str,
    method: Method,
    path: &'static str,
    token: Token,
    body: Option<&'static str>,
}

const fn case(name: &'static str, method: Method, path: &'static str) -> Case {
    Case {
        name,
        method,
        path,
        token: Token::Operator,
        body: None,
    }
}

/// The table. Cases run in order on one server, so later ones see what earlier ones created.
fn cases() -> Vec<Case> {
    use Method as M;
    vec![
        Case {
            token: Token::None,
            ..case("health", M::GET, "/health")
        },
        Case {
            token: Token::None,
            ..case("ping_verbose", M::GET, "/ping?verbose=true")
        },
        case("api_v2_routes", M::GET, "/api/v2"),
        case("org_get", M::GET, "/api/v2/orgs/{org_id}"),
        case("org_list", M::GET, "/api/v2/orgs?org=golden"),
        Case {
            body: Some(r#"{"name": "created-org", "description": "made by a golden case"}"#),
            ..case("org_create", M::POST, "/api/v2/orgs")
        },
        Case {
            body: Some(
                r#"{"orgID": "{org_id}", "name": "created", "description": "made by a golden case",
                    "retentionRules": [{"type": "expire", "everySeconds": 86400}]}"#,
            ),
            ..case("bucket_create", M::POST, "/api/v2/buckets")
        },
        Case {
            body: Some(
                r#"{"orgID": "{org_id}", "name": "forever", "schemaType": "explicit",
                    "retentionRules": [{"type": "expire", "everySeconds": 0}]}"#,
            ),
            ..case(
                "bucket_create_infinite_explicit",
                M::POST,
                "/api/v2/buckets",
            )
        },
        case("bucket_get", M::GET, "/api/v2/buckets/{bucket_id}"),
        case(
            "bucket_list_page",
            M::GET,
            "/api/v2/buckets?orgID={org_id}&limit=2&offset=1",
        ),
        case(
            "bucket_list_by_name",
            M::GET,
            "/api/v2/buckets?org=golden&name=metrics",
        ),
        Case {
            body: Some(r#"{"description": "patched", "retentionRules": [{"everySeconds": 7200}]}"#),
            ..case("bucket_patch", M::PATCH, "/api/v2/buckets/{bucket_id}")
        },
        Case {
            body: Some(
                r#"{"orgID": "{org_id}", "description": "golden token", "permissions": [
                    {"action": "read", "resource": {"type": "buckets", "orgID": "{org_id}"}},
                    {"action": "write", "resource": {"type": "buckets", "orgID": "{org_id}", "id": "{bucket_id}"}}]}"#,
            ),
            ..case("authorization_create", M::POST, "/api/v2/authorizations")
        },
        case(
            "authorization_get",
            M::GET,
            "/api/v2/authorizations/{auth_id}",
        ),
        case(
            "authorization_list",
            M::GET,
            "/api/v2/authorizations?org=golden",
        ),
        Case {
            body: Some(r#"{"status": "inactive", "description": "sleeping"}"#),
            ..case(
                "authorization_patch",
                M::PATCH,
                "/api/v2/authorizations/{spare_auth_id}",
            )
        },
        Case {
            body: Some(
                r#"{"orgID": "{org_id}", "bucketID": "{bucket_id}", "database": "telegraf",
                    "retention_policy": "weekly"}"#,
            ),
            ..case("dbrp_create", M::POST, "/api/v2/dbrps")
        },
        case(
            "dbrp_list",
            M::GET,
            "/api/v2/dbrps?orgID={org_id}&rp=autogen",
        ),
        case("dbrp_get", M::GET, "/api/v2/dbrps/{dbrp_id}?orgID={org_id}"),
        Case {
            body: Some(r#"{"retention_policy": "renamed"}"#),
            ..case("dbrp_patch", M::PATCH, "/api/v2/dbrps/{dbrp_id}?org=golden")
        },
        Case {
            token: Token::None,
            ..case("error_unauthenticated", M::GET, "/api/v2/buckets")
        },
        Case {
            token: Token::Reader,
            body: Some(r#"{"orgID": "{org_id}", "name": "nope"}"#),
            ..case("error_permission", M::POST, "/api/v2/buckets")
        },
        case(
            "error_bucket_not_found",
            M::GET,
            "/api/v2/buckets/0000000000000001",
        ),
        case(
            "error_org_not_found",
            M::GET,
            "/api/v2/orgs/0000000000000001",
        ),
        case(
            "error_org_name_not_found",
            M::GET,
            "/api/v2/buckets?org=nope",
        ),
        case("error_invalid_id", M::GET, "/api/v2/buckets/123"),
        case("error_limit", M::GET, "/api/v2/buckets?limit=0"),
        Case {
            body: Some(r#"{"orgID": "{org_id}", "name": "metrics"}"#),
            ..case("error_conflict", M::POST, "/api/v2/buckets")
        },
        Case {
            body: Some("{"),
            ..case("error_bad_json", M::POST, "/api/v2/buckets")
        },
        Case {
            body: Some(r#"{"orgID": "{org_id}"}"#),
            ..case("error_missing_field", M::POST, "/api/v2/buckets")
        },
        case("error_method_not_allowed", M::DELETE, "/api/v2/buckets"),
        case("error_path_not_found", M::GET, "/api/v2/nope"),
        case("v1_query_missing_q", M::GET, "/query?db=telegraf"),
        case("v1_query_parse_error", M::GET, "/query?q=SELECT+FROM+cpu"),
        case(
            "v1_query_statement_errors",
            M::GET,
            "/query?q=SHOW+DATABASES%3BSHOW+MEASUREMENTS%3BSHOW+MEASUREMENTS+ON+nope%3BDELETE+FROM+cpu",
        ),
    ]
}

/// What the fixture created, by placeholder name.
struct Fixture {
    ids: Vec<(&'static str, String)>,
    reader: String,
}

async fn fixture(s: &TestServer) -> Fixture {
    let default_org = s.default_org_id().await;
    let r = s
        .post(
            "/api/v2/orgs",
            json!({"name": "golden", "description": "the golden org"}),
        )
        .await;
    let org = r.expect(201)["id"].as_str().unwrap().to_owned();
    let r = s
        .post(
            "/api/v2/buckets",
            json!({"orgID": org, "name": "metrics", "description": "golden metrics",
                   "retentionRules": [{"type": "expire", "everySeconds": 3600}]}),
        )
        .await;
    let bucket = r.expect(201)["id"].as_str().unwrap().to_owned();
    let r = s
        .post(
            "/api/v2/authorizations",
            json!({"orgID": org, "description": "reader",
                   "permissions": [perm("read", "buckets", Some(&org), None)]}),
        )
        .await;
    let auth = r.expect(201)["id"].as_str().unwrap().to_owned();
    let user = r.body["userID"].as_str().unwrap().to_owned();
    let reader = r.body["token"].as_str().unwrap().to_owned();
    let r = s
        .post(
            "/api/v2/dbrps",
            json!({"orgID": org, "bucketID": bucket, "database": "telegraf", "retention_policy": "autogen"}),
        )
        .await;
    let dbrp = r.expect(201)["id"].as_str().unwrap().to_owned();
    // A token for the PATCH case to deactivate, so the reader keeps working.
    let r = s
        .post(
            "/api/v2/authorizations",
            json!({"orgID": org, "description": "spare",
                   "permissions": [perm("read", "dbrp", Some(&org), None)]}),
        )
        .await;
    let spare = r.expect(201)["id"].as_str().unwrap().to_owned();
    Fixture {
        ids: vec![
            ("default_org_id", default_org),
            ("org_id", org),
            ("bucket_id", bucket),
            ("auth_id", auth),
            ("user_id", user),
            ("dbrp_id", dbrp),
            ("spare_auth_id", spare),
        ],
        reader,
    }
}

impl Fixture {
    fn fill(&self, template: &str) -> String {
        self.ids.iter().fold(template.to_owned(), |t, (name, id)| {
            t.replace(&format!("{{{name}}}"), id)
        })
    }

    fn placeholders(&self, text: &str) -> String {
        let named = self.ids.iter().fold(text.to_owned(), |t, (name, id)| {
            t.replace(id.as_str(), &format!("<{name}>"))
        });
        other_ids(&named)
    }
}

/// Replaces every other run of exactly 16 lower-case hex digits (an id) by `<id>`.
fn other_ids(text: &str) -> String {
    let is_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| is_hex(**c)).count();
        let alnum_before = i > 0 && chars[i - 1].is_ascii_alphanumeric();
        if run == 16 && !alnum_before && !chars.get(i + 16).is_some_and(char::is_ascii_alphanumeric)
        {
            out.push_str("<id>");
            i += 16;
        } else if run > 0 {
            out.extend(&chars[i..i + run]);
            i += run;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn normalize(v: &Value, f: &Fixture) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("createdAt" | "updatedAt", Value::String(t)) => {
                            assert!(t.contains('T') && t.ends_with('Z'), "not a time: {t}");
                            json!("<time>")
                        }
                        ("token", Value::String(t)) if t != "redacted" => json!("<token>"),
                        ("commit", Value::String(_)) => json!("<commit>"),
                        _ => normalize(v, f),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| normalize(v, f)).collect()),
        Value::String(s) => Value::String(f.placeholders(s)),
        other => other.clone(),
    }
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[tokio::test]
async fn responses_match_the_golden_files() {
    let update = std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1");
    let s = TestServer::start().await;
    let f = fixture(&s).await;
    let dir = golden_dir();
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }

    let mut failures = vec![];
    let mut names = vec![];
    for c in cases() {
        names.push(format!("{}.json", c.name));
        let token = match c.token {
            Token::None => None,
            Token::Operator => Some(OPERATOR_TOKEN),
            Token::Reader => Some(f.reader.as_str()),
        };
        let mut req = s.request(c.method.clone(), &f.fill(c.path), token);
        if let Some(body) = c.body {
            req = req
                .header("content-type", "application/json")
                .body(f.fill(body));
        }
        let r = send(req).await;
        let mut headers = BTreeMap::new();
        for h in [
            "content-type",
            "x-platform-error-code",
            "x-influxdb-version",
            "x-influxdb-build",
        ] {
            if let Some(v) = r.header(h) {
                headers.insert(h, v.to_owned());
            }
        }
        let actual = json!({
            "request": format!("{} {}", c.method, c.path),
            "status": r.status,
            "headers": headers,
            "body": normalize(&r.body, &f),
        });
        let path = dir.join(format!("{}.json", c.name));
        let pretty = format!("{}\n", serde_json::to_string_pretty(&actual).unwrap());
        if update {
            std::fs::write(&path, pretty).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Err(e) => failures.push(format!("{}: cannot read {}: {e}", c.name, path.display())),
            Ok(text) => {
                let want: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
                if want != actual {
                    failures.push(format!(
                        "{}: differs from {}\n--- want\n{text}--- got\n{pretty}",
                        c.name,
                        path.display()
                    ));
                }
            }
        }
    }

    // Every file belongs to a case.
    for entry in std::fs::read_dir(&dir).into_iter().flatten() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        if file.ends_with(".json") && !names.contains(&file) {
            if update {
                std::fs::remove_file(dir.join(&file)).unwrap();
            } else {
                failures.push(format!("{file}: no case produces it"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatch(es); rerun with UPDATE_GOLDEN=1 to accept:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn placeholders() {
    let f = Fixture {
        ids: vec![("bucket_id", "00000000000000ab".to_owned())],
        reader: String::new(),
    };
    assert_eq!(
        f.placeholders("/api/v2/write?org=0123456789abcdef&bucket=00000000000000ab"),
        "/api/v2/write?org=<id>&bucket=<bucket_id>"
    );
    // Not ids: too short, too long, upper case, part of a longer word.
    for s in [
        "0123456789abcde",
        "0123456789abcdef0",
        "0123456789ABCDEF",
        "x0123456789abcdef",
    ] {
        assert_eq!(f.placeholders(s), s);
    }
    let v = normalize(
        &json!({"createdAt": "2024-01-01T00:00:00Z", "token": "abc", "list": [{"token": "redacted"}]}),
        &f,
    );
    assert_eq!(
        v,
        json!({"createdAt": "<time>", "token": "<token>", "list": [{"token": "redacted"}]})
    );
}
