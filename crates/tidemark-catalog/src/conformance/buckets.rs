//! Cases: buckets.

use std::sync::Arc;

use super::{assert_conflict, bucket, new_bucket, open, org};
use crate::{
    BucketFilter, BucketPatch, BucketType, CatalogConfig, Entity, Error, Id, NewBucket, SchemaType,
};

pub async fn bucket_crud(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let new = NewBucket {
        org_id: acme.id,
        name: "metrics".to_owned(),
        description: "all the metrics".to_owned(),
        bucket_type: BucketType::User,
        retention_seconds: 0,
        shard_group_duration_seconds: Some(3600),
        schema_type: SchemaType::Explicit,
    };
    let created = catalog
        .create_bucket(new.clone())
        .await
        .expect("create bucket");
    assert_eq!(created.org_id, new.org_id);
    assert_eq!(created.name, new.name);
    assert_eq!(created.description, new.description);
    assert_eq!(created.bucket_type, new.bucket_type);
    assert_eq!(created.retention_seconds, 0);
    assert_eq!(created.shard_group_duration_seconds, Some(3600));
    assert_eq!(created.schema_type, SchemaType::Explicit);
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(
        catalog.get_bucket(created.id).await.expect("get bucket"),
        Some(created.clone())
    );

    // A patch changes only what it names.
    let patched = catalog
        .update_bucket(
            created.id,
            BucketPatch {
                name: Some("metrics2".to_owned()),
                retention_seconds: Some(86_400),
                ..BucketPatch::default()
            },
        )
        .await
        .expect("update bucket");
    assert_eq!(patched.name, "metrics2");
    assert_eq!(patched.retention_seconds, 86_400);
    assert_eq!(patched.description, "all the metrics");
    assert_eq!(patched.shard_group_duration_seconds, Some(3600));
    assert_eq!(patched.created_at, created.created_at);
    assert!(patched.updated_at > created.updated_at);

    // `Some(None)` clears the shard group duration, `None` keeps it.
    let cleared = catalog
        .update_bucket(
            created.id,
            BucketPatch {
                shard_group_duration_seconds: Some(None),
                description: Some(String::new()),
                ..BucketPatch::default()
            },
        )
        .await
        .expect("clear shard group duration");
    assert_eq!(cleared.shard_group_duration_seconds, None);
    assert_eq!(cleared.description, "");
    assert_eq!(cleared.name, "metrics2");
    let set = catalog
        .update_bucket(
            created.id,
            BucketPatch {
                shard_group_duration_seconds: Some(Some(7200)),
                ..BucketPatch::default()
            },
        )
        .await
        .expect("set shard group duration");
    assert_eq!(set.shard_group_duration_seconds, Some(7200));
    assert_eq!(
        catalog.get_bucket(created.id).await.expect("get bucket"),
        Some(set)
    );

    catalog
        .delete_bucket(created.id)
        .await
        .expect("delete bucket");
    assert_eq!(
        catalog.get_bucket(created.id).await.expect("get bucket"),
        None
    );
    // The name is free again.
    bucket(&*catalog, &acme, "metrics2").await;
}

pub async fn bucket_names_are_unique_per_org(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let other = org(&*catalog, "other").await;
    let a = bucket(&*catalog, &acme, "data").await;
    // The same name in another org is fine.
    let b = bucket(&*catalog, &other, "data").await;
    assert_ne!(a.id, b.id);
    assert_conflict(
        catalog.create_bucket(new_bucket(&acme, "data")).await,
        "bucket with name data already exists",
    );
    // System bucket names are taken too.
    assert_conflict(
        catalog.create_bucket(new_bucket(&acme, "_tasks")).await,
        "bucket with name _tasks already exists",
    );
    let c = bucket(&*catalog, &acme, "more").await;
    assert_conflict(
        catalog
            .update_bucket(
                c.id,
                BucketPatch {
                    name: Some("data".to_owned()),
                    ..BucketPatch::default()
                },
            )
            .await,
        "bucket with name data already exists",
    );
    // The failed rename changed nothing.
    assert_eq!(catalog.get_bucket(c.id).await.expect("get bucket"), Some(c));
}

pub async fn bucket_list_filters_and_order(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let other = org(&*catalog, "other").await;
    for name in ["zeta", "Alpha", "beta"] {
        bucket(&*catalog, &acme, name).await;
    }
    let other_beta = bucket(&*catalog, &other, "beta").await;

    let all = catalog
        .list_buckets(&BucketFilter::default())
        .await
        .expect("list buckets");
    assert_eq!(all.len(), 8);
    let keys: Vec<_> = all.iter().map(|b| (b.name.clone(), b.id)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "listed by (name, id)");

    let names = |f: BucketFilter| {
        let catalog = Arc::clone(&catalog);
        async move {
            catalog
                .list_buckets(&f)
                .await
                .expect("list buckets")
                .into_iter()
                .map(|b| (b.org_id, b.name))
                .collect::<Vec<_>>()
        }
    };
    let acme_buckets = names(BucketFilter {
        org_id: Some(acme.id),
        ..BucketFilter::default()
    })
    .await;
    let acme_names: Vec<_> = acme_buckets.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        acme_names,
        ["Alpha", "_monitoring", "_tasks", "beta", "zeta"]
    );

    let betas = names(BucketFilter {
        name: Some("beta".to_owned()),
        ..BucketFilter::default()
    })
    .await;
    assert_eq!(betas.len(), 2);
    assert_eq!(
        names(BucketFilter {
            org_id: Some(other.id),
            name: Some("beta".to_owned()),
            ..BucketFilter::default()
        })
        .await,
        [(other.id, "beta".to_owned())]
    );
    assert_eq!(
        names(BucketFilter {
            id: Some(other_beta.id),
            ..BucketFilter::default()
        })
        .await,
        [(other.id, "beta".to_owned())]
    );
    // Every given field must match.
    assert_eq!(
        names(BucketFilter {
            org_id: Some(acme.id),
            id: Some(other_beta.id),
            name: None,
        })
        .await,
        []
    );
    assert_eq!(
        names(BucketFilter {
            name: Some("BETA".to_owned()),
            ..BucketFilter::default()
        })
        .await,
        []
    );
    assert_eq!(
        names(BucketFilter {
            org_id: Some(Id::random()),
            ..BucketFilter::default()
        })
        .await,
        []
    );
}

pub async fn bucket_needs_existing_org(config: CatalogConfig) {
    let catalog = open(&config).await;
    let mut new = new_bucket(&org(&*catalog, "acme").await, "data");
    new.org_id = Id::random();
    assert!(matches!(
        catalog.create_bucket(new).await,
        Err(Error::NotFound(Entity::Org))
    ));
}

pub async fn missing_bucket_is_not_found(config: CatalogConfig) {
    let catalog = open(&config).await;
    let missing = Id::random();
    assert_eq!(catalog.get_bucket(missing).await.expect("get bucket"), None);
    assert!(matches!(
        catalog.update_bucket(missing, BucketPatch::default()).await,
        Err(Error::NotFound(Entity::Bucket))
    ));
    assert!(matches!(
        catalog.delete_bucket(missing).await,
        Err(Error::NotFound(Entity::Bucket))
    ));
}

pub async fn concurrent_bucket_creates_with_distinct_names(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let creates: Vec<_> = (0..20)
        .map(|i| {
            let catalog = Arc::clone(&catalog);
            let new = new_bucket(&acme, &format!("bucket-{i:02}"));
            tokio::spawn(async move { catalog.create_bucket(new).await })
        })
        .collect();
    for create in creates {
        create
            .await
            .expect("create task")
            .expect("concurrent create with a distinct name");
    }
    let buckets = catalog
        .list_buckets(&BucketFilter {
            org_id: Some(acme.id),
            ..BucketFilter::default()
        })
        .await
        .expect("list buckets");
    assert_eq!(buckets.len(), 22);
}

pub async fn concurrent_bucket_creates_with_same_name(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let creates: Vec<_> = (0..10)
        .map(|_| {
            let catalog = Arc::clone(&catalog);
            let new = new_bucket(&acme, "contested");
            tokio::spawn(async move { catalog.create_bucket(new).await })
        })
        .collect();
    let mut created = 0;
    for create in creates {
        match create.await.expect("create task") {
            Ok(_) => created += 1,
            Err(Error::Conflict(m)) => assert_eq!(m, "bucket with name contested already exists"),
            Err(e) => panic!("expected success or Conflict, got {e:?}"),
        }
    }
    assert_eq!(created, 1);
    let contested = catalog
        .list_buckets(&BucketFilter {
            name: Some("contested".to_owned()),
            ..BucketFilter::default()
        })
        .await
        .expect("list buckets");
    assert_eq!(contested.len(), 1);
}
