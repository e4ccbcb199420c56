//! The write-ahead log: one record per write request, group-committed, fsync'd before the
//! request is acknowledged.
//!
//! One thread owns the files. Requests queue on a channel; the thread takes everything queued
//! (waiting up to the flush window for more), writes it with one `write`, makes it durable with
//! one `fdatasync`, and only then answers every request of the batch. A new segment's directory
//! entry is fsync'd before any record in it is acknowledged.
//!
//! `checkpoint` names the last sequence whose data is persisted elsewhere (Parquet): replay
//! skips records up to it, and segments wholly at or below it can be deleted.

mod segment;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// What to do with a corrupt record inside the log (not a torn tail, which is always cut).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Refuse to start, naming the file and offset.
    Strict,
    /// Drop the rest of the damaged segment, log it loudly, and go on.
    SkipCorrupt,
}

#[derive(Debug, Clone)]
pub struct WalConfig {
    pub dir: PathBuf,
    /// How long the writer waits for more requests before it syncs a batch.
    pub flush_window: Duration,
    pub recovery: Recovery,
    /// A segment larger than this is closed and a new one started.
    pub segment_max_bytes: u64,
}

/// A record to apply again after a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    pub seq: u64,
    pub payload: Vec<u8>,
}

/// What opening the log found, for logs and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    pub segments: usize,
    pub torn_tail_bytes: usize,
    pub skipped_corrupt_segments: usize,
    pub checkpoint: u64,
}

enum Command {
    Append {
        payload: bytes::Bytes,
        sync: bool,
        reply: oneshot::Sender<Result<u64>>,
    },
    Rotate {
        reply: oneshot::Sender<Result<u64>>,
    },
    Checkpoint {
        seq: u64,
        reply: oneshot::Sender<Result<()>>,
    },
}

/// The handle writers use. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Wal {
    tx: mpsc::UnboundedSender<Command>,
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:010}.wal"))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(format!("fsync {}", dir.display())))
}

fn read_checkpoint(dir: &Path) -> Result<u64> {
    let path = dir.join("checkpoint");
    match fs::read_to_string(&path) {
        Ok(s) => s.trim().parse().map_err(|_| Error::Corrupt {
            path: path.display().to_string(),
            detail: format!("checkpoint holds {s:?}, not a sequence number"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io(format!("read {}", path.display()))(e)),
    }
}

fn write_checkpoint(dir: &Path, seq: u64) -> Result<()> {
    let tmp = dir.join("checkpoint.tmp");
    let path = dir.join("checkpoint");
    let mut f = File::create(&tmp).map_err(io(format!("create {}", tmp.display())))?;
    f.write_all(format!("{seq}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io(format!("write {}", tmp.display())))?;
    fs::rename(&tmp, &path).map_err(io(format!("rename {}", tmp.display())))?;
    sync_dir(dir)
}

/// Segment numbers in the directory, ascending.
fn list_segments(dir: &Path) -> Result<Vec<u64>> {
    let mut numbers = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(format!("list {}", dir.display())))? {
        let entry = entry.map_err(io(format!("list {}", dir.display())))?;
        let name = entry.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".wal")) else {
            continue;
        };
        if let Ok(n) = stem.parse::<u64>() {
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

/// A closed segment and the last sequence in it.
#[derive(Debug, Clone, Copy)]
struct Closed {
    number: u64,
    last_seq: u64,
}

struct Writer {
    dir: PathBuf,
    config: WalConfig,
    file: File,
    number: u64,
    len: u64,
    /// Last sequence written to the current segment (0 if none).
    current_last: u64,
    closed: Vec<Closed>,
    next_seq: u64,
    checkpoint: u64,
}

impl Wal {
    /// Opens (or creates) the log, repairs a torn tail, and returns what must be replayed: every
    /// valid record after the checkpoint, in sequence order.
    pub fn open(config: WalConfig) -> Result<(Self, Vec<Replayed>, OpenReport)> {
        let dir = config.dir.clone();
        fs::create_dir_all(&dir).map_err(io(format!("create {}", dir.display())))?;
        let checkpoint = read_checkpoint(&dir)?;
        let numbers = list_segments(&dir)?;
        let mut report = OpenReport {
            segments: numbers.len(),
            checkpoint,
            ..Default::default()
        };
        let mut replay = Vec::new();
        let mut closed = Vec::new();
        let mut max_seq = checkpoint;
        for (i, &n) in numbers.iter().enumerate() {
            let path = segment_path(&dir, n);
            let buf = fs::read(&path).map_err(io(format!("read {}", path.display())))?;
            let scan = segment::scan(&buf);
            let mut records = scan.records.clone();
            let is_last = i + 1 == numbers.len();
            match scan.problem {
                None => {}
                Some(segment::Problem::BadHeader) if buf.len() < segment::MAGIC.len() => {
                    // A segment created but never written (e.g. power lost right after creat).
                    tracing::warn!(path = %path.display(), bytes = buf.len(), "WAL segment without a header: ignoring it");
                }
                Some(segment::Problem::TornTail { bytes }) if is_last => {
                    tracing::warn!(path = %path.display(), bytes, "WAL ends in a torn record: cutting it off (it was never acknowledged)");
                    report.torn_tail_bytes += bytes;
                    truncate(&path, scan.good_len as u64)?;
                }
                Some(problem) => {
                    if config.recovery == Recovery::Strict {
                        return Err(Error::Corrupt {
                            path: path.display().to_string(),
                            detail: format!(
                                "{problem:?} after {} valid records; start with --wal-recovery skip-corrupt to drop the damaged records",
                                scan.records.len()
                            ),
                        });
                    }
                    let salvaged = segment::salvage(&buf);
                    tracing::error!(path = %path.display(), ?problem, kept = salvaged.len(), "corrupt WAL segment: keeping its valid records and dropping the damaged ones");
                    report.skipped_corrupt_segments += 1;
                    rewrite(&dir, &path, &salvaged)?;
                    records = salvaged;
                }
            }
            let mut last = 0;
            for r in &records {
                if r.seq <= max_seq && r.seq > checkpoint {
                    return Err(Error::Corrupt {
                        path: path.display().to_string(),
                        detail: format!("sequence {} does not increase", r.seq),
                    });
                }
                max_seq = max_seq.max(r.seq);
                last = r.seq;
                if r.seq > checkpoint {
                    replay.push(Replayed {
                        seq: r.seq,
                        payload: r.payload.to_vec(),
                    });
                }
            }
            closed.push(Closed {
                number: n,
                last_seq: last,
            });
        }
        // Always write into a fresh segment: the old ones stay read-only until released.
        let number = numbers.last().map_or(1, |n| n + 1);
        let (file, len) = create_segment(&dir, number)?;
        let mut writer = Writer {
            dir,
            config,
            file,
            number,
            len,
            current_last: 0,
            closed,
            next_seq: max_seq + 1,
            checkpoint,
        };
        writer.release()?;
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("tidemark-wal".to_owned())
            .spawn(move || writer.run(rx))
            .map_err(io("start the WAL thread"))?;
        Ok((Self { tx }, replay, report))
    }

    /// Appends one record. With `sync`, returns once it is on stable storage; without, once the
    /// operating system has it.
    pub async fn append(&self, payload: impl Into<bytes::Bytes>, sync: bool) -> Result<u64> {
        let payload = payload.into();
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Append {
                payload,
                sync,
                reply,
            })
            .map_err(|_| Error::WalClosed)?;
        rx.await.map_err(|_| Error::WalClosed)?
    }

    /// Starts a new segment and returns the last sequence written before it.
    pub async fn rotate(&self) -> Result<u64> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Rotate { reply })
            .map_err(|_| Error::WalClosed)?;
        rx.await.map_err(|_| Error::WalClosed)?
    }

    /// Records that everything up to `seq` is persisted, and deletes the segments that hold
    /// nothing newer.
    pub async fn checkpoint(&self, seq: u64) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Checkpoint { seq, reply })
            .map_err(|_| Error::WalClosed)?;
        rx.await.map_err(|_| Error::WalClosed)?
    }
}

fn truncate(path: &Path, len: u64) -> Result<()> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io(format!("open {}", path.display())))?;
    f.set_len(len)
        .and_then(|()| f.sync_all())
        .map_err(io(format!("truncate {}", path.display())))
}

/// Replaces a damaged segment with one holding only `records`, atomically.
fn rewrite(dir: &Path, path: &Path, records: &[segment::Record<'_>]) -> Result<()> {
    let mut buf = segment::MAGIC.to_vec();
    for r in records {
        segment::encode(r.seq, r.payload, &mut buf);
    }
    let tmp = path.with_extension("rewrite");
    let mut f = File::create(&tmp).map_err(io(format!("create {}", tmp.display())))?;
    f.write_all(&buf)
        .and_then(|()| f.sync_all())
        .map_err(io(format!("write {}", tmp.display())))?;
    fs::rename(&tmp, path).map_err(io(format!("rename {}", tmp.display())))?;
    sync_dir(dir)
}

fn create_segment(dir: &Path, number: u64) -> Result<(File, u64)> {
    let path = segment_path(dir, number);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .map_err(io(format!("create {}", path.display())))?;
    file.write_all(segment::MAGIC)
        .and_then(|()| file.sync_all())
        .map_err(io(format!("write {}", path.display())))?;
    sync_dir(dir)?;
    Ok((file, segment::MAGIC.len() as u64))
}

impl Writer {
    fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            let deadline = Instant::now() + self.config.flush_window;
            loop {
                match rx.try_recv() {
                    Ok(cmd) => batch.push(cmd),
                    Err(mpsc::error::TryRecvError::Empty) => {
                        let now = Instant::now();
                        if now >= deadline {
                            break;
                        }
                        std::thread::sleep((deadline - now).min(Duration::from_micros(200)));
                    }
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                }
            }
            self.handle(batch);
        }
    }

    fn handle(&mut self, batch: Vec<Command>) {
        let mut appends = Vec::new();
        let mut others = Vec::new();
        for cmd in batch {
            match cmd {
                Command::Append {
                    payload,
                    sync,
                    reply,
                } => appends.push((payload, sync, reply)),
                other => others.push(other),
            }
        }
        if !appends.is_empty() {
            self.write_appends(appends);
        }
        for cmd in others {
            match cmd {
                Command::Rotate { reply } => {
                    let _ = reply.send(self.rotate());
                }
                Command::Checkpoint { seq, reply } => {
                    let _ = reply.send(self.set_checkpoint(seq));
                }
                Command::Append { .. } => {}
            }
        }
    }

    fn write_appends(&mut self, appends: Vec<(bytes::Bytes, bool, oneshot::Sender<Result<u64>>)>) {
        let mut buf = Vec::with_capacity(
            appends
                .iter()
                .map(|(p, _, _)| p.len() + segment::HEADER_LEN)
                .sum(),
        );
        let mut seqs = Vec::with_capacity(appends.len());
        let mut too_large = vec![false; appends.len()];
        let mut seq = self.next_seq;
        for (i, (payload, _, _)) in appends.iter().enumerate() {
            if payload.len() > segment::MAX_PAYLOAD {
                too_large[i] = true;
                seqs.push(0);
                continue;
            }
            segment::encode(seq, payload, &mut buf);
            seqs.push(seq);
            seq += 1;
        }
        let need_sync = appends.iter().any(|(_, sync, _)| *sync);
        let written = self.file.write_all(&buf).and_then(|()| {
            if need_sync {
                self.file.sync_data()
            } else {
                Ok(())
            }
        });
        match written {
            Ok(()) => {
                self.len += buf.len() as u64;
                if seq > self.next_seq {
                    self.current_last = seq - 1;
                }
                self.next_seq = seq;
                for (i, (_, _, reply)) in appends.into_iter().enumerate() {
                    let answer = if too_large[i] {
                        Err(Error::RecordTooLarge)
                    } else {
                        Ok(seqs[i])
                    };
                    let _ = reply.send(answer);
                }
                if self.len > self.config.segment_max_bytes {
                    if let Err(e) = self.rotate() {
                        tracing::error!(error = %e, "WAL segment rotation failed");
                    }
                }
            }
            Err(e) => {
                // Nothing of this batch is acknowledged; cut any partial bytes so that later
                // records never follow garbage.
                tracing::error!(error = %e, "WAL write failed; the batch is refused");
                if let Err(cut) = self.file.set_len(self.len) {
                    tracing::error!(error = %cut, "cannot cut the failed WAL write back");
                }
                let kind = e.kind();
                for (_, _, reply) in appends {
                    let _ = reply.send(Err(Error::Io {
                        context: "WAL write".to_owned(),
                        source: std::io::Error::new(kind, e.to_string()),
                    }));
                }
            }
        }
    }

    fn rotate(&mut self) -> Result<u64> {
        let last = self.next_seq - 1;
        if self.current_last == 0 {
            // Nothing in the current segment: keep using it.
            return Ok(last);
        }
        self.file
            .sync_all()
            .map_err(io("fsync the WAL segment before rotating"))?;
        let number = self.number + 1;
        let (file, len) = create_segment(&self.dir, number)?;
        self.closed.push(Closed {
            number: self.number,
            last_seq: self.current_last,
        });
        self.file = file;
        self.number = number;
        self.len = len;
        self.current_last = 0;
        Ok(last)
    }

    fn set_checkpoint(&mut self, seq: u64) -> Result<()> {
        if seq > self.checkpoint {
            write_checkpoint(&self.dir, seq)?;
            self.checkpoint = seq;
        }
        self.release()
    }

    /// Deletes closed segments whose every record is at or below the checkpoint.
    fn release(&mut self) -> Result<()> {
        let checkpoint = self.checkpoint;
        let mut keep = Vec::new();
        for c in std::mem::take(&mut self.closed) {
            if c.last_seq <= checkpoint {
                let path = segment_path(&self.dir, c.number);
                fs::remove_file(&path).map_err(io(format!("remove {}", path.display())))?;
            } else {
                keep.push(c);
            }
        }
        self.closed = keep;
        sync_dir(&self.dir)
    }
}

#[cfg(test)]
mod tests;
