//! Starts the real `tidemark` binary on a loopback port for end-to-end tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// The operator token every test server starts with.
pub const OPERATOR_TOKEN: &str = "e2e-operator-token";

/// A running server; killed when dropped.
#[derive(Debug)]
pub struct TestServer {
    child: Option<Child>,
    pub addr: String,
    pub data_dir: PathBuf,
    /// Lines the server printed on stdout before it was ready.
    pub banner: Vec<String>,
    _tmp: Option<tempfile::TempDir>,
    pub client: reqwest::Client,
}

/// How to start a server.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `None`: let the server generate the operator token.
    pub operator_token: Option<String>,
    pub catalog: Option<String>,
    pub extra_args: Vec<String>,
}

impl Options {
    pub fn standard() -> Self {
        Self {
            operator_token: Some(OPERATOR_TOKEN.to_owned()),
            ..Self::default()
        }
    }
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_tidemark")
}

impl TestServer {
    /// A server on a fresh data directory with the standard operator token.
    pub async fn start() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let mut s = Self::start_in(&dir, Options::standard()).await;
        s._tmp = Some(tmp);
        s
    }

    /// A server on the given data directory (which may hold an earlier server's state).
    pub async fn start_in(data_dir: &Path, options: Options) -> Self {
        let mut cmd = Command::new(binary());
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--bind")
            .arg("127.0.0.1:0")
            .arg("--log-filter")
            .arg("warn")
            .env_remove("TIDEMARK_OPERATOR_TOKEN")
            .env_remove("TIDEMARK_CATALOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(t) = &options.operator_token {
            cmd.arg("--operator-token").arg(t);
        }
        if let Some(c) = &options.catalog {
            cmd.arg("--catalog").arg(c);
        }
        cmd.args(&options.extra_args);
        let mut child = cmd.spawn().expect("spawn tidemark");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = Vec::new();
        let addr = loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("tidemark listening on http://") {
                        let addr = rest.split_whitespace().next().unwrap().to_owned();
                        banner.push(line);
                        break addr;
                    }
                    banner.push(line);
                }
                Err(_) => {
                    let status = child.try_wait().ok().flatten();
                    panic!("server did not start (exit: {status:?}); printed: {banner:?}");
                }
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        Self {
            child: Some(child),
            addr,
            data_dir: data_dir.to_owned(),
            banner,
            _tmp: None,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A request with the operator token.
    pub fn op(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.with_token(method, path, OPERATOR_TOKEN)
    }

    pub fn with_token(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("Authorization", format!("Token {token}"))
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..200 {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        panic!("server did not stop within 10 s of SIGTERM");
    }

    /// The default org's id.
    pub async fn default_org_id(&self) -> String {
        let body: Value = self
            .op(reqwest::Method::GET, "/api/v2/orgs?org=default")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["orgs"][0]["id"].as_str().unwrap().to_owned()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Status and JSON body of a response (Null when the body is empty or not JSON).
pub async fn status_json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
