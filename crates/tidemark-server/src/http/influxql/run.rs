//! Runs a request's statements in order and hands their results over a channel: in chunked
//! mode one piece per series slice (at most `chunk_size` rows) as soon as it is known, else
//! one whole result per statement. A failed statement becomes its error and the next one runs.
//! Nothing waits for the client: the channel is small, so a slow reader slows the query, and a
//! reader that went away stops it.

use std::sync::Arc;

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use tidemark_influxql::Statement;

use super::series::{Series, Splitter, StatementResult};
use crate::auth::Principal;
use crate::error::Error;
use crate::service::{InfluxQlDatabase, Service};

/// What one request runs.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) service: Arc<Service>,
    pub(crate) principal: Arc<Principal>,
    pub(crate) statements: Vec<Statement>,
    pub(crate) database: InfluxQlDatabase,
    pub(crate) now: i64,
    /// `Some(rows)` in chunked mode.
    pub(crate) chunk_size: Option<usize>,
}

/// How many results may wait for the encoder.
const CHANNEL_RESULTS: usize = 1;

/// Starts the run on its own task; its results arrive on the returned receiver.
pub(crate) fn start(run: Run) -> mpsc::Receiver<StatementResult> {
    let (tx, rx) = mpsc::channel(CHANNEL_RESULTS);
    tokio::spawn(run.execute(tx));
    rx
}

impl Run {
    async fn execute(self, mut tx: mpsc::Sender<StatementResult>) {
        for (id, statement) in self.statements.iter().enumerate() {
            if !self.statement(id, statement, &mut tx).await {
                // The client went away.
                return;
            }
        }
    }

    /// Runs one statement; false when the receiver is gone.
    async fn statement(
        &self,
        id: usize,
        statement: &Statement,
        tx: &mut mpsc::Sender<StatementResult>,
    ) -> bool {
        let output = self
            .service
            .influxql(&self.principal, statement, &self.database, self.now)
            .await;
        let mut output = match output {
            Ok(o) => o,
            Err(e) => {
                tracing::debug!(statement_id = id, error = %e, "InfluxQL statement refused");
                return tx.send(StatementResult::error(id, e.message)).await.is_ok();
            }
        };
        let chunked = self.chunk_size.is_some();
        let mut splitter = Splitter::new(&output.schema, self.chunk_size.unwrap_or(usize::MAX));
        let mut whole: Vec<Series> = Vec::new();
        while let Some(batch) = output.stream.next().await {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    let e = Error::from(e);
                    tracing::debug!(statement_id = id, error = %e, "InfluxQL statement failed");
                    let message = e.message;
                    return tx.send(StatementResult::error(id, message)).await.is_ok();
                }
            };
            let done = splitter.push(&batch);
            if !chunked {
                whole.extend(done);
                continue;
            }
            for series in done {
                // More rows came after this slice, so the statement goes on.
                let piece = StatementResult {
                    statement_id: id,
                    series: vec![series],
                    partial: true,
                    error: None,
                };
                if tx.send(piece).await.is_err() {
                    return false;
                }
            }
        }
        whole.extend(splitter.finish());
        let last = StatementResult {
            statement_id: id,
            series: whole,
            partial: false,
            error: None,
        };
        tx.send(last).await.is_ok()
    }
}
