use std::sync::Arc;

use arrow::array::{
    ArrayRef, AsArray, DictionaryArray, Float64Array, Int64Array, RecordBatch,
    TimestampNanosecondArray,
};
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::properties::WriterProperties;
use tidemark_tsbs::Rng;

use super::{cold_runs, merge_sorted, time_cuts, Merged};
use crate::dedupe::sort_dedupe;
use crate::engine::compact::tests::{file, ids};
use crate::engine::delta_pages::encode;
use crate::engine::persist::{writer_properties, IntegerEncoding};
use crate::read::widen;

#[test]
fn runs_take_overlapping_files_whole_and_are_cut_at_the_byte_limit() {
    let files = vec![
        file(3, 40, 50, 10),
        file(1, 0, 10, 10),
        file(2, 20, 30, 10),
        // 4 and 5 overlap: a run takes both or neither.
        file(5, 65, 80, 10),
        file(4, 60, 70, 10),
        file(6, 90, 100, 10),
        file(7, 110, 120, 10),
        file(8, 130, 140, 10),
        file(9, 150, 160, 10),
    ];
    assert_eq!(
        ids(&cold_runs(files.clone(), 1000)),
        vec![vec![1, 2, 3, 4, 5, 6, 7, 8, 9]]
    );
    // At 25 bytes a run holds two files; a lone file left over is no run.
    assert_eq!(
        ids(&cold_runs(files.clone(), 25)),
        vec![vec![1, 2], vec![4, 5], vec![6, 7], vec![8, 9]]
    );
    // An overlapping pair larger than the limit on its own splits the runs around it.
    let big_pair = vec![
        file(1, 0, 10, 5),
        file(2, 20, 30, 5),
        file(4, 60, 70, 10),
        file(5, 65, 80, 10),
        file(6, 90, 100, 5),
        file(7, 110, 120, 5),
    ];
    assert_eq!(ids(&cold_runs(big_pair, 15)), vec![vec![1, 2], vec![6, 7]]);
    assert!(cold_runs(vec![file(1, 0, 10, 10)], 1000).is_empty());
    // Oldest first, whatever the times: the merge lets the newest file's values win.
    let late = vec![file(2, 0, 10, 10), file(1, 5, 20, 10)];
    let runs = cold_runs(late, 1000);
    let order: Vec<u64> = runs[0].iter().map(|f| f.id.get()).collect();
    assert_eq!(order, vec![1, 2]);
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

/// The file of a merge with one output.
fn one(merged: Merged) -> Vec<u8> {
    let [output]: [_; 1] = merged.outputs.try_into().unwrap_or_else(|o: Vec<_>| {
        panic!("{} outputs", o.len());
    });
    output.bytes
}

/// Input files of `rows` (`(schema, series, start)` each, oldest first), encoded, and the
/// rows that merging them must give (as compaction merges them, in `schema`).
fn encode_inputs<'a>(
    rng: &mut Rng,
    schema: &SchemaRef,
    inputs: impl IntoIterator<Item = (&'a SchemaRef, Vec<(&'a str, Option<&'a str>)>, i64)>,
) -> (Vec<Bytes>, RecordBatch) {
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(1000))
        .build();
    let mut files = Vec::new();
    let mut expected = Vec::new();
    for (file_schema, series, start) in inputs {
        let batch = rows(rng, file_schema, &series, start);
        files.push(Bytes::from(encode(&batch, props.clone()).unwrap()));
        expected.push(widen(&batch, schema).unwrap());
    }
    let expected = sort_dedupe(schema, &["host", "region"], &expected).unwrap();
    (files, expected)
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
    let inputs = inputs
        .into_iter()
        .enumerate()
        .map(|(i, (schema, series))| (schema, series, i as i64 * 1000));
    let (files, expected) = encode_inputs(&mut rng, &new, inputs);

    // Row groups of at most 250 rows.
    let out_props = writer_properties(&new, IntegerEncoding::PERSIST)
        .unwrap()
        .into_builder()
        .set_max_row_group_row_count(Some(250))
        .set_data_page_row_count_limit(64)
        .build();
    let key = vec!["host".to_owned(), "region".to_owned()];
    let merged = merge_sorted(files, &new, &key, out_props, &[]).unwrap();
    assert_eq!((merged.rows_in, merged.rows), (1000, 1000));
    let (batches, groups) = read_all(one(merged));
    assert_eq!(groups.iter().sum::<usize>(), 1000);
    assert!(groups.iter().all(|&g| g <= 250), "{groups:?}");
    assert!(groups.len() >= 4, "{groups:?}");
    let got = arrow::compute::concat_batches(&new, &batches).unwrap();
    assert_eq!(got, expected);
}

#[test]
fn merging_overlapping_files_merges_their_points_as_compaction_does() {
    let mut rng = Rng::new(11);
    let new = table_schema(true);
    let old = table_schema(false);
    // Oldest first. Series' times overlap across files (each spans 1,000 ns every 10 from its
    // start), so many points are in two or three files: their fields merge and the newest
    // non-null value wins. The middle file predates `load`; a series in one file only and
    // files that merely touch are in it too.
    let inputs = [
        (&new, vec![("a", Some("eu")), ("b", None), ("d", None)], 0),
        (&old, vec![("a", None), ("a", Some("eu")), ("b", None)], 500),
        (
            &new,
            vec![("a", Some("eu")), ("b", None), ("c", Some("us"))],
            250,
        ),
        (&new, vec![("a", Some("eu")), ("d", None)], 1490),
    ];
    let (files, expected) = encode_inputs(&mut rng, &new, inputs);
    assert!(expected.num_rows() < 1100, "the inputs share points");

    let out_props = writer_properties(&new, IntegerEncoding::PERSIST)
        .unwrap()
        .into_builder()
        .set_max_row_group_row_count(Some(250))
        .build();
    let key = vec!["host".to_owned(), "region".to_owned()];
    let merged = merge_sorted(files, &new, &key, out_props, &[]).unwrap();
    assert_eq!(merged.rows_in, 1100);
    assert_eq!(merged.rows, expected.num_rows());
    let (batches, _) = read_all(one(merged));
    let got = arrow::compute::concat_batches(&new, &batches).unwrap();
    assert_eq!(got, expected);
}

#[test]
fn no_files_merge_to_an_empty_file() {
    let schema = table_schema(true);
    let merged = merge_sorted(
        vec![],
        &schema,
        &["host".to_owned()],
        WriterProperties::default(),
        &[],
    )
    .unwrap();
    assert_eq!(merged.rows, 0);
    assert_eq!(read_all(one(merged)).1, Vec::<usize>::new());
}

#[test]
fn a_merge_with_cuts_writes_each_time_range_as_its_own_sorted_file() {
    let mut rng = Rng::new(5);
    let new = table_schema(true);
    // Overlapping inputs (shared points merge) spanning 0..1490.
    let inputs = [
        (&new, vec![("a", Some("eu")), ("b", None), ("d", None)], 0),
        (&new, vec![("a", Some("eu")), ("c", Some("us"))], 250),
        (&new, vec![("b", None), ("d", None)], 490),
    ];
    let (files, expected) = encode_inputs(&mut rng, &new, inputs);
    let out_props = writer_properties(&new, IntegerEncoding::PERSIST)
        .unwrap()
        .into_builder()
        .set_max_row_group_row_count(Some(120))
        .build();
    let key = vec!["host".to_owned(), "region".to_owned()];
    // Cuts inside a series' run, between points, and past every row: the last range is empty.
    let cuts = [255, 700, 5000];
    let merged = merge_sorted(files, &new, &key, out_props, &cuts).unwrap();
    assert_eq!(merged.rows_in, 700);
    // The outputs share the 120-row budget: a row group is written in each once the rows
    // waiting in all of them would pass it (a merged run is at most 3 batches of 64 rows).
    assert!(
        merged.peak_pending <= 120 + 3 * 64,
        "{}",
        merged.peak_pending
    );
    assert_eq!(merged.rows, expected.num_rows());
    assert_eq!(merged.outputs.len(), 4);
    let time = new.index_of("time").unwrap();
    let times = expected
        .column(time)
        .as_primitive::<arrow::datatypes::TimestampNanosecondType>()
        .clone();
    let bounds = [i64::MIN, 255, 700, 5000, i64::MAX];
    for (k, output) in merged.outputs.into_iter().enumerate() {
        let (lo, hi) = (bounds[k], bounds[k + 1]);
        let mask: arrow::array::BooleanArray =
            times.iter().map(|t| t.map(|t| t >= lo && t < hi)).collect();
        let want = arrow::compute::filter_record_batch(&expected, &mask).unwrap();
        assert_eq!(output.rows, want.num_rows(), "range {k}");
        if want.num_rows() == 0 {
            continue;
        }
        let t = want
            .column(time)
            .as_primitive::<arrow::datatypes::TimestampNanosecondType>();
        let (min, max) = (
            t.values().iter().min().copied(),
            t.values().iter().max().copied(),
        );
        assert_eq!((Some(output.min_time), Some(output.max_time)), (min, max));
        let (batches, groups) = read_all(output.bytes);
        assert!(groups.iter().all(|&g| g > 0), "{groups:?}");
        let got = arrow::compute::concat_batches(&new, &batches).unwrap();
        assert_eq!(got, want, "range {k}");
    }
}

/// A file of one series at `times`.
fn times_file(times: Vec<i64>) -> Bytes {
    let schema = table_schema(false);
    let n = times.len();
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            tag(vec![Some("a"); n]),
            tag(vec![None; n]),
            Arc::new(TimestampNanosecondArray::from(times)),
            Arc::new(Int64Array::from(vec![1i64; n])),
        ],
    )
    .unwrap();
    Bytes::from(encode(&batch, WriterProperties::default()).unwrap())
}

#[test]
fn time_cuts_divide_the_rows_where_they_are() {
    let cuts = |files: &[Vec<i64>], outputs| {
        let bytes: Vec<Bytes> = files.iter().map(|t| times_file(t.clone())).collect();
        let min = files.iter().flatten().min().copied().unwrap();
        let max = files.iter().flatten().max().copied().unwrap();
        time_cuts(&bytes, (min, max), outputs).unwrap()
    };
    let hundred: Vec<i64> = (0..100).collect();
    assert_eq!(cuts(std::slice::from_ref(&hundred), 1), Vec::<i64>::new());
    assert_eq!(cuts(std::slice::from_ref(&hundred), 4), vec![25, 50, 75]);
    // A late file: one row at 0 and 9 at the end of 0..=9,999. The other 200 rows are in
    // 0..=99, so half of the 210 are before 52, not before the middle of the range.
    let late = vec![0, 9991, 9992, 9993, 9994, 9995, 9996, 9997, 9998, 9999];
    assert_eq!(cuts(&[hundred.clone(), hundred, late], 2), vec![52]);
    // Disjoint files with a gap: the cut falls among the second file's rows.
    let (first, second): (Vec<i64>, Vec<i64>) = ((0..10).collect(), (100..130).collect());
    assert_eq!(cuts(&[first, second], 2), vec![110]);
    // More outputs than times: one cut per time at most, never at the first.
    assert_eq!(cuts(&[vec![10, 11, 12]], 5), vec![11, 12]);
    assert_eq!(cuts(&[vec![5; 1000]], 3), Vec::<i64>::new());
    // No overflow at the extremes: the cut is the start of the second of 4,096 buckets.
    assert_eq!(
        cuts(&[vec![i64::MIN, i64::MAX]], 2),
        vec![i64::MIN + (1 << 52)]
    );
}
