//! Authentication (token → principal, cached) and authorization (one decision function).

mod permission;
pub mod token;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tidemark_catalog::{AuthStatus, Catalog, Id, Permission};

pub use permission::{allows, authorize, may_see_org, Need};

use crate::error::{Error, Result};

/// Who is asking: the authorization behind the request's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub authorization_id: Id,
    pub org_id: Id,
    pub user_id: Id,
    pub permissions: Arc<[Permission]>,
}

/// How long a cached principal is trusted without asking the catalog. Changes made through this
/// node invalidate at once; the TTL bounds how long another node's change can go unseen when
/// several nodes share one PostgreSQL catalog.
const CACHE_TTL: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Cached {
    principal: Arc<Principal>,
    loaded: Instant,
}

/// Turns tokens into principals, caching by token hash.
#[derive(Debug)]
pub struct Authenticator {
    catalog: Arc<dyn Catalog>,
    cache: RwLock<HashMap<String, Cached>>,
    /// Bumped by every invalidation, so a lookup that raced with one does not cache what it read.
    generation: AtomicU64,
}

impl Authenticator {
    pub fn new(catalog: Arc<dyn Catalog>) -> Self {
        Self {
            catalog,
            cache: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// The principal behind a token; `unauthorized access` for unknown and inactive tokens.
    pub async fn authenticate(&self, token: &str) -> Result<Arc<Principal>> {
        let hash = token::hash(token);
        if let Some(p) = self.cached(&hash) {
            return Ok(p);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let auth = self
            .catalog
            .get_authorization_by_token_hash(&hash)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        if auth.status != AuthStatus::Active {
            return Err(Error::unauthenticated());
        }
        let principal = Arc::new(Principal {
            authorization_id: auth.id,
            org_id: auth.org_id,
            user_id: auth.user_id,
            permissions: Arc::from(auth.permissions),
        });
        if let Ok(mut cache) = self.cache.write() {
            if self.generation.load(Ordering::Acquire) == generation {
                cache.insert(
                    hash,
                    Cached {
                        principal: Arc::clone(&principal),
                        loaded: Instant::now(),
                    },
                );
            }
        }
        Ok(principal)
    }

    fn cached(&self, hash: &str) -> Option<Arc<Principal>> {
        let cache = self.cache.read().ok()?;
        let entry = cache.get(hash)?;
        (entry.loaded.elapsed() < CACHE_TTL).then(|| Arc::clone(&entry.principal))
    }

    /// Forgets one token at once (deactivated or deleted).
    pub fn forget(&self, token_hash: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(token_hash);
        }
    }

    /// Forgets every token (an org was deleted with all its tokens).
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut cache) = self.cache.write() {
            cache.clear();
        }
    }
}
