//! Cases: bootstrap, orgs, users, persistence across restarts.

use std::collections::BTreeSet;

use super::{assert_conflict, auth, bucket, dbrp, open, org, user};
use crate::{
    Action, AuthStatus, AuthorizationFilter, Bootstrap, BootstrapOutcome, BucketFilter, BucketType,
    CatalogConfig, DbrpFilter, Entity, Error, Id, NewOrg, OrgPatch, ResourceType, SchemaType,
    MONITORING_RETENTION_SECONDS, TASKS_RETENTION_SECONDS,
};

fn bootstrap_request() -> Bootstrap {
    Bootstrap {
        org_name: "acme".to_owned(),
        user_name: "operator".to_owned(),
        operator_token_hash: "aa".repeat(32),
    }
}

pub async fn bootstrap_creates_everything_once(config: CatalogConfig) {
    let catalog = open(&config).await;
    let outcome = catalog
        .bootstrap(bootstrap_request())
        .await
        .expect("bootstrap");
    let BootstrapOutcome::Created {
        org,
        user,
        authorization,
    } = outcome
    else {
        panic!("first bootstrap did not create: {outcome:?}");
    };
    assert_eq!(org.name, "acme");
    assert_eq!(user.name, "operator");
    assert_eq!(authorization.org_id, org.id);
    assert_eq!(authorization.user_id, user.id);
    assert_eq!(authorization.token_hash, "aa".repeat(32));
    assert_eq!(authorization.status, AuthStatus::Active);

    // Every permission: a read and a write on every resource type, unrestricted.
    assert_eq!(authorization.permissions.len(), 2 * ResourceType::ALL.len());
    let granted: BTreeSet<_> = authorization
        .permissions
        .iter()
        .map(|p| {
            assert_eq!(p.resource.id, None, "{p:?}");
            assert_eq!(p.resource.org_id, None, "{p:?}");
            (p.resource.resource_type.as_str(), p.action.as_str())
        })
        .collect();
    for t in ResourceType::ALL {
        for a in [Action::Read, Action::Write] {
            assert!(granted.contains(&(t.as_str(), a.as_str())), "{t:?} {a:?}");
        }
    }

    // It is all stored, and the org has its system buckets.
    assert_eq!(
        catalog.get_org(org.id).await.expect("get org"),
        Some(org.clone())
    );
    assert_eq!(
        catalog.get_user(user.id).await.expect("get user"),
        Some(user.clone())
    );
    assert_eq!(
        catalog
            .get_authorization_by_token_hash(&"aa".repeat(32))
            .await
            .expect("get authorization"),
        Some(authorization.clone())
    );
    let names: Vec<_> = catalog
        .list_buckets(&BucketFilter {
            org_id: Some(org.id),
            ..BucketFilter::default()
        })
        .await
        .expect("list buckets")
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["_monitoring", "_tasks"]);

    // A second start changes nothing, even with other names.
    let again = catalog
        .bootstrap(Bootstrap {
            org_name: "other".to_owned(),
            user_name: "other".to_owned(),
            operator_token_hash: "bb".repeat(32),
        })
        .await
        .expect("second bootstrap");
    assert_eq!(again, BootstrapOutcome::AlreadyInitialized);
    let again = catalog
        .bootstrap(bootstrap_request())
        .await
        .expect("third bootstrap");
    assert_eq!(again, BootstrapOutcome::AlreadyInitialized);
    assert_eq!(catalog.list_orgs().await.expect("list orgs"), [org]);
    assert_eq!(
        catalog.get_user_by_name("other").await.expect("get user"),
        None
    );
    assert_eq!(
        catalog
            .list_authorizations(&AuthorizationFilter::default())
            .await
            .expect("list authorizations"),
        [authorization]
    );
}

/// Several nodes starting at once on a shared database: exactly one bootstraps.
pub async fn bootstrap_concurrent_calls_create_once(config: CatalogConfig) {
    let catalog = open(&config).await;
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let catalog = std::sync::Arc::clone(&catalog);
            tokio::spawn(async move { catalog.bootstrap(bootstrap_request()).await })
        })
        .collect();
    let mut created = 0;
    for call in calls {
        match call.await.expect("bootstrap task") {
            Ok(BootstrapOutcome::Created { .. }) => created += 1,
            Ok(BootstrapOutcome::AlreadyInitialized) => {}
            Err(e) => panic!("concurrent bootstrap failed: {e:?}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(catalog.list_orgs().await.expect("list orgs").len(), 1);
    assert_eq!(
        catalog
            .list_authorizations(&AuthorizationFilter::default())
            .await
            .expect("list authorizations")
            .len(),
        1
    );
}

pub async fn org_crud(config: CatalogConfig) {
    let catalog = open(&config).await;
    let created = org(&*catalog, "acme").await;
    assert_eq!(created.name, "acme");
    assert_eq!(created.description, "acme description");
    assert_eq!(created.created_at, created.updated_at);
    assert!(
        created.created_at > 1_600_000_000_000_000_000,
        "{created:?}"
    );

    assert_eq!(
        catalog.get_org(created.id).await.expect("get org"),
        Some(created.clone())
    );
    assert_eq!(
        catalog
            .get_org_by_name("acme")
            .await
            .expect("get org by name"),
        Some(created.clone())
    );
    assert_eq!(
        catalog.get_org_by_name("ACME").await.expect("get org"),
        None
    );
    assert_eq!(catalog.get_org(Id::random()).await.expect("get org"), None);

    let renamed = catalog
        .update_org(
            created.id,
            OrgPatch {
                name: Some("acme2".to_owned()),
                description: None,
            },
        )
        .await
        .expect("rename org");
    assert_eq!(renamed.name, "acme2");
    assert_eq!(renamed.description, "acme description");
    assert_eq!(renamed.created_at, created.created_at);
    assert!(renamed.updated_at > created.updated_at, "{renamed:?}");

    let described = catalog
        .update_org(
            created.id,
            OrgPatch {
                name: None,
                description: Some(String::new()),
            },
        )
        .await
        .expect("update org description");
    assert_eq!(described.name, "acme2");
    assert_eq!(described.description, "");
    assert!(described.updated_at > renamed.updated_at);
    assert_eq!(
        catalog.get_org(created.id).await.expect("get org"),
        Some(described)
    );
    assert_eq!(
        catalog.get_org_by_name("acme").await.expect("get org"),
        None
    );

    catalog.delete_org(created.id).await.expect("delete org");
    assert_eq!(catalog.get_org(created.id).await.expect("get org"), None);
    assert_eq!(catalog.list_orgs().await.expect("list orgs"), []);
}

pub async fn org_names_are_unique(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let other = org(&*catalog, "other").await;
    assert_conflict(
        catalog
            .create_org(NewOrg {
                name: "acme".to_owned(),
                description: String::new(),
            })
            .await,
        "organization with name acme already exists",
    );
    assert_conflict(
        catalog
            .update_org(
                other.id,
                OrgPatch {
                    name: Some("acme".to_owned()),
                    description: None,
                },
            )
            .await,
        "organization with name acme already exists",
    );
    // Renaming an org to its own name is no conflict.
    catalog
        .update_org(
            acme.id,
            OrgPatch {
                name: Some("acme".to_owned()),
                description: None,
            },
        )
        .await
        .expect("rename to the same name");
    // A failed create left nothing behind (no system buckets of a phantom org).
    assert_eq!(catalog.list_orgs().await.expect("list orgs").len(), 2);
    assert_eq!(
        catalog
            .list_buckets(&BucketFilter::default())
            .await
            .expect("list buckets")
            .len(),
        4
    );
}

pub async fn org_gets_system_buckets(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let buckets = catalog
        .list_buckets(&BucketFilter {
            org_id: Some(acme.id),
            ..BucketFilter::default()
        })
        .await
        .expect("list buckets");
    assert_eq!(buckets.len(), 2, "{buckets:#?}");
    for (b, (name, retention)) in buckets.iter().zip([
        ("_monitoring", MONITORING_RETENTION_SECONDS),
        ("_tasks", TASKS_RETENTION_SECONDS),
    ]) {
        assert_eq!(b.name, name);
        assert_eq!(b.org_id, acme.id);
        assert_eq!(b.bucket_type, BucketType::System);
        assert_eq!(b.schema_type, SchemaType::Implicit);
        assert_eq!(b.retention_seconds, retention);
        assert_eq!(b.shard_group_duration_seconds, None);
    }
}

pub async fn orgs_list_by_name(config: CatalogConfig) {
    let catalog = open(&config).await;
    // Byte order on every backend: upper case before lower case.
    for name in ["b", "a", "C", "aa", "_x"] {
        org(&*catalog, name).await;
    }
    let names: Vec<_> = catalog
        .list_orgs()
        .await
        .expect("list orgs")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["C", "_x", "a", "aa", "b"]);
}

pub async fn delete_org_cascades(config: CatalogConfig) {
    let catalog = open(&config).await;
    let doomed = org(&*catalog, "doomed").await;
    let kept = org(&*catalog, "kept").await;
    let operator = user(&*catalog, "operator").await;
    for o in [&doomed, &kept] {
        let b = bucket(&*catalog, o, "data").await;
        dbrp(&*catalog, &b, "db", "rp", true).await;
        auth(&*catalog, o, &operator, &format!("hash-{}", o.name)).await;
    }

    catalog.delete_org(doomed.id).await.expect("delete org");

    let buckets = catalog
        .list_buckets(&BucketFilter::default())
        .await
        .expect("list buckets");
    assert!(buckets.iter().all(|b| b.org_id == kept.id), "{buckets:#?}");
    assert_eq!(buckets.len(), 3);
    let auths = catalog
        .list_authorizations(&AuthorizationFilter::default())
        .await
        .expect("list authorizations");
    assert_eq!(auths.len(), 1);
    assert_eq!(auths[0].org_id, kept.id);
    assert_eq!(
        catalog
            .get_authorization_by_token_hash("hash-doomed")
            .await
            .expect("get authorization"),
        None
    );
    let dbrps = catalog
        .list_dbrps(&DbrpFilter::default())
        .await
        .expect("list DBRP mappings");
    assert_eq!(dbrps.len(), 1);
    assert_eq!(dbrps[0].org_id, kept.id);
    // Users belong to no org.
    assert_eq!(
        catalog.get_user(operator.id).await.expect("get user"),
        Some(operator)
    );
    // The name is free again.
    org(&*catalog, "doomed").await;
}

pub async fn missing_org_is_not_found(config: CatalogConfig) {
    let catalog = open(&config).await;
    let missing = Id::random();
    assert!(matches!(
        catalog.update_org(missing, OrgPatch::default()).await,
        Err(Error::NotFound(Entity::Org))
    ));
    assert!(matches!(
        catalog.delete_org(missing).await,
        Err(Error::NotFound(Entity::Org))
    ));
}

pub async fn users_create_get_and_unique(config: CatalogConfig) {
    let catalog = open(&config).await;
    let alice = user(&*catalog, "alice").await;
    assert_eq!(alice.name, "alice");
    assert!(alice.created_at > 0);
    assert_eq!(
        catalog.get_user(alice.id).await.expect("get user"),
        Some(alice.clone())
    );
    assert_eq!(
        catalog.get_user_by_name("alice").await.expect("get user"),
        Some(alice.clone())
    );
    assert_eq!(
        catalog.get_user(Id::random()).await.expect("get user"),
        None
    );
    assert_eq!(
        catalog.get_user_by_name("bob").await.expect("get user"),
        None
    );
    assert_conflict(
        catalog.create_user("alice").await,
        "user with name alice already exists",
    );
    let bob = user(&*catalog, "bob").await;
    assert_ne!(bob.id, alice.id);
}

/// Restarting on the same database: the data is there and no migration runs again.
pub async fn reopen_keeps_data_and_migrations(config: CatalogConfig) {
    let applied = || async {
        let mut conn = crate::sql::connect(&config).await.expect("connect");
        crate::sql::migrate::applied(&mut conn)
            .await
            .expect("read schema_migrations")
    };
    let catalog = open(&config).await;
    catalog
        .bootstrap(bootstrap_request())
        .await
        .expect("bootstrap");
    let acme = catalog
        .get_org_by_name("acme")
        .await
        .expect("get org")
        .expect("bootstrapped org");
    let b = bucket(&*catalog, &acme, "data").await;
    let before = applied().await;
    assert_eq!(
        before.iter().map(|&(v, _)| v).collect::<Vec<_>>(),
        (1..=before.len() as i64).collect::<Vec<_>>(),
        "{before:?}"
    );
    drop(catalog);

    let catalog = open(&config).await;
    assert_eq!(applied().await, before);
    assert_eq!(catalog.get_bucket(b.id).await.expect("get bucket"), Some(b));
    assert_eq!(
        catalog
            .bootstrap(bootstrap_request())
            .await
            .expect("bootstrap"),
        BootstrapOutcome::AlreadyInitialized
    );
    // And a third opener, while the second is still open.
    let third = open(&config).await;
    assert_eq!(third.list_orgs().await.expect("list orgs"), [acme]);
    assert_eq!(applied().await, before);
}

/// Several processes starting at once on a new database: each open succeeds and the migrations
/// run once.
pub async fn concurrent_opens_migrate_once(config: CatalogConfig) {
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let config = config.clone();
            tokio::spawn(async move { crate::open(&config).await })
        })
        .collect();
    let mut catalogs = Vec::new();
    for open in opens {
        catalogs.push(open.await.expect("open task").expect("concurrent open"));
    }
    let mut conn = crate::sql::connect(&config).await.expect("connect");
    let applied = crate::sql::migrate::applied(&mut conn)
        .await
        .expect("read schema_migrations");
    assert_eq!(
        applied.iter().map(|&(v, _)| v).collect::<Vec<_>>(),
        (1..=applied.len() as i64).collect::<Vec<_>>(),
        "{applied:?}"
    );
    assert!(!applied.is_empty());
    for catalog in &catalogs {
        assert_eq!(catalog.list_orgs().await.expect("list orgs"), []);
    }
}
