//! A real SMTP server for the mail tests: aiosmtpd (installed by `tests/tools` into
//! target/tools/venv) running tests/support/smtp_server.py on a free loopback port, writing
//! each message it takes to a folder that the tests read back.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keyport::config::{MailSettings, RetrySchedule};
use keyport::db::Db;
use keyport::domain::mail::worker::MailWorker;

use super::free_port;

/// The public address the tests' mails link to.
pub const PUBLIC_URL: &str = "https://keyport.example.com";

/// Sends until nothing is due: how many mails were attempted.
pub async fn send_all(worker: &MailWorker) -> usize {
    let mut sent = 0;
    loop {
        let n = worker.send_due().await.expect("send");
        if n == 0 {
            return sent;
        }
        sent += n;
    }
}

pub struct SmtpServer {
    pub port: u16,
    folder: tempfile::TempDir,
    child: Option<Child>,
}

/// A message as the server received it.
pub struct ReceivedMail {
    /// The envelope's recipients.
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

impl ReceivedMail {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a mail message")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    pub fn text(&self) -> String {
        self.parsed().body_text(0).unwrap_or_default().into_owned()
    }

    pub fn html(&self) -> String {
        self.parsed().body_html(0).unwrap_or_default().into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed().header_raw(name).map(|v| v.trim().to_owned())
    }
}

fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/venv/bin/python");
    assert!(
        venv.exists(),
        "the SMTP server for the mail tests is missing: run tests/tools (it installs aiosmtpd into target/tools/venv)"
    );
    venv
}

impl SmtpServer {
    pub fn start() -> Self {
        let folder = tempfile::tempdir().expect("mail folder");
        let mut server = SmtpServer {
            port: free_port(),
            folder,
            child: None,
        };
        server.restart();
        server
    }

    /// The mail worker `serve` runs, sending here with retries at once.
    pub fn worker(&self, db: &Db) -> MailWorker {
        let settings = MailSettings {
            smtp_url: Some(self.url()),
            mail_from: "keyport <keyport@example.com>".into(),
            mail_retry_schedule: RetrySchedule(vec![Duration::ZERO, Duration::ZERO]),
            ..MailSettings::default()
        };
        MailWorker::new(db.clone(), &settings, PUBLIC_URL).expect("mail worker")
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP on loopback, as to a local relay.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops it: connections are refused until `restart`.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) on the same port, keeping what it received.
    pub fn restart(&mut self) {
        self.stop();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(self.port.to_string())
            .arg(self.folder.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the SMTP server");
        let mut ready = String::new();
        use std::io::BufRead;
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufReader::new(stdout)
            .read_line(&mut ready)
            .expect("the SMTP server says it is ready");
        assert_eq!(ready.trim(), "ready");
        self.child = Some(child);
    }

    /// What it has received, oldest first.
    pub fn received(&self) -> Vec<ReceivedMail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.folder.path())
            .expect("mail folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|path| ReceivedMail {
                raw: std::fs::read(&path).expect("a mail"),
                to: std::fs::read_to_string(path.with_extension("to"))
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_owned)
                    .collect(),
            })
            .collect()
    }

    /// Waits (a minute at most) until it has received `count` mails.
    pub fn wait_for(&self, count: usize) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() > deadline {
                return received;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
