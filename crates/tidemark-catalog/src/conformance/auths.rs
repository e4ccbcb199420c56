//! Cases: authorizations.

use super::{assert_conflict, auth, new_auth, open, org, user};
use crate::{
    Action, AuthStatus, AuthorizationFilter, AuthorizationPatch, CatalogConfig, Entity, Error, Id,
    Permission, Resource, ResourceType,
};

pub async fn authorization_crud(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let alice = user(&*catalog, "alice").await;
    let mut new = new_auth(&acme, &alice, "hash-1");
    new.status = AuthStatus::Inactive;
    let created = catalog
        .create_authorization(new.clone())
        .await
        .expect("create authorization");
    assert_eq!(created.org_id, acme.id);
    assert_eq!(created.user_id, alice.id);
    assert_eq!(created.token_hash, "hash-1");
    assert_eq!(created.description, new.description);
    assert_eq!(created.status, AuthStatus::Inactive);
    assert_eq!(created.permissions, []);
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(
        catalog
            .get_authorization(created.id)
            .await
            .expect("get authorization"),
        Some(created.clone())
    );
    assert_eq!(
        catalog
            .get_authorization_by_token_hash("hash-1")
            .await
            .expect("get by hash"),
        Some(created.clone())
    );
    assert_eq!(
        catalog
            .get_authorization_by_token_hash("hash-2")
            .await
            .expect("get by hash"),
        None
    );

    let activated = catalog
        .update_authorization(
            created.id,
            AuthorizationPatch {
                status: Some(AuthStatus::Active),
                description: None,
            },
        )
        .await
        .expect("activate");
    assert_eq!(activated.status, AuthStatus::Active);
    assert_eq!(activated.description, created.description);
    assert!(activated.updated_at > created.updated_at);
    assert_eq!(activated.created_at, created.created_at);

    let described = catalog
        .update_authorization(
            created.id,
            AuthorizationPatch {
                status: None,
                description: Some("renamed".to_owned()),
            },
        )
        .await
        .expect("describe");
    assert_eq!(described.status, AuthStatus::Active);
    assert_eq!(described.description, "renamed");
    assert_eq!(described.token_hash, "hash-1");
    assert_eq!(
        catalog
            .get_authorization_by_token_hash("hash-1")
            .await
            .expect("get by hash"),
        Some(described)
    );

    catalog
        .delete_authorization(created.id)
        .await
        .expect("delete authorization");
    assert_eq!(
        catalog
            .get_authorization(created.id)
            .await
            .expect("get authorization"),
        None
    );
    assert_eq!(
        catalog
            .get_authorization_by_token_hash("hash-1")
            .await
            .expect("get by hash"),
        None
    );
}

pub async fn authorization_permissions_round_trip(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let alice = user(&*catalog, "alice").await;
    let bucket_id = Id::random();
    let permissions = vec![
        Permission {
            action: Action::Read,
            resource: Resource {
                resource_type: ResourceType::Buckets,
                id: Some(bucket_id),
                org_id: Some(acme.id),
            },
        },
        Permission {
            action: Action::Write,
            resource: Resource {
                resource_type: ResourceType::Buckets,
                id: Some(bucket_id),
                org_id: Some(acme.id),
            },
        },
        Permission {
            action: Action::Read,
            resource: Resource {
                resource_type: ResourceType::NotificationEndpoints,
                id: None,
                org_id: Some(acme.id),
            },
        },
        Permission {
            action: Action::Write,
            resource: Resource {
                resource_type: ResourceType::Dbrp,
                id: None,
                org_id: None,
            },
        },
    ];
    let mut new = new_auth(&acme, &alice, "hash");
    new.permissions = permissions.clone();
    let created = catalog
        .create_authorization(new)
        .await
        .expect("create authorization");
    assert_eq!(created.permissions, permissions);
    let read = catalog
        .get_authorization(created.id)
        .await
        .expect("get authorization")
        .expect("authorization exists");
    // Order and every optional field survive the round trip.
    assert_eq!(read.permissions, permissions);
}

pub async fn authorization_list_filters_and_order(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let other = org(&*catalog, "other").await;
    let alice = user(&*catalog, "alice").await;
    let bob = user(&*catalog, "bob").await;
    let a1 = auth(&*catalog, &acme, &alice, "a1").await;
    let b1 = auth(&*catalog, &acme, &bob, "b1").await;
    let a2 = auth(&*catalog, &other, &alice, "a2").await;
    let b2 = auth(&*catalog, &other, &bob, "b2").await;

    let ids = |f: AuthorizationFilter| {
        let catalog = std::sync::Arc::clone(&catalog);
        async move {
            catalog
                .list_authorizations(&f)
                .await
                .expect("list authorizations")
                .into_iter()
                .map(|a| a.id)
                .collect::<Vec<_>>()
        }
    };
    // Listed by (created_at, id): creation order.
    let all = catalog
        .list_authorizations(&AuthorizationFilter::default())
        .await
        .expect("list authorizations");
    let keys: Vec<_> = all.iter().map(|a| (a.created_at, a.id)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(
        all.iter().map(|a| a.id).collect::<Vec<_>>(),
        [a1.id, b1.id, a2.id, b2.id]
    );

    assert_eq!(
        ids(AuthorizationFilter {
            org_id: Some(acme.id),
            ..AuthorizationFilter::default()
        })
        .await,
        [a1.id, b1.id]
    );
    assert_eq!(
        ids(AuthorizationFilter {
            user_id: Some(alice.id),
            ..AuthorizationFilter::default()
        })
        .await,
        [a1.id, a2.id]
    );
    assert_eq!(
        ids(AuthorizationFilter {
            org_id: Some(other.id),
            user_id: Some(bob.id),
            token_hash: None,
        })
        .await,
        [b2.id]
    );
    assert_eq!(
        ids(AuthorizationFilter {
            token_hash: Some("b1".to_owned()),
            ..AuthorizationFilter::default()
        })
        .await,
        [b1.id]
    );
    assert_eq!(
        ids(AuthorizationFilter {
            org_id: Some(other.id),
            token_hash: Some("b1".to_owned()),
            ..AuthorizationFilter::default()
        })
        .await,
        []
    );
}

pub async fn authorization_needs_org_and_user(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let alice = user(&*catalog, "alice").await;
    let mut no_org = new_auth(&acme, &alice, "h1");
    no_org.org_id = Id::random();
    assert!(matches!(
        catalog.create_authorization(no_org).await,
        Err(Error::NotFound(Entity::Org))
    ));
    let mut no_user = new_auth(&acme, &alice, "h2");
    no_user.user_id = Id::random();
    assert!(matches!(
        catalog.create_authorization(no_user).await,
        Err(Error::NotFound(Entity::User))
    ));
}

pub async fn authorization_token_hash_is_unique(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let other = org(&*catalog, "other").await;
    let alice = user(&*catalog, "alice").await;
    auth(&*catalog, &acme, &alice, "same").await;
    assert_conflict(
        catalog
            .create_authorization(new_auth(&other, &alice, "same"))
            .await,
        "an authorization with this token already exists",
    );
}

pub async fn missing_authorization_is_not_found(config: CatalogConfig) {
    let catalog = open(&config).await;
    let missing = Id::random();
    assert_eq!(
        catalog
            .get_authorization(missing)
            .await
            .expect("get authorization"),
        None
    );
    assert!(matches!(
        catalog
            .update_authorization(missing, AuthorizationPatch::default())
            .await,
        Err(Error::NotFound(Entity::Authorization))
    ));
    assert!(matches!(
        catalog.delete_authorization(missing).await,
        Err(Error::NotFound(Entity::Authorization))
    ));
}
