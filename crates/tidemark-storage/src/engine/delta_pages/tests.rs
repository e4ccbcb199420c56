use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use bytes::Bytes;
use parquet::arrow::arrow_reader::{
    ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection, RowSelector,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::PageIndexPolicy;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use tidemark_tsbs::Rng;

use super::{corrupt, encode, encode_values, Layout, PqResult};
use crate::engine::persist::encode_parquet;

/// The properties persistence uses, with small pages and row groups so that tests cover
/// many of both.
fn props(schema: &Schema, page_rows: usize, group_rows: usize) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_data_page_row_count_limit(page_rows)
        .set_write_batch_size(page_rows.min(1024))
        .set_max_row_group_row_count(Some(group_rows));
    for f in schema.fields() {
        if matches!(f.data_type(), DataType::Int64 | DataType::UInt64) {
            b = b
                .set_column_dictionary_enabled(f.name().as_str().into(), false)
                .set_column_encoding(f.name().as_str().into(), Encoding::DELTA_BINARY_PACKED);
        }
    }
    b.build()
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter_with_nullable(columns.into_iter().map(|(n, a)| (n, a, true)))
        .unwrap()
}

fn read(file: &[u8]) -> RecordBatch {
    let file = Bytes::copy_from_slice(file);
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = Arc::clone(reader.schema());
    let batches: Vec<_> = reader.build().unwrap().map(|b| b.unwrap()).collect();
    arrow::compute::concat_batches(&schema, &batches).unwrap()
}

/// Writes `batch` both ways and checks that arrow-rs reads ours back identically, with the
/// same statistics, pages and page index as arrow-rs's own file.
fn roundtrip(batch: &RecordBatch, page_rows: usize, group_rows: usize) -> (usize, usize) {
    let ours = encode(batch, props(&batch.schema(), page_rows, group_rows)).unwrap();
    let mut theirs = Vec::new();
    let mut w = ArrowWriter::try_new(
        &mut theirs,
        batch.schema(),
        Some(props(&batch.schema(), page_rows, group_rows)),
    )
    .unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    assert_eq!(&read(&ours), batch);

    let meta = |file: &[u8]| {
        ParquetRecordBatchReaderBuilder::try_new_with_options(
            Bytes::copy_from_slice(file),
            ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required),
        )
        .unwrap()
        .metadata()
        .as_ref()
        .clone()
    };
    let (a, b) = (meta(&ours), meta(&theirs));
    assert_eq!(a.num_row_groups(), b.num_row_groups());
    for (ra, rb) in a.row_groups().iter().zip(b.row_groups()) {
        assert_eq!(ra.num_rows(), rb.num_rows());
        for (ca, cb) in ra.columns().iter().zip(rb.columns()) {
            assert_eq!(ca.statistics(), cb.statistics());
            assert_eq!(ca.num_values(), cb.num_values());
            assert_eq!(ca.compression(), cb.compression());
            assert_eq!(
                ca.encodings().collect::<Vec<_>>(),
                cb.encodings().collect::<Vec<_>>()
            );
        }
    }
    assert_eq!(a.column_index(), b.column_index());
    let (oa, ob) = (a.offset_index().unwrap(), b.offset_index().unwrap());
    for (ga, gb) in oa.iter().zip(ob) {
        for (pa, pb) in ga.iter().zip(gb) {
            let rows = |p: &parquet::file::page_index::offset_index::OffsetIndexMetaData| {
                p.page_locations()
                    .iter()
                    .map(|l| l.first_row_index)
                    .collect::<Vec<_>>()
            };
            assert_eq!(rows(pa), rows(pb));
        }
    }
    (ours.len(), theirs.len())
}

fn random_walk(rng: &mut Rng, n: usize) -> Vec<i64> {
    let mut v = rng.below(100) as i64;
    (0..n)
        .map(|_| {
            v += rng.below(7) as i64 - 3;
            v
        })
        .collect()
}

/// Series of random walks, as persistence sorts them, shrink whether long (nibbles) or
/// short (bytes).
#[test]
fn random_walks_shrink() {
    let mut rng = Rng::new(1);
    for (series, rows) in [(50, 2000), (1000, 60)] {
        let values: Vec<i64> = (0..series)
            .flat_map(|_| random_walk(&mut rng, rows))
            .collect();
        let b = batch(vec![("i", Arc::new(Int64Array::from(values)) as ArrayRef)]);
        let (ours, theirs) = roundtrip(&b, 20_000, 1 << 20);
        assert!(ours < theirs, "{rows}-row series: {ours} vs {theirs}");
    }
}

#[test]
fn nulls_extremes_and_small_pages() {
    let values = vec![
        Some(i64::MIN),
        Some(i64::MAX),
        None,
        Some(i64::MIN),
        Some(0),
        Some(-1),
        Some(i64::MAX),
        None,
        None,
        Some(i64::MAX - 1),
        Some(i64::MIN + 1),
    ];
    let ints: Vec<Option<i64>> = values.iter().copied().cycle().take(5000).collect();
    let uints: Vec<Option<u64>> = (0..5000u64)
        .map(|i| match i % 5 {
            0 => None,
            1 => Some(u64::MAX - i),
            2 => Some(i),
            3 => Some(1 << 63),
            _ => Some(u64::MAX),
        })
        .collect();
    let b = batch(vec![
        ("i", Arc::new(Int64Array::from(ints)) as ArrayRef),
        ("u", Arc::new(UInt64Array::from(uints)) as ArrayRef),
        (
            "s",
            Arc::new(StringArray::from_iter_values(
                (0..5000).map(|i| format!("s{}", i % 3)),
            )) as ArrayRef,
        ),
    ]);
    // Pages of 100 rows, row groups of 1,000: 10 row groups of 10 pages.
    roundtrip(&b, 100, 1000);
}

#[test]
fn single_values_and_all_null() {
    roundtrip(
        &batch(vec![(
            "i",
            Arc::new(Int64Array::from(vec![42])) as ArrayRef,
        )]),
        100,
        100,
    );
    roundtrip(
        &batch(vec![(
            "i",
            Arc::new(Int64Array::from(vec![None, None, Some(-7), None])) as ArrayRef,
        )]),
        2,
        3,
    );
    roundtrip(
        &batch(vec![(
            "i",
            Arc::new(Int64Array::from(vec![None::<i64>; 300])) as ArrayRef,
        )]),
        100,
        1000,
    );
}

#[test]
fn required_column() {
    let schema = Schema::new(vec![Field::new("i", DataType::Int64, false)]);
    let b = RecordBatch::try_new(
        Arc::new(schema),
        vec![Arc::new(Int64Array::from_iter_values(
            (0..3000).map(|i| i * i),
        ))],
    )
    .unwrap();
    roundtrip(&b, 500, 2000);
}

/// Property test: random lengths, nulls, step sizes (from none to full 64-bit jumps), page
/// and row group sizes.
#[test]
fn random_data_roundtrips() {
    let mut rng = Rng::new(7);
    for case in 0..60 {
        let n = 1 + rng.below(if case % 10 == 0 { 20_000 } else { 3000 });
        let step_bits = rng.below(65) as u32;
        let null_every = rng.below(5);
        let mut v = rng.next_u64() as i64;
        let values: Vec<Option<i64>> = (0..n)
            .map(|i| {
                let step = if step_bits == 0 {
                    0
                } else {
                    (rng.next_u64() >> (64 - step_bits)) as i64
                };
                // Sometimes a series boundary: a jump anywhere.
                v = if rng.below(500) == 0 {
                    rng.next_u64() as i64
                } else {
                    v.wrapping_add(step).wrapping_sub(step / 2)
                };
                (null_every == 0 || i % (null_every + 1) != 0).then_some(v)
            })
            .collect();
        let uints: Vec<Option<u64>> = values.iter().map(|v| v.map(|v| v as u64)).collect();
        let b = batch(vec![
            ("i", Arc::new(Int64Array::from(values)) as ArrayRef),
            ("u", Arc::new(UInt64Array::from(uints)) as ArrayRef),
        ]);
        roundtrip(&b, 1 + rng.below(3000), 1 + rng.below(10_000));
    }
}

/// Persistence's own path: the page index is written and `RowSelection` reads return the
/// selected rows.
#[test]
fn row_selection_through_the_page_index() {
    let mut rng = Rng::new(3);
    let n = 70_000;
    let i = Int64Array::from(random_walk(&mut rng, n));
    let u = UInt64Array::from_iter_values(i.values().iter().map(|v| (*v as u64) << 40));
    let b = batch(vec![
        ("i", Arc::new(i) as ArrayRef),
        ("u", Arc::new(u) as ArrayRef),
    ]);
    let file = Bytes::from(encode_parquet(&b).unwrap());
    let options = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required);
    let builder = ParquetRecordBatchReaderBuilder::try_new_with_options(file, options).unwrap();
    assert!(builder.metadata().offset_index().is_some());
    assert!(builder.metadata().column_index().is_some());
    let pages = &builder.metadata().offset_index().unwrap()[0][0];
    assert!(pages.page_locations().len() >= 3);
    let selection = RowSelection::from(vec![
        RowSelector::skip(19_990),
        RowSelector::select(25),
        RowSelector::skip(30_000),
        RowSelector::select(3),
        RowSelector::skip(19_000),
        RowSelector::select(982),
    ]);
    let schema = Arc::clone(builder.schema());
    let read: Vec<_> = builder
        .with_row_selection(selection)
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect();
    let read = arrow::compute::concat_batches(&schema, &read).unwrap();
    let want = arrow::compute::concat_batches(
        &b.schema(),
        &[
            b.slice(19_990, 25),
            b.slice(50_015, 3),
            b.slice(69_018, 982),
        ],
    )
    .unwrap();
    assert_eq!(read, want);
}

#[test]
fn layouts_decode() {
    let mut rng = Rng::new(5);
    for n in [0, 1, 2, 33, 4097, 9000] {
        let mut values = random_walk(&mut rng, n);
        if n > 100 {
            values[50] = i64::MIN;
            values[51] = 1000;
            values[n - 1] = -1000;
        }
        for layout in [Layout::Nibbles, Layout::Bytes] {
            let mut out = Vec::new();
            encode_values(&values, layout, &mut out);
            assert_eq!(decode(&out, n).unwrap(), values, "{layout:?} {n}");
        }
    }
}

/// A corrupt page is an error, never a panic or a huge allocation.
#[test]
fn corrupt_pages_fail() {
    let mut rng = Rng::new(9);
    let mut out = Vec::new();
    encode_values(&random_walk(&mut rng, 1000), Layout::Nibbles, &mut out);
    assert!(decode(&out, 999).is_err());
    assert!(decode(&out[..out.len() - 1], 1000).is_err());
    for _ in 0..2000 {
        let bytes: Vec<u8> = (0..rng.below(64)).map(|_| rng.next_u64() as u8).collect();
        let _ = decode(&bytes, 1000);
    }
}

/// Arrow C++ (pyarrow) reads our pages as arrow-rs writes them. Runs where
/// `TIDEMARK_TEST_PYTHON` names a Python with pyarrow (`scripts/test.sh` sets it to the
/// compatibility tests' venv); skipped otherwise.
#[test]
fn pyarrow_reads_it() {
    let Some(python) = std::env::var_os("TIDEMARK_TEST_PYTHON") else {
        eprintln!("TIDEMARK_TEST_PYTHON is not set: skipped");
        return;
    };
    let mut rng = Rng::new(11);
    let n = 50_000;
    let walk = random_walk(&mut rng, n);
    let extremes = [i64::MIN, i64::MAX, 0, -1, i64::MIN + 1];
    let wide: Vec<Option<i64>> = (0..n)
        .map(|i| (i % 7 != 0).then(|| extremes[i % 5].wrapping_add(rng.next_u64() as i64 >> 3)))
        .collect();
    let b = batch(vec![
        (
            "host",
            Arc::new(
                (0..n)
                    .map(|i| ["host_a", "host_b", "host_c"][i / 20_000])
                    .collect::<arrow::array::DictionaryArray<arrow::datatypes::Int32Type>>(),
            ) as ArrayRef,
        ),
        ("walk", Arc::new(Int64Array::from(walk.clone())) as ArrayRef),
        ("wide", Arc::new(Int64Array::from(wide)) as ArrayRef),
        (
            "u",
            Arc::new(UInt64Array::from_iter_values(
                walk.iter().map(|v| (*v as u64).wrapping_add(u64::MAX / 2)),
            )) as ArrayRef,
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.parquet");
    std::fs::write(&ours, encode_parquet(&b).unwrap()).unwrap();
    let theirs = dir.path().join("theirs.parquet");
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(&theirs).unwrap(), b.schema(), None).unwrap();
    w.write(&b).unwrap();
    w.close().unwrap();
    let script = r#"
import sys
import pyarrow.parquet as pq
ours, theirs = pq.read_table(sys.argv[1]), pq.read_table(sys.argv[2])
assert ours.equals(theirs), "pyarrow reads different values"
meta = pq.ParquetFile(sys.argv[1]).metadata
for i in range(meta.num_columns):
    column = meta.row_group(0).column(i)
    if column.path_in_schema == "walk":
        # 3-bit arrow-rs packing would be about 19 KB; our layouts are 4 or 8 bits.
        assert column.total_uncompressed_size > 24000, column.total_uncompressed_size
    if column.path_in_schema in ("walk", "wide", "u"):
        assert "DELTA_BINARY_PACKED" in column.encodings, column.encodings
print("ok", ours.num_rows)
"#;
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&ours)
        .arg(&theirs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok 50000");
}

/// An independent reader of `DELTA_BINARY_PACKED` values sections, to check our layouts
/// against (arrow-rs's own reader is checked in the round trips above).
/// Reads a `DELTA_BINARY_PACKED` values section of at most `max_values` values (arrow-rs's, or
/// ours: any block and miniblock sizes the format allows).
fn decode(buf: &[u8], max_values: usize) -> PqResult<Vec<i64>> {
    let mut r = Reader { buf, pos: 0 };
    let block = r.uleb()? as usize;
    let miniblocks = r.uleb()? as usize;
    let total = r.uleb()? as usize;
    let first = zigzag_decode(r.uleb()?);
    // Bounded so that no size below overflows (arrow-rs writes 128).
    if block == 0
        || block > 1 << 24
        || !block.is_multiple_of(128)
        || miniblocks == 0
        || miniblocks > block
        || !block.is_multiple_of(miniblocks * 32)
    {
        return Err(corrupt("block size"));
    }
    if total > max_values {
        return Err(corrupt("value count"));
    }
    let per_mini = block / miniblocks;
    let mut out = Vec::with_capacity(total);
    if total == 0 {
        return Ok(out);
    }
    out.push(first);
    let mut last = first;
    while out.len() < total {
        let min_delta = zigzag_decode(r.uleb()?);
        let widths = r.take(miniblocks)?;
        for &width in widths {
            if out.len() == total {
                break;
            }
            let width = usize::from(width);
            if width > 64 {
                return Err(corrupt("bit width"));
            }
            let packed = r.take(per_mini * width / 8)?;
            let n = per_mini.min(total - out.len());
            let mask = if width == 64 {
                u64::MAX
            } else {
                (1u64 << width) - 1
            };
            // Little-endian bit packing: value i is bits [i * width, (i + 1) * width).
            let mut acc: u128 = 0;
            let mut bits = 0;
            let mut bytes = packed.iter();
            for _ in 0..n {
                while bits < width {
                    acc |= u128::from(*bytes.next().ok_or_else(|| corrupt("miniblock"))?) << bits;
                    bits += 8;
                }
                let delta = (acc as u64 & mask) as i64;
                acc >>= width;
                bits -= width;
                last = last.wrapping_add(min_delta).wrapping_add(delta);
                out.push(last);
            }
        }
    }
    Ok(out)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> PqResult<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(|| corrupt("length"))?;
        let bytes = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| corrupt("length"))?;
        self.pos = end;
        Ok(bytes)
    }

    fn uleb(&mut self) -> PqResult<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.take(1)?.first().ok_or_else(|| corrupt("varint"))?;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt("varint"))
    }
}

fn zigzag_decode(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}
