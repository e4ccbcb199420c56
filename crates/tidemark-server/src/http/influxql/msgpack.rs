//! The v1 document as MessagePack, map-encoded like 1.x's (`application/x-msgpack`): the same
//! keys as the JSON document, floats kept as floats, times as RFC3339 strings or `epoch`
//! integers.

use super::json::{document, ValueStyle};
use super::series::StatementResult;

/// One MessagePack document; chunks are written one after another.
pub(crate) fn encode(results: &[StatementResult], epoch: Option<i64>) -> Vec<u8> {
    let style = ValueStyle {
        epoch,
        integral_floats: false,
    };
    match rmp_serde::to_vec_named(&document(results, style)) {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "encoding an InfluxQL result as MessagePack");
            error("internal error while encoding the result")
        }
    }
}

/// A top-level error, `{"error": "..."}`.
pub(crate) fn error(message: &str) -> Vec<u8> {
    rmp_serde::to_vec_named(&serde_json::json!({ "error": message })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::influxql::series::{Cell, Series};

    #[test]
    fn decodes_as_the_json_shape() {
        let r = vec![StatementResult {
            statement_id: 0,
            series: vec![Series {
                name: "cpu".into(),
                tags: vec![("host".into(), "a".into())],
                columns: vec!["time".into(), "v".into()],
                values: vec![vec![Cell::Time(1_000_000_000), Cell::Float(2.0)]],
                partial: false,
            }],
            ..Default::default()
        }];
        let bytes = encode(&r, Some(1_000_000_000));
        let back: serde_json::Value = rmp_serde::from_slice(&bytes).expect("msgpack");
        assert_eq!(
            back,
            serde_json::json!({"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","v"],"values":[[1,2.0]]}]}]})
        );
        let e: serde_json::Value = rmp_serde::from_slice(&error("boom")).expect("msgpack");
        assert_eq!(e, serde_json::json!({"error": "boom"}));
    }
}
