//! Cases: tables and their columns, one caller at a time.

use super::{assert_conflict, bucket, field, open, org, table, tag};
use crate::{CatalogConfig, Column, ColumnKind, Entity, Error, FieldType, Id, SchemaLimits, Table};

fn names(table: &Table) -> Vec<&str> {
    table.columns.iter().map(|c| c.name.as_str()).collect()
}

fn limits_of(max_tables_per_bucket: usize, max_columns_per_table: usize) -> SchemaLimits {
    SchemaLimits {
        max_tables_per_bucket,
        max_columns_per_table,
    }
}

#[track_caller]
fn assert_limit<T: std::fmt::Debug>(result: crate::Result<T>, message: &str) {
    match result {
        Err(Error::LimitExceeded(m)) => assert_eq!(m, message),
        other => panic!("expected LimitExceeded({message:?}), got {other:?}"),
    }
}

pub async fn table_create_and_add_columns(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let created = table(
        &*catalog,
        &b,
        "cpu",
        &[tag("host"), field("usage", FieldType::Float)],
    )
    .await;
    assert_eq!(created.bucket_id, b.id);
    assert_eq!(created.name, "cpu");
    assert!(!created.explicit);
    assert_eq!(
        created.columns,
        [tag("host"), field("usage", FieldType::Float)]
    );

    // New columns go after the old ones, in the order given; known ones stay where they are.
    let grown = table(
        &*catalog,
        &b,
        "cpu",
        &[
            tag("region"),
            tag("host"),
            field("idle", FieldType::Integer),
            field("ok", FieldType::Boolean),
            field("count", FieldType::UInteger),
            field("msg", FieldType::String),
        ],
    )
    .await;
    assert_eq!(grown.id, created.id);
    assert_eq!(
        names(&grown),
        ["host", "usage", "region", "idle", "ok", "count", "msg"]
    );
    assert_eq!(grown.columns[3].kind, ColumnKind::Field(FieldType::Integer));
    assert_eq!(grown.columns[4].kind, ColumnKind::Field(FieldType::Boolean));
    assert_eq!(
        grown.columns[5].kind,
        ColumnKind::Field(FieldType::UInteger)
    );
    assert_eq!(grown.columns[6].kind, ColumnKind::Field(FieldType::String));

    // Listed by name, each with its columns in the order added.
    let mem = table(&*catalog, &b, "mem", &[field("used", FieldType::Integer)]).await;
    let first = table(&*catalog, &b, "Zeta", &[]).await;
    assert!(first.columns.is_empty());
    assert_eq!(
        catalog.list_tables(b.id).await.expect("list tables"),
        [first, grown, mem]
    );

    // Tables are per bucket: the same name elsewhere is another table.
    let other = bucket(&*catalog, &org(&*catalog, "other").await, "data").await;
    let elsewhere = table(
        &*catalog,
        &other,
        "cpu",
        &[field("host", FieldType::String)],
    )
    .await;
    assert_ne!(elsewhere.id, created.id);
    assert_eq!(
        catalog.list_tables(other.id).await.expect("list tables"),
        [elsewhere]
    );
}

pub async fn table_upsert_is_idempotent(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let columns = [tag("host"), tag("dc"), field("usage", FieldType::Float)];
    let first = table(&*catalog, &b, "cpu", &columns).await;
    assert_eq!(table(&*catalog, &b, "cpu", &columns).await, first);
    // A subset, another order, repeats, nothing at all: no change, the whole table back.
    let shuffled = [field("usage", FieldType::Float), tag("host"), tag("host")];
    assert_eq!(table(&*catalog, &b, "cpu", &shuffled).await, first);
    assert_eq!(table(&*catalog, &b, "cpu", &[]).await, first);
    assert_eq!(
        catalog.list_tables(b.id).await.expect("list tables"),
        [first]
    );
}

pub async fn table_column_kind_conflict(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let cpu = table(
        &*catalog,
        &b,
        "cpu",
        &[tag("host"), field("usage", FieldType::Float)],
    )
    .await;
    let upsert = |name: &'static str, columns: Vec<Column>| {
        let catalog = std::sync::Arc::clone(&catalog);
        async move {
            catalog
                .upsert_table(b.id, name, &columns, false, SchemaLimits::default())
                .await
        }
    };

    // The whole request is refused: the new column that came with it is not added either.
    assert_conflict(
        upsert("cpu", vec![tag("new"), field("host", FieldType::Float)]).await,
        "column \"host\" of measurement \"cpu\" is a tag and cannot be written as a float field",
    );
    assert_conflict(
        upsert("cpu", vec![field("usage", FieldType::Integer)]).await,
        "column \"usage\" of measurement \"cpu\" is a float field and cannot be written as an \
         integer field",
    );
    assert_conflict(
        upsert("cpu", vec![tag("usage")]).await,
        "column \"usage\" of measurement \"cpu\" is a float field and cannot be written as a tag",
    );
    assert_eq!(catalog.list_tables(b.id).await.expect("list tables"), [cpu]);

    // Within one request, the first mention counts as there already; no table is created.
    assert_conflict(
        upsert("disk", vec![tag("a"), field("a", FieldType::String)]).await,
        "column \"a\" of measurement \"disk\" is a tag and cannot be written as a string field",
    );
    assert_eq!(
        catalog.list_tables(b.id).await.expect("list tables").len(),
        1
    );
}

/// Every table has `time`; it is not listed, asking for it is no change, and no other column
/// can take its name or its kind.
pub async fn table_time_column_is_implicit(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let time = Column {
        name: "time".to_owned(),
        kind: ColumnKind::Time,
    };
    let cpu = table(&*catalog, &b, "cpu", &[time.clone(), tag("host")]).await;
    assert_eq!(cpu.columns, [tag("host")]);
    assert_eq!(table(&*catalog, &b, "cpu", &[time]).await, cpu);
    assert_conflict(
        catalog
            .upsert_table(b.id, "cpu", &[tag("time")], false, SchemaLimits::default())
            .await,
        "column \"time\" of measurement \"cpu\" is the time column and cannot be written as a tag",
    );
    let other_time = Column {
        name: "ts".to_owned(),
        kind: ColumnKind::Time,
    };
    assert!(matches!(
        catalog
            .upsert_table(b.id, "cpu", &[other_time], false, SchemaLimits::default())
            .await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(catalog.list_tables(b.id).await.expect("list tables"), [cpu]);
}

pub async fn table_column_limit(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    // Four columns: `time` and three more.
    let limits = limits_of(10, 4);
    let cpu = catalog
        .upsert_table(b.id, "cpu", &[tag("a"), tag("b"), tag("c")], false, limits)
        .await
        .expect("up to the limit");
    assert_eq!(cpu.columns.len(), 3);
    assert_limit(
        catalog
            .upsert_table(b.id, "cpu", &[tag("b"), tag("d")], false, limits)
            .await,
        "table \"cpu\" would have 5 columns; the limit is 4 columns per table",
    );
    // At the limit, known columns are still no change.
    assert_eq!(
        catalog
            .upsert_table(b.id, "cpu", &[tag("a"), tag("c")], false, limits)
            .await
            .expect("known columns"),
        cpu
    );
    // A new table over the limit is not created.
    assert_limit(
        catalog
            .upsert_table(
                b.id,
                "big",
                &[tag("a"), tag("b"), tag("c"), tag("d")],
                false,
                limits,
            )
            .await,
        "table \"big\" would have 5 columns; the limit is 4 columns per table",
    );
    assert_eq!(
        catalog.list_tables(b.id).await.expect("list tables"),
        std::slice::from_ref(&cpu)
    );
    // The limit is the caller's: a higher one lets the same request through.
    let grown = catalog
        .upsert_table(b.id, "cpu", &[tag("d")], false, limits_of(10, 5))
        .await
        .expect("a higher limit");
    assert_eq!(names(&grown), ["a", "b", "c", "d"]);
}

pub async fn table_count_limit(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let b = bucket(&*catalog, &acme, "data").await;
    let limits = limits_of(2, 10);
    for name in ["a", "b"] {
        catalog
            .upsert_table(b.id, name, &[tag("t")], false, limits)
            .await
            .expect("up to the limit");
    }
    assert_limit(
        catalog
            .upsert_table(b.id, "c", &[tag("t")], false, limits)
            .await,
        "bucket would have 3 tables; the limit is 2 tables per bucket",
    );
    // Existing tables still take new columns.
    let a = catalog
        .upsert_table(b.id, "a", &[tag("u")], false, limits)
        .await
        .expect("existing table");
    assert_eq!(names(&a), ["t", "u"]);
    let listed = catalog.list_tables(b.id).await.expect("list tables");
    assert_eq!(
        listed.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    // The limit is per bucket.
    let other = bucket(&*catalog, &acme, "other").await;
    catalog
        .upsert_table(other.id, "c", &[tag("t")], false, limits)
        .await
        .expect("another bucket");
}

pub async fn table_explicit_flag_kept(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let declared = catalog
        .upsert_table(b.id, "declared", &[tag("t")], true, SchemaLimits::default())
        .await
        .expect("explicit table");
    assert!(declared.explicit);
    let again = catalog
        .upsert_table(
            b.id,
            "declared",
            &[tag("u")],
            false,
            SchemaLimits::default(),
        )
        .await
        .expect("add a column");
    assert!(again.explicit, "only used when the table is created");
    let written = table(&*catalog, &b, "written", &[tag("t")]).await;
    let again = catalog
        .upsert_table(b.id, "written", &[tag("u")], true, SchemaLimits::default())
        .await
        .expect("add a column");
    assert!(!again.explicit, "only used when the table is created");
    let listed = catalog.list_tables(b.id).await.expect("list tables");
    assert_eq!(
        listed.iter().map(|t| t.explicit).collect::<Vec<_>>(),
        [true, false]
    );
    assert_eq!(listed[1].id, written.id);
}

pub async fn table_needs_existing_bucket(config: CatalogConfig) {
    let catalog = open(&config).await;
    let missing = Id::random();
    assert!(matches!(
        catalog
            .upsert_table(missing, "cpu", &[tag("t")], false, SchemaLimits::default())
            .await,
        Err(Error::NotFound(Entity::Bucket))
    ));
    assert_eq!(catalog.list_tables(missing).await.expect("list tables"), []);
}
