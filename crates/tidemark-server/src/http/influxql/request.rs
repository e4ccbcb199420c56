//! What a v1 `/query` request asks for, from its query string and body: `q`, `db`, `rp`,
//! `epoch`, `pretty`, `chunked`, `chunk_size`, `params`, and the output format from `Accept`.
//!
//! A POST body may be a form (`application/x-www-form-urlencoded`, whose values override the
//! URL's), a multipart form, or the query itself (`application/vnd.influxql`, `text/plain` or
//! no content type).

use bytes::Bytes;
use http::HeaderMap;
use tidemark_influxql::{Duration, ParamValue};

use crate::error::{Error, Result};

/// The rows per chunk when `chunk_size` is absent or not a positive number (1.x's default).
pub(crate) const DEFAULT_CHUNK_SIZE: usize = 10_000;

/// The output format, from `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Csv,
    Msgpack,
}

impl Format {
    /// The first media range of `Accept` that names a format; JSON otherwise, as 1.x answers.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let accept = headers
            .get_all(http::header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|range| {
                range
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        for range in accept {
            match range.as_str() {
                "application/csv" | "text/csv" => return Self::Csv,
                "application/x-msgpack" => return Self::Msgpack,
                "application/json" | "*/*" => return Self::Json,
                _ => {}
            }
        }
        Self::Json
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "application/csv",
            Self::Msgpack => "application/x-msgpack",
        }
    }
}

/// The request's parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct V1Query {
    pub(crate) q: String,
    pub(crate) db: Option<String>,
    pub(crate) rp: Option<String>,
    /// Nanoseconds per unit of `epoch`.
    pub(crate) epoch: Option<i64>,
    pub(crate) pretty: bool,
    /// `Some(rows per chunk)` in chunked mode.
    pub(crate) chunk_size: Option<usize>,
    pub(crate) params: tidemark_influxql::Params,
}

/// `epoch` as nanoseconds per unit.
pub(crate) fn epoch(raw: &str) -> Result<i64> {
    Ok(match raw {
        "ns" | "n" => 1,
        "u" | "µ" | "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        other => {
            return Err(Error::invalid(format!(
                "invalid epoch \"{other}\" (use ns, u, µ, us, ms, s, m or h)"
            )))
        }
    })
}

/// The `params` JSON object as parameter values: numbers with a fraction are floats, other
/// numbers integers (1.x's rule); `{"identifier": ..}`, `{"regex": ..}`, `{"duration": ..}`
/// and the like give a value of that kind.
pub(crate) fn params(raw: &str) -> Result<tidemark_influxql::Params> {
    use serde_json::Value;
    let bad = |m: String| Error::invalid(format!("error parsing query parameters: {m}"));
    let object: serde_json::Map<String, Value> =
        serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
    let number = |n: &serde_json::Number| match n.as_i64() {
        Some(i) => ParamValue::Integer(i),
        None => ParamValue::Float(n.as_f64().unwrap_or(f64::NAN)),
    };
    let mut out = tidemark_influxql::Params::new();
    for (name, value) in object {
        let v = match value {
            Value::Bool(b) => ParamValue::Boolean(b),
            Value::Number(n) => number(&n),
            Value::String(s) => ParamValue::String(s),
            Value::Object(o) if o.len() == 1 => {
                let (kind, v) = o.into_iter().next().unwrap_or_default();
                match (kind.as_str(), v) {
                    ("identifier", Value::String(s)) => ParamValue::Identifier(s),
                    ("regex", Value::String(s)) => ParamValue::Regex(s),
                    ("string", Value::String(s)) => ParamValue::String(s),
                    ("boolean", Value::Bool(b)) => ParamValue::Boolean(b),
                    ("integer" | "number" | "float", Value::Number(n)) => number(&n),
                    ("duration", Value::String(s)) => ParamValue::Duration(
                        Duration::parse(&s).map_err(|e| bad(format!("{name}: {e}")))?,
                    ),
                    (kind, _) => {
                        return Err(bad(format!("{name}: unsupported value of type {kind}")))
                    }
                }
            }
            other => return Err(bad(format!("{name}: unsupported value {other}"))),
        };
        out.insert(name, v);
    }
    Ok(out)
}

/// Name/value pairs of a form (`a=1&b=2`).
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The position of `needle` in `haystack` from `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The fields of a `multipart/form-data` body (a file field counts by its name too).
fn multipart_pairs(content_type: &str, body: &[u8]) -> Result<Vec<(String, String)>> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| Error::invalid("multipart form without a boundary"))?;
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut pairs = Vec::new();
    let mut at =
        find(body, delimiter, 0).ok_or_else(|| Error::invalid("malformed multipart form"))?;
    loop {
        let start = at + delimiter.len();
        if body.get(start..start + 2) == Some(b"--") {
            break;
        }
        let next = find(body, delimiter, start)
            .ok_or_else(|| Error::invalid("malformed multipart form"))?;
        let part = &body[start..next];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let split =
            find(part, b"\r\n\r\n", 0).ok_or_else(|| Error::invalid("malformed multipart form"))?;
        let headers = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let name = headers
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .flat_map(|l| l.split(';'))
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.trim() == "name")
            .map(|(_, v)| v.trim().trim_matches('"').to_owned());
        if let Some(name) = name {
            pairs.push((name, String::from_utf8_lossy(content).into_owned()));
        }
        at = next;
    }
    Ok(pairs)
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Reads the parameters from the URL's pairs and, for a POST, the body.
pub(crate) fn read(
    url: Vec<(String, String)>,
    method: &http::Method,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<V1Query> {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_owned();
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // Body pairs first: a form's values override the URL's.
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut raw_query = None;
    if method == http::Method::POST && !body.is_empty() {
        match mime.as_str() {
            "application/x-www-form-urlencoded" => pairs = form_pairs(body),
            "multipart/form-data" => pairs = multipart_pairs(&content_type, body)?,
            "" | "application/vnd.influxql" | "text/plain" => {
                raw_query = Some(String::from_utf8_lossy(body).into_owned());
            }
            // Clients such as influxdb-python send `application/json` with the query in the URL
            // and nothing in the body; a body they did send cannot be read.
            other if get(&url, "q").is_none() => {
                return Err(Error::invalid(format!(
                    "invalid mime type ({other}): use application/x-www-form-urlencoded, multipart/form-data or application/vnd.influxql"
                )))
            }
            _ => {}
        }
    }
    pairs.extend(url);
    let text = |name: &str| {
        get(&pairs, name)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let q = text("q")
        .or(raw_query.filter(|q| !q.trim().is_empty()))
        .ok_or_else(|| Error::invalid("missing required parameter \"q\""))?;
    let epoch = text("epoch").map(|e| epoch(&e)).transpose()?;
    let chunked = get(&pairs, "chunked") == Some("true");
    let chunk_size = chunked.then(|| {
        get(&pairs, "chunk_size")
            .and_then(|s| s.trim().parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_CHUNK_SIZE)
    });
    let params = match text("params") {
        Some(raw) => params(&raw)?,
        None => tidemark_influxql::Params::new(),
    };
    Ok(V1Query {
        q,
        db: text("db"),
        rp: text("rp"),
        epoch,
        pretty: get(&pairs, "pretty") == Some("true"),
        chunk_size,
        params,
    })
}

#[cfg(test)]
mod tests {
    use http::{HeaderValue, Method};

    use super::*;

    fn url(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn headers(content_type: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if !content_type.is_empty() {
            h.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_str(content_type).expect("ascii"),
            );
        }
        h
    }

    #[test]
    fn reads_every_parameter_from_the_url() {
        let q = read(
            url(&[
                ("q", "SHOW DATABASES"),
                ("db", "d"),
                ("rp", "r"),
                ("epoch", "ms"),
                ("pretty", "true"),
                ("chunked", "true"),
                ("chunk_size", "5"),
                (
                    "params",
                    r#"{"a":1,"b":1.0,"c":"s","d":true,"m":{"identifier":"cpu"}}"#,
                ),
            ]),
            &Method::GET,
            &HeaderMap::new(),
            &Bytes::new(),
        )
        .expect("valid");
        assert_eq!(q.q, "SHOW DATABASES");
        assert_eq!((q.db.as_deref(), q.rp.as_deref()), (Some("d"), Some("r")));
        assert_eq!(q.epoch, Some(1_000_000));
        assert!(q.pretty);
        assert_eq!(q.chunk_size, Some(5));
        assert_eq!(q.params.get("a"), Some(&ParamValue::Integer(1)));
        assert_eq!(q.params.get("b"), Some(&ParamValue::Float(1.0)));
        assert_eq!(q.params.get("c"), Some(&ParamValue::String("s".into())));
        assert_eq!(q.params.get("d"), Some(&ParamValue::Boolean(true)));
        assert_eq!(
            q.params.get("m"),
            Some(&ParamValue::Identifier("cpu".into()))
        );
    }

    #[test]
    fn chunk_size_defaults_and_needs_chunked() {
        let get = |pairs: &[(&str, &str)]| {
            read(url(pairs), &Method::GET, &HeaderMap::new(), &Bytes::new())
                .expect("valid")
                .chunk_size
        };
        assert_eq!(get(&[("q", "x"), ("chunk_size", "5")]), None);
        assert_eq!(
            get(&[("q", "x"), ("chunked", "true"), ("chunk_size", "-1")]),
            Some(DEFAULT_CHUNK_SIZE)
        );
        assert_eq!(
            get(&[("q", "x"), ("chunked", "true")]),
            Some(DEFAULT_CHUNK_SIZE)
        );
    }

    #[test]
    fn bodies_of_every_kind() {
        let form = read(
            url(&[("q", "url"), ("db", "a")]),
            &Method::POST,
            &headers("application/x-www-form-urlencoded"),
            &Bytes::from_static(b"q=SELECT+1&db=b"),
        )
        .expect("form");
        assert_eq!(
            (form.q.as_str(), form.db.as_deref()),
            ("SELECT 1", Some("b"))
        );

        for ct in ["", "application/vnd.influxql", "text/plain; charset=utf-8"] {
            let raw = read(
                url(&[("db", "a")]),
                &Method::POST,
                &headers(ct),
                &Bytes::from_static(b"SHOW MEASUREMENTS"),
            )
            .expect("raw");
            assert_eq!(raw.q, "SHOW MEASUREMENTS", "{ct}");
        }

        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\nSHOW DATABASES\r\n--XyZ\r\nContent-Disposition: form-data; name=\"db\"\r\n\r\nmydb\r\n--XyZ--\r\n";
        let multi = read(
            url(&[]),
            &Method::POST,
            &headers("multipart/form-data; boundary=XyZ"),
            &Bytes::from(body),
        )
        .expect("multipart");
        assert_eq!(
            (multi.q.as_str(), multi.db.as_deref()),
            ("SHOW DATABASES", Some("mydb"))
        );

        // influxdb-python: JSON content type, empty body, the query in the URL.
        let py = read(
            url(&[("q", "SHOW DATABASES")]),
            &Method::POST,
            &headers("application/json"),
            &Bytes::new(),
        )
        .expect("python");
        assert_eq!(py.q, "SHOW DATABASES");
        let bad = read(
            url(&[]),
            &Method::POST,
            &headers("application/json"),
            &Bytes::from_static(b"{}"),
        )
        .expect_err("json body");
        assert!(
            bad.message.starts_with("invalid mime type"),
            "{}",
            bad.message
        );
    }

    #[test]
    fn refusals() {
        let missing = read(
            url(&[("db", "x")]),
            &Method::GET,
            &HeaderMap::new(),
            &Bytes::new(),
        )
        .expect_err("no q");
        assert_eq!(missing.message, "missing required parameter \"q\"");
        assert!(epoch("d").is_err());
        assert_eq!(epoch("µ").expect("micro"), 1_000);
        assert_eq!(epoch("h").expect("hour"), 3_600_000_000_000);
        assert!(params("[1]").is_err());
        assert!(params(r#"{"a":[1]}"#).is_err());
        assert!(matches!(
            params(r#"{"d":{"duration":"1h"}}"#)
                .expect("duration")
                .get("d"),
            Some(ParamValue::Duration(_))
        ));
    }

    #[test]
    fn accept_picks_the_format() {
        let with = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                http::header::ACCEPT,
                HeaderValue::from_str(accept).expect("ascii"),
            );
            Format::from_headers(&h)
        };
        assert_eq!(Format::from_headers(&HeaderMap::new()), Format::Json);
        assert_eq!(with("application/csv"), Format::Csv);
        assert_eq!(with("text/csv"), Format::Csv);
        assert_eq!(with("application/x-msgpack"), Format::Msgpack);
        assert_eq!(with("text/html, application/json;q=0.9"), Format::Json);
        assert_eq!(with("*/*"), Format::Json);
    }
}
