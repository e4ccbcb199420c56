//! Authentication on every route, the accepted schemes, and authorization: messages naming the
//! missing permission, write without read, org isolation, and immediate deactivation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{all_access, perm, send, TestServer, OPERATOR_TOKEN};
use reqwest::Method;
use serde_json::{json, Value};

fn bucket_names(body: &Value) -> Vec<&str> {
    body["buckets"]
        .as_array()
        .unwrap_or_else(|| panic!("no buckets in {body}"))
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect()
}

/// Every route but `/ping`, `/health` and `/metrics`, with an id that exists where it needs one.
fn protected_routes(
    org: &str,
    bucket: &str,
    auth: &str,
    dbrp: &str,
) -> Vec<(Method, String, Option<Value>)> {
    let body = Some(json!({}));
    vec![
        (Method::GET, "/api/v2".to_owned(), None),
        (Method::GET, "/api/v2/resources".to_owned(), None),
        (Method::GET, "/api/v2/orgs".to_owned(), None),
        (
            Method::POST,
            "/api/v2/orgs".to_owned(),
            Some(json!({"name": "x"})),
        ),
        (Method::GET, format!("/api/v2/orgs/{org}"), None),
        (Method::PATCH, format!("/api/v2/orgs/{org}"), body.clone()),
        (Method::DELETE, format!("/api/v2/orgs/{org}"), None),
        (Method::GET, "/api/v2/buckets".to_owned(), None),
        (
            Method::POST,
            "/api/v2/buckets".to_owned(),
            Some(json!({"orgID": org, "name": "x"})),
        ),
        (Method::GET, format!("/api/v2/buckets/{bucket}"), None),
        (
            Method::PATCH,
            format!("/api/v2/buckets/{bucket}"),
            body.clone(),
        ),
        (Method::DELETE, format!("/api/v2/buckets/{bucket}"), None),
        (Method::GET, "/api/v2/authorizations".to_owned(), None),
        (
            Method::POST,
            "/api/v2/authorizations".to_owned(),
            Some(json!({"orgID": org, "permissions": [perm("read", "buckets", Some(org), None)]})),
        ),
        (Method::GET, format!("/api/v2/authorizations/{auth}"), None),
        (
            Method::PATCH,
            format!("/api/v2/authorizations/{auth}"),
            body.clone(),
        ),
        (
            Method::DELETE,
            format!("/api/v2/authorizations/{auth}"),
            None,
        ),
        (Method::GET, "/api/v2/dbrps".to_owned(), None),
        (
            Method::POST,
            "/api/v2/dbrps".to_owned(),
            Some(json!({"bucketID": bucket, "database": "d", "retention_policy": "r"})),
        ),
        (Method::GET, format!("/api/v2/dbrps/{dbrp}"), None),
        (Method::PATCH, format!("/api/v2/dbrps/{dbrp}"), body),
        (Method::DELETE, format!("/api/v2/dbrps/{dbrp}"), None),
    ]
}

#[tokio::test]
async fn every_route_but_ping_health_and_metrics_needs_a_token() {
    let s = TestServer::start().await;
    let org = s.create_org("victim").await;
    let bucket = s.create_bucket(&org, "b").await;
    let (auth, _) = s
        .create_token(&org, json!([perm("read", "buckets", Some(&org), None)]))
        .await;
    let r = s
        .post(
            "/api/v2/dbrps",
            json!({"orgID": org, "bucketID": bucket, "database": "db", "retention_policy": "rp"}),
        )
        .await;
    let dbrp = r.expect(201)["id"].as_str().unwrap().to_owned();
    let r = s
        .post(
            "/api/v2/authorizations",
            json!({"orgID": org, "status": "inactive", "permissions": all_access(&org)}),
        )
        .await;
    let inactive = r.expect(201)["token"].as_str().unwrap().to_owned();

    let bad_headers: Vec<Option<String>> = vec![
        None,
        Some("Token wrong-token".to_owned()),
        Some(format!("Bearer {OPERATOR_TOKEN}x")),
        Some(format!("Token {inactive}")),
        Some(format!("Digest {OPERATOR_TOKEN}")),
        Some(OPERATOR_TOKEN.to_owned()),
        Some("Token".to_owned()),
        Some("Token ".to_owned()),
        Some("Basic !!!notbase64".to_owned()),
        Some("Basic dXNlcm5vY29sb24=".to_owned()), // "usernocolon"
        Some("Basic dXNlcjo=".to_owned()),         // "user:" (empty token)
    ];
    for (method, path, body) in protected_routes(&org, &bucket, &auth, &dbrp) {
        for header in &bad_headers {
            let mut req = s.client.request(method.clone(), s.url(&path));
            if let Some(h) = header {
                req = req.header("Authorization", h);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            let r = send(req).await;
            assert_eq!(r.status, 401, "{method} {path} with {header:?}: {}", r.text);
            r.expect_error(401, "unauthorized", "unauthorized access");
        }
    }
    // Nothing was changed by any of them.
    s.get(&format!("/api/v2/orgs/{org}")).await.expect(200);
    s.get(&format!("/api/v2/buckets/{bucket}"))
        .await
        .expect(200);
    s.get(&format!("/api/v2/authorizations/{auth}"))
        .await
        .expect(200);
    s.get(&format!("/api/v2/dbrps/{dbrp}?orgID={org}"))
        .await
        .expect(200);
    let r = s.get("/api/v2/orgs").await;
    assert_eq!(r.expect(200)["orgs"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn token_bearer_and_basic_schemes_work() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let (_, token) = s
        .create_token(&org, json!([perm("read", "buckets", Some(&org), None)]))
        .await;
    for t in [OPERATOR_TOKEN, token.as_str()] {
        let url = s.url("/api/v2/buckets");
        let requests = [
            s.client
                .get(&url)
                .header("Authorization", format!("Token {t}")),
            s.client
                .get(&url)
                .header("Authorization", format!("Bearer {t}")),
            s.client
                .get(&url)
                .header("Authorization", format!("token {t}")),
            s.client
                .get(&url)
                .header("Authorization", format!("bearer {t}")),
            s.client.get(&url).basic_auth("anyuser", Some(t)),
            s.client.get(&url).basic_auth("", Some(t)),
            s.client.get(&url).basic_auth("someone-else", Some(t)),
        ];
        for (i, req) in requests.into_iter().enumerate() {
            let r = send(req).await;
            assert_eq!(r.status, 200, "scheme {i}: {}", r.text);
            assert_eq!(bucket_names(&r.body), ["_monitoring", "_tasks"]);
        }
    }
}

#[tokio::test]
async fn a_read_only_token_cannot_change_anything() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let bucket = s.create_bucket(&org, "b").await;
    let (_, reader) = s
        .create_token(&org, json!([perm("read", "buckets", Some(&org), None)]))
        .await;
    let t = Some(reader.as_str());
    let path = format!("/api/v2/buckets/{bucket}");

    s.call(Method::GET, &path, t, None).await.expect(200);
    let r = s.call(Method::GET, "/api/v2/buckets", t, None).await;
    assert_eq!(bucket_names(r.expect(200)), ["_monitoring", "_tasks", "b"]);

    let create = json!({"orgID": org, "name": "mine"});
    s.call(Method::POST, "/api/v2/buckets", t, Some(&create))
        .await
        .expect_error(
            401,
            "unauthorized",
            &format!("write:orgs/{org}/buckets is unauthorized"),
        );
    let denied = format!("write:orgs/{org}/buckets/{bucket} is unauthorized");
    s.call(Method::PATCH, &path, t, Some(&json!({"name": "x"})))
        .await
        .expect_error(401, "unauthorized", &denied);
    s.call(Method::DELETE, &path, t, None)
        .await
        .expect_error(401, "unauthorized", &denied);
    let body = json!({"bucketID": bucket, "database": "d", "retention_policy": "r"});
    s.call(Method::POST, "/api/v2/dbrps", t, Some(&body))
        .await
        .expect_error(
            401,
            "unauthorized",
            &format!("write:orgs/{org}/dbrp is unauthorized"),
        );
    // Nothing changed.
    let r = s.get(&format!("/api/v2/buckets?orgID={org}")).await;
    assert_eq!(bucket_names(r.expect(200)), ["_monitoring", "_tasks", "b"]);
    assert_eq!(s.get(&path).await.expect(200)["name"], "b");
}

#[tokio::test]
async fn write_does_not_imply_read() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let bucket = s.create_bucket(&org, "b").await;
    let (_, writer) = s
        .create_token(&org, json!([perm("write", "buckets", Some(&org), None)]))
        .await;
    let t = Some(writer.as_str());
    let path = format!("/api/v2/buckets/{bucket}");

    let r = s.call(Method::GET, "/api/v2/buckets", t, None).await;
    assert_eq!(bucket_names(r.expect(200)), Vec::<&str>::new());
    s.call(Method::GET, &path, t, None).await.expect_error(
        401,
        "unauthorized",
        &format!("read:orgs/{org}/buckets/{bucket} is unauthorized"),
    );
    // It writes, all the same.
    let r = s
        .call(Method::PATCH, &path, t, Some(&json!({"description": "w"})))
        .await;
    assert_eq!(r.expect(200)["description"], "w");
    let r = s
        .call(
            Method::POST,
            "/api/v2/buckets",
            t,
            Some(&json!({"orgID": org, "name": "new"})),
        )
        .await;
    r.expect(201);
    s.call(Method::DELETE, &path, t, None).await.expect(204);
}

#[tokio::test]
async fn narrow_permissions() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let one = s.create_bucket(&org, "one").await;
    let two = s.create_bucket(&org, "two").await;

    // One bucket by id.
    let (_, t) = s
        .create_token(
            &org,
            json!([perm("read", "buckets", Some(&org), Some(&one))]),
        )
        .await;
    let r = s.call(Method::GET, "/api/v2/buckets", Some(&t), None).await;
    assert_eq!(bucket_names(r.expect(200)), ["one"]);
    s.call(
        Method::GET,
        &format!("/api/v2/buckets/{one}"),
        Some(&t),
        None,
    )
    .await
    .expect(200);
    s.call(
        Method::GET,
        &format!("/api/v2/buckets/{two}"),
        Some(&t),
        None,
    )
    .await
    .expect_error(
        401,
        "unauthorized",
        &format!("read:orgs/{org}/buckets/{two} is unauthorized"),
    );

    // read:orgs on the org shows its system buckets, and only those.
    let (_, t) = s
        .create_token(&org, json!([perm("read", "orgs", None, Some(&org))]))
        .await;
    let r = s.call(Method::GET, "/api/v2/buckets", Some(&t), None).await;
    assert_eq!(bucket_names(r.expect(200)), ["_monitoring", "_tasks"]);
    let r = s.call(Method::GET, "/api/v2/orgs", Some(&t), None).await;
    assert_eq!(r.expect(200)["orgs"][0]["id"], org.as_str());
}

#[tokio::test]
async fn an_org_token_cannot_reach_another_org() {
    let s = TestServer::start().await;
    let a = s.create_org("a").await;
    let b = s.create_org("b").await;
    let a_bucket = s.create_bucket(&a, "shared-name").await;
    let b_bucket = s.create_bucket(&b, "shared-name").await;
    let (_, b_auth_token) = s.create_token(&b, all_access(&b)).await;
    let (_, token) = s.create_token(&a, all_access(&a)).await;
    let t = Some(token.as_str());

    let r = s.call(Method::GET, "/api/v2/buckets", t, None).await;
    let list = r.expect(200).clone();
    assert_eq!(
        bucket_names(&list),
        ["_monitoring", "_tasks", "shared-name"]
    );
    assert!(list["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["orgID"] == a.as_str()));
    for q in [
        format!("orgID={b}"),
        "org=b".to_owned(),
        "name=shared-name".to_owned(),
    ] {
        let r = s
            .call(Method::GET, &format!("/api/v2/buckets?{q}"), t, None)
            .await;
        let body = r.expect(200);
        assert!(
            body["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["orgID"] == a.as_str()),
            "{q}: {body}"
        );
    }
    let r = s
        .call(Method::GET, "/api/v2/buckets?name=shared-name", t, None)
        .await;
    assert_eq!(r.expect(200)["buckets"][0]["id"], a_bucket.as_str());

    let path = format!("/api/v2/buckets/{b_bucket}");
    s.call(Method::GET, &path, t, None).await.expect_error(
        401,
        "unauthorized",
        &format!("read:orgs/{b}/buckets/{b_bucket} is unauthorized"),
    );
    let denied = format!("write:orgs/{b}/buckets/{b_bucket} is unauthorized");
    s.call(Method::PATCH, &path, t, Some(&json!({"name": "mine"})))
        .await
        .expect_error(401, "unauthorized", &denied);
    s.call(Method::DELETE, &path, t, None)
        .await
        .expect_error(401, "unauthorized", &denied);
    s.call(
        Method::POST,
        "/api/v2/buckets",
        t,
        Some(&json!({"orgID": b, "name": "intruder"})),
    )
    .await
    .expect_error(
        401,
        "unauthorized",
        &format!("write:orgs/{b}/buckets is unauthorized"),
    );

    // Tokens and orgs of the other org are out of sight too.
    let r = s.call(Method::GET, "/api/v2/authorizations", t, None).await;
    let auths = r.expect(200)["authorizations"].as_array().unwrap().clone();
    assert_eq!(auths.len(), 1);
    assert_eq!(auths[0]["orgID"], a.as_str());
    let r = s.call(Method::GET, "/api/v2/orgs", t, None).await;
    assert_eq!(r.expect(200)["orgs"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["orgs"][0]["id"], a.as_str());

    // And the other org's token still works: nothing above touched it.
    let r = s.call(Method::GET, &path, Some(&b_auth_token), None).await;
    assert_eq!(r.expect(200)["name"], "shared-name");
}

#[tokio::test]
async fn deactivation_and_reactivation_take_effect_at_once() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let (id, token) = s.create_token(&org, all_access(&org)).await;
    let t = Some(token.as_str());
    let path = format!("/api/v2/authorizations/{id}");

    for round in 0..3 {
        // Used (and cached) right before the change...
        s.call(Method::GET, "/api/v2/buckets", t, None)
            .await
            .expect(200);
        s.patch(&path, json!({"status": "inactive"}))
            .await
            .expect(200);
        // ...refused right after it.
        s.call(Method::GET, "/api/v2/buckets", t, None)
            .await
            .expect_error(401, "unauthorized", "unauthorized access");
        s.patch(&path, json!({"status": "active"}))
            .await
            .expect(200);
        let r = s.call(Method::GET, "/api/v2/buckets", t, None).await;
        assert_eq!(r.status, 200, "round {round}: {}", r.text);
    }

    // A token may deactivate itself; its next request is refused.
    let r = s
        .call(
            Method::PATCH,
            &path,
            t,
            Some(&json!({"status": "inactive"})),
        )
        .await;
    assert_eq!(r.expect(200)["status"], "inactive");
    s.call(Method::GET, "/api/v2/buckets", t, None)
        .await
        .expect_error(401, "unauthorized", "unauthorized access");

    // Deletion likewise.
    s.patch(&path, json!({"status": "active"}))
        .await
        .expect(200);
    s.call(Method::GET, "/api/v2/buckets", t, None)
        .await
        .expect(200);
    s.delete(&path).await.expect(204);
    s.call(Method::GET, "/api/v2/buckets", t, None)
        .await
        .expect_error(401, "unauthorized", "unauthorized access");
}
