//! The direct path's cache of series indexes.

use crate::direct::DirectCache;

use super::fixture;

#[tokio::test]
async fn prewarm_indexes_newest_files_first_within_a_quarter_of_the_budget() {
    let f = fixture().await;
    for hour in 0..3i64 {
        let t = hour * 3_600_000_000_000;
        f.write(&format!("m,host=a v=1i {t}\nm,host=b v=2i {}", t + 1))
            .await;
        f.persist().await;
    }
    let files = f.engine.files();
    assert_eq!(files.len(), 3);

    // With room for all of them, every file is indexed and the running count is the sum.
    let roomy = DirectCache::new(f.engine.object_store(), None, 64 << 20).expect("cache");
    roomy.prewarm(&files).await;
    let (ids, counted, summed) = roomy.indexed();
    assert_eq!(ids.len(), 3);
    assert_eq!(counted, summed);
    let one = counted / 3;
    assert!(one > 0);

    // A quarter of the budget holds one index: only the newest file's is built.
    let tight = DirectCache::new(f.engine.object_store(), None, 4 * one + 1).expect("cache");
    tight.prewarm(&files).await;
    let (ids, counted, summed) = tight.indexed();
    assert_eq!(ids, vec![files[0].id], "newest first: {files:?}");
    assert_eq!(counted, summed);
    // Preparing again builds nothing more.
    tight.prewarm(&files).await;
    assert_eq!(tight.indexed().0.len(), 1);
}
