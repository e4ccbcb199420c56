//! Applying a WAL record to the buffer: the same code for live writes and for replay.

use std::sync::Arc;
use std::time::Instant;

use tidemark_catalog::Column;

use super::Engine;
use crate::batch::{BatchReader, Value};
use crate::buffer::TableBuffer;
use crate::error::{Error, Result};
use crate::schema::TableSchema;

impl Engine {
    /// Puts a record's rows into the active buffer; returns how many.
    pub(super) fn apply(&self, payload: &[u8]) -> Result<usize> {
        let (mut reader, bucket, n_tables) = BatchReader::new(payload)?;
        let mut state = self.state();
        let mut values = Vec::new();
        let mut mapped: Vec<(usize, Value<'_>)> = Vec::new();
        let mut total = 0;
        let before = state.active.values().map(|t| t.bytes).sum::<usize>();
        for _ in 0..n_tables {
            let (name, columns, rows) = reader.table()?;
            let key = (bucket, name.to_owned());
            let schema = state.schemas.get(&key).cloned().ok_or_else(|| {
                Error::Internal(format!(
                    "table {name} of a WAL record is not in the catalog"
                ))
            })?;
            let positions = columns
                .iter()
                .map(|(c, k)| match schema.column(c) {
                    Some((i, kind)) if kind == *k => Ok(i),
                    _ => Err(Error::Internal(format!(
                        "column {c} ({k:?}) of table {name} is not in the catalog"
                    ))),
                })
                .collect::<Result<Vec<usize>>>()?;
            let table = state
                .active
                .entry(key)
                .or_insert_with(|| TableBuffer::new(Arc::clone(&schema)));
            if !Arc::ptr_eq(&table.schema, &schema) {
                table.schema = Arc::clone(&schema);
            }
            for _ in 0..rows {
                let time = reader.row(&columns, &mut values)?;
                mapped.clear();
                mapped.extend(values.iter().map(|&(c, v)| (positions[c as usize], v)));
                table.push_row(time, &mapped)?;
            }
            total += rows as usize;
        }
        let after = state.active.values().map(|t| t.bytes).sum::<usize>();
        state.active_bytes = state.active_bytes + after - before;
        if total > 0 && state.active_since.is_none() {
            state.active_since = Some(Instant::now());
        }
        Ok(total)
    }

    /// Applies a replayed record, first registering any table or column the catalog lacks (a
    /// record is only written after its columns are registered, so this is a repair path).
    pub(super) async fn replay(&self, payload: &[u8]) -> Result<usize> {
        let (mut reader, bucket, n_tables) = BatchReader::new(payload)?;
        if self.catalog.get_bucket(bucket).await?.is_none() {
            // The bucket was deleted after the write; its rows went with it.
            return Ok(0);
        }
        let mut values = Vec::new();
        for _ in 0..n_tables {
            let (name, columns, rows) = reader.table()?;
            let known = self.table(bucket, name);
            let missing: Vec<Column> = columns
                .iter()
                .filter(|(c, _)| known.as_ref().and_then(|s| s.column(c)).is_none())
                .map(|(c, k)| Column {
                    name: (*c).to_owned(),
                    kind: *k,
                })
                .collect();
            if known.is_none() || !missing.is_empty() {
                tracing::warn!(
                    table = name,
                    "WAL record names columns the catalog lacks: registering them"
                );
                let limits = tidemark_catalog::SchemaLimits {
                    max_tables_per_bucket: usize::MAX,
                    max_columns_per_table: usize::MAX,
                };
                let table = self
                    .catalog
                    .upsert_table(bucket, name, &missing, false, limits)
                    .await?;
                self.state().schemas.insert(
                    (bucket, name.to_owned()),
                    Arc::new(TableSchema::new(&table)),
                );
            }
            for _ in 0..rows {
                reader.row(&columns, &mut values)?;
            }
        }
        self.apply(payload)
    }
}
