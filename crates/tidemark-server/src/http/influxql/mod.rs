//! The v1 `/query` answer: InfluxQL results (InfluxDB 3's Arrow shape) cut into v1 series
//! (`series.rs`) and written as JSON, CSV or MessagePack (`json.rs`, `csv.rs`, `msgpack.rs`),
//! whole or chunk by chunk (`run.rs`), gzip-compressed when the client accepts it. The request's
//! parameters are read in `request.rs`.

mod csv;
mod go_float;
mod json;
mod msgpack;
mod request;
mod run;
mod series;

use std::io::Write as _;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use futures::{Stream, StreamExt};

pub(crate) use request::{read, Format};
pub(crate) use run::{start, Run};
pub(crate) use series::StatementResult;

/// Writes results in the requested format; remembers what CSV needs across chunks.
#[derive(Debug)]
pub(crate) struct Encoder {
    format: Format,
    epoch: Option<i64>,
    pretty: bool,
    csv: csv::CsvWriter,
}

impl Encoder {
    pub(crate) fn new(format: Format, epoch: Option<i64>, pretty: bool) -> Self {
        Self {
            format,
            epoch,
            pretty,
            csv: csv::CsvWriter::default(),
        }
    }

    /// One document (JSON, MessagePack) or the next lines (CSV).
    pub(crate) fn results(&mut self, results: &[StatementResult]) -> Vec<u8> {
        match self.format {
            Format::Json => json::encode(results, self.epoch, self.pretty),
            Format::Msgpack => msgpack::encode(results, self.epoch),
            // CSV times are always integers.
            Format::Csv => self.csv.encode(results, self.epoch.unwrap_or(1)),
        }
    }

    /// A request-level error, `{"error":"..."}` in the requested format.
    pub(crate) fn error(format: Format, message: &str) -> Vec<u8> {
        match format {
            Format::Json => json::error(message, false),
            Format::Msgpack => msgpack::error(message),
            Format::Csv => csv::error(message),
        }
    }
}

/// gzip for a body sent in pieces: each piece is flushed so the client can read it at once.
#[derive(Debug)]
pub(crate) struct Gzip(GzEncoder<Vec<u8>>);

impl Default for Gzip {
    fn default() -> Self {
        Self(GzEncoder::new(Vec::new(), Compression::fast()))
    }
}

impl Gzip {
    /// The compressed bytes of `data`, flushed.
    pub(crate) fn piece(&mut self, data: &[u8]) -> Vec<u8> {
        // Writing into a Vec cannot fail.
        let _ = self.0.write_all(data).and_then(|()| self.0.flush());
        std::mem::take(self.0.get_mut())
    }

    /// The end of the gzip stream.
    pub(crate) fn finish(self) -> Vec<u8> {
        self.0.finish().unwrap_or_default()
    }

    /// A whole body, compressed.
    pub(crate) fn whole(data: &[u8]) -> Vec<u8> {
        let mut g = Self::default();
        let mut out = g.piece(data);
        out.extend(g.finish());
        out
    }
}

/// The chunked body: each result written as it arrives, compressed if asked.
pub(crate) fn chunked_body(
    results: impl Stream<Item = StatementResult> + Send + Unpin + 'static,
    mut encoder: Encoder,
    gzip: bool,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let mut gz = gzip.then(Gzip::default);
    let pieces = results.map(move |r| encoder.results(std::slice::from_ref(&r)));
    let pieces = pieces
        .map(Some)
        .chain(futures::stream::iter([None]))
        .map(move |piece| match (piece, gz.as_mut()) {
            (Some(p), Some(g)) => g.piece(&p),
            (Some(p), None) => p,
            (None, Some(_)) => gz.take().map(Gzip::finish).unwrap_or_default(),
            (None, None) => Vec::new(),
        });
    pieces
        .filter(|p| futures::future::ready(!p.is_empty()))
        .map(|p| Ok(Bytes::from(p)))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn gzip_pieces_decompress_to_the_whole() {
        let mut g = Gzip::default();
        let mut all = g.piece(b"{\"a\":1}\n");
        all.extend(g.piece(b"{\"b\":2}\n"));
        all.extend(g.finish());
        let mut out = String::new();
        flate2::read::GzDecoder::new(&all[..])
            .read_to_string(&mut out)
            .expect("gzip");
        assert_eq!(out, "{\"a\":1}\n{\"b\":2}\n");
        let mut out = String::new();
        flate2::read::GzDecoder::new(&Gzip::whole(b"x")[..])
            .read_to_string(&mut out)
            .expect("gzip");
        assert_eq!(out, "x");
    }

    #[tokio::test]
    async fn chunked_bodies_write_one_document_per_result() {
        let results = vec![
            StatementResult {
                statement_id: 0,
                partial: true,
                ..Default::default()
            },
            StatementResult::error(1, "boom"),
        ];
        let body = chunked_body(
            futures::stream::iter(results),
            Encoder::new(Format::Json, None, false),
            false,
        );
        let pieces: Vec<Bytes> = body.map(|p| p.expect("bytes")).collect().await;
        assert_eq!(
            pieces,
            [
                Bytes::from("{\"results\":[{\"statement_id\":0,\"partial\":true}]}\n"),
                Bytes::from("{\"results\":[{\"statement_id\":1,\"error\":\"boom\"}]}\n"),
            ]
        );
    }
}
