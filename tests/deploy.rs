//! docs/deploy.md, tried: its environment table against `keyport serve --help`; its systemd
//! unit (checked by `systemd-analyze verify`, then run twice) behind its nginx configuration,
//! over TLS; and its backup and restore commands for the backend under test.
//!
//! Runs `systemd-analyze`, `nginx` and `openssl` (`tests/tools` installs what is missing).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keyport::db::{DatabaseUrl, Db};
use keyport::domain::accounts::{self, NewAccount};
use keyport::domain::api_access;
use keyport::domain::audit::Actor;
use keyport::models::Role;

use crate::support::{Api, Browser, PASSWORD, Served, TestApp, free_port};

const KEYPORT: &str = env!("CARGO_BIN_EXE_keyport");

fn deploy_md() -> String {
    std::fs::read_to_string("docs/deploy.md").expect("docs/deploy.md")
}

/// The code block that follows `<!-- tried by tests/deploy.rs: NAME -->` in docs/deploy.md.
fn example(name: &str) -> String {
    let doc = deploy_md();
    let marker = format!("<!-- tried by tests/deploy.rs: {name} -->");
    let after = &doc[doc.find(&marker).unwrap_or_else(|| panic!("no {marker}")) + marker.len()..];
    let start = after.find("```").expect("a code block") + 3;
    let body = &after[start..];
    let body = &body[body.find('\n').expect("the block's first line") + 1..];
    body[..body.find("```").expect("the block's end")].to_owned()
}

/// `text` with `from` replaced, which must be there: the test and the page may not drift apart.
fn swap(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "docs/deploy.md no longer has {from:?}");
    text.replace(from, to)
}

fn run(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{command:?} failed:\n{text}");
    text
}

#[test]
fn the_environment_table_names_every_setting_of_keyport_serve() {
    let help = run(Command::new(KEYPORT).args(["serve", "--help"]));
    let in_help: BTreeSet<String> = regex::Regex::new(r"\[env: ([A-Z_]+)=")
        .expect("regex")
        .captures_iter(&help)
        .map(|c| c[1].to_owned())
        .collect();
    let doc = deploy_md();
    let section = &doc[doc.find("## Environment").expect("an Environment section")..];
    let section = &section[..section[3..].find("\n## ").expect("the next section") + 3];
    let in_table: BTreeSet<String> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `")?.split('`').next())
        .map(str::to_owned)
        .collect();
    let read_elsewhere: BTreeSet<String> = [
        "KEYPORT_LOG",
        "KEYPORT_LOG_FORMAT",
        "MALLOC_ARENA_MAX",
        "MALLOC_MMAP_THRESHOLD_",
    ]
    .map(str::to_owned)
    .into();
    assert!(in_help.len() >= 20, "{help}");
    assert_eq!(
        in_help,
        &in_table - &read_elsewhere,
        "the table and `keyport serve --help` differ"
    );
    assert!(read_elsewhere.is_subset(&in_table));
}

/// The path of `program`; a machine that lacks it fails the test with what to install
/// (`tests/tools`, which the README's test command runs first, installs it).
fn tool(program: &str, package: &str) -> String {
    ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.exists())
        .map(|path| path.display().to_string())
        .unwrap_or_else(|| {
            panic!("{program} is missing: run tests/tools, or `apt-get install {package}`")
        })
}

/// A child process (nginx) stopped when the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for_port(port: u16) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "nothing listens on {port}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts one instance as the unit would: its `ExecStart`, its `Environment=` lines with `%i`
/// as the port, and the environment file's settings.
fn start_unit_instance(unit: &str, env_file: &Path, port: u16) -> Served {
    let mut command = None;
    let mut env = Vec::new();
    for line in unit.lines() {
        let line = line.replace("%i", &port.to_string());
        if let Some(exec) = line.strip_prefix("ExecStart=") {
            let mut words = exec.split_whitespace();
            let mut c = Command::new(words.next().expect("a program"));
            c.args(words);
            command = Some(c);
        } else if let Some(file) = line.strip_prefix("EnvironmentFile=") {
            assert_eq!(Path::new(file), env_file);
            let settings = std::fs::read_to_string(file).expect("environment file");
            for setting in settings
                .lines()
                .filter(|l| !l.starts_with('#') && l.contains('='))
            {
                let (name, value) = setting.split_once('=').expect("NAME=value");
                env.push((name.to_owned(), value.to_owned()));
            }
        } else if let Some(setting) = line.strip_prefix("Environment=") {
            let (name, value) = setting.split_once('=').expect("NAME=value");
            env.push((name.to_owned(), value.to_owned()));
        }
    }
    let mut command = command.expect("the unit has an ExecStart");
    command.env("KEYPORT_LOG", "warn").envs(env);
    Served::spawn(command, &format!("127.0.0.1:{port}"))
}

#[actix_web::test]
async fn the_systemd_unit_runs_two_instances_behind_the_nginx_configuration() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name).display().to_string();

    // The environment file, on the test's database.
    let env_example = example("env");
    let database_line = env_example
        .lines()
        .find(|l| l.starts_with("DATABASE_URL="))
        .expect("a DATABASE_URL line")
        .to_owned();
    let env_file = dir.path().join("keyport.env");
    let settings = swap(
        &env_example,
        &database_line,
        &format!("DATABASE_URL={}", app.database_url),
    );
    std::fs::write(&env_file, settings).expect("write keyport.env");

    // The unit, as systemd would check it: the program and the file where this test has them.
    let unit = swap(&example("unit"), "/usr/local/bin/keyport", KEYPORT);
    let unit = swap(
        &unit,
        "/etc/keyport/keyport.env",
        &env_file.display().to_string(),
    );
    let (port_a, port_b) = (free_port(), free_port());
    let unit_file = dir.path().join(format!("keyport@{port_a}.service"));
    std::fs::write(&unit_file, &unit).expect("write the unit");
    run(Command::new(tool("systemd-analyze", "systemd"))
        .arg("verify")
        .arg(&unit_file));

    let a = start_unit_instance(&unit, &env_file, port_a);
    let b = start_unit_instance(&unit, &env_file, port_b);
    a.wait_until_listening().await;
    b.wait_until_listening().await;

    // A certificate for 127.0.0.1 from a test authority, in place of the real one.
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-days",
            "1",
            "-subj",
            "/CN=keyport test authority",
        ])
        .args(ec)
        .args(["-keyout", &path("ca.key"), "-out", &path("ca.pem")]));
    run(Command::new("openssl")
        .args(["req", "-new", "-subj", "/CN=127.0.0.1"])
        .args(ec)
        .args(["-keyout", &path("privkey.pem"), "-out", &path("site.csr")]));
    std::fs::write(
        path("site.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write site.ext");
    run(Command::new("openssl").args([
        "x509",
        "-req",
        "-days",
        "1",
        "-in",
        &path("site.csr"),
        "-CA",
        &path("ca.pem"),
        "-CAkey",
        &path("ca.key"),
        "-CAcreateserial",
        "-extfile",
        &path("site.ext"),
        "-out",
        &path("fullchain.pem"),
    ]));

    // nginx with the page's configuration: the two instances' ports, the test's listening
    // ports and certificate swapped in; the rest of nginx.conf kept minimal.
    let (tls, plain) = (free_port(), free_port());
    let site = example("nginx");
    let site = swap(&site, "127.0.0.1:8081", &format!("127.0.0.1:{port_a}"));
    let site = swap(&site, "127.0.0.1:8082", &format!("127.0.0.1:{port_b}"));
    let site = swap(
        &site,
        "listen 443 ssl;",
        &format!("listen 127.0.0.1:{tls} ssl;"),
    );
    let site = swap(&site, "listen 80;", &format!("listen 127.0.0.1:{plain};"));
    let site = swap(
        &site,
        "/etc/ssl/keyport/fullchain.pem",
        &path("fullchain.pem"),
    );
    let site = swap(&site, "/etc/ssl/keyport/privkey.pem", &path("privkey.pem"));
    let temp = path("nginx-temp");
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {pid};\nerror_log {log} warn;\nevents {{}}\n\
         http {{\n access_log off;\n client_body_temp_path {temp}/body;\n proxy_temp_path {temp}/proxy;\n\
         fastcgi_temp_path {temp}/fastcgi;\n uwsgi_temp_path {temp}/uwsgi;\n scgi_temp_path {temp}/scgi;\n{site}\n}}\n",
        pid = path("nginx.pid"),
        log = path("nginx-error.log"),
    );
    std::fs::create_dir_all(&temp).expect("nginx temp dir");
    std::fs::write(path("nginx.conf"), conf).expect("write nginx.conf");
    let nginx = Running(
        Command::new(tool("nginx", "nginx-light"))
            .args(["-p", &path(""), "-c", &path("nginx.conf")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx (apt-get install nginx-light)"),
    );
    wait_for_port(tls).await;

    // Plain HTTP is sent to HTTPS.
    let redirected = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("http://127.0.0.1:{plain}/login"))
        .send()
        .await
        .expect("GET over HTTP");
    assert_eq!(redirected.status(), 301);

    // Through nginx over HTTPS: a person signs in, and the session works on every request,
    // whichever instance answers; the cookies are the secure `__Host-` ones.
    let ca = std::fs::read(path("ca.pem")).expect("certificate");
    let site_base = format!("https://127.0.0.1:{tls}");
    let browser = Browser::trusting(site_base.clone(), &ca);
    let ann = app.create_user(Role::User, "Ann Behind Nginx");
    let signed_in = browser.sign_in(&ann.email, PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert!(browser.cookie_header().contains("__Host-keyport_session="));
    for _ in 0..6 {
        let page = browser.get("/settings/api-access").await;
        assert_eq!(page.status, 200, "{}", page.body);
        // keyport kept nginx's request id (32 hex digits; its own are 16).
        let id = page.header("x-request-id");
        assert_eq!(id.len(), 32, "{id}");
    }
    let key = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let api = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("PEM"))
        .build()
        .expect("client");
    for _ in 0..10 {
        let me = api
            .get(format!("{site_base}/api/v1/me"))
            .header("X-Api-Key", &key)
            .send()
            .await
            .expect("GET /api/v1/me");
        assert_eq!(me.status(), 200);
    }

    // Both instances answered some of those calls.
    let me_calls = r#"keyport_http_requests_total{method="GET",route="/api/v1/me",status="200"}"#;
    let at_a = crate::metrics::sample(&crate::metrics::scrape(&a.base).await, me_calls);
    let at_b = crate::metrics::sample(&crate::metrics::scrape(&b.base).await, me_calls);
    assert_eq!(at_a + at_b, 10.0);
    assert!(at_a > 0.0 && at_b > 0.0, "A answered {at_a}, B {at_b}");

    // The metrics are not on the public name.
    let hidden = api
        .get(format!("{site_base}/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(hidden.status(), 404);
    drop(nginx);
}

/// The backup block's commands for this backend, the `systemctl` lines aside.
fn backup_commands(name: &str) -> Vec<String> {
    example(name)
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with("systemctl"))
        .map(str::to_owned)
        .collect()
}

fn sh(line: &str, dir: &Path, env: &[(&str, &str)]) {
    run(Command::new("sh")
        .args(["-c", line])
        .current_dir(dir)
        .env(
            "PATH",
            format!(
                "{}:{}",
                Path::new(KEYPORT).parent().expect("bin dir").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .envs(env.iter().copied()));
}

/// keyport on the restored copy knows the person and their key.
async fn restored_copy_works(database_url: &str, email: &str, key: &str) {
    let served = crate::support::serve(database_url, &[]);
    served.wait_until_listening().await;
    let me = Api::new(served.base.clone()).get_me(key).await;
    assert_eq!(me.status(), 200);
    let browser = Browser::new(served.base.clone());
    assert_eq!(browser.sign_in(email, PASSWORD).await.status, 303);
}

/// A person with a key, written straight to a database.
fn person_with_key(db: &Db, email: &str) -> String {
    let mut conn = db.get().expect("conn");
    let user = accounts::create_user(
        &mut conn,
        &NewAccount {
            email,
            name: "Bea Backup",
            role: Role::User,
            password: PASSWORD,
        },
    )
    .expect("create user");
    let issued = api_access::enable(
        &mut conn,
        &Actor {
            id: user.id,
            ip: None,
        },
    )
    .expect("enable");
    issued.key.expose().to_owned()
}

#[actix_web::test]
async fn backup_and_restore_as_the_page_says() {
    let dir = tempfile::tempdir().expect("temp dir");
    match std::env::var("KEYPORT_TEST_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            postgres_backup_and_restore(&admin_url, dir.path()).await
        }
        _ => sqlite_backup_and_restore(dir.path()).await,
    }
}

async fn sqlite_backup_and_restore(dir: &Path) {
    let app = TestApp::spawn().await;
    let key = person_with_key(&app.db, "bea.sqlite@example.com");
    let (backup, restored) = (dir.join("backup.db"), dir.join("restored.db"));
    for line in backup_commands("sqlite-backup") {
        let line = swap(
            &line,
            "/var/backups/keyport/keyport.db",
            &backup.display().to_string(),
        );
        let line = line.replace(
            "/var/lib/keyport/keyport.db",
            &restored.display().to_string(),
        );
        sh(&line, dir, &[("DATABASE_URL", &app.database_url)]);
    }
    restored_copy_works(
        &restored.display().to_string(),
        "bea.sqlite@example.com",
        &key,
    )
    .await;
}

/// A database of its own on the test server, dropped at the end.
struct Database {
    admin_url: String,
    name: String,
}

impl Database {
    fn create(admin_url: &str, name: String) -> Self {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let mut conn = diesel::PgConnection::establish(admin_url).expect("connect");
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        Self {
            admin_url: admin_url.to_owned(),
            name,
        }
    }

    fn url(&self) -> String {
        let base = self.admin_url.split('?').next().expect("URL");
        let server = &base[..base.rfind('/').expect("a database name")];
        format!("{server}/{}", self.name)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

async fn postgres_backup_and_restore(admin_url: &str, dir: &Path) {
    let tag = format!("{}_{}", std::process::id(), free_port());
    let source = Database::create(admin_url, format!("kp_backup_{tag}"));
    let target = Database::create(admin_url, format!("kp_restore_{tag}"));
    let db = Db::connect(&DatabaseUrl::parse(&source.url()).expect("URL"), 2).expect("connect");
    db.migrate().expect("migrate");
    let key = person_with_key(&db, "bea.postgres@example.com");
    drop(db);
    for line in backup_commands("postgres-backup") {
        sh(
            &line,
            dir,
            &[
                ("DATABASE_URL", &source.url()),
                ("RESTORE_URL", &target.url()),
            ],
        );
    }
    assert!(dir.join("keyport.dump").exists());
    restored_copy_works(&target.url(), "bea.postgres@example.com", &key).await;
}
