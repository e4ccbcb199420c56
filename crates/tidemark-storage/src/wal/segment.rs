//! The on-disk WAL format.
//!
//! A segment file is the 8-byte magic `TDMWAL01` followed by records:
//!
//! ```text
//! len: u32 LE   length of payload
//! crc: u32 LE   CRC-32 (IEEE) of the seq bytes and the payload
//! seq: u64 LE   sequence number, strictly increasing across the log
//! payload: len bytes
//! ```
//!
//! A record is valid when its header is complete, its payload is complete, and its CRC matches.

pub(crate) const MAGIC: &[u8; 8] = b"TDMWAL01";
pub(crate) const HEADER_LEN: usize = 16;
/// Larger payloads are refused before they are written, and treated as corruption when read.
pub(crate) const MAX_PAYLOAD: usize = 512 * 1024 * 1024;

pub(crate) fn checksum(seq: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&seq.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// Appends one encoded record to `out`.
pub(crate) fn encode(seq: u64, payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(seq, payload).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(payload);
}

/// One record read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    pub(crate) seq: u64,
    pub(crate) payload: &'a [u8],
    /// Offset just past this record.
    pub(crate) end: usize,
}

/// Reads the record at `at`; `None` if there is not a complete, valid record there.
pub(crate) fn decode_at(buf: &[u8], at: usize) -> Option<Record<'_>> {
    let header = buf.get(at..at.checked_add(HEADER_LEN)?)?;
    let len = u32::from_le_bytes(header[0..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..8].try_into().ok()?);
    let seq = u64::from_le_bytes(header[8..16].try_into().ok()?);
    if len > MAX_PAYLOAD {
        return None;
    }
    let start = at + HEADER_LEN;
    let payload = buf.get(start..start.checked_add(len)?)?;
    (checksum(seq, payload) == crc).then_some(Record {
        seq,
        payload,
        end: start + len,
    })
}

/// What reading one segment found.
#[derive(Debug)]
pub(crate) struct Scan<'a> {
    pub(crate) records: Vec<Record<'a>>,
    /// Where the valid records end (the file's good length).
    pub(crate) good_len: usize,
    pub(crate) problem: Option<Problem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The file is shorter than its magic, or its magic is wrong.
    BadHeader,
    /// Bytes after the last valid record that are not a valid record, with no valid record
    /// after them: a write that was cut off. Cutting them loses nothing acknowledged.
    TornTail { bytes: usize },
    /// An invalid record followed by valid ones: real corruption inside the log.
    CorruptMiddle { at: usize },
}

/// Reads every valid record of a segment and says what, if anything, is wrong after them.
pub(crate) fn scan(buf: &[u8]) -> Scan<'_> {
    if buf.len() < MAGIC.len() || &buf[..MAGIC.len()] != MAGIC {
        return Scan {
            records: vec![],
            good_len: 0,
            problem: Some(Problem::BadHeader),
        };
    }
    let mut records = Vec::new();
    let mut at = MAGIC.len();
    let mut last_seq = 0;
    while at < buf.len() {
        match decode_at(buf, at) {
            Some(r) => {
                last_seq = r.seq;
                at = r.end;
                records.push(r);
            }
            None => {
                // A later valid record means this is not a torn tail.
                let later = (at + 1..buf.len())
                    .find(|&i| decode_at(buf, i).is_some_and(|r| r.seq > last_seq));
                let problem = match later {
                    Some(_) => Problem::CorruptMiddle { at },
                    None => Problem::TornTail {
                        bytes: buf.len() - at,
                    },
                };
                return Scan {
                    records,
                    good_len: at,
                    problem: Some(problem),
                };
            }
        }
    }
    Scan {
        records,
        good_len: at,
        problem: None,
    }
}

/// Every valid record of a damaged segment: after an invalid stretch, reading resumes at the next
/// valid record with a higher sequence number.
pub(crate) fn salvage(buf: &[u8]) -> Vec<Record<'_>> {
    let mut records = Vec::new();
    let mut at = MAGIC.len();
    let mut last_seq = 0;
    while at < buf.len() {
        match decode_at(buf, at) {
            Some(r) if r.seq > last_seq => {
                last_seq = r.seq;
                at = r.end;
                records.push(r);
            }
            _ => at += 1,
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(records: &[(u64, &[u8])]) -> Vec<u8> {
        let mut buf = MAGIC.to_vec();
        for (seq, p) in records {
            encode(*seq, p, &mut buf);
        }
        buf
    }

    #[test]
    fn reads_back_what_it_wrote() {
        let buf = segment(&[(1, b"a"), (2, b""), (3, b"ccc")]);
        let s = scan(&buf);
        assert_eq!(s.problem, None);
        assert_eq!(s.good_len, buf.len());
        let got: Vec<(u64, &[u8])> = s.records.iter().map(|r| (r.seq, r.payload)).collect();
        assert_eq!(got, vec![(1, &b"a"[..]), (2, &b""[..]), (3, &b"ccc"[..])]);
    }

    #[test]
    fn every_truncation_is_a_torn_tail_that_keeps_whole_records() {
        let buf = segment(&[(1, b"first"), (2, b"second"), (3, b"third")]);
        let full = scan(&buf).records.len();
        assert_eq!(full, 3);
        for cut in MAGIC.len()..buf.len() {
            let s = scan(&buf[..cut]);
            assert!(s.records.len() < full);
            assert!(
                matches!(s.problem, None | Some(Problem::TornTail { .. })),
                "cut at {cut}: {:?}",
                s.problem
            );
            // Whatever is kept is a prefix of what was written.
            for (i, r) in s.records.iter().enumerate() {
                assert_eq!(r.seq, i as u64 + 1);
            }
        }
    }

    #[test]
    fn a_flipped_bit_before_valid_records_is_corruption_in_the_middle() {
        let mut buf = segment(&[(1, b"first"), (2, b"second"), (3, b"third")]);
        let second = scan(&buf).records[1].end - 2;
        buf[second] ^= 0x40;
        let s = scan(&buf);
        assert_eq!(s.records.len(), 1);
        assert!(matches!(s.problem, Some(Problem::CorruptMiddle { .. })));
        let mut last = segment(&[(1, b"first"), (2, b"second")]);
        let n = last.len();
        last[n - 1] ^= 1;
        assert!(matches!(
            scan(&last).problem,
            Some(Problem::TornTail { .. })
        ));
    }

    #[test]
    fn salvage_keeps_the_records_around_a_damaged_one() {
        let mut buf = segment(&[(1, b"first"), (2, b"second"), (3, b"third")]);
        let second = scan(&buf).records[1].end - 2;
        buf[second] ^= 0x40;
        let kept: Vec<u64> = salvage(&buf).iter().map(|r| r.seq).collect();
        assert_eq!(kept, vec![1, 3]);
    }

    #[test]
    fn bad_headers() {
        assert_eq!(scan(b"").problem, Some(Problem::BadHeader));
        assert_eq!(scan(b"TDMWAL0").problem, Some(Problem::BadHeader));
        assert_eq!(scan(b"NOTAWAL!").problem, Some(Problem::BadHeader));
    }
}
