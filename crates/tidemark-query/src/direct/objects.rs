//! Where the direct path's bytes come from. A query of one series reads a few pages, kilobytes
//! that the page cache usually holds. `object_store`'s local files answer every read on the
//! blocking pool, and on these machines the two thread hand-offs that costs took longer than
//! the read itself; so local page reads are made on the calling thread. A read the page cache
//! misses holds that thread for one disk read of a few pages; the series index (the whole
//! file) still goes through the store.

use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::error::{Error, Result};

/// The engine's object store, and the same objects as local files when they are.
#[derive(Debug)]
pub(crate) struct Objects {
    store: Arc<dyn ObjectStore>,
    local: Option<LocalFileSystem>,
}

impl Objects {
    /// `local_root`: the directory behind `store` when it is local files.
    pub(crate) fn new(
        store: Arc<dyn ObjectStore>,
        local_root: Option<&std::path::Path>,
    ) -> Result<Self> {
        let local = local_root
            .map(LocalFileSystem::new_with_prefix)
            .transpose()
            .map_err(|e| Error::Internal(format!("local object root: {e}")))?;
        Ok(Self { store, local })
    }

    /// A whole object.
    pub(crate) async fn get(&self, path: &str) -> Result<Bytes> {
        let failed = |e: object_store::Error| Error::Internal(format!("reading {path}: {e}"));
        self.store
            .get(&ObjectPath::from(path))
            .await
            .map_err(failed)?
            .bytes()
            .await
            .map_err(failed)
    }

    /// Byte ranges of an object, in order.
    pub(crate) async fn get_ranges(&self, path: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let location = ObjectPath::from(path);
        let failed = |e: String| Error::Internal(format!("reading {path}: {e}"));
        let Some(local) = &self.local else {
            return self
                .store
                .get_ranges(&location, ranges)
                .await
                .map_err(|e| failed(e.to_string()));
        };
        let file = local
            .path_to_filesystem(&location)
            .map_err(|e| failed(e.to_string()))
            .and_then(|p| std::fs::File::open(p).map_err(|e| failed(e.to_string())))?;
        ranges
            .iter()
            .map(|r| {
                let len = usize::try_from(r.end.saturating_sub(r.start))
                    .map_err(|e| failed(e.to_string()))?;
                let mut buf = vec![0u8; len];
                file.read_exact_at(&mut buf, r.start)
                    .map_err(|e| failed(e.to_string()))?;
                Ok(Bytes::from(buf))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use object_store::PutPayload;

    use super::*;

    #[tokio::test]
    async fn local_reads_give_the_stores_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn ObjectStore> =
            Arc::new(LocalFileSystem::new_with_prefix(dir.path()).expect("store"));
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        store
            .put(
                &ObjectPath::from("b/t/f.parquet"),
                PutPayload::from(data.clone()),
            )
            .await
            .expect("put");
        let local = Objects::new(Arc::clone(&store), Some(dir.path())).expect("objects");
        let remote = Objects::new(store, None).expect("objects");
        let ranges = [0..10, 4_000..4_100, 9_990..10_000, 5..5];
        for objects in [&local, &remote] {
            let parts = objects
                .get_ranges("b/t/f.parquet", &ranges)
                .await
                .expect("read");
            assert_eq!(parts.len(), ranges.len());
            for (part, r) in parts.iter().zip(&ranges) {
                assert_eq!(part.as_ref(), &data[r.start as usize..r.end as usize]);
            }
            assert_eq!(objects.get("b/t/f.parquet").await.expect("get"), data);
            // Past the end, and a file that is not there, are errors, not short reads.
            assert!(objects
                .get_ranges("b/t/f.parquet", &[9_990..10_010, 0..1])
                .await
                .is_err());
            assert!(objects
                .get_ranges("b/t/nope.parquet", &ranges)
                .await
                .is_err());
        }
    }
}
