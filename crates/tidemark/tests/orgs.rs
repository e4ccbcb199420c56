//! `/api/v2/orgs`: list with filters and pagination, get, create, update, delete, who may do
//! what, and the cascade of deleting an org.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{all_access, perm, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

fn names(body: &Value) -> Vec<&str> {
    body["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn list_get_and_filters() {
    let s = TestServer::start().await;
    let id = s.default_org_id().await;

    let r = s.get("/api/v2/orgs").await;
    let body = r.expect(200);
    assert_eq!(names(body), ["default"]);
    assert_eq!(
        body["links"],
        json!({"self": "/api/v2/orgs?descending=false&limit=20&offset=0"})
    );
    let org = &body["orgs"][0];
    assert_eq!(org["id"], id.as_str());
    assert_eq!(org["links"]["self"], format!("/api/v2/orgs/{id}"));
    assert_eq!(org["links"]["buckets"], "/api/v2/buckets?org=default");

    let body = s.get("/api/v2/orgs?org=default").await.expect(200).clone();
    assert_eq!(names(&body), ["default"]);
    assert_eq!(
        body["links"]["self"],
        "/api/v2/orgs?descending=false&limit=20&offset=0&org=default"
    );
    let body = s
        .get(&format!("/api/v2/orgs?orgID={id}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(names(&body), ["default"]);

    s.get("/api/v2/orgs?org=nope").await.expect_error(
        404,
        "not found",
        "organization name \"nope\" not found",
    );
    s.get("/api/v2/orgs?orgID=0000000000000001")
        .await
        .expect_error(404, "not found", "organization not found");
    s.get("/api/v2/orgs?orgID=xyz").await.expect_error(
        400,
        "invalid",
        "id must have a length of 16 bytes",
    );

    let r = s.get(&format!("/api/v2/orgs/{id}")).await;
    assert_eq!(r.expect(200)["name"], "default");
    s.get("/api/v2/orgs/0000000000000001").await.expect_error(
        404,
        "not found",
        "organization not found",
    );
    s.get("/api/v2/orgs/123").await.expect_error(
        400,
        "invalid",
        "id must have a length of 16 bytes",
    );
}

#[tokio::test]
async fn pagination() {
    let s = TestServer::start().await;
    let mut ids = vec![];
    for name in ["p1", "p2", "p3"] {
        ids.push(s.create_org(name).await);
    }

    let body = s.get("/api/v2/orgs?limit=2").await.expect(200).clone();
    assert_eq!(names(&body), ["default", "p1"]);
    assert_eq!(
        body["links"],
        json!({
            "self": "/api/v2/orgs?descending=false&limit=2&offset=0",
            "next": "/api/v2/orgs?descending=false&limit=2&offset=2",
        })
    );
    let body = s
        .get("/api/v2/orgs?limit=2&offset=2")
        .await
        .expect(200)
        .clone();
    assert_eq!(names(&body), ["p2", "p3"]);
    assert_eq!(
        body["links"],
        json!({
            "self": "/api/v2/orgs?descending=false&limit=2&offset=2",
            "prev": "/api/v2/orgs?descending=false&limit=2&offset=0",
        })
    );
    let body = s
        .get(&format!("/api/v2/orgs?limit=1&after={}", ids[0]))
        .await
        .expect(200)
        .clone();
    assert_eq!(names(&body), ["p2"]);
    assert_eq!(
        body["links"]["self"],
        format!(
            "/api/v2/orgs?after={}&descending=false&limit=1&offset=0",
            ids[0]
        )
    );
    let body = s
        .get("/api/v2/orgs?descending=true")
        .await
        .expect(200)
        .clone();
    assert_eq!(names(&body), ["p3", "p2", "p1", "default"]);

    for q in ["limit=0", "limit=101", "limit=x"] {
        s.get(&format!("/api/v2/orgs?{q}")).await.expect_error(
            400,
            "invalid",
            "limit must be between 1 and 100",
        );
    }
    s.get("/api/v2/orgs?offset=-1")
        .await
        .expect_error(400, "invalid", "offset is invalid");
}

#[tokio::test]
async fn create_update_and_delete_need_the_operator() {
    let s = TestServer::start().await;
    let default_id = s.default_org_id().await;

    let r = s
        .post("/api/v2/orgs", json!({"name": "acme", "description": "d"}))
        .await;
    let org = r.expect(201).clone();
    assert_eq!(org["name"], "acme");
    assert_eq!(org["description"], "d");
    let acme = org["id"].as_str().unwrap().to_owned();

    s.post("/api/v2/orgs", json!({"name": "acme"}))
        .await
        .expect_error(
            422,
            "conflict",
            "organization with name acme already exists",
        );
    s.post("/api/v2/orgs", json!({"description": "no name"}))
        .await
        .expect_error_containing(400, "invalid", "missing field `name`");
    s.post("/api/v2/orgs", json!({"name": ""}))
        .await
        .expect_error(400, "empty value", "org name is empty");
    s.post("/api/v2/orgs", json!({"name": "a\u{1}b"}))
        .await
        .expect_error_containing(400, "invalid", "control characters");

    let r = s
        .patch(&format!("/api/v2/orgs/{acme}"), json!({"name": "acme2"}))
        .await;
    let patched = r.expect(200);
    assert_eq!(patched["name"], "acme2");
    assert_eq!(patched["description"], "d");
    assert_eq!(patched["id"], acme.as_str());
    let r = s
        .patch(&format!("/api/v2/orgs/{acme}"), json!({"description": "e"}))
        .await;
    assert_eq!(r.expect(200)["description"], "e");
    assert_eq!(r.body["name"], "acme2");
    s.patch(&format!("/api/v2/orgs/{acme}"), json!({"name": "default"}))
        .await
        .expect_error(
            422,
            "conflict",
            "organization with name default already exists",
        );
    s.patch("/api/v2/orgs/0000000000000001", json!({"name": "x"}))
        .await
        .expect_error(404, "not found", "organization not found");

    // A token with all access to its own org still may not manage orgs.
    let (_, token) = s.create_token(&acme, all_access(&acme)).await;
    let t = Some(token.as_str());
    let body = json!({"name": "sneaky"});
    s.call(Method::POST, "/api/v2/orgs", t, Some(&body))
        .await
        .expect_error(401, "unauthorized", "write:orgs is unauthorized");
    let path = format!("/api/v2/orgs/{acme}");
    s.call(Method::PATCH, &path, t, Some(&body))
        .await
        .expect_error(401, "unauthorized", "write:orgs is unauthorized");
    s.call(Method::DELETE, &path, t, None).await.expect_error(
        401,
        "unauthorized",
        "write:orgs is unauthorized",
    );
    // It sees its own org, and only that.
    s.call(Method::GET, &path, t, None).await.expect(200);
    let r = s.call(Method::GET, "/api/v2/orgs", t, None).await;
    assert_eq!(names(r.expect(200)), ["acme2"]);
    s.call(Method::GET, &format!("/api/v2/orgs/{default_id}"), t, None)
        .await
        .expect_error(
            401,
            "unauthorized",
            &format!("read:orgs/{default_id} is unauthorized"),
        );
    let r = s
        .call(Method::GET, "/api/v2/orgs?org=default", t, None)
        .await;
    assert_eq!(names(r.expect(200)), Vec::<&str>::new());

    s.delete(&path).await.expect(204);
    s.get(&path)
        .await
        .expect_error(404, "not found", "organization not found");
    s.delete(&path)
        .await
        .expect_error(404, "not found", "organization not found");
    assert_eq!(names(s.get("/api/v2/orgs").await.expect(200)), ["default"]);

    // The operator token's own org cannot go: that would delete the token mid-request.
    let r = s.delete(&format!("/api/v2/orgs/{default_id}")).await;
    r.expect_error_containing(400, "invalid", "cannot delete the organization");
    s.get(&format!("/api/v2/orgs/{default_id}"))
        .await
        .expect(200);
}

#[tokio::test]
async fn deleting_an_org_removes_its_buckets_dbrps_and_tokens() {
    let s = TestServer::start().await;
    let org = s.create_org("doomed").await;
    let bucket = s.create_bucket(&org, "data").await;
    let (auth_id, token) = s.create_token(&org, all_access(&org)).await;
    let (_, reader) = s
        .create_token(&org, json!([perm("read", "buckets", Some(&org), None)]))
        .await;
    let dbrp = s
        .post(
            "/api/v2/dbrps",
            json!({"orgID": org, "bucketID": bucket, "database": "db", "retention_policy": "rp"}),
        )
        .await;
    dbrp.expect(201);
    let bucket_path = format!("/api/v2/buckets/{bucket}");
    for t in [&token, &reader] {
        // Both tokens work, and are now in the principal cache.
        s.call(Method::GET, &bucket_path, Some(t), None)
            .await
            .expect(200);
    }

    s.delete(&format!("/api/v2/orgs/{org}")).await.expect(204);

    for t in [&token, &reader] {
        s.call(Method::GET, &bucket_path, Some(t), None)
            .await
            .expect_error(401, "unauthorized", "unauthorized access");
    }
    s.get(&bucket_path)
        .await
        .expect_error(404, "not found", "bucket not found");
    s.get(&format!("/api/v2/authorizations/{auth_id}"))
        .await
        .expect_error(404, "not found", "authorization not found");
    s.get(&format!("/api/v2/dbrps?orgID={org}"))
        .await
        .expect_error(404, "not found", "organization not found");
    let all = s.get("/api/v2/buckets").await.expect(200).clone();
    assert!(
        all["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["orgID"] != org.as_str()),
        "{all}"
    );
    let auths = s.get("/api/v2/authorizations").await.expect(200).clone();
    assert_eq!(
        auths["authorizations"].as_array().unwrap().len(),
        1,
        "{auths}"
    );

    // The name is free again, and the new org starts empty but for its system buckets.
    let again = s.create_org("doomed").await;
    assert_ne!(again, org);
    let r = s.get(&format!("/api/v2/buckets?orgID={again}")).await;
    let names: Vec<&str> = r.expect(200)["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["_monitoring", "_tasks"]);
}

#[tokio::test]
async fn every_token_sees_its_own_org_and_no_other() {
    let s = TestServer::start().await;
    let org = s.default_org_id().await;
    let other = s.create_org("elsewhere").await;
    // A token with no org permission at all, as a write-only Telegraf token has.
    let (_, token) = s
        .create_token(&org, json!([perm("write", "buckets", Some(&org), None)]))
        .await;
    let listed = s
        .call(Method::GET, "/api/v2/orgs", Some(&token), None)
        .await;
    assert_eq!(names(listed.expect(200)), ["default"]);
    let by_name = s
        .call(Method::GET, "/api/v2/orgs?org=default", Some(&token), None)
        .await;
    assert_eq!(names(by_name.expect(200)), ["default"]);
    s.call(
        Method::GET,
        &format!("/api/v2/orgs/{org}"),
        Some(&token),
        None,
    )
    .await
    .expect(200);
    s.call(
        Method::GET,
        &format!("/api/v2/orgs/{other}"),
        Some(&token),
        None,
    )
    .await
    .expect(401);
}
