//! What a Flight request says, read from its ticket and its metadata: the JSON ticket of
//! InfluxDB 3's DoGet (also the statement handles this server puts in its own tickets), the
//! database headers of Flight SQL, and the caller's `authorization`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tidemark_query::Params;
use tonic::metadata::MetadataMap;

use crate::error::{Error, Result};
use crate::service::{params_from_json, QueryLanguage};

/// The metadata keys that may name the database, the preferred first.
const DATABASE_HEADERS: [&str; 4] = ["database", "bucket", "bucket-name", "iox-namespace-name"];

/// A query to run, as a ticket carries it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryTicket {
    pub(crate) database: String,
    pub(crate) query: String,
    pub(crate) language: QueryLanguage,
    pub(crate) params: Params,
}

/// InfluxDB 3's JSON ticket. The database has several names; the parameters are JSON values.
#[derive(Debug, Deserialize, Serialize)]
struct JsonTicket {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    database: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bucket: Option<String>,
    #[serde(
        default,
        rename = "bucket-name",
        skip_serializing_if = "Option::is_none"
    )]
    bucket_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    namespace_name: Option<String>,
    sql_query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    query_type: Option<String>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    params: serde_json::Map<String, Value>,
}

/// Whether the ticket is JSON (InfluxDB 3's clients) rather than protobuf (Flight SQL).
pub(crate) fn is_json(ticket: &[u8]) -> bool {
    ticket
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// Reads a JSON ticket.
pub(crate) fn parse(ticket: &[u8]) -> Result<QueryTicket> {
    let raw: JsonTicket = serde_json::from_slice(ticket)
        .map_err(|e| Error::invalid(format!("Invalid ticket: {e}")))?;
    let names = [
        &raw.database,
        &raw.bucket,
        &raw.bucket_name,
        &raw.namespace_name,
    ];
    let database = one_name(names.into_iter().flatten().map(String::as_str))?
        .ok_or_else(|| Error::invalid("Invalid ticket: no database"))?;
    let language = match raw.query_type.as_deref() {
        None | Some("sql") => QueryLanguage::Sql,
        Some("influxql") => QueryLanguage::InfluxQl,
        Some(other) => {
            return Err(Error::invalid(format!(
                "Unknown query type. Expected 'sql' or 'influxql', got {other}"
            )))
        }
    };
    let params = params_from_json(raw.params)?;
    Ok(QueryTicket {
        database,
        query: raw.sql_query,
        language,
        params,
    })
}

/// A query as the JSON this server puts in its own Flight SQL handles and tickets.
pub(crate) fn encode(database: &str, sql: &str, language: QueryLanguage) -> Result<Vec<u8>> {
    serde_json::to_vec(&JsonTicket {
        database: Some(database.to_owned()),
        bucket: None,
        bucket_name: None,
        namespace_name: None,
        sql_query: sql.to_owned(),
        query_type: match language {
            QueryLanguage::Sql => None,
            QueryLanguage::InfluxQl => Some("influxql".to_owned()),
        },
        params: serde_json::Map::new(),
    })
    .map_err(|e| Error::internal(format!("encoding a ticket: {e}")))
}

/// The one name several places give; they may repeat it but not disagree.
fn one_name<'a>(names: impl Iterator<Item = &'a str>) -> Result<Option<String>> {
    let mut found: Option<&str> = None;
    for name in names.filter(|n| !n.is_empty()) {
        match found {
            Some(f) if f != name => {
                return Err(Error::invalid(format!(
                    "more than one database named in the request: '{f}' and '{name}'"
                )))
            }
            _ => found = Some(name),
        }
    }
    Ok(found.map(str::to_owned))
}

/// The database a Flight SQL request names in its metadata.
pub(crate) fn database_header(metadata: &MetadataMap) -> Result<String> {
    let mut values = Vec::new();
    for key in DATABASE_HEADERS {
        for value in metadata.get_all(key) {
            let value = value
                .to_str()
                .map_err(|_| Error::invalid(format!("the '{key}' header is not valid text")))?;
            values.push(value.trim());
        }
    }
    one_name(values.into_iter())?.ok_or_else(|| Error::invalid("no 'database' header in request"))
}

/// The `authorization` value, if any (its checking is the service's).
pub(crate) fn authorization(metadata: &MetadataMap) -> Option<&[u8]> {
    metadata.get("authorization").map(|v| v.as_bytes())
}

#[cfg(test)]
mod tests {
    use tidemark_query::Param;

    use super::*;

    #[test]
    fn reads_influxdb3_tickets() {
        let t = parse(br#"{"database":"db","sql_query":"SELECT 1","query_type":"sql","params":{"h":"a","n":3,"f":1.5,"b":true,"z":null}}"#)
            .expect("valid");
        assert_eq!(t.database, "db");
        assert_eq!(t.language, QueryLanguage::Sql);
        assert_eq!(t.params.get("h"), Some(&Param::String("a".into())));
        assert_eq!(t.params.get("n"), Some(&Param::Int(3)));
        assert_eq!(t.params.get("f"), Some(&Param::Float(1.5)));
        assert_eq!(t.params.get("z"), Some(&Param::Null));
        for alias in ["bucket", "bucket-name", "namespace_name"] {
            let json = format!(r#"{{"{alias}":"b1","sql_query":"q"}}"#);
            assert_eq!(parse(json.as_bytes()).expect(alias).database, "b1");
        }
        let influxql =
            parse(br#"{"database":"d","sql_query":"SHOW DATABASES","query_type":"influxql"}"#);
        assert_eq!(
            influxql.expect("influxql").language,
            QueryLanguage::InfluxQl
        );
    }

    #[test]
    fn refuses_bad_tickets() {
        let unknown =
            parse(br#"{"database":"d","sql_query":"q","query_type":"flux"}"#).expect_err("flux");
        assert_eq!(
            unknown.message,
            "Unknown query type. Expected 'sql' or 'influxql', got flux"
        );
        assert!(parse(br#"{"sql_query":"q"}"#).is_err());
        assert!(parse(br#"{"database":"a","bucket":"b","sql_query":"q"}"#).is_err());
        assert!(parse(br#"{"database":"a","sql_query":"q","params":{"x":[1]}}"#).is_err());
        assert!(parse(b"{not json").is_err());
        assert!(is_json(b" {\"a\":1}"));
        assert!(!is_json(b"\x0a\x10type.googleapis.com"));
        let round =
            parse(&encode("db", "SELECT 2", QueryLanguage::Sql).expect("encode")).expect("parse");
        assert_eq!(
            (round.database.as_str(), round.query.as_str()),
            ("db", "SELECT 2")
        );
        let round =
            parse(&encode("db", "SHOW MEASUREMENTS", QueryLanguage::InfluxQl).expect("encode"))
                .expect("parse");
        assert_eq!(round.language, QueryLanguage::InfluxQl);
    }

    #[test]
    fn database_headers_may_repeat_but_not_disagree() {
        let mut md = MetadataMap::new();
        assert_eq!(
            database_header(&md).expect_err("none").message,
            "no 'database' header in request"
        );
        md.insert("bucket", "b".parse().expect("ascii"));
        assert_eq!(database_header(&md).expect("one"), "b");
        md.insert("database", "b".parse().expect("ascii"));
        assert_eq!(database_header(&md).expect("equal"), "b");
        md.insert("iox-namespace-name", "c".parse().expect("ascii"));
        assert!(database_header(&md).is_err());
    }
}
