//! `/api/v2/buckets`: create (retention, schema type, name rules), list (filters, pagination,
//! links), get, patch, delete, and the system buckets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestServer;
use serde_json::{json, Value};

const THIRTY_DAYS: i64 = 2_592_000;

fn names(body: &Value) -> Vec<&str> {
    body["buckets"]
        .as_array()
        .unwrap_or_else(|| panic!("no buckets in {body}"))
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn create_with_defaults_retention_and_schema_type() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;

    let r = s
        .post("/api/v2/buckets", json!({"orgID": org, "name": "b1"}))
        .await;
    let b = r.expect(201).clone();
    let id = b["id"].as_str().unwrap();
    assert_eq!(id.len(), 16);
    assert_eq!(b["orgID"], org.as_str());
    assert_eq!(b["name"], "b1");
    assert_eq!(b["type"], "user");
    assert_eq!(b["description"], "");
    assert_eq!(b["schemaType"], "implicit");
    assert_eq!(b["labels"], json!([]));
    assert_eq!(
        b["retentionRules"],
        json!([{"type": "expire", "everySeconds": THIRTY_DAYS}])
    );
    assert_eq!(b["createdAt"], b["updatedAt"]);
    assert_eq!(
        b["links"],
        json!({
            "labels": format!("/api/v2/buckets/{id}/labels"),
            "members": format!("/api/v2/buckets/{id}/members"),
            "org": format!("/api/v2/orgs/{org}"),
            "owners": format!("/api/v2/buckets/{id}/owners"),
            "self": format!("/api/v2/buckets/{id}"),
            "write": format!("/api/v2/write?org={org}&bucket={id}"),
        })
    );

    let cases = [
        // (name, extra fields, expected retention rules, expected schema type)
        (
            "infinite",
            json!({"retentionRules": [{"type": "expire", "everySeconds": 0}]}),
            json!([]),
            "implicit",
        ),
        (
            "hourly",
            json!({"retentionRules": [{"everySeconds": 3600}], "description": "one hour"}),
            json!([{"type": "expire", "everySeconds": 3600}]),
            "implicit",
        ),
        (
            "no-rules",
            json!({"retentionRules": []}),
            json!([{"type": "expire", "everySeconds": THIRTY_DAYS}]),
            "implicit",
        ),
        (
            "explicit",
            json!({"schemaType": "explicit"}),
            json!([{"type": "expire", "everySeconds": THIRTY_DAYS}]),
            "explicit",
        ),
        (
            "implicit",
            json!({"schemaType": "implicit", "unknownField": [1, 2]}),
            json!([{"type": "expire", "everySeconds": THIRTY_DAYS}]),
            "implicit",
        ),
        (
            "émoji 🌊 ok",
            json!({}),
            json!([{"type": "expire", "everySeconds": THIRTY_DAYS}]),
            "implicit",
        ),
    ];
    for (name, extra, rules, schema) in cases {
        let mut body = json!({"orgID": org, "name": name});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = s.post("/api/v2/buckets", body).await;
        let b = r.expect(201);
        assert_eq!(b["name"], name);
        assert_eq!(b["retentionRules"], rules, "{name}");
        assert_eq!(b["schemaType"], schema, "{name}");
        // What POST answered is what GET shows.
        let got = s
            .get(&format!("/api/v2/buckets/{}", b["id"].as_str().unwrap()))
            .await;
        assert_eq!(got.expect(200), b, "{name}");
    }
}

#[tokio::test]
async fn create_rejects_bad_requests() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    s.create_bucket(&org, "taken").await;
    let long = "x".repeat(300);

    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({"orgID": org, "name": "taken"}),
            422,
            "conflict",
            "bucket with name taken already exists",
        ),
        (
            json!({"orgID": org, "name": "_hidden"}),
            400,
            "invalid",
            "may not start with underscore",
        ),
        (
            json!({"orgID": org, "name": "a\"b"}),
            400,
            "invalid",
            "quotation marks",
        ),
        (
            json!({"orgID": org, "name": "a'b"}),
            400,
            "invalid",
            "quotation marks",
        ),
        (
            json!({"orgID": org, "name": "a\nb"}),
            400,
            "invalid",
            "control characters",
        ),
        (
            json!({"orgID": org, "name": "a\u{7f}b"}),
            400,
            "invalid",
            "control characters",
        ),
        (
            json!({"orgID": org, "name": ""}),
            400,
            "invalid",
            "bucket name is empty",
        ),
        (
            json!({"orgID": org, "name": long}),
            400,
            "invalid",
            "at most 256 bytes",
        ),
        (
            json!({"orgID": org}),
            400,
            "invalid",
            "missing field `name`",
        ),
        (json!({"name": "x"}), 400, "invalid", "orgID is required"),
        (
            json!({"orgID": "", "name": "x"}),
            400,
            "invalid",
            "orgID is required",
        ),
        (
            json!({"orgID": "abc", "name": "x"}),
            400,
            "invalid",
            "id must have a length of 16 bytes",
        ),
        (
            json!({"orgID": "0000000000000001", "name": "x"}),
            404,
            "not found",
            "organization not found",
        ),
        (
            json!({"orgID": org, "name": 5}),
            400,
            "invalid",
            "invalid type: integer `5`, expected a string",
        ),
        (
            json!({"orgID": org, "name": "x", "retentionRules": [{"everySeconds": 1}, {"everySeconds": 2}]}),
            400,
            "invalid",
            "buckets cannot have more than one retention rule at this time",
        ),
        (
            json!({"orgID": org, "name": "x", "retentionRules": [{"everySeconds": -1}]}),
            400,
            "invalid",
            "expiration seconds must be greater than or equal to zero",
        ),
        (
            json!({"orgID": org, "name": "x", "retentionRules": [{"type": "shrink", "everySeconds": 1}]}),
            400,
            "invalid",
            "retention rule type must be \"expire\"",
        ),
        (
            json!({"orgID": org, "name": "x", "retentionRules": [{"type": "expire"}]}),
            400,
            "invalid",
            "missing field `everySeconds`",
        ),
        (
            json!({"orgID": org, "name": "x", "retentionRules": [{"everySeconds": "10"}]}),
            400,
            "invalid",
            "invalid type: string \"10\", expected i64",
        ),
        (
            json!({"orgID": org, "name": "x", "schemaType": "strict"}),
            400,
            "invalid",
            "schemaType must be \"implicit\" or \"explicit\"",
        ),
    ];
    for (body, status, code, message) in cases {
        let r = s.post("/api/v2/buckets", body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        r.expect_error_containing(status, code, message);
    }
    // None of the rejected requests left a bucket behind.
    let r = s.get(&format!("/api/v2/buckets?orgID={org}")).await;
    assert_eq!(names(r.expect(200)), ["_monitoring", "_tasks", "taken"]);

    // The same name in another org is fine.
    let other = s.create_org("other").await;
    s.create_bucket(&other, "taken").await;
}

#[tokio::test]
async fn list_filters_and_pagination() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let mut ids = std::collections::HashMap::new();
    for name in ["alpha", "beta", "gamma"] {
        ids.insert(name, s.create_bucket(&org, name).await);
    }
    let org2 = s.create_org("org2").await;
    let alpha2 = s.create_bucket(&org2, "alpha").await;

    let body = s
        .get(&format!("/api/v2/buckets?orgID={org}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(
        names(&body),
        ["_monitoring", "_tasks", "alpha", "beta", "gamma"]
    );
    assert_eq!(
        body["links"],
        json!({"self": format!("/api/v2/buckets?descending=false&limit=20&offset=0&orgID={org}")})
    );
    for b in body["buckets"].as_array().unwrap() {
        let want = if b["name"].as_str().unwrap().starts_with('_') {
            "system"
        } else {
            "user"
        };
        assert_eq!(b["type"], want, "{b}");
        assert_eq!(b["orgID"], org.as_str());
    }
    let system = &body["buckets"][0];
    assert_eq!(system["retentionRules"][0]["type"], "expire");

    let by_name = s.get("/api/v2/buckets?org=default").await;
    assert_eq!(by_name.expect(200)["buckets"], body["buckets"]);
    assert_eq!(
        by_name.body["links"]["self"],
        "/api/v2/buckets?descending=false&limit=20&offset=0&org=default"
    );
    s.get("/api/v2/buckets?org=nope").await.expect_error(
        404,
        "not found",
        "organization name \"nope\" not found",
    );
    s.get("/api/v2/buckets?orgID=0000000000000001")
        .await
        .expect_error(404, "not found", "organization not found");

    // All orgs (the operator token reads every org).
    let all = s.get("/api/v2/buckets").await.expect(200).clone();
    assert_eq!(all["buckets"].as_array().unwrap().len(), 8);

    let r = s.get("/api/v2/buckets?name=alpha").await;
    assert_eq!(names(r.expect(200)), ["alpha", "alpha"]);
    let r = s
        .get(&format!("/api/v2/buckets?name=alpha&orgID={org2}"))
        .await;
    let b = r.expect(200);
    assert_eq!(names(b), ["alpha"]);
    assert_eq!(b["buckets"][0]["id"], alpha2.as_str());
    assert_eq!(
        b["links"]["self"],
        format!("/api/v2/buckets?descending=false&limit=20&name=alpha&offset=0&orgID={org2}")
    );
    let r = s
        .get(&format!("/api/v2/buckets?name=nope&orgID={org}"))
        .await;
    assert_eq!(names(r.expect(200)), Vec::<&str>::new());
    let r = s.get(&format!("/api/v2/buckets?id={}", ids["beta"])).await;
    let b = r.expect(200);
    assert_eq!(names(b), ["beta"]);
    assert_eq!(
        b["links"]["self"],
        format!(
            "/api/v2/buckets?descending=false&id={}&limit=20&offset=0",
            ids["beta"]
        )
    );
    s.get("/api/v2/buckets?id=12").await.expect_error(
        400,
        "invalid",
        "id must have a length of 16 bytes",
    );
    let r = s.get("/api/v2/buckets?name=a+b").await;
    assert_eq!(
        r.expect(200)["links"]["self"],
        "/api/v2/buckets?descending=false&limit=20&name=a+b&offset=0"
    );

    // Pages of two.
    let page = |q: &str| format!("/api/v2/buckets?descending=false&{q}&orgID={org}");
    let r = s.get(&format!("/api/v2/buckets?orgID={org}&limit=2")).await;
    let b = r.expect(200);
    assert_eq!(names(b), ["_monitoring", "_tasks"]);
    assert_eq!(
        b["links"],
        json!({"self": page("limit=2&offset=0"), "next": page("limit=2&offset=2")})
    );
    let r = s
        .get(&format!("/api/v2/buckets?orgID={org}&limit=2&offset=2"))
        .await;
    let b = r.expect(200);
    assert_eq!(names(b), ["alpha", "beta"]);
    assert_eq!(
        b["links"],
        json!({
            "self": page("limit=2&offset=2"),
            "next": page("limit=2&offset=4"),
            "prev": page("limit=2&offset=0"),
        })
    );
    let r = s
        .get(&format!("/api/v2/buckets?orgID={org}&limit=2&offset=4"))
        .await;
    let b = r.expect(200);
    assert_eq!(names(b), ["gamma"]);
    assert_eq!(
        b["links"],
        json!({"self": page("limit=2&offset=4"), "prev": page("limit=2&offset=2")})
    );
    let r = s
        .get(&format!("/api/v2/buckets?orgID={org}&limit=2&offset=9"))
        .await;
    assert_eq!(names(r.expect(200)), Vec::<&str>::new());
    let alpha = &ids["alpha"];
    let r = s
        .get(&format!("/api/v2/buckets?orgID={org}&after={alpha}"))
        .await;
    let b = r.expect(200);
    assert_eq!(names(b), ["beta", "gamma"]);
    assert_eq!(
        b["links"]["self"],
        format!("/api/v2/buckets?after={alpha}&descending=false&limit=20&offset=0&orgID={org}")
    );
    let r = s
        .get(&format!(
            "/api/v2/buckets?orgID={org}&descending=true&limit=1"
        ))
        .await;
    assert_eq!(names(r.expect(200)), ["gamma"]);

    for q in ["limit=0", "limit=101", "limit=-1", "limit=ten"] {
        s.get(&format!("/api/v2/buckets?{q}")).await.expect_error(
            400,
            "invalid",
            "limit must be between 1 and 100",
        );
    }
    s.get("/api/v2/buckets?offset=x")
        .await
        .expect_error(400, "invalid", "offset is invalid");
    s.get("/api/v2/buckets?after=zz").await.expect_error(
        400,
        "invalid",
        "id must have a length of 16 bytes",
    );
    s.get("/api/v2/buckets?limit=100").await.expect(200);
    s.get("/api/v2/buckets?limit=1").await.expect(200);

    // The default page holds 20.
    let org3 = s.create_org("org3").await;
    for i in 0..19 {
        s.create_bucket(&org3, &format!("b{i:02}")).await;
    }
    let r = s.get(&format!("/api/v2/buckets?orgID={org3}")).await;
    let b = r.expect(200);
    assert_eq!(b["buckets"].as_array().unwrap().len(), 20);
    assert_eq!(
        b["links"]["next"],
        format!("/api/v2/buckets?descending=false&limit=20&offset=20&orgID={org3}")
    );
    let r = s
        .get(&format!("/api/v2/buckets?orgID={org3}&offset=20"))
        .await;
    assert_eq!(names(r.expect(200)), ["b18"]);
}

#[tokio::test]
async fn get_patch_and_delete() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let id = s.create_bucket(&org, "old").await;
    let path = format!("/api/v2/buckets/{id}");

    let created = s.get(&path).await.expect(200).clone();
    assert_eq!(created["name"], "old");
    s.get("/api/v2/buckets/0000000000000001")
        .await
        .expect_error(404, "not found", "bucket not found");
    s.get("/api/v2/buckets/not-an-id").await.expect_error(
        400,
        "invalid",
        "id must have a length of 16 bytes",
    );
    s.get("/api/v2/buckets/000000000000000g")
        .await
        .expect_error(400, "invalid", "invalid ID");

    // Look it up by name first, so a stale name cache would show.
    let by_name = |n: &str| format!("/api/v2/buckets?orgID={org}&name={n}");
    assert_eq!(names(s.get(&by_name("old")).await.expect(200)), ["old"]);

    let r = s
        .patch(&path, json!({"name": "new", "description": "renamed"}))
        .await;
    let b = r.expect(200).clone();
    assert_eq!(b["name"], "new");
    assert_eq!(b["description"], "renamed");
    assert_eq!(b["id"], id.as_str());
    assert_eq!(b["createdAt"], created["createdAt"]);
    assert_eq!(b["retentionRules"], created["retentionRules"]);
    assert_eq!(s.get(&path).await.expect(200), &b);
    assert_eq!(
        names(s.get(&by_name("old")).await.expect(200)),
        Vec::<&str>::new()
    );
    assert_eq!(names(s.get(&by_name("new")).await.expect(200)), ["new"]);

    let rules = |r: &common::Reply| r.expect(200)["retentionRules"].clone();
    let r = s
        .patch(
            &path,
            json!({"retentionRules": [{"type": "expire", "everySeconds": 7200}]}),
        )
        .await;
    assert_eq!(rules(&r), json!([{"type": "expire", "everySeconds": 7200}]));
    assert_eq!(r.body["name"], "new");
    assert_eq!(r.body["description"], "renamed");
    // An empty list changes nothing.
    let r = s.patch(&path, json!({"retentionRules": []})).await;
    assert_eq!(rules(&r), json!([{"type": "expire", "everySeconds": 7200}]));
    let r = s
        .patch(&path, json!({"retentionRules": [{"everySeconds": 0}]}))
        .await;
    assert_eq!(rules(&r), json!([]));
    assert_eq!(rules(&s.get(&path).await), json!([]));
    // Same schema type: no change, fine.
    let r = s.patch(&path, json!({"schemaType": "implicit"})).await;
    assert_eq!(r.expect(200)["schemaType"], "implicit");

    s.create_bucket(&org, "other").await;
    let bad: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({"schemaType": "explicit"}),
            400,
            "invalid",
            "schemaType of a bucket cannot be changed",
        ),
        (
            json!({"schemaType": "loose"}),
            400,
            "invalid",
            "schemaType must be",
        ),
        (
            json!({"name": "_x"}),
            400,
            "invalid",
            "may not start with underscore",
        ),
        (json!({"name": "a\"b"}), 400, "invalid", "quotation marks"),
        (json!({"name": ""}), 400, "invalid", "bucket name is empty"),
        (
            json!({"name": "other"}),
            422,
            "conflict",
            "bucket with name other already exists",
        ),
        (
            json!({"retentionRules": [{"everySeconds": 1}, {"everySeconds": 1}]}),
            400,
            "invalid",
            "buckets cannot have more than one retention rule at this time",
        ),
        (
            json!({"retentionRules": [{"everySeconds": -5}]}),
            400,
            "invalid",
            "greater than or equal to zero",
        ),
        (json!({"name": 7}), 400, "invalid", "invalid type"),
    ];
    for (body, status, code, message) in bad {
        s.patch(&path, body)
            .await
            .expect_error_containing(status, code, message);
    }
    assert_eq!(s.get(&path).await.expect(200)["name"], "new");
    s.patch("/api/v2/buckets/0000000000000001", json!({"name": "x"}))
        .await
        .expect_error(404, "not found", "bucket not found");

    let r = s.delete(&path).await;
    r.expect(204);
    assert!(r.text.is_empty());
    s.get(&path)
        .await
        .expect_error(404, "not found", "bucket not found");
    s.delete(&path)
        .await
        .expect_error(404, "not found", "bucket not found");
    s.patch(&path, json!({"name": "zombie"}))
        .await
        .expect_error(404, "not found", "bucket not found");
    assert_eq!(
        names(s.get(&by_name("new")).await.expect(200)),
        Vec::<&str>::new()
    );
    // Its name is free again.
    s.create_bucket(&org, "new").await;
}

#[tokio::test]
async fn system_buckets_are_listed_and_protected() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let r = s.get(&format!("/api/v2/buckets?orgID={org}")).await;
    let list = r.expect(200).clone();
    assert_eq!(names(&list), ["_monitoring", "_tasks"]);
    for b in list["buckets"].as_array().unwrap() {
        assert_eq!(b["type"], "system");
        let path = format!("/api/v2/buckets/{}", b["id"].as_str().unwrap());
        assert_eq!(s.get(&path).await.expect(200), b);
        s.delete(&path)
            .await
            .expect_error(400, "invalid", "system buckets cannot be deleted");
        s.patch(&path, json!({"name": "renamed"}))
            .await
            .expect_error(400, "invalid", "system buckets cannot be renamed");
        // A description change is fine.
        let r = s.patch(&path, json!({"description": "mine"})).await;
        assert_eq!(r.expect(200)["description"], "mine");
    }
    let r = s.get(&format!("/api/v2/buckets?orgID={org}")).await;
    assert_eq!(names(r.expect(200)), ["_monitoring", "_tasks"]);
}
