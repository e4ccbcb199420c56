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
    /// How long a query may run, planning to last batch; `None`: for ever.
    timeout: Option<std::time::Duration>,
}

/// InfluxDB 1.x's text for a query stopped by its timeout.
pub(crate) const TIMEOUT_MESSAGE: &str = "query-timeout limit exceeded";

fn timed_out() -> Error {
    Error::Timeout(TIMEOUT_MESSAGE.to_owned())
}

impl QueryRuntime {
    pub(crate) fn new(threads: usize, timeout: Option<std::time::Duration>) -> Result<Self> {
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
            timeout,
        })
    }

    /// Runs `fut` on the query runtime in the background, until it ends or the runtime stops.
    pub(crate) fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        drop(self.handle.spawn(fut));
    }

    /// Runs `fut` on the query runtime and waits for it from any runtime. Dropping the returned
    /// future cancels the work.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let task = AbortOnDrop(Some(self.handle.spawn(fut)));
        let joined = match self.timeout {
            // Dropping the task on timeout aborts it.
            Some(t) => tokio::time::timeout(t, task)
                .await
                .map_err(|_| timed_out())?,
            None => task.await,
        };
        match joined {
            Ok(r) => r,
            Err(e) => Err(Error::Internal(format!("query task failed: {e}"))),
        }
    }

    /// Runs `fut` on the caller's runtime under the same deadline as [`Self::run`].
    pub(crate) async fn here<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
        match self.timeout {
            Some(t) => tokio::time::timeout(t, fut)
                .await
                .map_err(|_| timed_out())?,
            None => fut.await,
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
        let timeout = self.timeout;
        let task = self.handle.spawn(async move {
            // Planning and every batch count against one deadline.
            let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
            let expired = async move {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(expired);
            let started = tokio::select! {
                () = &mut expired => Err(timed_out()),
                started = start => started,
            };
            let (head, mut stream) = match started {
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
                    () = &mut expired => {
                        let _ = tx.send(Err(timed_out())).await;
                        return;
                    }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use std::sync::Arc;

    use datafusion::arrow::datatypes::Schema;
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;

    use super::*;

    fn slow() -> Duration {
        Duration::from_secs(30)
    }

    #[tokio::test]
    async fn a_statement_past_the_timeout_stops_with_1x_text() {
        let rt = QueryRuntime::new(1, Some(Duration::from_millis(20))).expect("runtime");
        let out = rt
            .run(async {
                tokio::time::sleep(slow()).await;
                Ok(())
            })
            .await;
        assert!(
            matches!(&out, Err(Error::Timeout(m)) if m == TIMEOUT_MESSAGE),
            "{out:?}"
        );
        // Within the timeout, answers come as usual.
        assert_eq!(rt.run(async { Ok(7) }).await.expect("quick"), 7);
    }

    #[tokio::test]
    async fn a_stream_past_the_timeout_ends_with_the_timeout_error() {
        let rt = QueryRuntime::new(1, Some(Duration::from_millis(50))).expect("runtime");
        // Planning past the deadline.
        let planning = rt
            .stream(async {
                tokio::time::sleep(slow()).await;
                Err::<((), SendableRecordBatchStream), _>(Error::Internal("unreachable".into()))
            })
            .await;
        assert!(matches!(planning, Err(Error::Timeout(_))));
        // Batches that never come.
        let (_, mut stream) = rt
            .stream(async {
                let schema = Arc::new(Schema::empty());
                let never = futures::stream::pending();
                let s: SendableRecordBatchStream =
                    Box::pin(RecordBatchStreamAdapter::new(schema, never));
                Ok(((), s))
            })
            .await
            .expect("planned in time");
        let first = stream.next().await;
        assert!(matches!(first, Some(Err(Error::Timeout(_)))), "{first:?}");
        assert!(stream.next().await.is_none());
    }
}
