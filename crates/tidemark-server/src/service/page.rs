//! Offset/limit/after pagination over a list that is already filtered and ordered.

use tidemark_catalog::Id;

use crate::error::{Error, Result};

pub(crate) const DEFAULT_LIMIT: usize = 20;
pub(crate) const MAX_LIMIT: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: usize,
    pub limit: usize,
    /// Start after the record with this id.
    pub after: Option<Id>,
    pub descending: bool,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: DEFAULT_LIMIT,
            after: None,
            descending: false,
        }
    }
}

impl Page {
    /// Validates raw query values with InfluxDB's messages.
    pub fn parse(
        offset: Option<&str>,
        limit: Option<&str>,
        after: Option<&str>,
        descending: Option<&str>,
    ) -> Result<Self> {
        let offset = match offset {
            None | Some("") => 0,
            Some(s) => s
                .parse::<usize>()
                .map_err(|_| Error::invalid("offset is invalid"))?,
        };
        let limit = match limit {
            None | Some("") => DEFAULT_LIMIT,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(Error::invalid("limit must be between 1 and 100")),
            },
        };
        let after = match after {
            None | Some("") => None,
            Some(s) => Some(s.parse::<Id>()?),
        };
        let descending = match descending {
            None | Some("") => false,
            Some(s) => s
                .parse::<bool>()
                .map_err(|_| Error::invalid("descending is invalid"))?,
        };
        Ok(Self {
            offset,
            limit,
            after,
            descending,
        })
    }

    /// Cuts one page out of `items`, reporting whether more follow it.
    pub fn apply<T>(&self, mut items: Vec<T>, id_of: impl Fn(&T) -> Id) -> Paged<T> {
        if self.descending {
            items.reverse();
        }
        let start = match self.after {
            Some(after) => items
                .iter()
                .position(|t| id_of(t) == after)
                .map_or(items.len(), |i| i + 1),
            None => 0,
        };
        let start = start.saturating_add(self.offset).min(items.len());
        let end = start.saturating_add(self.limit).min(items.len());
        let has_more = end < items.len();
        let items = items.drain(start..end).collect();
        Paged { items, has_more }
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u64) -> Vec<Id> {
        (1..=n).filter_map(Id::from_u64).collect()
    }

    #[test]
    fn pages() {
        let page = Page::parse(Some("1"), Some("2"), None, None).expect("valid");
        let p = page.apply(ids(5), |i| *i);
        assert_eq!(p.items.iter().map(|i| i.get()).collect::<Vec<_>>(), [2, 3]);
        assert!(p.has_more);
        let after = Page::parse(None, Some("10"), Some("0000000000000003"), None).expect("valid");
        let p = after.apply(ids(5), |i| *i);
        assert_eq!(p.items.iter().map(|i| i.get()).collect::<Vec<_>>(), [4, 5]);
        assert!(!p.has_more);
        let desc = Page::parse(None, Some("1"), None, Some("true")).expect("valid");
        assert_eq!(desc.apply(ids(3), |i| *i).items[0].get(), 3);
    }

    #[test]
    fn rejects_bad_values() {
        for (o, l) in [
            (Some("-1"), None),
            (None, Some("0")),
            (None, Some("101")),
            (None, Some("x")),
        ] {
            assert!(Page::parse(o, l, None, None).is_err(), "{o:?} {l:?}");
        }
        assert_eq!(
            Page::parse(None, Some("0"), None, None)
                .expect_err("bad")
                .message,
            "limit must be between 1 and 100"
        );
    }
}
