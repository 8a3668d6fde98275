//! `keyport serve` as a separate process, as people and deployments run it.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A `keyport serve` process, killed when dropped.
pub struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    logs: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    pub base: String,
}

impl Served {
    /// Ends the process the hard way, as a crash would: no graceful shutdown.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// The CPU time the process has used so far, user and system (from `/proc/<pid>/stat`).
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("read /proc/<pid>/stat");
        // The fields after the command name, which is in parentheses and may hold spaces:
        // utime and stime are the 14th and 15th fields, in clock ticks.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .expect("a stat line")
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 =
            fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
        // SAFETY: sysconf only reads a system constant.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        Duration::from_secs_f64(ticks as f64 / per_second as f64)
    }

    /// The process's resident memory now (VmRSS from `/proc/<pid>/status`).
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc/<pid>/status");
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS");
        kib * 1024
    }

    /// SIGTERM, as a service manager stops a service.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits for the process to end by itself.
    pub fn wait_for_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "keyport did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Starts `keyport serve` on a free port with this database and these extra flags.
pub fn serve(database_url: &str, extra: &[&str]) -> Served {
    serve_with_env(database_url, extra, &[])
}

/// `serve` with these environment variables too (`KEYPORT_LOG` is `warn` unless set here).
pub fn serve_with_env(database_url: &str, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let bind = format!("127.0.0.1:{}", free_port());
    serve_on(database_url, &bind, extra, env)
}

/// `serve` listening on `bind` (`[::1]:PORT` for IPv6 loopback).
pub fn serve_on(database_url: &str, bind: &str, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyport"));
    command
        .args(["serve", "--bind", bind])
        .args(extra)
        .env("DATABASE_URL", database_url)
        .env("KEYPORT_LOG", "warn")
        .envs(env.iter().copied());
    Served::spawn(command, bind)
}

impl Served {
    /// Runs `command` (a `keyport serve` that will listen on `bind`), keeping what it prints.
    pub fn spawn(mut command: Command, bind: &str) -> Served {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start keyport serve");
        let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let kept = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock().expect("logs").push(line);
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Served {
            child,
            lines,
            logs,
            base: format!("http://{bind}"),
        }
    }
}

impl Served {
    /// The lines logged to standard error so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.logs.lock().expect("logs").clone()
    }

    /// The first printed line that contains `text`.
    pub fn line_with(&self, text: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("keyport never printed {text:?}"));
            if line.contains(text) {
                return line;
            }
        }
    }

    pub async fn wait_until_listening(&self) {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client
                .get(format!("{}/login", self.base))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("keyport serve did not start listening");
    }
}
