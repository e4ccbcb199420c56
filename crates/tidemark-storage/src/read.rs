//! Reading persisted files back whole, widened to a table's current schema.

use std::sync::Arc;

use arrow::array::{new_null_array, RecordBatch};
use arrow::datatypes::SchemaRef;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::Result;

/// Every row of a Parquet object, in `schema` (columns the file lacks, added to the table after
/// it was written, are nulls).
pub async fn read_parquet(
    store: &Arc<dyn ObjectStore>,
    path: &str,
    schema: &SchemaRef,
) -> Result<Vec<RecordBatch>> {
    let bytes = store.get(&ObjectPath::from(path)).await?.bytes().await?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()?;
    let mut out = Vec::new();
    for batch in reader {
        out.push(widen(&batch?, schema)?);
    }
    Ok(out)
}

/// `batch` in `schema`: same columns by name, missing ones null.
pub fn widen(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) if c.data_type() == f.data_type() => Ok(Arc::clone(c)),
            Some(c) => arrow::compute::cast(c, f.data_type()),
            None => Ok(new_null_array(f.data_type(), batch.num_rows())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        columns,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )?)
}
