use std::time::Duration;

use super::*;

fn config(dir: &Path) -> WalConfig {
    WalConfig {
        dir: dir.to_owned(),
        flush_window: Duration::from_millis(1),
        recovery: Recovery::Strict,
        segment_max_bytes: 1 << 20,
    }
}

fn payloads(replay: &[Replayed]) -> Vec<Vec<u8>> {
    replay.iter().map(|r| r.payload.clone()).collect()
}

#[tokio::test]
async fn appends_replay_after_restart_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let (wal, replay, _) = Wal::open(config(tmp.path())).unwrap();
    assert!(replay.is_empty());
    let mut handles = Vec::new();
    let wal = std::sync::Arc::new(wal);
    for i in 0..50u32 {
        let wal = std::sync::Arc::clone(&wal);
        handles.push(tokio::spawn(async move {
            wal.append(i.to_le_bytes().to_vec(), true).await.unwrap()
        }));
    }
    let mut seqs = Vec::new();
    for h in handles {
        seqs.push(h.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=50).collect::<Vec<u64>>());
    drop(wal);
    let (_wal, replay, report) = Wal::open(config(tmp.path())).unwrap();
    assert_eq!(replay.len(), 50);
    assert!(replay.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(report.torn_tail_bytes, 0);
}

#[tokio::test]
async fn checkpoint_skips_and_releases_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let (wal, _, _) = Wal::open(config(tmp.path())).unwrap();
    wal.append(b"a".to_vec(), true).await.unwrap();
    wal.append(b"b".to_vec(), true).await.unwrap();
    let last = wal.rotate().await.unwrap();
    assert_eq!(last, 2);
    wal.append(b"c".to_vec(), true).await.unwrap();
    wal.checkpoint(last).await.unwrap();
    assert_eq!(list_segments(tmp.path()).unwrap().len(), 1);
    drop(wal);
    let (wal, replay, report) = Wal::open(config(tmp.path())).unwrap();
    assert_eq!(payloads(&replay), vec![b"c".to_vec()]);
    assert_eq!(report.checkpoint, 2);
    // Sequence numbers keep increasing after a restart.
    assert_eq!(wal.append(b"d".to_vec(), true).await.unwrap(), 4);
}

#[tokio::test]
async fn torn_tail_is_cut_and_start_up_repeats_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let (wal, _, _) = Wal::open(config(tmp.path())).unwrap();
    wal.append(b"kept-1".to_vec(), true).await.unwrap();
    wal.append(b"kept-2".to_vec(), true).await.unwrap();
    drop(wal);
    let seg = segment_path(tmp.path(), 1);
    let len = fs::metadata(&seg).unwrap().len();
    truncate(&seg, len - 3).unwrap();
    let (_wal, replay, report) = Wal::open(config(tmp.path())).unwrap();
    assert_eq!(payloads(&replay), vec![b"kept-1".to_vec()]);
    assert!(report.torn_tail_bytes > 0);
    drop(_wal);
    // A second start finds nothing to repair and the same data.
    let (_wal, replay, report) = Wal::open(config(tmp.path())).unwrap();
    assert_eq!(payloads(&replay), vec![b"kept-1".to_vec()]);
    assert_eq!(report.torn_tail_bytes, 0);
}

#[tokio::test]
async fn corruption_inside_the_log_stops_start_up_unless_told_to_skip() {
    let tmp = tempfile::tempdir().unwrap();
    let (wal, _, _) = Wal::open(config(tmp.path())).unwrap();
    for p in [b"one", b"two", b"six"] {
        wal.append(p.to_vec(), true).await.unwrap();
    }
    drop(wal);
    let seg = segment_path(tmp.path(), 1);
    let mut bytes = fs::read(&seg).unwrap();
    let first_end = segment::MAGIC.len() + segment::HEADER_LEN + 3;
    bytes[first_end + segment::HEADER_LEN] ^= 0xff;
    fs::write(&seg, &bytes).unwrap();
    let err = Wal::open(config(tmp.path())).unwrap_err();
    assert!(err.to_string().contains("skip-corrupt"), "{err}");
    let mut skip = config(tmp.path());
    skip.recovery = Recovery::SkipCorrupt;
    let (wal, replay, report) = Wal::open(skip).unwrap();
    assert_eq!(payloads(&replay), vec![b"one".to_vec(), b"six".to_vec()]);
    assert_eq!(report.skipped_corrupt_segments, 1);
    drop(wal);
    // The segment was repaired: a strict start now succeeds with the same records.
    let (_wal, replay, _) = Wal::open(config(tmp.path())).unwrap();
    assert_eq!(payloads(&replay), vec![b"one".to_vec(), b"six".to_vec()]);
}

#[tokio::test]
async fn empty_and_headerless_segments_do_not_block_start_up() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(segment_path(tmp.path(), 1), b"").unwrap();
    fs::write(segment_path(tmp.path(), 2), b"TDM").unwrap();
    let (wal, replay, _) = Wal::open(config(tmp.path())).unwrap();
    assert!(replay.is_empty());
    assert_eq!(wal.append(b"x".to_vec(), true).await.unwrap(), 1);
}
