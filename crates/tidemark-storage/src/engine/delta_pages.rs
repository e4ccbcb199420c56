//! Nibble- and byte-aligned `DELTA_BINARY_PACKED` pages for integer fields.
//!
//! Integer fields in TSBS-like data are random walks: per series, the deltas are small (mostly
//! -3..3, about 2.15 bits of entropy). arrow-rs packs each miniblock of 32 deltas at the fewest
//! bits that hold them (3 or 4 here) with a per-block offset (min_delta), and zstd cannot
//! compress that further: symbols straddle byte boundaries and change meaning from block to
//! block. Packed at whole nibbles or bytes with a fixed offset instead, every delta is the same
//! byte (or the same half of a byte) wherever it occurs, and zstd's entropy coder brings it close
//! to the entropy. The result is still plain `DELTA_BINARY_PACKED` (any block shape, offset and
//! width from 0 to 64 is legal), so every Parquet reader reads it.
//!
//! Each page is written in whichever layout compresses smallest: arrow-rs's own (which wide
//! deltas favour), or ours (see [`Layout`]: nibbles, and bytes where series are short), so a page
//! is never larger than arrow-rs would have made it.
//!
//! arrow-rs has no option for this, so the file is assembled here from its parts: arrow-rs
//! column writers for every other column, and for each byte-aligned column a typed column writer
//! whose pages go through [`BytePageWriter`]. That writer takes each page's values from the
//! column it was given (pages hold them in order, so no decoding of arrow-rs's page), encodes
//! them again, compresses, and hands the page to the ordinary `SerializedPageWriter`. The
//! values are the same, so page statistics, row counts and the page index stay right; page
//! offsets and sizes come from the inner writer.
//!
//! The column writer itself writes these columns uncompressed (compressing the bit-packed page
//! only to undo it would waste CPU): [`BytePageWriter`] compresses, and the chunk's metadata then
//! names the codec the file's properties ask for.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type, SchemaRef, UInt64Type};
use bytes::Bytes;
use parquet::arrow::arrow_writer::{compute_leaves, ArrowRowGroupWriterFactory};
use parquet::arrow::{add_encoded_arrow_schema_to_metadata, ArrowSchemaConverter};
use parquet::basic::{Compression, Encoding};
use parquet::column::page::{CompressedPage, Page, PageWriteSpec, PageWriter};
use parquet::column::writer::{get_column_writer, ColumnCloseResult, ColumnWriter};
use parquet::errors::{ParquetError, Result as PqResult};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use parquet::schema::types::{ColumnDescPtr, SchemaDescPtr};

use crate::error::{Error, Result};

/// Values per block and per miniblock in our layouts. Every block starts with its min_delta
/// and one width byte per miniblock; large blocks make those headers rare and their runs of
/// equal width bytes cheap to compress, while 32-value miniblocks keep a wide delta (a series
/// boundary) from widening many others.
const BLOCK: usize = 4096;
const MINI: usize = 32;

/// Encodes `batch` as one Parquet file, as `ArrowWriter` would with `props` (Arrow schema in the
/// metadata, row groups of `max_row_group_row_count` rows), except that Int64 and UInt64 columns
/// that `props` delta-encode without a dictionary, with zstd or no compression, get byte-aligned
/// pages. The schema must be flat.
pub(crate) fn encode(batch: &RecordBatch, props: WriterProperties) -> Result<Vec<u8>> {
    let mut file = FileEncoder::new(batch.schema(), props, Vec::new())?;
    let rows_per_group = file.rows_per_group();
    let mut start = 0;
    while start < batch.num_rows() {
        let rows = batch.slice(start, rows_per_group.min(batch.num_rows() - start));
        file.write_group(|i| Ok(Arc::clone(rows.column(i))))?;
        start += rows.num_rows();
    }
    file.finish()
}

/// A Parquet file written one row group at a time, with [`encode`]'s pages: what a merge that
/// never holds the whole file's rows writes through.
pub(crate) struct FileEncoder<W: Write + Send> {
    schema: SchemaRef,
    parquet_schema: SchemaDescPtr,
    props: Arc<WriterProperties>,
    /// For byte-aligned leaves: properties that write them uncompressed, for columns with
    /// nulls and without (see `new`).
    raw: [Arc<WriterProperties>; 2],
    byte_aligned: Vec<bool>,
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    groups: usize,
}

impl<W: Write + Send> FileEncoder<W> {
    pub(crate) fn new(schema: SchemaRef, props: WriterProperties, out: W) -> Result<Self> {
        let parquet_schema = ArrowSchemaConverter::new()
            .with_coerce_types(props.coerce_types())
            .convert(&schema)?;
        // One leaf per field, so that leaf `i` is field `i`'s.
        if parquet_schema.num_columns() != schema.fields().len() {
            return Err(Error::Internal(
                "byte-aligned Parquet needs a flat schema".into(),
            ));
        }
        let mut props = props;
        add_encoded_arrow_schema_to_metadata(&schema, &mut props);
        // Which leaves are byte-aligned; their column writers write uncompressed (see the module
        // comment).
        let mut byte_aligned = vec![false; schema.fields().len()];
        let mut raw = props.clone().into_builder();
        for (i, field) in schema.fields().iter().enumerate() {
            let column = parquet_schema.column(i);
            byte_aligned[i] = matches!(field.data_type(), DataType::Int64 | DataType::UInt64)
                && props.encoding(column.path()) == Some(Encoding::DELTA_BINARY_PACKED)
                && !props.dictionary_enabled(column.path())
                // The codecs `BytePageWriter` applies.
                && matches!(
                    props.compression(column.path()),
                    Compression::ZSTD(_) | Compression::UNCOMPRESSED
                );
            if byte_aligned[i] {
                raw = raw.set_column_compression(column.path().clone(), Compression::UNCOMPRESSED);
            }
        }
        // arrow-rs checks page limits every `write_batch_size` rows of a column with nulls, but
        // every page's worth of rows without; given definition levels, the column writer always
        // does the former. So columns without nulls get properties that say the latter: pages
        // then break where arrow-rs breaks them.
        let raw = [
            Arc::new(raw.clone().build()),
            Arc::new(
                raw.set_write_batch_size(props.data_page_row_count_limit())
                    .build(),
            ),
        ];
        let props = Arc::new(props);
        let parquet_schema = Arc::new(parquet_schema);
        let file =
            SerializedFileWriter::new(out, parquet_schema.root_schema_ptr(), Arc::clone(&props))?;
        let factory = ArrowRowGroupWriterFactory::new(&file, Arc::clone(&schema));
        Ok(Self {
            schema,
            parquet_schema,
            props,
            raw,
            byte_aligned,
            file,
            factory,
            groups: 0,
        })
    }

    /// The most rows a row group should hold, from the properties.
    pub(crate) fn rows_per_group(&self) -> usize {
        self.props
            .max_row_group_row_count()
            .unwrap_or(usize::MAX)
            .max(1)
    }

    /// Writes one row group whose column `i` is `column(i)`, asked for one column at a time so
    /// that a caller assembling columns from pieces holds one assembled column at once.
    pub(crate) fn write_group(
        &mut self,
        mut column: impl FnMut(usize) -> Result<ArrayRef>,
    ) -> Result<()> {
        let writers = self.factory.create_column_writers(self.groups)?;
        let mut row_group = self.file.next_row_group()?;
        for (i, (field, mut writer)) in self.schema.fields().iter().zip(writers).enumerate() {
            let array = column(i)?;
            if self.byte_aligned[i] {
                let descr = self.parquet_schema.column(i);
                let codec = self.props.compression(descr.path());
                let raw = &self.raw[usize::from(array.logical_null_count() == 0)];
                let (chunk, close) = write_byte_aligned(descr, raw, codec, array.as_ref())?;
                row_group.append_column(&chunk, close)?;
            } else {
                for leaf in compute_leaves(field, &array)? {
                    writer.write(&leaf)?;
                }
                writer.close()?.append_to_row_group(&mut row_group)?;
            }
        }
        row_group.close()?;
        self.groups += 1;
        Ok(())
    }

    /// Writes the footer and gives back the output.
    pub(crate) fn finish(self) -> Result<W> {
        Ok(self.file.into_inner()?)
    }
}

/// Writes one Int64 or UInt64 column chunk through [`BytePageWriter`], into memory: the chunk's
/// bytes and what `SerializedRowGroupWriter::append_column` needs to place them.
fn write_byte_aligned(
    descr: ColumnDescPtr,
    raw: &Arc<WriterProperties>,
    codec: Compression,
    array: &dyn Array,
) -> Result<(Bytes, ColumnCloseResult)> {
    // UInt64 is stored as INT64 bit for bit, as arrow-rs stores it; statistics still order it
    // as unsigned, from the column's logical type.
    let values: &[i64] = match array.data_type() {
        DataType::Int64 => array.as_primitive::<Int64Type>().values(),
        DataType::UInt64 => array
            .as_primitive::<UInt64Type>()
            .values()
            .inner()
            .typed_data::<i64>(),
        other => return Err(Error::Internal(format!("not an integer column: {other}"))),
    };
    let nullable = descr.max_def_level() > 0;
    let nulls = array.logical_nulls().filter(|n| n.null_count() > 0);
    let (values, def_levels) = match (nullable, nulls) {
        (false, Some(_)) => {
            return Err(Error::Internal(format!(
                "nulls in the required column {}",
                descr.path()
            )))
        }
        (false, None) => (Cow::Borrowed(values), None),
        (true, Some(nulls)) => (
            Cow::Owned(nulls.valid_indices().map(|i| values[i]).collect()),
            Some(nulls.iter().map(i16::from).collect::<Vec<_>>()),
        ),
        (true, None) => (Cow::Borrowed(values), Some(vec![1i16; values.len()])),
    };
    let mut sink = TrackedWrite::new(Vec::new());
    let mut close = {
        let pages = BytePageWriter {
            inner: Box::new(SerializedPageWriter::new(&mut sink)),
            compressor: match codec {
                Compression::ZSTD(level) => Some(
                    zstd::bulk::Compressor::new(level.compression_level()).map_err(|source| {
                        Error::Io {
                            context: "zstd compressor".into(),
                            source,
                        }
                    })?,
                ),
                Compression::UNCOMPRESSED => None,
                other => {
                    return Err(Error::Internal(format!(
                        "no byte-aligned pages for {other}"
                    )))
                }
            },
            values: &values,
            levels: def_levels.as_deref(),
            values_at: 0,
            levels_at: 0,
        };
        let mut writer = get_column_writer(descr, Arc::clone(raw), Box::new(pages));
        let ColumnWriter::Int64ColumnWriter(typed) = &mut writer else {
            return Err(Error::Internal("an integer field is not INT64".into()));
        };
        typed.write_batch(&values, def_levels.as_deref(), None)?;
        writer.close()?
    };
    // The column writer wrote (and described) the chunk as uncompressed; the pages are `codec`.
    close.metadata = close
        .metadata
        .into_builder()
        .set_compression(codec)
        .build()?;
    Ok((Bytes::from(sink.into_inner()?), close))
}

/// A `PageWriter` that re-encodes uncompressed v1 `DELTA_BINARY_PACKED` data pages byte-aligned
/// and compresses every page (zstd, or not at all when `compressor` is `None`) before the inner
/// writer writes it.
struct BytePageWriter<'a> {
    inner: Box<dyn PageWriter + 'a>,
    compressor: Option<zstd::bulk::Compressor<'static>>,
    /// What the column writer was given: the non-null values, and the definition levels when
    /// the column is nullable (data pages then start with them). Pages take them in order, so
    /// a page's values are sliced from here rather than decoded back from arrow-rs's page.
    values: &'a [i64],
    levels: Option<&'a [i16]>,
    /// How many values and levels the pages so far held.
    values_at: usize,
    levels_at: usize,
}

impl BytePageWriter<'_> {
    /// The bodies `page` may be written with: its own, and for a v1 `DELTA_BINARY_PACKED` data
    /// page the same levels and values in each of our layouts.
    fn bodies(&mut self, page: &Page) -> PqResult<Vec<Vec<u8>>> {
        let mut bodies = vec![page.buffer().to_vec()];
        let Page::DataPage {
            buf,
            num_values,
            encoding,
            ..
        } = page
        else {
            return Ok(bodies);
        };
        // The page's rows: its levels, and its values (one per level that is not null).
        let rows = *num_values as usize;
        let count = match self.levels {
            Some(levels) => levels
                .get(self.levels_at..self.levels_at + rows)
                .ok_or_else(|| corrupt("level count"))?
                .iter()
                .filter(|&&l| l > 0)
                .count(),
            None => rows,
        };
        let values = self
            .values
            .get(self.values_at..self.values_at + count)
            .ok_or_else(|| corrupt("value count"))?;
        self.levels_at += rows;
        self.values_at += count;
        if *encoding != Encoding::DELTA_BINARY_PACKED {
            return Ok(bodies);
        }
        // A v1 page: repetition levels (none: the schema is flat), then definition levels as a
        // 4-byte length and their RLE data when the column is nullable, then the values.
        let levels = if self.levels.is_some() {
            let len = buf
                .get(..4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .ok_or_else(|| corrupt("definition levels"))?;
            4 + u32::from_le_bytes(len) as usize
        } else {
            0
        };
        let levels = buf
            .get(..levels)
            .ok_or_else(|| corrupt("definition levels"))?;
        let mut body = |layout| {
            let mut body = Vec::with_capacity(levels.len() + values.len() + 64);
            body.extend_from_slice(levels);
            let wide = encode_values(values, layout, &mut body);
            bodies.push(body);
            wide
        };
        // Each series boundary widens a miniblock of nibbles, which then compresses poorly:
        // bytes win for series shorter than about 500 rows. Try them where more than 1 in 32
        // miniblocks is wide (not on TSBS's 2,160-row series, where they cost 25% more CPU and
        // never win).
        let wide = body(Layout::Nibbles);
        if wide * 32 > values.len() / MINI {
            body(Layout::Bytes);
        }
        Ok(bodies)
    }
}

impl PageWriter for BytePageWriter<'_> {
    fn write_page(&mut self, page: CompressedPage) -> PqResult<PageWriteSpec> {
        let page = page.compressed_page();
        // The smallest body once compressed (the first of equals: arrow-rs's own).
        let mut best: Option<(usize, Vec<u8>)> = None;
        for body in self.bodies(page)? {
            let uncompressed = body.len();
            let buf = match self.compressor.as_mut() {
                Some(c) => c
                    .compress(&body)
                    .map_err(|e| ParquetError::External(Box::new(e)))?,
                None => body,
            };
            if best.as_ref().is_none_or(|(_, b)| buf.len() < b.len()) {
                best = Some((uncompressed, buf));
            }
        }
        let Some((uncompressed, buf)) = best else {
            return Err(ParquetError::General("no page body".into()));
        };
        let buf = Bytes::from(buf);
        let page = match page.clone() {
            Page::DataPage {
                num_values,
                encoding,
                def_level_encoding,
                rep_level_encoding,
                statistics,
                ..
            } => Page::DataPage {
                buf,
                num_values,
                encoding,
                def_level_encoding,
                rep_level_encoding,
                statistics,
            },
            Page::DictionaryPage {
                num_values,
                encoding,
                is_sorted,
                ..
            } => Page::DictionaryPage {
                buf,
                num_values,
                encoding,
                is_sorted,
            },
            Page::DataPageV2 { .. } => {
                return Err(ParquetError::General(
                    "byte-aligned columns are written with v1 data pages".into(),
                ))
            }
        };
        self.inner
            .write_page(CompressedPage::new(page, uncompressed))
    }

    fn close(&mut self) -> PqResult<()> {
        self.inner.close()
    }
}

fn corrupt(what: &str) -> ParquetError {
    ParquetError::General(format!("DELTA_BINARY_PACKED page: bad {what}"))
}

/// How [`encode_values`] packs deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// min_delta -8 and 4-bit miniblocks where the deltas fit -8..=7: a byte is a pair of
    /// deltas, whose joint distribution zstd's byte-wise entropy coder then captures. Best for
    /// long series of small steps; a miniblock with a larger delta (a series boundary) is a
    /// whole number of bytes wide, 64 bits when the delta is below -8.
    Nibbles,
    /// min_delta -128 and 8-bit miniblocks where the deltas fit a signed byte: one delta per
    /// byte. Series boundaries up to ±128 cost nothing special, so short series favour it.
    Bytes,
}

/// Writes `values` as a `DELTA_BINARY_PACKED` values section whose miniblocks are 0 or 4 bits
/// or a whole number of bytes wide, with the fixed min_delta of `layout` in every block: a
/// delta is then always the same packed value, whatever the block. Deltas below min_delta wrap
/// (as the format's arithmetic does), so they take 64 bits; the caller keeps arrow-rs's own page
/// when that makes ours larger. Returns how many miniblocks are wider than the layout's usual
/// 4 or 8 bits.
fn encode_values(values: &[i64], layout: Layout, out: &mut Vec<u8>) -> usize {
    let (min, nibbles) = match layout {
        Layout::Nibbles => (-8i64, true),
        Layout::Bytes => (-128, false),
    };
    uleb(BLOCK as u64, out);
    uleb((BLOCK / MINI) as u64, out);
    uleb(values.len() as u64, out);
    uleb(zigzag_encode(values.first().copied().unwrap_or(0)), out);
    let deltas: Vec<u64> = values
        .windows(2)
        .map(|w| w[1].wrapping_sub(w[0]).wrapping_sub(min) as u64)
        .collect();
    let mut wide = 0;
    for block in deltas.chunks(BLOCK) {
        uleb(zigzag_encode(min), out);
        let minis: Vec<&[u64]> = block.chunks(MINI).collect();
        let widths: Vec<usize> = (0..BLOCK / MINI)
            .map(|m| {
                let Some(mini) = minis.get(m) else { return 0 };
                let max = mini.iter().copied().max().unwrap_or(0);
                match 64 - max.leading_zeros() as usize {
                    0 => 0,
                    1..=4 if nibbles => 4,
                    bits => bits.div_ceil(8) * 8,
                }
            })
            .collect();
        out.extend(widths.iter().map(|&w| w as u8));
        wide += widths
            .iter()
            .filter(|&&w| w > if nibbles { 4 } else { 8 })
            .count();
        for (mini, &width) in minis.iter().zip(&widths) {
            // The last miniblock is padded to full length with zeros.
            let v = |i: usize| mini.get(i).copied().unwrap_or(0);
            if width == 4 {
                out.extend((0..MINI / 2).map(|i| (v(2 * i) | v(2 * i + 1) << 4) as u8));
            } else {
                for i in 0..MINI {
                    out.extend_from_slice(&v(i).to_le_bytes()[..width / 8]);
                }
            }
        }
    }
    wide
}

fn uleb(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag_encode(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[cfg(test)]
mod tests;
