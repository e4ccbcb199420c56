//! `/api/v2/authorizations`: tokens shown once, list filters, get, patch, delete, and the rule
//! that a token can only hand out permissions it holds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{perm, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

fn ids(body: &Value) -> Vec<&str> {
    body["authorizations"]
        .as_array()
        .unwrap_or_else(|| panic!("no authorizations in {body}"))
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn create_shows_the_token_once() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let bucket = s.create_bucket(&org, "b").await;

    let r = s
        .post(
            "/api/v2/authorizations",
            json!({
                "orgID": org,
                "description": "ci",
                "permissions": [
                    perm("read", "buckets", Some(&org), None),
                    perm("write", "buckets", Some(&org), Some(&bucket)),
                ],
                "unknownField": true,
            }),
        )
        .await;
    let created = r.expect(201).clone();
    let id = created["id"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 40, "{token}");
    assert_eq!(created["status"], "active");
    assert_eq!(created["description"], "ci");
    assert_eq!(created["orgID"], org.as_str());
    assert_eq!(created["org"], "default");
    assert_eq!(created["user"], "admin");
    let user_id = created["userID"].as_str().unwrap();
    assert_eq!(user_id.len(), 16);
    assert_eq!(
        created["permissions"],
        json!([
            {"action": "read", "resource": {"type": "buckets", "orgID": org, "org": "default"}},
            {"action": "write", "resource": {"type": "buckets", "id": bucket, "orgID": org, "org": "default"}},
        ])
    );
    assert_eq!(
        created["links"],
        json!({"self": format!("/api/v2/authorizations/{id}"), "user": format!("/api/v2/users/{user_id}")})
    );
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));

    // Never shown again: not by GET, not in the list.
    let got = s.get(&format!("/api/v2/authorizations/{id}")).await;
    let mut want = created.clone();
    want["token"] = json!("redacted");
    assert_eq!(got.expect(200), &want);
    let list = s.get("/api/v2/authorizations").await.expect(200).clone();
    for a in list["authorizations"].as_array().unwrap() {
        assert_eq!(a["token"], "redacted", "{a}");
    }
    assert!(!list.to_string().contains(&token));
    assert!(ids(&list).contains(&id.as_str()));

    // The new token works, within what it holds.
    s.call(
        Method::GET,
        &format!("/api/v2/buckets/{bucket}"),
        Some(&token),
        None,
    )
    .await
    .expect(200);

    // Created inactive: exists, but does not authenticate.
    let r = s
        .post(
            "/api/v2/authorizations",
            json!({"orgID": org, "status": "inactive", "permissions": [perm("read", "buckets", Some(&org), None)]}),
        )
        .await;
    assert_eq!(r.expect(201)["status"], "inactive");
    let sleeping = r.body["token"].as_str().unwrap();
    s.call(Method::GET, "/api/v2/buckets", Some(sleeping), None)
        .await
        .expect_error(401, "unauthorized", "unauthorized access");
}

#[tokio::test]
async fn create_rejects_bad_requests() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let read = perm("read", "buckets", Some(&org), None);
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({"orgID": org, "permissions": []}),
            400,
            "invalid",
            "at least one permission",
        ),
        (
            json!({"orgID": org}),
            400,
            "invalid",
            "missing field `permissions`",
        ),
        (
            json!({"permissions": [read]}),
            400,
            "invalid",
            "missing field `orgID`",
        ),
        (
            json!({"orgID": "nope", "permissions": [read]}),
            400,
            "invalid",
            "id must have a length of 16 bytes",
        ),
        (
            json!({"orgID": "0000000000000001", "permissions": [read]}),
            404,
            "not found",
            "organization not found",
        ),
        (
            json!({"orgID": org, "permissions": [{"action": "read", "resource": {"type": "spaceships"}}]}),
            400,
            "invalid",
            "unknown variant `spaceships`",
        ),
        (
            json!({"orgID": org, "permissions": [{"action": "delete", "resource": {"type": "buckets"}}]}),
            400,
            "invalid",
            "unknown variant `delete`",
        ),
        (
            json!({"orgID": org, "permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": "x"}}]}),
            400,
            "invalid",
            "id must have a length of 16 bytes",
        ),
        (
            json!({"orgID": org, "permissions": [{"action": "read"}]}),
            400,
            "invalid",
            "missing field `resource`",
        ),
        (
            json!({"orgID": org, "permissions": [read], "status": "paused"}),
            400,
            "invalid",
            "status must be",
        ),
        (
            json!({"orgID": org, "permissions": [read], "userID": "0000000000000001"}),
            404,
            "not found",
            "user not found",
        ),
        (
            json!({"orgID": org, "permissions": read}),
            400,
            "invalid",
            "invalid type: map, expected a sequence",
        ),
    ];
    for (body, status, code, message) in cases {
        let r = s.post("/api/v2/authorizations", body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        r.expect_error_containing(status, code, message);
    }
    // Only the operator token exists.
    let list = s.get("/api/v2/authorizations").await.expect(200).clone();
    assert_eq!(ids(&list).len(), 1, "{list}");
}

#[tokio::test]
async fn list_filters_and_pagination() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let org2 = s.create_org("org2").await;
    let operator_auth = ids(s.get("/api/v2/authorizations").await.expect(200))[0].to_owned();
    let (t1, token1) = s
        .create_token(&org, json!([perm("read", "buckets", Some(&org), None)]))
        .await;
    let (t2, _) = s
        .create_token(&org2, json!([perm("read", "buckets", Some(&org2), None)]))
        .await;
    let user_id = s
        .get(&format!("/api/v2/authorizations/{t1}"))
        .await
        .expect(200)["userID"]
        .as_str()
        .unwrap()
        .to_owned();

    let all = s.get("/api/v2/authorizations").await.expect(200).clone();
    assert_eq!(ids(&all), [operator_auth.as_str(), &t1, &t2]);
    assert_eq!(
        all["links"],
        json!({"self": "/api/v2/authorizations?descending=false&limit=20&offset=0"})
    );

    let cases: Vec<(String, Vec<&str>)> = vec![
        (format!("orgID={org2}"), vec![&t2]),
        ("org=org2".to_owned(), vec![&t2]),
        (format!("orgID={org}"), vec![&operator_auth, &t1]),
        (format!("userID={user_id}"), vec![&operator_auth, &t1, &t2]),
        ("user=admin".to_owned(), vec![&operator_auth, &t1, &t2]),
        ("user=nobody".to_owned(), vec![]),
        ("userID=0000000000000001".to_owned(), vec![]),
        (format!("token={token1}"), vec![&t1]),
        ("token=not-a-token".to_owned(), vec![]),
        (format!("user=admin&orgID={org2}"), vec![&t2]),
        ("limit=1&offset=1".to_owned(), vec![&t1]),
    ];
    for (query, want) in cases {
        let r = s.get(&format!("/api/v2/authorizations?{query}")).await;
        let body = r.expect(200);
        assert_eq!(ids(body), want, "{query}");
        for a in body["authorizations"].as_array().unwrap() {
            assert_eq!(a["token"], "redacted");
        }
    }
    let r = s.get("/api/v2/authorizations?org=org2&limit=1").await;
    assert_eq!(
        r.expect(200)["links"],
        json!({"self": "/api/v2/authorizations?descending=false&limit=1&offset=0&org=org2"})
    );
    let r = s.get("/api/v2/authorizations?limit=1").await;
    assert_eq!(
        r.expect(200)["links"]["next"],
        "/api/v2/authorizations?descending=false&limit=1&offset=1"
    );

    s.get("/api/v2/authorizations?org=nope").await.expect_error(
        404,
        "not found",
        "organization name \"nope\" not found",
    );
    s.get("/api/v2/authorizations?orgID=0000000000000001")
        .await
        .expect_error(404, "not found", "organization not found");
    s.get("/api/v2/authorizations?userID=x").await.expect_error(
        400,
        "invalid",
        "id must have a length of 16 bytes",
    );
    s.get("/api/v2/authorizations?limit=0").await.expect_error(
        400,
        "invalid",
        "limit must be between 1 and 100",
    );
}

#[tokio::test]
async fn get_patch_and_delete() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let (id, token) = s
        .create_token(&org, json!([perm("read", "buckets", Some(&org), None)]))
        .await;
    let path = format!("/api/v2/authorizations/{id}");
    let works = |expect: u16| {
        let s = &s;
        let token = token.clone();
        async move {
            let r = s
                .call(Method::GET, "/api/v2/buckets", Some(&token), None)
                .await;
            assert_eq!(r.status, expect, "{}", r.text);
        }
    };
    works(200).await;

    s.get("/api/v2/authorizations/0000000000000001")
        .await
        .expect_error(404, "not found", "authorization not found");
    s.get("/api/v2/authorizations/short").await.expect_error(
        400,
        "invalid",
        "id must have a length of 16 bytes",
    );

    let r = s.patch(&path, json!({"description": "renamed"})).await;
    assert_eq!(r.expect(200)["description"], "renamed");
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["token"], "redacted");
    works(200).await;

    let r = s.patch(&path, json!({"status": "inactive"})).await;
    assert_eq!(r.expect(200)["status"], "inactive");
    assert_eq!(r.body["description"], "renamed");
    works(401).await;
    assert_eq!(s.get(&path).await.expect(200)["status"], "inactive");
    let r = s.patch(&path, json!({"status": "active"})).await;
    assert_eq!(r.expect(200)["status"], "active");
    works(200).await;

    s.patch(&path, json!({"status": "paused"}))
        .await
        .expect_error_containing(400, "invalid", "status must be");
    s.patch(&path, json!({"status": 1}))
        .await
        .expect_error_containing(400, "invalid", "invalid type");
    s.patch(
        "/api/v2/authorizations/0000000000000001",
        json!({"status": "inactive"}),
    )
    .await
    .expect_error(404, "not found", "authorization not found");

    let r = s.delete(&path).await;
    r.expect(204);
    assert!(r.text.is_empty());
    works(401).await;
    s.get(&path)
        .await
        .expect_error(404, "not found", "authorization not found");
    s.delete(&path)
        .await
        .expect_error(404, "not found", "authorization not found");
}

#[tokio::test]
async fn a_token_cannot_grant_what_it_does_not_hold() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let other = s.create_org("other").await;
    let bucket = s.create_bucket(&org, "b").await;
    let (granter_id, granter) = s
        .create_token(
            &org,
            json!([
                perm("write", "authorizations", Some(&org), None),
                perm("read", "buckets", Some(&org), None),
            ]),
        )
        .await;
    let g = Some(granter.as_str());
    let create = |org_id: &str, perms: Value| json!({"orgID": org_id, "permissions": perms});

    // What it holds, or less, it may hand out.
    let ok = [
        json!([perm("read", "buckets", Some(&org), None)]),
        json!([perm("read", "buckets", Some(&org), Some(&bucket))]),
        json!([perm("write", "authorizations", Some(&org), None)]),
    ];
    for perms in ok {
        let r = s
            .call(
                Method::POST,
                "/api/v2/authorizations",
                g,
                Some(&create(&org, perms.clone())),
            )
            .await;
        assert_eq!(r.status, 201, "{perms}: {}", r.text);
    }
    // More than it holds: 401 naming what is missing.
    let denied = [
        (
            create(&org, json!([perm("write", "buckets", Some(&org), None)])),
            format!("write:orgs/{org}/buckets is unauthorized"),
        ),
        (
            create(&org, json!([perm("read", "buckets", None, None)])),
            "read:buckets is unauthorized".to_owned(),
        ),
        (
            create(&org, json!([perm("read", "buckets", Some(&other), None)])),
            format!("read:orgs/{other}/buckets is unauthorized"),
        ),
        (
            create(&org, json!([perm("read", "instance", None, None)])),
            "read:instance is unauthorized".to_owned(),
        ),
        (
            create(
                &org,
                json!([
                    perm("read", "buckets", Some(&org), None),
                    perm("write", "orgs", None, None),
                ]),
            ),
            "write:orgs is unauthorized".to_owned(),
        ),
        (
            create(&other, json!([perm("read", "buckets", Some(&other), None)])),
            format!("write:orgs/{other}/authorizations is unauthorized"),
        ),
    ];
    for (body, message) in denied {
        s.call(Method::POST, "/api/v2/authorizations", g, Some(&body))
            .await
            .expect_error(401, "unauthorized", &message);
    }

    // Without write:authorizations it cannot create tokens at all.
    let (_, reader) = s
        .create_token(&org, json!([perm("read", "buckets", Some(&org), None)]))
        .await;
    let body = create(&org, json!([perm("read", "buckets", Some(&org), None)]));
    s.call(
        Method::POST,
        "/api/v2/authorizations",
        Some(&reader),
        Some(&body),
    )
    .await
    .expect_error(
        401,
        "unauthorized",
        &format!("write:orgs/{org}/authorizations is unauthorized"),
    );
    // Nor see them: the list is filtered, a get names the missing permission.
    let r = s
        .call(Method::GET, "/api/v2/authorizations", Some(&reader), None)
        .await;
    assert_eq!(ids(r.expect(200)), Vec::<&str>::new());
    s.call(
        Method::GET,
        &format!("/api/v2/authorizations/{granter_id}"),
        Some(&reader),
        None,
    )
    .await
    .expect_error(
        401,
        "unauthorized",
        &format!("read:orgs/{org}/authorizations/{granter_id} is unauthorized"),
    );
    // The granter may write tokens but not read them (write does not imply read).
    s.call(
        Method::GET,
        &format!("/api/v2/authorizations/{granter_id}"),
        g,
        None,
    )
    .await
    .expect_error(
        401,
        "unauthorized",
        &format!("read:orgs/{org}/authorizations/{granter_id} is unauthorized"),
    );
    // ...yet it may deactivate them.
    let r = s
        .call(
            Method::PATCH,
            &format!("/api/v2/authorizations/{granter_id}"),
            g,
            Some(&json!({"description": "self"})),
        )
        .await;
    assert_eq!(r.expect(200)["description"], "self");
}
