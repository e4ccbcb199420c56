//! InfluxDB-style resource IDs: a non-zero 64-bit number written as 16 lower-case hex digits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A resource ID (org, user, bucket, authorization, DBRP mapping).
///
/// Invariant: never zero, so an ID always renders as exactly 16 hex digits that parse back.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u64);

/// Why a string is not an [`Id`]; the texts are InfluxDB 2.x's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("id must have a length of 16 bytes")]
    Length,
    #[error("invalid ID")]
    Invalid,
}

impl Id {
    /// A fresh random ID.
    pub fn random() -> Self {
        loop {
            let v: u64 = rand::random();
            if v != 0 {
                return Self(v);
            }
        }
    }

    /// Builds an ID from its numeric value; `None` for zero.
    pub fn from_u64(v: u64) -> Option<Self> {
        (v != 0).then_some(Self(v))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl FromStr for Id {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 16 {
            return Err(IdError::Length);
        }
        // from_str_radix accepts a leading '+', which an ID never has.
        if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(IdError::Invalid);
        }
        let v = u64::from_str_radix(s, 16).map_err(|_| IdError::Invalid)?;
        Self::from_u64(v).ok_or(IdError::Invalid)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects() {
        let id = Id::random();
        assert_eq!(id.to_string().len(), 16);
        assert_eq!(id.to_string().parse::<Id>(), Ok(id));
        assert_eq!("0000000000000001".parse::<Id>().map(Id::get), Ok(1));
        assert_eq!("abc".parse::<Id>(), Err(IdError::Length));
        assert_eq!("0000000000000000".parse::<Id>(), Err(IdError::Invalid));
        assert_eq!("+000000000000001".parse::<Id>(), Err(IdError::Invalid));
        assert_eq!("zzzzzzzzzzzzzzzz".parse::<Id>(), Err(IdError::Invalid));
        assert_eq!(
            IdError::Length.to_string(),
            "id must have a length of 16 bytes"
        );
    }
}
