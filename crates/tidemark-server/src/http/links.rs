//! Pagination links, as InfluxDB 2 renders them: the path, the filters, `descending`, `limit` and
//! `offset` (and `after` when given), keys sorted.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::service::Page;

#[derive(Debug, Serialize)]
pub(crate) struct Links {
    #[serde(rename = "self")]
    pub(crate) this: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) prev: Option<String>,
}

fn url(path: &str, filters: &[(&str, String)], page: &Page, offset: usize) -> String {
    let mut params: BTreeMap<&str, String> = filters.iter().cloned().collect();
    params.insert("descending", page.descending.to_string());
    params.insert("limit", page.limit.to_string());
    params.insert("offset", offset.to_string());
    if let Some(after) = page.after {
        params.insert("after", after.to_string());
    }
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    format!("{path}?{query}")
}

pub(crate) fn page_links(
    path: &str,
    filters: &[(&str, String)],
    page: &Page,
    has_more: bool,
) -> Links {
    Links {
        this: url(path, filters, page, page.offset),
        next: has_more.then(|| url(path, filters, page, page.offset + page.limit)),
        prev: (page.offset > 0)
            .then(|| url(path, filters, page, page.offset.saturating_sub(page.limit))),
    }
}

/// The filters a list request was given, for its links.
pub(crate) fn filters<'a>(
    pairs: impl IntoIterator<Item = (&'a str, Option<String>)>,
) -> Vec<(&'a str, String)> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}
