//! What `/proc` says about the server process: CPU time, peak RSS, bytes written; and the size
//! of a directory tree.

use std::path::Path;

use crate::Result;

/// Clock ticks per second for `/proc/PID/stat` times: `getconf CLK_TCK` once, else 100 (the
/// value on every mainstream Linux architecture; the kernel's USER_HZ is fixed at 100 there).
pub(crate) fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// utime + stime in clock ticks from the text of `/proc/PID/stat`. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted after its last `)`.
pub(crate) fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: state(3) ppid(4) ... utime(14) stime(15); index 0 here is field 3.
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// A `kB` line of `/proc/PID/status` (`VmHWM`, `VmRSS`), in bytes.
pub(crate) fn parse_status_kb(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix(':')?;
        let kb: u64 = value.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kb * 1024)
    })
}

/// A counter of `/proc/PID/io` (`write_bytes`, `rchar`, ...).
pub(crate) fn parse_io(io: &str, key: &str) -> Option<u64> {
    io.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix(':')?;
        value.trim().parse().ok()
    })
}

/// The process's CPU seconds so far (all threads, user + system).
pub(crate) fn cpu_seconds(pid: u32, ticks_per_second: u64) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let ticks = parse_stat_cpu_ticks(&stat).ok_or_else(|| format!("cannot parse {path}"))?;
    Ok(ticks as f64 / ticks_per_second as f64)
}

/// Peak resident set size (`VmHWM`, over the process's life unless reset), in bytes.
pub(crate) fn peak_rss(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    Ok(parse_status_kb(&status, "VmHWM").ok_or_else(|| format!("no VmHWM in {path}"))?)
}

/// Resets `VmHWM` to the current RSS (`echo 5 > /proc/PID/clear_refs`, Linux 4.0+), so that the
/// peak covers only what follows. Needs the right to trace the process.
pub(crate) fn reset_peak_rss(pid: u32) -> Result<()> {
    let path = format!("/proc/{pid}/clear_refs");
    std::fs::write(&path, "5").map_err(|e| format!("cannot write {path}: {e}"))?;
    Ok(())
}

/// Bytes the process caused to be sent to storage (`write_bytes`), when readable.
pub(crate) fn write_bytes(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    parse_io(&io, "write_bytes")
}

pub(crate) fn read_pid_file(path: &Path) -> Result<u32> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(text
        .trim()
        .parse()
        .map_err(|e| format!("{} does not hold a PID: {e}", path.display()))?)
}

/// Sum of the sizes of the regular files under `dir` (like `du -sb`, without directories);
/// 0 when it does not exist. Files that vanish while walking are skipped.
pub(crate) fn dir_size(dir: &Path) -> u64 {
    dir_stats(dir, &mut |_| {}).0
}

/// Disk space the regular files under `dir` take (allocated blocks, like `du -s`): a sparse,
/// preallocated file counts only for what it has written. 0 when `dir` does not exist.
pub(crate) fn dir_allocated(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    dir_stats(dir, &mut |p| {
        total += std::fs::metadata(p).map(|m| m.blocks() * 512).unwrap_or(0);
    });
    total
}

/// (bytes, files) under `dir`; `each` sees every regular file's path.
pub(crate) fn dir_stats(dir: &Path, each: &mut dyn FnMut(&Path)) -> (u64, u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    let (mut bytes, mut files) = (0, 0);
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if meta.is_dir() {
            let (b, f) = dir_stats(&entry.path(), each);
            bytes += b;
            files += f;
        } else if meta.is_file() {
            each(&entry.path());
            bytes += meta.len();
            files += 1;
        }
    }
    (bytes, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_a_hostile_command_name() {
        let stat = "4242 (tide mark) (x)) S 1 4242 4242 0 -1 4194560 12345 0 7 0 1500 250 3 4 20 0 9 0 100 1000000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(1750));
        assert_eq!(parse_stat_cpu_ticks("garbage"), None);
        assert_eq!(parse_stat_cpu_ticks("1 (a) S 1 2"), None);
    }

    #[test]
    fn status_and_io() {
        let status =
            "Name:\ttidemark\nVmPeak:\t  900000 kB\nVmHWM:\t   123456 kB\nVmRSS:\t   100000 kB\n";
        assert_eq!(parse_status_kb(status, "VmHWM"), Some(123_456 * 1024));
        assert_eq!(parse_status_kb(status, "VmRSS"), Some(100_000 * 1024));
        assert_eq!(parse_status_kb(status, "VmSwap"), None);
        let io = "rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n";
        assert_eq!(parse_io(io, "write_bytes"), Some(8192));
        assert_eq!(parse_io(io, "read_bytes"), Some(4096));
        assert_eq!(parse_io(io, "cancelled_write_bytes"), Some(0));
        assert_eq!(parse_io(io, "nope"), None);
    }

    #[test]
    fn this_process() {
        let pid = std::process::id();
        let ticks = clock_ticks();
        assert!(ticks > 0);
        assert!(cpu_seconds(pid, ticks).unwrap() >= 0.0);
        assert!(peak_rss(pid).unwrap() > 0);
    }

    #[test]
    fn sizes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("x"), [0u8; 10]).unwrap();
        std::fs::write(dir.path().join("a/b/y"), [0u8; 32]).unwrap();
        let mut seen = 0;
        assert_eq!(dir_stats(dir.path(), &mut |_| seen += 1), (42, 2));
        assert_eq!(seen, 2);
        assert_eq!(dir_size(&dir.path().join("missing")), 0);
        assert_eq!(dir_allocated(&dir.path().join("missing")), 0);
        // A sparse file: its length without the blocks.
        let sparse = std::fs::File::create(dir.path().join("sparse")).unwrap();
        sparse.set_len(64 << 20).unwrap();
        assert_eq!(dir_size(dir.path()), 42 + (64 << 20));
        assert!(dir_allocated(dir.path()) < 1 << 20);
        std::fs::write(dir.path().join("pid"), "123\n").unwrap();
        assert_eq!(read_pid_file(&dir.path().join("pid")).unwrap(), 123);
    }
}
