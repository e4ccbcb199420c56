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
    /// Environment variables for the server (every other `TIDEMARK_*` variable is removed).
    pub env: Vec<(String, String)>,
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

    /// A server on a fresh data directory with the given options.
    pub async fn start_with(options: Options) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let mut s = Self::start_in(&dir, options).await;
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
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        clear_tidemark_env(&mut cmd);
        cmd.envs(options.env.iter().map(|(k, v)| (k, v)));
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

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
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

    /// Kills the server with SIGKILL, as a crash or `kill -9` would, and waits for it.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
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

/// Removes every `TIDEMARK_*` variable the tests run with, so only what a test sets counts.
pub fn clear_tidemark_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("TIDEMARK_") {
            cmd.env_remove(k);
        }
    }
}

/// A whole response: status, headers, text and JSON body (Null when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub async fn read(resp: reqwest::Response) -> Self {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            text,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts the status; returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        &self.body
    }

    /// Asserts an InfluxDB error: the status, a body of exactly `{"code","message"}`, the JSON
    /// content type and `X-Platform-Error-Code` equal to the code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str, message: &str) {
        self.expect_error_with(status, code, |m| m == message, message);
    }

    /// As [`Reply::expect_error`], for a message that must contain `part`.
    #[track_caller]
    pub fn expect_error_containing(&self, status: u16, code: &str, part: &str) {
        self.expect_error_with(status, code, |m| m.contains(part), part);
    }

    #[track_caller]
    fn expect_error_with(&self, status: u16, code: &str, ok: impl Fn(&str) -> bool, want: &str) {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        let obj = self
            .body
            .as_object()
            .unwrap_or_else(|| panic!("error body is not a JSON object: {:?}", self.text));
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["code", "message"], "error body: {}", self.text);
        assert_eq!(self.body["code"], code, "error body: {}", self.text);
        let message = self.body["message"].as_str().unwrap();
        assert!(ok(message), "message {message:?}, wanted {want:?}");
        assert_eq!(self.header("x-platform-error-code"), Some(code));
        assert_eq!(
            self.header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }
}

/// Sends a request and reads the whole response. Every response must carry `X-Request-Id`.
pub async fn send(request: reqwest::RequestBuilder) -> Reply {
    let reply = Reply::read(request.send().await.unwrap()).await;
    let id = reply.header("x-request-id").unwrap_or_default();
    assert!(
        !id.is_empty(),
        "response without X-Request-Id: {} {}",
        reply.status,
        reply.text
    );
    reply
}

/// One permission, as the API takes it.
pub fn perm(action: &str, resource_type: &str, org_id: Option<&str>, id: Option<&str>) -> Value {
    let mut resource = serde_json::json!({ "type": resource_type });
    if let Some(o) = org_id {
        resource["orgID"] = o.into();
    }
    if let Some(i) = id {
        resource["id"] = i.into();
    }
    serde_json::json!({ "action": action, "resource": resource })
}

/// What an "all access" token of one org holds, as InfluxDB's UI creates it: read and write on
/// the org itself (by id) and on every other type within the org.
pub fn all_access(org_id: &str) -> Value {
    let mut perms = vec![
        perm("read", "orgs", None, Some(org_id)),
        perm("write", "orgs", None, Some(org_id)),
    ];
    for t in ["authorizations", "buckets", "dbrp", "tasks", "users"] {
        for a in ["read", "write"] {
            perms.push(perm(a, t, Some(org_id), None));
        }
    }
    Value::Array(perms)
}

impl TestServer {
    /// A request with the given token, or none.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match token {
            Some(t) => self.with_token(method, path, t),
            None => self.client.request(method, self.url(path)),
        }
    }

    /// Sends a request with an optional token and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut req = self.request(method, path, token);
        if let Some(b) = body {
            req = req.json(b);
        }
        send(req).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(reqwest::Method::GET, path, Some(OPERATOR_TOKEN), None)
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(
            reqwest::Method::POST,
            path,
            Some(OPERATOR_TOKEN),
            Some(&body),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(
            reqwest::Method::PATCH,
            path,
            Some(OPERATOR_TOKEN),
            Some(&body),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(reqwest::Method::DELETE, path, Some(OPERATOR_TOKEN), None)
            .await
    }

    /// Creates an org with the operator token; returns its id.
    pub async fn create_org(&self, name: &str) -> String {
        let r = self
            .post("/api/v2/orgs", serde_json::json!({ "name": name }))
            .await;
        r.expect(201)["id"].as_str().unwrap().to_owned()
    }

    /// Creates a bucket (default retention) with the operator token; returns its id.
    pub async fn create_bucket(&self, org_id: &str, name: &str) -> String {
        let r = self
            .post(
                "/api/v2/buckets",
                serde_json::json!({ "orgID": org_id, "name": name }),
            )
            .await;
        r.expect(201)["id"].as_str().unwrap().to_owned()
    }

    /// Creates a token with the operator token; returns `(authorization id, token)`.
    pub async fn create_token(&self, org_id: &str, permissions: Value) -> (String, String) {
        let r = self
            .post(
                "/api/v2/authorizations",
                serde_json::json!({ "orgID": org_id, "permissions": permissions }),
            )
            .await;
        let body = r.expect(201);
        (
            body["id"].as_str().unwrap().to_owned(),
            body["token"].as_str().unwrap().to_owned(),
        )
    }
}

/// How a process that was expected to exit on its own ended.
#[derive(Debug)]
pub struct Exit {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `tidemark` with these arguments and environment (no other `TIDEMARK_*` variables) and
/// waits up to 20 s for it to exit on its own.
pub fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> Exit {
    use std::io::Read;
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    clear_tidemark_env(&mut cmd);
    cmd.envs(env.iter().copied());
    let mut child = cmd.spawn().expect("spawn tidemark");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tidemark {args:?} did not exit within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Exit {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}
