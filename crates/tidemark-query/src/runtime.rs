//! The query runtime: a Tokio runtime of its own for DataFusion's CPU-heavy work.
//!
//! Decoding Parquet, sorting and aggregating can keep a worker thread busy for a long time; on
//! the runtime that serves connections that would stall every other request. So planning and
//! execution run here, and results cross back to the caller's runtime through a small bounded
//! channel, which also carries backpressure: a slow client slows the query, not the server.

use std::future::Future;
use std::pin::Pin;

use datafusion::arrow::array::RecordBatch;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::{Stream, StreamExt};
use tokio::runtime::{Handle, Runtime};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// Batches of a running query, produced on the query runtime.
pub type QueryStream = Pin<Box<dyn Stream<Item = Result<RecordBatch>> + Send>>;

/// How many batches may wait for a slow consumer.
const CHANNEL_BATCHES: usize = 2;

/// Owns the runtime; shuts it down without blocking when dropped, because the last owner is
/// usually dropped inside the server's own runtime, where a blocking shutdown would panic.
#[derive(Debug)]
pub(crate) struct QueryRuntime {
    runtime: Option<Runtime>,
    handle: Handle,
}

impl QueryRuntime {
    pub(crate) fn new(threads: usize) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("tidemark-query")
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the query runtime: {e}")))?;
        let handle = runtime.handle().clone();
        Ok(Self {
            runtime: Some(runtime),
            handle,
        })
    }

    /// Runs `fut` on the query runtime and waits for it from any runtime. Dropping the returned
    /// future cancels the work.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        match AbortOnDrop(Some(self.handle.spawn(fut))).await {
            Ok(r) => r,
            Err(e) => Err(Error::Internal(format!("query task failed: {e}"))),
        }
    }

    /// Starts `start` (planning that ends in a stream) on the query runtime and drives the
    /// stream there, handing its batches over a channel. The query stops when the returned
    /// stream is dropped.
    pub(crate) async fn stream<T: Send + 'static>(
        &self,
        start: impl Future<Output = Result<(T, SendableRecordBatchStream)>> + Send + 'static,
    ) -> Result<(T, QueryStream)> {
        let (ready_tx, ready_rx) = oneshot::channel();
        let (tx, rx) = mpsc::channel::<Result<RecordBatch>>(CHANNEL_BATCHES);
        let task = self.handle.spawn(async move {
            let (head, mut stream) = match start.await {
                Ok(started) => started,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            if ready_tx.send(Ok(head)).is_err() {
                return;
            }
            loop {
                let next = tokio::select! {
                    () = tx.closed() => return,
                    next = stream.next() => next,
                };
                let Some(item) = next else { return };
                let item = item.map_err(Error::from);
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    return;
                }
            }
        });
        let guard = AbortOnDrop(Some(task));
        let head = match ready_rx.await {
            Ok(r) => r?,
            Err(_) => {
                return Err(Error::Internal(
                    "the query task ended without an answer".to_owned(),
                ))
            }
        };
        // From here the task ends by itself when the receiver goes away.
        guard.detach();
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        Ok((head, Box::pin(stream)))
    }
}

impl Drop for QueryRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A task handle that cancels its task when dropped (the caller went away).
struct AbortOnDrop<T>(Option<tokio::task::JoinHandle<T>>);

impl<T> AbortOnDrop<T> {
    /// Lets the task run on by itself.
    fn detach(mut self) {
        // Dropping a JoinHandle detaches its task.
        self.0.take();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.0.as_mut() {
            Some(handle) => Pin::new(handle).poll(cx),
            // Only `detach` empties it, and it consumes the guard.
            None => std::task::Poll::Pending,
        }
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.abort();
        }
    }
}
