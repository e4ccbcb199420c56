//! `/api/v2/dbrps`: CRUD, the `content` wrappers, filters, and the invariants (unique org + db +
//! rp, exactly one default per database, promotion when the default goes away).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{perm, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

fn ids(body: &Value) -> Vec<String> {
    body["content"]
        .as_array()
        .unwrap_or_else(|| panic!("no content list in {body}"))
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids of the default mappings of a database, through the `default` filter.
async fn defaults(s: &TestServer, db: &str) -> Vec<String> {
    ids(s
        .get(&format!("/api/v2/dbrps?db={db}&default=true"))
        .await
        .expect(200))
}

async fn create(s: &TestServer, bucket: &str, db: &str, rp: &str, default: bool) -> Value {
    let r = s
        .post(
            "/api/v2/dbrps",
            json!({"bucketID": bucket, "database": db, "retention_policy": rp, "default": default}),
        )
        .await;
    r.expect(201).clone()
}

#[tokio::test]
async fn crud_and_wrappers() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let bucket = s.create_bucket(&org, "b").await;

    let r = s
        .post(
            "/api/v2/dbrps",
            json!({"orgID": org, "bucketID": bucket, "database": "db", "retention_policy": "rp", "extra": 1}),
        )
        .await;
    let d = r.expect(201).clone();
    let id = d["id"].as_str().unwrap().to_owned();
    // The first mapping of a database becomes its default, though not asked to.
    assert_eq!(
        d,
        json!({
            "id": id, "database": "db", "retention_policy": "rp", "default": true,
            "virtual": false, "orgID": org, "bucketID": bucket,
        })
    );
    let path = format!("/api/v2/dbrps/{id}");
    assert_eq!(s.get(&path).await.expect(200), &json!({"content": d}));
    assert_eq!(
        s.get(&format!("{path}?orgID={org}")).await.expect(200),
        &json!({"content": d})
    );
    assert_eq!(
        s.get(&format!("{path}?org=default")).await.expect(200),
        &json!({"content": d})
    );
    assert_eq!(
        s.get("/api/v2/dbrps").await.expect(200),
        &json!({"content": [d]})
    );

    let r = s.patch(&path, json!({"retention_policy": "autogen"})).await;
    let mut want = d.clone();
    want["retention_policy"] = json!("autogen");
    assert_eq!(r.expect(200), &json!({"content": want}));
    // Un-defaulting the only mapping leaves it the default: a database always has one.
    let r = s.patch(&path, json!({"default": false})).await;
    assert_eq!(r.expect(200)["content"]["default"], true);

    let r = s.delete(&path).await;
    r.expect(204);
    assert!(r.text.is_empty());
    s.get(&path)
        .await
        .expect_error(404, "not found", "dbrp not found");
    s.delete(&path)
        .await
        .expect_error(404, "not found", "dbrp not found");
    s.patch(&path, json!({"default": true}))
        .await
        .expect_error(404, "not found", "dbrp not found");
    assert_eq!(
        s.get("/api/v2/dbrps").await.expect(200),
        &json!({"content": []})
    );
    s.get("/api/v2/dbrps/123").await.expect_error(
        400,
        "invalid",
        "id must have a length of 16 bytes",
    );
}

#[tokio::test]
async fn one_default_per_database() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let b1 = s.create_bucket(&org, "b1").await;
    let b2 = s.create_bucket(&org, "b2").await;

    let d1 = create(&s, &b1, "db", "rp1", false).await;
    assert_eq!(d1["default"], true);
    let d1 = d1["id"].as_str().unwrap().to_owned();
    let d2 = create(&s, &b2, "db", "rp2", false).await;
    assert_eq!(d2["default"], false);
    let d2 = d2["id"].as_str().unwrap().to_owned();
    assert_eq!(defaults(&s, "db").await, [d1.as_str()]);

    // A mapping asked to be the default takes it over.
    let d3 = create(&s, &b1, "db", "rp3", true).await;
    assert_eq!(d3["default"], true);
    let d3 = d3["id"].as_str().unwrap().to_owned();
    assert_eq!(defaults(&s, "db").await, [d3.as_str()]);
    let r = s.get(&format!("/api/v2/dbrps/{d1}")).await;
    assert_eq!(r.expect(200)["content"]["default"], false);

    // Other databases are independent.
    let other = create(&s, &b2, "other", "rp1", false).await;
    assert_eq!(other["default"], true);
    assert_eq!(defaults(&s, "db").await, [d3.as_str()]);

    // Same org, db and rp: conflict.
    let r = s
        .post(
            "/api/v2/dbrps",
            json!({"bucketID": b2, "database": "db", "retention_policy": "rp1"}),
        )
        .await;
    r.expect_error(
        422,
        "conflict",
        "another DBRP mapping with same orgID, db, and rp exists",
    );
    s.patch(
        &format!("/api/v2/dbrps/{d2}"),
        json!({"retention_policy": "rp1"}),
    )
    .await
    .expect_error(
        422,
        "conflict",
        "another DBRP mapping with same orgID, db, and rp exists",
    );

    // The default moves by PATCH.
    let r = s
        .patch(&format!("/api/v2/dbrps/{d1}"), json!({"default": true}))
        .await;
    assert_eq!(r.expect(200)["content"]["default"], true);
    assert_eq!(defaults(&s, "db").await, [d1.as_str()]);

    // Un-defaulting promotes another mapping of the database.
    let r = s
        .patch(&format!("/api/v2/dbrps/{d1}"), json!({"default": false}))
        .await;
    assert_eq!(r.expect(200)["content"]["default"], false);
    let now = defaults(&s, "db").await;
    assert_eq!(now.len(), 1);
    assert_ne!(now[0], d1);

    // Deleting the default promotes one of the rest.
    s.delete(&format!("/api/v2/dbrps/{}", now[0]))
        .await
        .expect(204);
    let after = defaults(&s, "db").await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after[0], now[0]);
    let all = ids(s.get("/api/v2/dbrps?db=db").await.expect(200));
    assert_eq!(all.len(), 2);
    assert!(all.contains(&after[0]));

    // Deleting a bucket removes its mappings, and its database keeps a default.
    s.delete(&format!("/api/v2/buckets/{b1}")).await.expect(204);
    let left = s.get("/api/v2/dbrps").await.expect(200).clone();
    for d in left["content"].as_array().unwrap() {
        assert_eq!(d["bucketID"], b2.as_str(), "{left}");
    }
    // What remains of "db" is whatever b2 held (d2, unless the steps above deleted it, which
    // depends on the random ids), and it has a default whenever anything remains.
    let rest = ids(s.get("/api/v2/dbrps?db=db").await.expect(200));
    let expected: Vec<&str> = if all.contains(&d2) {
        vec![d2.as_str()]
    } else {
        vec![]
    };
    assert_eq!(rest, expected);
    assert_eq!(defaults(&s, "db").await, expected);
    assert_eq!(
        ids(s
            .get(&format!("/api/v2/dbrps?bucketID={b1}"))
            .await
            .expect(200)),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn filters() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let b1 = s.create_bucket(&org, "b1").await;
    let b2 = s.create_bucket(&org, "b2").await;
    let a = create(&s, &b1, "db1", "rp1", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = create(&s, &b2, "db1", "rp2", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = create(&s, &b2, "db2", "rp1", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another org's mapping with the same names, which only its org filter shows.
    let org2 = s.create_org("org2").await;
    let b3 = s.create_bucket(&org2, "b3").await;
    let r = s
        .post(
            "/api/v2/dbrps",
            json!({"org": "org2", "bucketID": b3, "database": "db1", "retention_policy": "rp1"}),
        )
        .await;
    let d = r.expect(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["orgID"], org2.as_str());

    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<_>>()
    };
    let cases: Vec<(String, Vec<String>)> = vec![
        (String::new(), sorted(vec![&a, &b, &c])),
        (format!("orgID={org}"), sorted(vec![&a, &b, &c])),
        ("org=default".to_owned(), sorted(vec![&a, &b, &c])),
        (format!("orgID={org2}"), vec![d.clone()]),
        ("org=org2".to_owned(), vec![d.clone()]),
        (format!("id={b}"), vec![b.clone()]),
        (format!("id={d}"), vec![]),
        (format!("bucketID={b2}"), sorted(vec![&b, &c])),
        ("db=db1".to_owned(), sorted(vec![&a, &b])),
        ("rp=rp1".to_owned(), sorted(vec![&a, &c])),
        ("db=db1&rp=rp2".to_owned(), vec![b.clone()]),
        ("default=true".to_owned(), sorted(vec![&a, &c])),
        ("default=false".to_owned(), vec![b.clone()]),
        ("db=nope".to_owned(), vec![]),
        (
            "org=org2&db=db1&rp=rp1&default=true".to_owned(),
            vec![d.clone()],
        ),
    ];
    for (query, want) in cases {
        let r = s.get(&format!("/api/v2/dbrps?{query}")).await;
        assert_eq!(ids(r.expect(200)), want, "{query}");
    }
    let bad = [
        (
            "default=maybe",
            400,
            "invalid",
            "default must be true or false",
        ),
        ("id=1", 400, "invalid", "id must have a length of 16 bytes"),
        (
            "bucketID=1",
            400,
            "invalid",
            "id must have a length of 16 bytes",
        ),
        (
            "org=nope",
            404,
            "not found",
            "organization name \"nope\" not found",
        ),
        (
            "orgID=0000000000000001",
            404,
            "not found",
            "organization not found",
        ),
    ];
    for (query, status, code, message) in bad {
        s.get(&format!("/api/v2/dbrps?{query}"))
            .await
            .expect_error(status, code, message);
    }
    // Another org's mapping is found through its org only.
    s.get(&format!("/api/v2/dbrps/{d}"))
        .await
        .expect_error(404, "not found", "dbrp not found");
    s.get(&format!("/api/v2/dbrps/{d}?orgID={org2}"))
        .await
        .expect(200);
    s.delete(&format!("/api/v2/dbrps/{d}?orgID={org}"))
        .await
        .expect_error(404, "not found", "dbrp not found");
    s.delete(&format!("/api/v2/dbrps/{d}?org=org2"))
        .await
        .expect(204);
}

#[tokio::test]
async fn create_and_patch_reject_bad_requests() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let bucket = s.create_bucket(&org, "b").await;
    let org2 = s.create_org("org2").await;
    let foreign = s.create_bucket(&org2, "theirs").await;

    let ok = json!({"bucketID": bucket, "database": "db", "retention_policy": "rp"});
    let with = |k: &str, v: Value| {
        let mut body = ok.clone();
        body[k] = v;
        body
    };
    let without = |k: &str| {
        let mut body = ok.clone();
        body.as_object_mut().unwrap().remove(k);
        body
    };
    let names = "must contain at least one character and only printable characters";
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            without("bucketID"),
            400,
            "invalid",
            "missing field `bucketID`",
        ),
        (
            without("database"),
            400,
            "invalid",
            "missing field `database`",
        ),
        (
            without("retention_policy"),
            400,
            "invalid",
            "missing field `retention_policy`",
        ),
        (
            with("bucketID", json!("x")),
            400,
            "invalid",
            "id must have a length of 16 bytes",
        ),
        (
            with("bucketID", json!("0000000000000001")),
            404,
            "not found",
            "bucket not found",
        ),
        (with("database", json!("")), 400, "invalid", names),
        (with("database", json!(".")), 400, "invalid", names),
        (with("database", json!("..")), 400, "invalid", names),
        (with("database", json!("a/b")), 400, "invalid", names),
        (
            with("retention_policy", json!("a\\b")),
            400,
            "invalid",
            names,
        ),
        (
            with("retention_policy", json!("a\tb")),
            400,
            "invalid",
            names,
        ),
        (
            with("default", json!("yes")),
            400,
            "invalid",
            "invalid type",
        ),
        (
            with("orgID", json!("0000000000000001")),
            404,
            "not found",
            "organization not found",
        ),
        (
            with("org", json!("nope")),
            404,
            "not found",
            "organization name \"nope\" not found",
        ),
        // Another org's bucket cannot be mapped, whichever org the request names.
        (
            with("bucketID", json!(foreign)),
            400,
            "invalid",
            "bucket does not belong to the organization",
        ),
        (
            with("orgID", json!(org2)),
            400,
            "invalid",
            "bucket does not belong to the organization",
        ),
    ];
    for (body, status, code, message) in cases {
        let r = s.post("/api/v2/dbrps", body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        r.expect_error_containing(status, code, message);
    }
    assert_eq!(
        s.get("/api/v2/dbrps").await.expect(200),
        &json!({"content": []})
    );
    assert_eq!(
        s.get(&format!("/api/v2/dbrps?orgID={org2}"))
            .await
            .expect(200),
        &json!({"content": []})
    );

    let id = s.post("/api/v2/dbrps", ok).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v2/dbrps/{id}");
    for (body, message) in [
        (json!({"retention_policy": ""}), names),
        (json!({"retention_policy": "a/b"}), names),
        (json!({"default": "no"}), "invalid type"),
    ] {
        s.patch(&path, body)
            .await
            .expect_error_containing(400, "invalid", message);
    }
    assert_eq!(
        s.get(&path).await.expect(200)["content"]["retention_policy"],
        "rp"
    );
}

#[tokio::test]
async fn permissions() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let bucket = s.create_bucket(&org, "b").await;
    let org2 = s.create_org("org2").await;
    let b2 = s.create_bucket(&org2, "b2").await;
    let theirs = s
        .post(
            "/api/v2/dbrps",
            json!({"orgID": org2, "bucketID": b2, "database": "db", "retention_policy": "rp"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (_, reader) = s
        .create_token(&org, json!([perm("read", "dbrp", Some(&org), None)]))
        .await;
    let (_, writer) = s
        .create_token(&org, json!([perm("write", "dbrp", Some(&org), None)]))
        .await;
    let body = json!({"bucketID": bucket, "database": "db", "retention_policy": "rp"});
    s.call(Method::POST, "/api/v2/dbrps", Some(&reader), Some(&body))
        .await
        .expect_error(
            401,
            "unauthorized",
            &format!("write:orgs/{org}/dbrp is unauthorized"),
        );
    let r = s
        .call(Method::POST, "/api/v2/dbrps", Some(&writer), Some(&body))
        .await;
    let id = r.expect(201)["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v2/dbrps/{id}");

    // The reader reads; the writer, holding only write, does not.
    let r = s
        .call(Method::GET, "/api/v2/dbrps", Some(&reader), None)
        .await;
    assert_eq!(ids(r.expect(200)), [id.as_str()]);
    s.call(Method::GET, &path, Some(&reader), None)
        .await
        .expect(200);
    let r = s
        .call(Method::GET, "/api/v2/dbrps", Some(&writer), None)
        .await;
    assert_eq!(ids(r.expect(200)), Vec::<String>::new());
    s.call(Method::GET, &path, Some(&writer), None)
        .await
        .expect_error(
            401,
            "unauthorized",
            &format!("read:orgs/{org}/dbrp/{id} is unauthorized"),
        );
    s.call(
        Method::PATCH,
        &path,
        Some(&reader),
        Some(&json!({"default": true})),
    )
    .await
    .expect_error(
        401,
        "unauthorized",
        &format!("write:orgs/{org}/dbrp/{id} is unauthorized"),
    );
    s.call(Method::DELETE, &path, Some(&reader), None)
        .await
        .expect_error(
            401,
            "unauthorized",
            &format!("write:orgs/{org}/dbrp/{id} is unauthorized"),
        );

    // Another org's mappings: hidden from a list, refused one by one.
    let r = s
        .call(
            Method::GET,
            &format!("/api/v2/dbrps?orgID={org2}"),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(ids(r.expect(200)), Vec::<String>::new());
    s.call(
        Method::GET,
        &format!("/api/v2/dbrps/{theirs}?orgID={org2}"),
        Some(&reader),
        None,
    )
    .await
    .expect_error(
        401,
        "unauthorized",
        &format!("read:orgs/{org2}/dbrp/{theirs} is unauthorized"),
    );
    let body = json!({"orgID": org2, "bucketID": b2, "database": "x", "retention_policy": "y"});
    s.call(Method::POST, "/api/v2/dbrps", Some(&writer), Some(&body))
        .await
        .expect_error(
            401,
            "unauthorized",
            &format!("write:orgs/{org2}/dbrp is unauthorized"),
        );

    s.call(Method::DELETE, &path, Some(&writer), None)
        .await
        .expect(204);
}
