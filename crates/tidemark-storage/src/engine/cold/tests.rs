use std::sync::Arc;

use arrow::array::{
    ArrayRef, DictionaryArray, Float64Array, Int64Array, RecordBatch, TimestampNanosecondArray,
};
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::properties::WriterProperties;
use tidemark_tsbs::Rng;

use super::{cold_runs, merge_disjoint};
use crate::dedupe::sort_dedupe;
use crate::engine::compact::tests::{file, ids};
use crate::engine::delta_pages::encode;
use crate::engine::persist::{writer_properties, IntegerEncoding};
use crate::read::widen;

#[test]
fn runs_are_disjoint_files_in_time_order_cut_at_the_byte_limit() {
    let files = vec![
        file(3, 40, 50, 10),
        file(1, 0, 10, 10),
        file(2, 20, 30, 10),
        // 4 and 5 overlap: they split the run and stay out of it.
        file(4, 60, 70, 10),
        file(5, 65, 80, 10),
        file(6, 90, 100, 10),
        file(7, 110, 120, 10),
        file(8, 130, 140, 10),
        file(9, 150, 160, 10),
    ];
    assert_eq!(
        ids(&cold_runs(files.clone(), 1000)),
        vec![vec![1, 2, 3], vec![6, 7, 8, 9]]
    );
    // At 25 bytes a run holds two files; a lone file left over is no run.
    assert_eq!(
        ids(&cold_runs(files, 25)),
        vec![vec![1, 2], vec![6, 7], vec![8, 9]]
    );
    assert!(cold_runs(vec![file(1, 0, 10, 10)], 1000).is_empty());
}

fn tag(values: Vec<Option<&str>>) -> ArrayRef {
    Arc::new(values.into_iter().collect::<DictionaryArray<Int32Type>>())
}

fn table_schema(with_load: bool) -> SchemaRef {
    let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let mut fields = vec![
        Field::new("host", dict.clone(), true),
        Field::new("region", dict, true),
        Field::new(
            "time",
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            false,
        ),
        Field::new("usage", DataType::Int64, true),
    ];
    if with_load {
        fields.push(Field::new("load", DataType::Float64, true));
    }
    Arc::new(Schema::new(fields))
}

/// One file's rows: `series` (host, region) each every 10 ns over `[start, start + 1000)`,
/// a random walk of usage, some nulls; sorted by series then time.
fn rows(
    rng: &mut Rng,
    schema: &SchemaRef,
    series: &[(&str, Option<&str>)],
    start: i64,
) -> RecordBatch {
    let (mut hosts, mut regions, mut times, mut usage, mut load) =
        (vec![], vec![], vec![], vec![], vec![]);
    for (host, region) in series {
        let mut walk = (rng.next_u64() % 100) as i64;
        for i in 0..100 {
            hosts.push(Some(*host));
            regions.push(*region);
            times.push(start + i * 10);
            walk += (rng.next_u64() % 7) as i64 - 3;
            usage.push((!rng.next_u64().is_multiple_of(13)).then_some(walk));
            load.push(Some(walk as f64 / 7.0));
        }
    }
    let mut columns: Vec<ArrayRef> = vec![
        tag(hosts),
        tag(regions),
        Arc::new(TimestampNanosecondArray::from(times)),
        Arc::new(Int64Array::from(usage)),
    ];
    if schema.fields().len() == 5 {
        columns.push(Arc::new(Float64Array::from(load)));
    }
    let batch = RecordBatch::try_new(Arc::clone(schema), columns).unwrap();
    sort_dedupe(schema, &["host", "region"], &[batch]).unwrap()
}

fn read_all(file: Vec<u8>) -> (Vec<RecordBatch>, Vec<usize>) {
    let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file)).unwrap();
    let groups = reader
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows() as usize)
        .collect();
    let batches = reader.build().unwrap().map(|b| b.unwrap()).collect();
    (batches, groups)
}

#[test]
fn merging_disjoint_files_gives_the_sorted_rows_of_all_of_them() {
    let mut rng = Rng::new(7);
    let new = table_schema(true);
    let old = table_schema(false);
    // Series sort by host, then region with a missing region first; not every series is in
    // every file, and the middle file predates the `load` column.
    let inputs = [
        (
            &new,
            vec![
                ("a", Some("eu")),
                ("b", None),
                ("b", Some("us")),
                ("d", None),
            ],
        ),
        (
            &old,
            vec![("a", None), ("a", Some("eu")), ("c", Some("us"))],
        ),
        (
            &new,
            vec![("a", Some("eu")), ("b", Some("us")), ("c", Some("us"))],
        ),
    ];
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(1000))
        .build();
    let mut files = Vec::new();
    let mut expected = Vec::new();
    for (i, (schema, series)) in inputs.iter().enumerate() {
        let batch = rows(&mut rng, schema, series, i as i64 * 1000);
        files.push(Bytes::from(encode(&batch, props.clone()).unwrap()));
        expected.push(widen(&batch, &new).unwrap());
    }
    let expected = sort_dedupe(&new, &["host", "region"], &expected).unwrap();

    // Row groups of at most 250 rows.
    let out_props = writer_properties(&new, IntegerEncoding::PERSIST)
        .unwrap()
        .into_builder()
        .set_max_row_group_row_count(Some(250))
        .set_data_page_row_count_limit(64)
        .build();
    let key = vec!["host".to_owned(), "region".to_owned()];
    let merged = merge_disjoint(files, &new, &key, out_props).unwrap();
    assert_eq!(merged.rows, 1000);
    let (batches, groups) = read_all(merged.bytes);
    assert_eq!(groups.iter().sum::<usize>(), 1000);
    assert!(groups.iter().all(|&g| g <= 250), "{groups:?}");
    assert!(groups.len() >= 4, "{groups:?}");
    let got = arrow::compute::concat_batches(&new, &batches).unwrap();
    assert_eq!(got, expected);
}

#[test]
fn no_files_merge_to_an_empty_file() {
    let schema = table_schema(true);
    let merged = merge_disjoint(
        vec![],
        &schema,
        &["host".to_owned()],
        WriterProperties::default(),
    )
    .unwrap();
    assert_eq!(merged.rows, 0);
    assert_eq!(read_all(merged.bytes).1, Vec::<usize>::new());
}
