//! `GET|POST /api/v3/query_sql` (InfluxDB 3 Core): SQL over HTTP, answered as JSON (an array of
//! row objects, nulls left out), JSON lines, CSV with a header, a pretty table, or a Parquet
//! file.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

use super::extract::{JsonBody, Params};
use super::AppState;
use crate::error::{Error, Result};
use crate::service::{params_from_json, Query, QueryLanguage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    JsonLines,
    Csv,
    Pretty,
    Parquet,
}

impl Format {
    fn parse(name: Option<&str>) -> Result<Self> {
        Ok(match name.unwrap_or("json") {
            "json" => Self::Json,
            "jsonl" => Self::JsonLines,
            "csv" => Self::Csv,
            "pretty" => Self::Pretty,
            "parquet" => Self::Parquet,
            other => {
                return Err(Error::invalid(format!(
                    "unsupported format {other:?}: use json, jsonl, csv, pretty or parquet"
                )))
            }
        })
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::JsonLines => "application/jsonl",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Pretty => "text/plain; charset=utf-8",
            Self::Parquet => "application/vnd.apache.parquet",
        }
    }
}

/// The POST body; the same fields as the GET parameters.
#[derive(Debug, Deserialize)]
pub(crate) struct QueryBody {
    db: Option<String>,
    q: Option<String>,
    format: Option<String>,
    #[serde(default)]
    params: Option<serde_json::Map<String, serde_json::Value>>,
}

pub(crate) async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response> {
    let query_params = match params.get("params").filter(|p| !p.is_empty()) {
        Some(text) => Some(
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
                .map_err(|e| Error::invalid(format!("params must be a JSON object: {e}")))?,
        ),
        None => None,
    };
    let body = QueryBody {
        db: params.text("db"),
        q: params.text("q"),
        format: params.text("format"),
        params: query_params,
    };
    run(&state, &headers, body).await
}

pub(crate) async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<QueryBody>,
) -> Result<Response> {
    run(&state, &headers, body).await
}

async fn run(state: &AppState, headers: &HeaderMap, body: QueryBody) -> Result<Response> {
    let principal = state
        .service
        .query_principal(headers.get(AUTHORIZATION).map(HeaderValue::as_bytes))
        .await?;
    let format = Format::parse(body.format.as_deref())?;
    let database = body
        .db
        .filter(|d| !d.is_empty())
        .ok_or_else(|| Error::invalid("missing required parameter \"db\""))?;
    let sql = body
        .q
        .filter(|q| !q.is_empty())
        .ok_or_else(|| Error::invalid("missing required parameter \"q\""))?;
    let params = params_from_json(body.params.unwrap_or_default())?;
    let output = state
        .service
        .query(
            &principal,
            Query {
                database: &database,
                text: &sql,
                language: QueryLanguage::Sql,
                params: &params,
            },
        )
        .await?;
    let schema = output.schema;
    let batches: Vec<RecordBatch> = output.stream.try_collect().await.map_err(Error::from)?;
    // Encoding a large answer is CPU work; keep it off the threads that serve connections.
    let bytes = tokio::task::spawn_blocking(move || render(format, &schema, batches))
        .await
        .map_err(|e| Error::internal(format!("encoding task failed: {e}")))??;
    Ok((
        StatusCode::OK,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        )],
        bytes,
    )
        .into_response())
}

/// Tags (dictionaries) as plain strings, as every format shows them.
fn hydrate(schema: &SchemaRef, batches: Vec<RecordBatch>) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Dictionary(_, value) => {
                f.as_ref().clone().with_data_type(value.as_ref().clone())
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    let plain: SchemaRef = Arc::new(Schema::new(fields).with_metadata(schema.metadata().clone()));
    let mut out = Vec::with_capacity(batches.len().max(1));
    for batch in batches {
        let columns = batch
            .columns()
            .iter()
            .zip(plain.fields())
            .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(encoding)?;
        out.push(RecordBatch::try_new(Arc::clone(&plain), columns).map_err(encoding)?);
    }
    // An empty answer still has its columns (a CSV header, a Parquet schema).
    if out.is_empty() {
        out.push(RecordBatch::new_empty(Arc::clone(&plain)));
    }
    Ok((plain, out))
}

fn encoding(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("encoding the answer: {e}"))
}

fn render(format: Format, schema: &SchemaRef, batches: Vec<RecordBatch>) -> Result<Vec<u8>> {
    let (schema, batches) = hydrate(schema, batches)?;
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    let mut out = Vec::new();
    match format {
        Format::Json => {
            let mut w = arrow::json::ArrayWriter::new(&mut out);
            w.write_batches(&refs).map_err(encoding)?;
            w.finish().map_err(encoding)?;
            if out.is_empty() {
                out.extend_from_slice(b"[]");
            }
        }
        Format::JsonLines => {
            let mut w = arrow::json::LineDelimitedWriter::new(&mut out);
            w.write_batches(&refs).map_err(encoding)?;
            w.finish().map_err(encoding)?;
        }
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            for b in &batches {
                w.write(b).map_err(encoding)?;
            }
        }
        Format::Pretty => {
            let text = arrow::util::pretty::pretty_format_batches(&batches).map_err(encoding)?;
            out = format!("{text}\n").into_bytes();
        }
        Format::Parquet => {
            let mut w =
                parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).map_err(encoding)?;
            for b in &batches {
                w.write(b).map_err(encoding)?;
            }
            w.close().map_err(encoding)?;
        }
    }
    Ok(out)
}
