//! Cases: Parquet file records.

use std::sync::Arc;

use super::{bucket, files, new_file, open, org, table, tag};
use crate::{Catalog, CatalogConfig, Entity, Error, Id, NewParquetFile, ParquetFile};

async fn listed(catalog: &dyn Catalog, bucket_id: Id) -> Vec<ParquetFile> {
    catalog
        .list_parquet_files(bucket_id)
        .await
        .expect("list parquet files")
}

fn ids(files: &[ParquetFile]) -> Vec<Id> {
    files.iter().map(|f| f.id).collect()
}

/// Checks that `file` is `new` as registered.
#[track_caller]
fn assert_registered(file: &ParquetFile, new: &NewParquetFile) {
    let NewParquetFile {
        id,
        bucket_id,
        table_id,
        partition_day,
        path,
        min_time,
        max_time,
        row_count,
        size_bytes,
        level,
    } = new.clone();
    let expected = ParquetFile {
        id,
        bucket_id,
        table_id,
        partition_day,
        path,
        min_time,
        max_time,
        row_count,
        size_bytes,
        level,
        created_at: file.created_at,
    };
    assert_eq!(*file, expected);
    assert!(file.created_at > 0);
}

pub async fn parquet_files_add_and_list_order(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let b = bucket(&*catalog, &acme, "data").await;
    let cpu = table(&*catalog, &b, "cpu", &[tag("host")]).await;
    let mem = table(&*catalog, &b, "mem", &[tag("host")]).await;

    let mut new = Vec::new();
    for t in [&mem, &cpu] {
        for (day, min_time) in [(19_001, 5), (-3, 9), (19_000, 7), (19_000, -2), (19_000, 7)] {
            new.push(new_file(t, day, min_time));
        }
    }
    new[1].level = 2;
    new[1].row_count = i64::MAX;
    new[1].size_bytes = 0;
    new[1].max_time = i64::MAX;
    new[2].min_time = i64::MIN;
    new[2].partition_day = i32::MIN;
    new[3].level = i16::MAX;
    let added = files(&*catalog, &new).await;
    assert_eq!(added.len(), new.len());
    for (file, new) in added.iter().zip(&new) {
        assert_registered(file, new);
        assert_eq!(
            file.created_at, added[0].created_at,
            "one registration, one time"
        );
    }

    let mut expected = added.clone();
    expected.sort_by_key(|f| (f.table_id, f.partition_day, f.min_time, f.id));
    assert_eq!(listed(&*catalog, b.id).await, expected);

    // Other buckets' files are not listed; an empty registration is no change.
    let other = bucket(&*catalog, &acme, "other").await;
    let elsewhere = table(&*catalog, &other, "cpu", &[]).await;
    let theirs = files(&*catalog, &[new_file(&elsewhere, 1, 1)]).await;
    assert_eq!(files(&*catalog, &[]).await, []);
    assert_eq!(listed(&*catalog, b.id).await, expected);
    assert_eq!(listed(&*catalog, other.id).await, theirs);
    assert_eq!(listed(&*catalog, Id::random()).await, []);
}

/// A registration that cannot be whole registers nothing.
pub async fn parquet_files_need_bucket_and_table(config: CatalogConfig) {
    let catalog = open(&config).await;
    let acme = org(&*catalog, "acme").await;
    let b = bucket(&*catalog, &acme, "data").await;
    let cpu = table(&*catalog, &b, "cpu", &[]).await;
    let other = bucket(&*catalog, &acme, "other").await;
    let theirs = table(&*catalog, &other, "cpu", &[]).await;

    let good = new_file(&cpu, 1, 1);
    let mut no_bucket = new_file(&cpu, 1, 2);
    no_bucket.bucket_id = Id::random();
    let mut no_table = new_file(&cpu, 1, 3);
    no_table.table_id = Id::random();
    let mut wrong_bucket = new_file(&theirs, 1, 4);
    wrong_bucket.bucket_id = b.id;

    let add = |batch: Vec<NewParquetFile>| {
        let catalog = Arc::clone(&catalog);
        async move { catalog.add_parquet_files(&batch).await }
    };
    assert!(matches!(
        add(vec![good.clone(), no_bucket]).await,
        Err(Error::NotFound(Entity::Bucket))
    ));
    assert!(matches!(
        add(vec![good.clone(), no_table]).await,
        Err(Error::NotFound(Entity::Table))
    ));
    assert!(matches!(
        add(vec![good.clone(), wrong_bucket]).await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(listed(&*catalog, b.id).await, []);
    assert_eq!(listed(&*catalog, other.id).await, []);

    // An id is registered once.
    let first = files(&*catalog, std::slice::from_ref(&good)).await;
    let mut same_id = new_file(&cpu, 2, 2);
    same_id.id = good.id;
    let fresh = new_file(&cpu, 3, 3);
    assert!(matches!(
        add(vec![fresh, same_id]).await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(listed(&*catalog, b.id).await, first);
}

pub async fn parquet_files_replace(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let cpu = table(&*catalog, &b, "cpu", &[]).await;
    let old = files(
        &*catalog,
        &[
            new_file(&cpu, 1, 10),
            new_file(&cpu, 1, 20),
            new_file(&cpu, 2, 0),
        ],
    )
    .await;

    let mut compacted = new_file(&cpu, 1, 10);
    compacted.level = 1;
    compacted.max_time = 20_000;
    let added = catalog
        .replace_parquet_files(&[old[1].id, old[0].id], std::slice::from_ref(&compacted))
        .await
        .expect("replace files");
    assert_eq!(added.len(), 1);
    assert_registered(&added[0], &compacted);
    assert!(added[0].created_at > old[0].created_at);
    assert_eq!(
        ids(&listed(&*catalog, b.id).await),
        [compacted.id, old[2].id]
    );

    // Removing only, and adding only.
    catalog
        .replace_parquet_files(&[old[2].id], &[])
        .await
        .expect("remove only");
    let extra = new_file(&cpu, 5, 5);
    catalog
        .replace_parquet_files(&[], std::slice::from_ref(&extra))
        .await
        .expect("add only");
    assert_eq!(
        ids(&listed(&*catalog, b.id).await),
        [compacted.id, extra.id]
    );
}

pub async fn parquet_files_replace_missing_id_changes_nothing(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let cpu = table(&*catalog, &b, "cpu", &[]).await;
    let old = files(&*catalog, &[new_file(&cpu, 1, 10), new_file(&cpu, 1, 20)]).await;
    let replacement = new_file(&cpu, 1, 10);

    for remove in [vec![old[0].id, Id::random(), old[1].id], vec![Id::random()]] {
        assert!(matches!(
            catalog
                .replace_parquet_files(&remove, std::slice::from_ref(&replacement))
                .await,
            Err(Error::NotFound(Entity::ParquetFile))
        ));
        assert_eq!(listed(&*catalog, b.id).await, old);
    }
    // Nor does a replacement that cannot be registered.
    let mut orphan = new_file(&cpu, 1, 10);
    orphan.bucket_id = Id::random();
    assert!(matches!(
        catalog.replace_parquet_files(&[old[0].id], &[orphan]).await,
        Err(Error::NotFound(Entity::Bucket))
    ));
    assert_eq!(listed(&*catalog, b.id).await, old);
}

pub async fn parquet_files_delete_ignores_unknown_ids(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let cpu = table(&*catalog, &b, "cpu", &[]).await;
    let old = files(
        &*catalog,
        &[
            new_file(&cpu, 1, 1),
            new_file(&cpu, 2, 2),
            new_file(&cpu, 3, 3),
        ],
    )
    .await;
    catalog
        .delete_parquet_files(&[Id::random(), old[0].id, old[2].id, old[0].id])
        .await
        .expect("delete files");
    assert_eq!(ids(&listed(&*catalog, b.id).await), [old[1].id]);
    catalog
        .delete_parquet_files(&[old[0].id])
        .await
        .expect("delete again");
    catalog
        .delete_parquet_files(&[])
        .await
        .expect("delete none");
    assert_eq!(ids(&listed(&*catalog, b.id).await), [old[1].id]);
}

/// Compactions racing to replace the same file: exactly one of them does.
pub async fn concurrent_parquet_file_replaces_remove_once(config: CatalogConfig) {
    let catalog = open(&config).await;
    let b = bucket(&*catalog, &org(&*catalog, "acme").await, "data").await;
    let cpu = table(&*catalog, &b, "cpu", &[]).await;
    let old = files(&*catalog, &[new_file(&cpu, 1, 1), new_file(&cpu, 1, 2)]).await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let catalog = Arc::clone(&catalog);
            // Half name the files in one order, half in the other.
            let remove = if i % 2 == 0 {
                vec![old[0].id, old[1].id]
            } else {
                vec![old[1].id, old[0].id]
            };
            let add = new_file(&cpu, 1, 1);
            tokio::spawn(async move { catalog.replace_parquet_files(&remove, &[add]).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("replace task") {
            Ok(added) => winners.extend(added),
            Err(Error::NotFound(Entity::ParquetFile)) => {}
            Err(e) => panic!("expected success or NotFound(ParquetFile), got {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1);
    assert_eq!(listed(&*catalog, b.id).await, winners);
}
