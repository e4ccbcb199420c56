//! Name rules, with InfluxDB's messages.

use crate::error::{Error, Result};

/// Longest name we accept for an org, bucket, database or retention policy.
const MAX_NAME_LEN: usize = 256;

fn printable(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

pub(super) fn org_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::new(
            crate::error::ErrorCode::EmptyValue,
            "org name is empty",
        ));
    }
    common(name, "org")
}

pub(super) fn bucket_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid("bucket name is empty"));
    }
    if name.starts_with('_') {
        return Err(Error::invalid(format!(
            "bucket name {name} is invalid. Buckets may not start with underscore"
        )));
    }
    if name.contains(['"', '\'']) {
        return Err(Error::invalid(format!(
            "bucket name {name} is invalid. Bucket names may not include quotation marks"
        )));
    }
    common(name, "bucket")
}

fn common(name: &str, what: &str) -> Result<()> {
    if !printable(name) {
        return Err(Error::invalid(format!(
            "{what} name may not contain control characters"
        )));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Error::invalid(format!(
            "{what} name must be at most {MAX_NAME_LEN} bytes"
        )));
    }
    Ok(())
}

/// A v1 database or retention-policy name in a DBRP mapping.
pub(super) fn dbrp_name(value: &str, field: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value != "."
        && value != ".."
        && !value.contains(['/', '\\'])
        && printable(value)
        && value.len() <= MAX_NAME_LEN;
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{field} must contain at least one character and only printable characters, \
             may not be \".\" or \"..\", and may not contain \"/\" or \"\\\""
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(bucket_name("air_sensor").is_ok());
        assert!(bucket_name("émoji 🌊 ok").is_ok());
        assert!(bucket_name("_hidden").is_err());
        assert!(bucket_name("a\"b").is_err());
        assert!(bucket_name("a\nb").is_err());
        assert!(bucket_name("").is_err());
        assert!(org_name("").is_err());
        assert!(dbrp_name("telegraf", "database").is_ok());
        for bad in ["", ".", "..", "a/b", "a\\b", "a\tb"] {
            assert!(dbrp_name(bad, "database").is_err(), "{bad:?}");
        }
    }
}
