//! The servers `compare` runs: tidemark and InfluxDB 1.6 as child processes in throwaway
//! directories on loopback ports, made ready to take the benchmark's writes; and waiting for
//! their data to settle on disk.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::compare::{CompareArgs, System};
use crate::{load, procfs, Result};

pub(crate) const DB: &str = "benchmark";
pub(crate) const TOKEN: &str = "tidemark-bench-operator-token-0123456789abcdef";
pub(crate) const ORG: &str = "default";

/// A server child process, killed when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) system: System,
    child: Child,
    pub(crate) pid: u32,
    pub(crate) url: String,
    pub(crate) dir: PathBuf,
    pub(crate) log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

pub(crate) fn command_output(program: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

pub(crate) fn find_program(name: &Path) -> Option<PathBuf> {
    if name.components().count() > 1 {
        return name.is_file().then(|| name.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Installs Debian's `influxdb` without letting its service start (a `policy-rc.d` that says
/// 101 while apt runs, unless one exists already). Needs root or password-less sudo.
fn install_influxdb() -> Result<()> {
    const SCRIPT: &str = r#"set -e
created=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  created=1
fi
trap 'if [ "$created" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq influxdb
"#;
    let root = command_output(Path::new("id"), &["-u"]).as_deref() == Some("0");
    let mut cmd = if root {
        Command::new("sh")
    } else if Command::new("sudo")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success())
    {
        let mut c = Command::new("sudo");
        c.args(["-n", "sh"]);
        c
    } else {
        return Err("influxd is missing and installing it needs root: run `apt-get install influxdb` (keeping its service from starting) or pass --influxd".into());
    };
    eprintln!("installing Debian's influxdb package (its service is not started)");
    let status = cmd
        .args(["-c", SCRIPT])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run the install: {e}"))?;
    if !status.success() {
        return Err(format!("installing influxdb failed: {status}").into());
    }
    Ok(())
}

pub(crate) fn influxd_path(args: &CompareArgs) -> Result<PathBuf> {
    if let Some(p) = find_program(&args.influxd) {
        return Ok(p);
    }
    if args.no_install {
        return Err(format!("{} not found (and --no-install)", args.influxd.display()).into());
    }
    install_influxdb()?;
    find_program(&args.influxd).ok_or_else(|| {
        format!(
            "{} still not found after installing",
            args.influxd.display()
        )
        .into()
    })
}

fn spawn(system: System, mut cmd: Command, dir: &Path, url: String) -> Result<Server> {
    let log = dir.join(format!("{}.log", system.name()));
    let out = File::create(&log)?;
    let err = out.try_clone()?;
    // Settings meant for the user's own server must not leak into this one.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("TIDEMARK_") || k.starts_with("INFLUXDB_") {
            cmd.env_remove(k);
        }
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", system.name()))?;
    Ok(Server {
        system,
        pid: child.id(),
        child,
        url,
        dir: dir.to_path_buf(),
        log,
    })
}

pub(crate) fn start_tidemark(args: &CompareArgs, dir: &Path) -> Result<Server> {
    let bin = find_program(&args.tidemark).ok_or_else(|| {
        format!(
            "{} not found: build it with `cargo build --release -p tidemark`",
            args.tidemark.display()
        )
    })?;
    let data = dir.join("data");
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(&data)
        .arg("--bind")
        .arg(format!("127.0.0.1:{}", args.tidemark_port))
        .arg("--operator-token")
        .arg(TOKEN)
        .arg("--org-name")
        .arg(ORG)
        .arg("--persist-max-age-seconds")
        .arg(args.persist_max_age.to_string())
        .arg("--compact-cold-seconds")
        .arg(args.full_compaction_cold.to_string())
        .arg("--log-filter")
        .arg("info")
        .args(&args.tidemark_arg);
    spawn(
        System::Tidemark,
        cmd,
        dir,
        format!("http://127.0.0.1:{}", args.tidemark_port),
    )
}

fn influx_config(args: &CompareArgs, dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"# Written by tidemark-bench compare.
reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"

[meta]
  dir = "{d}/meta"
  logging-enabled = false

[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  # fsync every write before acknowledging it, like tidemark's WAL
  wal-fsync-delay = "0s"
  index-version = "inmem"
  query-log-enabled = false
  trace-logging-enabled = false
  cache-snapshot-write-cold-duration = "{snap}s"
  compact-full-write-cold-duration = "{full}s"
  max-series-per-database = 0
  max-values-per-tag = 0

[retention]
  enabled = false

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http}"
  auth-enabled = false
  log-enabled = false
  write-tracing = false

[logging]
  level = "warn"
  suppress-logo = true

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false
"#,
        rpc = args.influx_rpc_port,
        http = args.influx_port,
        snap = args.influx_snapshot_cold,
        full = args.full_compaction_cold,
    )
}

pub(crate) fn start_influx(args: &CompareArgs, influxd: &Path, dir: &Path) -> Result<Server> {
    let config = dir.join("influxdb.conf");
    std::fs::write(&config, influx_config(args, dir))?;
    let mut cmd = Command::new(influxd);
    cmd.arg("run").arg("-config").arg(&config);
    spawn(
        System::Influxdb,
        cmd,
        dir,
        format!("http://127.0.0.1:{}", args.influx_port),
    )
}

pub(crate) fn wait_ready(rt: &tokio::runtime::Runtime, server: &mut Server) -> Result<()> {
    let client = load::client()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = server.child.try_wait()? {
            return Err(format!(
                "{} exited at start-up ({status}); its log:\n{}",
                server.system.name(),
                server.log_tail()
            )
            .into());
        }
        let ok = rt.block_on(async {
            client
                .get(format!("{}/ping", server.url))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        });
        if ok {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{} did not answer /ping within 60 s; its log:\n{}",
                server.system.name(),
                server.log_tail()
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// tidemark: the org's ID, a bucket that never expires, and its v1 database mapping.
pub(crate) async fn prepare_tidemark(url: &str) -> Result<()> {
    let client = load::client()?;
    let auth = format!("Token {TOKEN}");
    let resp = client
        .get(format!("{url}/api/v2/orgs"))
        .query(&[("org", ORG)])
        .header(reqwest::header::AUTHORIZATION, &auth)
        .send()
        .await?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await?;
    let org_id = body["orgs"][0]["id"]
        .as_str()
        .ok_or_else(|| format!("GET /api/v2/orgs: {status} {body}"))?
        .to_owned();
    let resp = client
        .post(format!("{url}/api/v2/buckets"))
        .header(reqwest::header::AUTHORIZATION, &auth)
        .json(&serde_json::json!({
            "orgID": org_id,
            "name": DB,
            "retentionRules": [{"type": "expire", "everySeconds": 0}],
        }))
        .send()
        .await?;
    let status = resp.status();
    let bucket: serde_json::Value = resp.json().await?;
    let bucket_id = match bucket["id"].as_str() {
        Some(id) if status.is_success() => id.to_owned(),
        _ => return Err(format!("POST /api/v2/buckets: {status}: {bucket}").into()),
    };
    // v1 `/query` reads through a DBRP mapping, as in InfluxDB 2; v1 writes would create it,
    // v2 writes do not.
    let resp = client
        .post(format!("{url}/api/v2/dbrps"))
        .header(reqwest::header::AUTHORIZATION, &auth)
        .json(&serde_json::json!({
            "orgID": org_id,
            "bucketID": bucket_id,
            "database": DB,
            "retention_policy": "autogen",
            "default": true,
        }))
        .send()
        .await?;
    if !resp.status().is_success() {
        let status = resp.status();
        return Err(format!(
            "POST /api/v2/dbrps: {status}: {}",
            resp.text().await.unwrap_or_default()
        )
        .into());
    }
    Ok(())
}

pub(crate) async fn prepare_influx(url: &str) -> Result<()> {
    let client = load::client()?;
    let resp = client
        .post(format!("{url}/query"))
        .form(&[("q", format!("CREATE DATABASE {DB}"))])
        .send()
        .await?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() || text.contains("\"error\"") {
        return Err(format!("CREATE DATABASE: {status}: {text}").into());
    }
    Ok(())
}

/// The integer values of `names` in the Prometheus text exposition at `url`, in order.
pub(crate) async fn gauges(
    client: &reqwest::Client,
    url: &str,
    names: &[&str],
) -> Result<Vec<i64>> {
    let text = client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    names
        .iter()
        .map(|name| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
                .ok_or_else(|| format!("{url} has no {name}").into())
        })
        .collect()
}

/// Polls `dirs` every half second until their sizes stay the same for `quiet` while `ready`
/// holds; false when `timeout` passes first.
pub(crate) fn settle(
    dirs: &[PathBuf],
    quiet: Duration,
    timeout: Duration,
    mut ready: impl FnMut() -> bool,
) -> bool {
    let sizes = || -> Vec<(u64, u64)> {
        dirs.iter()
            .map(|d| procfs::dir_stats(d, &mut |_| {}))
            .collect()
    };
    let start = Instant::now();
    let mut last = sizes();
    let mut since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = sizes();
        if now != last {
            last = now;
            since = Instant::now();
        }
        if since.elapsed() >= quiet && ready() {
            return true;
        }
        if start.elapsed() >= timeout {
            return false;
        }
    }
}

/// Waits until process `pid` spends less than a clock tick of CPU in a second; false if it
/// is still busy after `timeout`.
pub(crate) fn wait_idle(pid: u32, ticks: u64, timeout: Duration) -> Result<bool> {
    let start = Instant::now();
    let mut last = procfs::cpu_seconds(pid, ticks)?;
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = procfs::cpu_seconds(pid, ticks)?;
        if now - last < 1.0 / ticks as f64 {
            return Ok(true);
        }
        if start.elapsed() >= timeout {
            return Ok(false);
        }
        last = now;
    }
}

pub(crate) fn settle_quiet(dirs: &[PathBuf], quiet: Duration, timeout: Duration) -> bool {
    settle(dirs, quiet, timeout, || true)
}

pub(crate) fn count_files(dir: &Path, extension: &str) -> u64 {
    let mut n = 0;
    procfs::dir_stats(dir, &mut |p| {
        if p.extension().is_some_and(|e| e == extension) {
            n += 1;
        }
    });
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn influx_config_points_into_the_throwaway_dir() {
        use clap::Parser;
        #[derive(Debug, Parser)]
        struct T {
            #[command(flatten)]
            c: CompareArgs,
        }
        let t = T::parse_from(["x"]);
        let text = influx_config(&t.c, Path::new("/tmp/x"));
        assert!(text.contains("dir = \"/tmp/x/meta\""));
        assert!(text.contains("wal-dir = \"/tmp/x/wal\""));
        assert!(text.contains("wal-fsync-delay = \"0s\""));
        assert!(text.contains("bind-address = \"127.0.0.1:18086\""));
        assert!(text.contains("bind-address = \"127.0.0.1:18088\""));
        assert!(text.contains("reporting-disabled = true"));
    }
}
