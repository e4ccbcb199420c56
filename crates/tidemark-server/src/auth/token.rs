//! API tokens: generation, hashing, and finding one in a request.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A fresh token: 256 random bits, URL-safe so it survives `?p=` and Basic auth unchanged.
pub fn generate() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "tdm_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What the catalog stores instead of the token. Tokens carry 256 random bits, so an unsalted
/// digest is enough and keeps lookups a single indexed equality.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Why a request carried no usable token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// No credentials at all.
    Absent,
    /// An Authorization header we cannot read (unknown scheme, bad base64, empty token).
    Malformed,
}

/// Finds the token in an `Authorization` header value: `Token t`, `Bearer t` (schemes
/// case-insensitive, as InfluxDB 2 accepts them), or `Basic base64(user:t)` where the token is
/// everything after the first colon, so a client may put any user name before it.
pub fn from_authorization_header(value: &[u8]) -> Result<String, Missing> {
    let value = std::str::from_utf8(value).map_err(|_| Missing::Malformed)?;
    let (scheme, rest) = value.trim().split_once(' ').ok_or(Missing::Malformed)?;
    let rest = rest.trim();
    let token = if scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer") {
        rest.to_owned()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| Missing::Malformed)?;
        let decoded = String::from_utf8(decoded).map_err(|_| Missing::Malformed)?;
        let (_user, password) = decoded.split_once(':').ok_or(Missing::Malformed)?;
        password.to_owned()
    } else {
        return Err(Missing::Malformed);
    };
    if token.is_empty() {
        return Err(Missing::Malformed);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_every_scheme() {
        let basic = base64::engine::general_purpose::STANDARD.encode("anyone:s3cret:x");
        let cases: [(&str, Result<&str, Missing>); 8] = [
            ("Token abc", Ok("abc")),
            ("token abc", Ok("abc")),
            ("Bearer abc", Ok("abc")),
            ("BEARER  abc ", Ok("abc")),
            (&format!("Basic {basic}"), Ok("s3cret:x")),
            ("Basic !!!", Err(Missing::Malformed)),
            ("Digest abc", Err(Missing::Malformed)),
            ("Token ", Err(Missing::Malformed)),
        ];
        for (header, want) in cases {
            let got = from_authorization_header(header.as_bytes());
            assert_eq!(got.as_deref().map_err(|e| *e), want, "{header}");
        }
    }

    #[test]
    fn generated_tokens_are_distinct_and_hash_stably() {
        let a = generate();
        assert_ne!(a, generate());
        assert_eq!(hash(&a), hash(&a));
        assert_eq!(hash(&a).len(), 64);
    }
}
