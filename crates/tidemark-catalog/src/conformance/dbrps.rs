//! Cases: DBRP mappings and their default flag.

use std::sync::Arc;

use super::{assert_conflict, assert_one_default_each, bucket, dbrp, open, org};
use crate::{Catalog, CatalogConfig, Dbrp, DbrpFilter, DbrpPatch, Entity, Error, Id, NewDbrp};

const CONFLICT: &str = "another DBRP mapping with same orgID, db, and rp exists";

async fn reread(catalog: &dyn Catalog, d: &Dbrp) -> Dbrp {
    catalog
        .get_dbrp(d.id)
        .await
        .expect("get DBRP mapping")
        .expect("DBRP mapping exists")
}

async fn default_of(catalog: &dyn Catalog, database: &str) -> Vec<Id> {
    catalog
        .list_dbrps(&DbrpFilter {
            database: Some(database.to_owned()),
            default: Some(true),
            ..DbrpFilter::default()
        })
        .await
        .expect("list DBRP mappings")
        .into_iter()
        .map(|d| d.id)
        .collect()
}

async fn set_default(catalog: &dyn Catalog, d: &Dbrp, default: bool) -> Dbrp {
    catalog
        .update_dbrp(
            d.id,
            DbrpPatch {
                retention_policy: None,
                default: Some(default),
            },
        )
        .await
        .expect("update DBRP mapping")
}

pub async fn dbrp_first_mapping_is_default(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    // Asked not to be the default, the first mapping of a database still is.
    let first = dbrp(&*catalog, &b, "db", "autogen", false).await;
    assert!(first.default);
    assert_eq!(first.bucket_id, b.id);
    assert_eq!(first.org_id, b.org_id);
    assert_eq!(first.database, "db");
    assert_eq!(first.retention_policy, "autogen");
    assert_eq!(reread(&*catalog, &first).await, first);
    let second = dbrp(&*catalog, &b, "db", "weekly", false).await;
    assert!(!second.default);
    assert!(reread(&*catalog, &first).await.default);
    assert_one_default_each(&*catalog).await;
}

pub async fn dbrp_new_default_takes_the_flag(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let first = dbrp(&*catalog, &b, "db", "a", true).await;
    let second = dbrp(&*catalog, &b, "db", "b", true).await;
    assert!(second.default);
    assert!(!reread(&*catalog, &first).await.default);
    assert_eq!(default_of(&*catalog, "db").await, [second.id]);

    // Moving it back by update.
    let first = set_default(&*catalog, &first, true).await;
    assert!(first.default);
    assert!(!reread(&*catalog, &second).await.default);
    // Setting the default on the default changes nothing.
    let again = set_default(&*catalog, &first, true).await;
    assert_eq!(again, first);
    assert_one_default_each(&*catalog).await;
}

pub async fn dbrp_undefault_promotes_smallest_id(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let mut all = Vec::new();
    for rp in ["a", "b", "c", "d"] {
        all.push(dbrp(&*catalog, &b, "db", rp, false).await);
    }
    // Make the largest id the default, so that promoting must pick among the others.
    all.sort_by_key(|d| d.id);
    let largest = all.pop().expect("four mappings");
    set_default(&*catalog, &largest, true).await;
    let smallest = all[0].id;

    let undefaulted = set_default(&*catalog, &largest, false).await;
    assert!(!undefaulted.default);
    assert_eq!(default_of(&*catalog, "db").await, [smallest]);
    // Un-defaulting a mapping that is not the default changes nothing.
    let unchanged = set_default(&*catalog, &all[2], false).await;
    assert!(!unchanged.default);
    assert_eq!(default_of(&*catalog, "db").await, [smallest]);
    assert_one_default_each(&*catalog).await;
}

pub async fn dbrp_sole_mapping_stays_default(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let sole = dbrp(&*catalog, &b, "db", "rp", true).await;
    let still = set_default(&*catalog, &sole, false).await;
    assert!(still.default);
    assert!(reread(&*catalog, &sole).await.default);
    assert_one_default_each(&*catalog).await;
}

pub async fn dbrp_delete_default_promotes_smallest_id(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let mut all = Vec::new();
    for rp in ["a", "b", "c"] {
        all.push(dbrp(&*catalog, &b, "db", rp, false).await);
    }
    all.sort_by_key(|d| d.id);
    let largest = all.pop().expect("three mappings");
    set_default(&*catalog, &largest, true).await;

    catalog
        .delete_dbrp(largest.id)
        .await
        .expect("delete default");
    assert_eq!(catalog.get_dbrp(largest.id).await.expect("get"), None);
    assert_eq!(default_of(&*catalog, "db").await, [all[0].id]);

    // Deleting a mapping that is not the default leaves the default alone.
    catalog
        .delete_dbrp(all[1].id)
        .await
        .expect("delete non-default");
    assert_eq!(default_of(&*catalog, "db").await, [all[0].id]);
    // Deleting the last one leaves nothing to promote.
    catalog.delete_dbrp(all[0].id).await.expect("delete last");
    assert_eq!(
        catalog
            .list_dbrps(&DbrpFilter::default())
            .await
            .expect("list"),
        []
    );
}

pub async fn dbrp_org_db_rp_is_unique(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let b1 = bucket(&*catalog, &acme, "one").await;
    let b2 = bucket(&*catalog, &acme, "two").await;
    let first = dbrp(&*catalog, &b1, "db", "rp", false).await;
    // Even to another bucket, and even as the new default.
    assert_conflict(
        catalog
            .create_dbrp(NewDbrp {
                org_id: acme.id,
                bucket_id: b2.id,
                database: "db".to_owned(),
                retention_policy: "rp".to_owned(),
                default: true,
            })
            .await,
        CONFLICT,
    );
    // The failed create did not take the default flag.
    assert!(reread(&*catalog, &first).await.default);

    let second = dbrp(&*catalog, &b2, "db", "rp2", false).await;
    assert_conflict(
        catalog
            .update_dbrp(
                second.id,
                DbrpPatch {
                    retention_policy: Some("rp".to_owned()),
                    default: Some(true),
                },
            )
            .await,
        CONFLICT,
    );
    assert_eq!(reread(&*catalog, &second).await, second);
    assert!(reread(&*catalog, &first).await.default);

    // Renaming the retention policy otherwise works, with the default in the same patch.
    let renamed = catalog
        .update_dbrp(
            second.id,
            DbrpPatch {
                retention_policy: Some("rp3".to_owned()),
                default: Some(true),
            },
        )
        .await
        .expect("rename retention policy");
    assert_eq!(renamed.retention_policy, "rp3");
    assert!(renamed.default);
    assert_eq!(renamed.bucket_id, b2.id);
    assert!(!reread(&*catalog, &first).await.default);
    assert_one_default_each(&*catalog).await;
}

pub async fn dbrp_bucket_must_exist_in_org(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let other = org(&*catalog, "other").await;
    let theirs = bucket(&*catalog, &other, "theirs").await;
    let missing = catalog
        .create_dbrp(NewDbrp {
            org_id: acme.id,
            bucket_id: Id::random(),
            database: "db".to_owned(),
            retention_policy: "rp".to_owned(),
            default: true,
        })
        .await;
    assert!(
        matches!(missing, Err(Error::NotFound(Entity::Bucket))),
        "{missing:?}"
    );
    let foreign = catalog
        .create_dbrp(NewDbrp {
            org_id: acme.id,
            bucket_id: theirs.id,
            database: "db".to_owned(),
            retention_policy: "rp".to_owned(),
            default: true,
        })
        .await;
    match foreign {
        Err(Error::Invalid(m)) => assert!(m.contains("bucket"), "{m}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(
        catalog
            .list_dbrps(&DbrpFilter::default())
            .await
            .expect("list"),
        []
    );
}

pub async fn dbrp_bucket_delete_removes_mappings(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let doomed = bucket(&*catalog, &acme, "doomed").await;
    let kept = bucket(&*catalog, &acme, "kept").await;
    // In "db" the doomed bucket holds the default; in "other" it does not.
    let d1 = dbrp(&*catalog, &doomed, "db", "a", true).await;
    let k1 = dbrp(&*catalog, &kept, "db", "b", false).await;
    let k2 = dbrp(&*catalog, &kept, "db", "c", false).await;
    let k3 = dbrp(&*catalog, &kept, "other", "a", true).await;
    let d2 = dbrp(&*catalog, &doomed, "other", "b", false).await;
    // A database only the doomed bucket maps.
    let d3 = dbrp(&*catalog, &doomed, "only", "a", true).await;

    catalog
        .delete_bucket(doomed.id)
        .await
        .expect("delete bucket");
    for d in [&d1, &d2, &d3] {
        assert_eq!(catalog.get_dbrp(d.id).await.expect("get"), None);
    }
    assert_eq!(default_of(&*catalog, "db").await, [k1.id.min(k2.id)]);
    assert_eq!(default_of(&*catalog, "other").await, [k3.id]);
    assert_eq!(default_of(&*catalog, "only").await, []);
    assert_eq!(
        catalog
            .list_dbrps(&DbrpFilter::default())
            .await
            .expect("list")
            .len(),
        3
    );
    assert_one_default_each(&*catalog).await;
}

pub async fn dbrp_list_filters(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let other = org(&*catalog, "other").await;
    let a = bucket(&*catalog, &acme, "a").await;
    let b = bucket(&*catalog, &acme, "b").await;
    let o = bucket(&*catalog, &other, "o").await;
    let m1 = dbrp(&*catalog, &a, "db", "one", true).await;
    let m2 = dbrp(&*catalog, &b, "db", "two", false).await;
    let m3 = dbrp(&*catalog, &a, "db2", "one", true).await;
    let m4 = dbrp(&*catalog, &o, "db", "one", true).await;

    let ids = |f: DbrpFilter| {
        let catalog = Arc::clone(&catalog);
        async move {
            catalog
                .list_dbrps(&f)
                .await
                .expect("list DBRP mappings")
                .into_iter()
                .map(|d| d.id)
                .collect::<Vec<_>>()
        }
    };
    let sorted = |mut v: Vec<Id>| {
        v.sort();
        v
    };
    // Listed by id.
    assert_eq!(
        ids(DbrpFilter::default()).await,
        sorted(vec![m1.id, m2.id, m3.id, m4.id])
    );
    assert_eq!(
        ids(DbrpFilter {
            org_id: Some(acme.id),
            ..DbrpFilter::default()
        })
        .await,
        sorted(vec![m1.id, m2.id, m3.id])
    );
    assert_eq!(
        ids(DbrpFilter {
            id: Some(m2.id),
            ..DbrpFilter::default()
        })
        .await,
        [m2.id]
    );
    assert_eq!(
        ids(DbrpFilter {
            bucket_id: Some(a.id),
            ..DbrpFilter::default()
        })
        .await,
        sorted(vec![m1.id, m3.id])
    );
    assert_eq!(
        ids(DbrpFilter {
            default: Some(false),
            ..DbrpFilter::default()
        })
        .await,
        [m2.id]
    );
    assert_eq!(
        ids(DbrpFilter {
            org_id: Some(acme.id),
            default: Some(true),
            ..DbrpFilter::default()
        })
        .await,
        sorted(vec![m1.id, m3.id])
    );
    assert_eq!(
        ids(DbrpFilter {
            database: Some("db".to_owned()),
            ..DbrpFilter::default()
        })
        .await,
        sorted(vec![m1.id, m2.id, m4.id])
    );
    assert_eq!(
        ids(DbrpFilter {
            retention_policy: Some("one".to_owned()),
            database: Some("db".to_owned()),
            org_id: Some(other.id),
            ..DbrpFilter::default()
        })
        .await,
        [m4.id]
    );
    assert_eq!(
        ids(DbrpFilter {
            retention_policy: Some("two".to_owned()),
            bucket_id: Some(a.id),
            ..DbrpFilter::default()
        })
        .await,
        []
    );
}

pub async fn dbrp_defaults_are_per_org_and_database(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let other = org(&*catalog, "other").await;
    let a = bucket(&*catalog, &acme, "a").await;
    let o = bucket(&*catalog, &other, "o").await;
    let m1 = dbrp(&*catalog, &a, "db", "rp", true).await;
    let m2 = dbrp(&*catalog, &a, "db2", "rp", true).await;
    let m3 = dbrp(&*catalog, &o, "db", "rp", true).await;
    for m in [&m1, &m2, &m3] {
        assert!(reread(&*catalog, m).await.default, "{m:?}");
    }
    let m4 = dbrp(&*catalog, &a, "db", "rp2", true).await;
    assert!(!reread(&*catalog, &m1).await.default);
    assert!(reread(&*catalog, &m2).await.default);
    assert!(reread(&*catalog, &m3).await.default);
    assert!(m4.default);
    assert_one_default_each(&*catalog).await;
}

pub async fn missing_dbrp_is_not_found(config: CatalogConfig) {
    let catalog = open(&config).await;
    let missing = Id::random();
    assert_eq!(catalog.get_dbrp(missing).await.expect("get"), None);
    assert!(matches!(
        catalog.update_dbrp(missing, DbrpPatch::default()).await,
        Err(Error::NotFound(Entity::Dbrp))
    ));
    assert!(matches!(
        catalog.delete_dbrp(missing).await,
        Err(Error::NotFound(Entity::Dbrp))
    ));
}

/// Concurrent creates in one database, some asking to be the default: all succeed and exactly
/// one default remains.
pub async fn concurrent_dbrp_creates_keep_one_default(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let creates: Vec<_> = (0..10)
        .map(|i| {
            let catalog = Arc::clone(&catalog);
            let new = NewDbrp {
                org_id: b.org_id,
                bucket_id: b.id,
                database: "db".to_owned(),
                retention_policy: format!("rp{i}"),
                default: i % 3 == 0,
            };
            tokio::spawn(async move { catalog.create_dbrp(new).await })
        })
        .collect();
    for create in creates {
        create
            .await
            .expect("create task")
            .expect("concurrent DBRP create");
    }
    assert_eq!(default_of(&*catalog, "db").await.len(), 1);
    assert_one_default_each(&*catalog).await;
}
