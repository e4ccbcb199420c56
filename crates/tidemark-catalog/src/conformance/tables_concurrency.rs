//! Cases: tables under concurrent upserts, and what deleting their bucket or org removes.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{bucket, field, files, new_file, open, org, table, tag};
use crate::{Catalog, CatalogConfig, Column, Error, FieldType, Id, Result, SchemaLimits, Table};

/// Runs one upsert per request at once; the results in request order.
async fn upsert_all(
    catalog: &Arc<dyn Catalog>,
    bucket_id: Id,
    requests: Vec<(String, Vec<Column>)>,
    limits: SchemaLimits,
) -> Vec<Result<Table>> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(name, columns)| {
            let catalog = Arc::clone(catalog);
            tokio::spawn(async move {
                catalog
                    .upsert_table(bucket_id, &name, &columns, false, limits)
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("upsert task"));
    }
    results
}

pub async fn concurrent_table_upserts_same_columns(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let columns = vec![tag("host"), field("usage", FieldType::Float)];
    // Creating the table, then adding one more column, each from ten callers at once.
    for round in [columns.clone(), vec![tag("region")]] {
        let requests = (0..10).map(|_| ("cpu".to_owned(), round.clone())).collect();
        let results = upsert_all(&catalog, b.id, requests, SchemaLimits::default()).await;
        let tables: Vec<Table> = results
            .into_iter()
            .map(|r| r.expect("concurrent upsert with the same kinds"))
            .collect();
        assert!(tables.iter().all(|t| *t == tables[0]), "{tables:#?}");
    }
    let listed = catalog.list_tables(b.id).await.expect("list tables");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].columns,
        [tag("host"), field("usage", FieldType::Float), tag("region")]
    );
}

/// Two callers adding one column with two kinds: exactly one wins, the other gets a conflict.
pub async fn concurrent_table_upserts_conflicting_kinds(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    table(&*catalog, &b, "existing", &[tag("t")]).await;
    for round in 0..8 {
        // Even rounds race on an existing table, odd ones on creating a new one.
        let name = if round % 2 == 0 {
            "existing".to_owned()
        } else {
            format!("new{round}")
        };
        let column = format!("c{round}");
        let kinds = [tag(&column), field(&column, FieldType::Float)];
        let requests = kinds
            .iter()
            .map(|c| (name.clone(), vec![c.clone()]))
            .collect();
        let results = upsert_all(&catalog, b.id, requests, SchemaLimits::default()).await;
        let winners: Vec<&Table> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:#?}");
        let won = winners[0]
            .columns
            .iter()
            .find(|c| c.name == column)
            .expect("the winner's column");
        for result in &results {
            match result {
                Ok(_) => {}
                Err(Error::Conflict(m)) => assert!(
                    m.starts_with(&format!(
                        "column \"{column}\" of measurement \"{name}\" is "
                    )),
                    "{m}"
                ),
                Err(e) => panic!("expected Conflict, got {e:?}"),
            }
        }
        let stored = catalog.list_tables(b.id).await.expect("list tables");
        let stored = stored.iter().find(|t| t.name == name).expect("the table");
        assert_eq!(
            stored.columns.iter().filter(|c| c.name == column).count(),
            1
        );
        assert!(stored.columns.contains(won));
    }
}

pub async fn concurrent_table_upserts_respect_limits(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let limits = SchemaLimits {
        max_tables_per_bucket: 5,
        max_columns_per_table: 6,
    };
    let outcome = |results: Vec<Result<Table>>| {
        let mut ok = 0;
        for r in results {
            match r {
                Ok(_) => ok += 1,
                Err(Error::LimitExceeded(_)) => {}
                Err(e) => panic!("expected success or LimitExceeded, got {e:?}"),
            }
        }
        ok
    };

    let creates = (0..12)
        .map(|i| (format!("t{i:02}"), vec![tag("x")]))
        .collect();
    assert_eq!(
        outcome(upsert_all(&catalog, b.id, creates, limits).await),
        5
    );
    let tables = catalog.list_tables(b.id).await.expect("list tables");
    assert_eq!(tables.len(), 5);

    let target = tables[0].name.clone();
    let adds = (0..12)
        .map(|i| (target.clone(), vec![tag(&format!("c{i:02}"))]))
        .collect();
    // `time` and `x` are there: four more fit.
    assert_eq!(outcome(upsert_all(&catalog, b.id, adds, limits).await), 4);
    let tables = catalog.list_tables(b.id).await.expect("list tables");
    let grown = tables.iter().find(|t| t.name == target).expect("the table");
    assert_eq!(grown.columns.len(), 5);
    let distinct: BTreeSet<_> = grown.columns.iter().map(|c| &c.name).collect();
    assert_eq!(distinct.len(), 5);
}

/// How many column rows there are, all tables together: `Table` cannot show orphans.
async fn stored_columns(config: &CatalogConfig) -> i64 {
    let mut conn = crate::sql::connect(config).await.expect("connect");
    sqlx::query_scalar("SELECT COUNT(*) FROM columns")
        .fetch_one(&mut conn)
        .await
        .expect("count columns")
}

/// A bucket with two tables of two columns each, and a file per table.
async fn filled(catalog: &dyn Catalog, bucket: &crate::Bucket) {
    for name in ["cpu", "mem"] {
        let t = table(
            catalog,
            bucket,
            name,
            &[tag("host"), field("v", FieldType::Float)],
        )
        .await;
        files(catalog, &[new_file(&t, 19_000, 0)]).await;
    }
}

pub async fn delete_bucket_cascades_to_tables_and_files(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let doomed = bucket(&*catalog, &acme, "doomed").await;
    let kept = bucket(&*catalog, &acme, "kept").await;
    filled(&*catalog, &doomed).await;
    filled(&*catalog, &kept).await;
    assert_eq!(stored_columns(&config).await, 8);

    catalog
        .delete_bucket(doomed.id)
        .await
        .expect("delete bucket");
    assert_eq!(
        catalog.list_tables(doomed.id).await.expect("list tables"),
        []
    );
    assert_eq!(
        catalog
            .list_parquet_files(doomed.id)
            .await
            .expect("list files"),
        []
    );
    assert_eq!(stored_columns(&config).await, 4);
    assert_eq!(
        catalog
            .list_tables(kept.id)
            .await
            .expect("list tables")
            .len(),
        2
    );
    assert_eq!(
        catalog
            .list_parquet_files(kept.id)
            .await
            .expect("list files")
            .len(),
        2
    );
    // A new bucket of the same name starts empty.
    let again = bucket(&*catalog, &acme, "doomed").await;
    assert_eq!(
        catalog.list_tables(again.id).await.expect("list tables"),
        []
    );
}

pub async fn delete_org_cascades_to_tables_and_files(config: CatalogConfig) {
    let catalog = open(&config).await;
    let doomed = org(&*catalog, "doomed").await;
    let kept = org(&*catalog, "kept").await;
    let mut doomed_buckets = Vec::new();
    for name in ["a", "b"] {
        let b = bucket(&*catalog, &doomed, name).await;
        filled(&*catalog, &b).await;
        doomed_buckets.push(b);
    }
    let kept_bucket = bucket(&*catalog, &kept, "a").await;
    filled(&*catalog, &kept_bucket).await;
    assert_eq!(stored_columns(&config).await, 12);

    catalog.delete_org(doomed.id).await.expect("delete org");
    for b in &doomed_buckets {
        assert_eq!(catalog.list_tables(b.id).await.expect("list tables"), []);
        assert_eq!(
            catalog.list_parquet_files(b.id).await.expect("list files"),
            []
        );
    }
    assert_eq!(stored_columns(&config).await, 4);
    assert_eq!(
        catalog
            .list_tables(kept_bucket.id)
            .await
            .expect("list tables")
            .len(),
        2
    );
    assert_eq!(
        catalog
            .list_parquet_files(kept_bucket.id)
            .await
            .expect("list files")
            .len(),
        2
    );
}
