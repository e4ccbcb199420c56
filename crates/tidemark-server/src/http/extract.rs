//! Request extractors: the caller's principal, JSON bodies, and query parameters.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use bytes::Bytes;
use http::request::Parts;
use serde::de::DeserializeOwned;
use tidemark_catalog::Id;

use super::AppState;
use crate::auth::{token, Principal};
use crate::error::{Error, ErrorCode};

/// The authenticated caller. Rejects with 401 `unauthorized access` when the request carries no
/// active token.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub(crate) Arc<Principal>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .ok_or_else(Error::unauthenticated)?;
        let token = token::from_authorization_header(header.as_bytes())
            .map_err(|_| Error::unauthenticated())?;
        let principal = state.service.authenticator().authenticate(&token).await?;
        Ok(Self(principal))
    }
}

/// The caller of a v1 endpoint (`/write`, `/query`): like [`Caller`], but the token may also
/// come as the `p` query parameter (`u` is ignored), as InfluxDB 1.x clients send it.
#[derive(Debug, Clone)]
pub(crate) struct V1Caller(pub(crate) Arc<Principal>);

impl FromRequestParts<AppState> for V1Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if parts.headers.contains_key(http::header::AUTHORIZATION) {
            return Caller::from_request_parts(parts, state)
                .await
                .map(|c| Self(c.0));
        }
        let params = Params::from_request_parts(parts, state).await?;
        let token = params.text("p").ok_or_else(Error::unauthenticated)?;
        let principal = state.service.authenticator().authenticate(&token).await?;
        Ok(Self(principal))
    }
}

/// A JSON object body, bounded by the router's body limit. Unknown fields are ignored; malformed
/// JSON, a body that is not an object, wrong types and missing required fields are 400 with
/// serde's message naming the field.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::new(ErrorCode::RequestTooLarge, "request body is too large")
            } else {
                Error::invalid(format!("failed to read request body: {rejection}"))
            }
        })?;
        // serde would also read a struct from a JSON array (`["acme"]` as `{"name":"acme"}`);
        // every body of the API is an object.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            // Keep serde's message for what is not JSON at all.
            return Err(Error::invalid(
                match serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
                    Err(e) => format!("failed to decode request body: {e}"),
                    Ok(_) => "failed to decode request body: expected a JSON object".to_owned(),
                },
            ));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| Error::invalid(format!("failed to decode request body: {e}")))
    }
}

/// Query parameters; a repeated parameter counts with its first value, as InfluxDB reads them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Every pair, repeats included, in URL order.
    pub(crate) fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        let pairs = parts
            .uri
            .query()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self(pairs))
    }
}

impl Params {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty parameter.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// An ID parameter; a malformed one is a 400 with InfluxDB's text.
    pub(crate) fn id(&self, name: &str) -> Result<Option<Id>, Error> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => Ok(Some(v.parse()?)),
        }
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, Error> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| Error::invalid(format!("{name} must be true or false"))),
        }
    }

    pub(crate) fn page(&self) -> Result<crate::service::Page, Error> {
        crate::service::Page::parse(
            self.get("offset"),
            self.get("limit"),
            self.get("after"),
            self.get("descending"),
        )
    }
}

/// A path segment that must be an ID.
pub(crate) fn path_id(raw: &str) -> Result<Id, Error> {
    Ok(raw.parse()?)
}
