//! Settings from flags and the environment (every flag has an environment variable).

use std::time::Duration;

use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// `postgres://…` for PostgreSQL; anything else is a SQLite file path.
    #[arg(long, env = "DATABASE_URL", default_value = "keyport.db")]
    pub database_url: String,
    /// Connections in the pool (default: 8 for SQLite, 16 for PostgreSQL).
    #[arg(long, env = "KEYPORT_DB_POOL_SIZE")]
    pub db_pool_size: Option<u32>,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "KEYPORT_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Create demo accounts when the database has no users, and print how to sign in.
    #[arg(long, env = "KEYPORT_DEMO")]
    pub demo: bool,
    /// On SIGTERM or Ctrl-C: how long in-flight requests and deliveries may take to finish.
    #[arg(long, env = "KEYPORT_SHUTDOWN_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,
    /// How often each key's usage, counted in memory, is written to the database (seconds,
    /// or a duration such as `1m`); also written at shutdown.
    #[arg(long, env = "KEYPORT_USAGE_FLUSH", default_value = "10", value_parser = parse_seconds)]
    pub usage_flush: Duration,
    #[command(flatten)]
    pub web: WebSettings,
    #[command(flatten)]
    pub delivery: DeliverySettings,
    #[command(flatten)]
    pub mail: MailSettings,
}

/// How webhooks are delivered.
#[derive(Args, Debug, Clone)]
pub struct DeliverySettings {
    /// Delays before each retry after the first attempt, e.g. `5s,5m,30m,2h,5h,10h,10h`.
    #[arg(long, env = "KEYPORT_WEBHOOK_RETRY_SCHEDULE", default_value = "5s,5m,30m,2h,5h,10h,10h", value_parser = parse_schedule)]
    pub webhook_retry_schedule: RetrySchedule,
    /// How long one attempt may take.
    #[arg(long, env = "KEYPORT_WEBHOOK_TIMEOUT", default_value = "15s", value_parser = humantime::parse_duration)]
    pub webhook_timeout: Duration,
    /// Deliveries sent at the same time by this instance.
    #[arg(long, env = "KEYPORT_WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub webhook_concurrency: usize,
    /// Allow delivery to loopback and private addresses (development and tests only).
    #[arg(long, env = "KEYPORT_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// A webhook whose deliveries keep failing this long is turned off, with the reason shown.
    #[arg(long, env = "KEYPORT_WEBHOOK_DISABLE_AFTER", default_value = "5days", value_parser = humantime::parse_duration)]
    pub webhook_disable_after: Duration,
    /// How often the worker looks for due deliveries when it has nothing to do.
    #[arg(long, env = "KEYPORT_WEBHOOK_POLL", default_value = "250ms", value_parser = humantime::parse_duration)]
    pub webhook_poll: Duration,
}

/// How mail is sent.
#[derive(Args, Debug, Clone)]
pub struct MailSettings {
    /// The SMTP server, in lettre's URL form: `smtp://user:pass@host:587?tls=required`,
    /// `smtps://user:pass@host`, or `smtp://localhost:25` for a local relay. Without it, each
    /// mail is written to the log instead.
    #[arg(long, env = "KEYPORT_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Who mails come from.
    #[arg(
        long,
        env = "KEYPORT_MAIL_FROM",
        default_value = "keyport <keyport@localhost>"
    )]
    pub mail_from: String,
    /// Delays before each retry of a mail the SMTP server did not take.
    #[arg(long, env = "KEYPORT_MAIL_RETRY_SCHEDULE", default_value = "1m,5m,30m,2h,8h,24h", value_parser = parse_schedule)]
    pub mail_retry_schedule: RetrySchedule,
    /// How often the mail worker looks for mails to send.
    #[arg(long, env = "KEYPORT_MAIL_POLL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub mail_poll: Duration,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            mail_from: "keyport <keyport@localhost>".into(),
            mail_retry_schedule: parse_schedule("1m,5m,30m,2h,8h,24h")
                .unwrap_or(RetrySchedule(Vec::new())),
            mail_poll: Duration::from_secs(1),
        }
    }
}

/// The delays between attempts: attempt n + 1 comes `delays[n - 1]` after attempt n.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

fn parse_schedule(text: &str) -> Result<RetrySchedule, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| humantime::parse_duration(part).map_err(|e| format!("`{part}`: {e}")))
        .collect::<Result<Vec<_>, _>>()
        .map(RetrySchedule)
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            webhook_retry_schedule: parse_schedule("5s,5m,30m,2h,5h,10h,10h")
                .unwrap_or(RetrySchedule(Vec::new())),
            webhook_timeout: Duration::from_secs(15),
            webhook_concurrency: 16,
            webhook_allow_private: false,
            webhook_disable_after: Duration::from_secs(5 * 24 * 3600),
            webhook_poll: Duration::from_millis(250),
        }
    }
}

/// By default `/metrics` answers this machine and private networks (where Prometheus
/// scrapes from), not the internet.
const METRICS_ALLOW: &str = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7";

/// What the web layer needs to know.
#[derive(Args, Debug, Clone)]
pub struct WebSettings {
    /// The address people use to reach keyport (for the setup link and the API Developer
    /// Guide's examples). Default: http://BIND for the setup link, and the request's own
    /// host for the guide (a forwarded host only from a trusted proxy).
    #[arg(long, env = "KEYPORT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Mark cookies Secure (set this when keyport is served over HTTPS).
    #[arg(long, env = "KEYPORT_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Minutes of inactivity after which a session ends.
    #[arg(long, env = "KEYPORT_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: i64,
    /// Hours after signing in at which a session ends, however active.
    #[arg(long, env = "KEYPORT_SESSION_ABSOLUTE_HOURS", default_value_t = 12)]
    pub session_absolute_hours: i64,
    /// Minutes after the last password entry before Regenerate New Key and Turn Off API
    /// Access ask for the password again.
    #[arg(long, env = "KEYPORT_REAUTH_MINUTES", default_value_t = 15)]
    pub reauth_minutes: i64,
    /// Proxies (addresses or CIDR ranges, comma-separated) whose `X-Forwarded-For` is
    /// believed. Without them the client address is the socket's peer.
    #[arg(long, env = "KEYPORT_TRUSTED_PROXIES", default_value = "", value_parser = AddressRanges::parse)]
    pub trusted_proxies: AddressRanges,
    /// API calls with an invalid key one address may make at once before it gets 429 (it then
    /// gets one more every 60/N seconds). Calls with a valid key are never limited.
    #[arg(long, env = "KEYPORT_API_KEY_FAILURES_PER_MINUTE", default_value_t = std::num::NonZeroU32::new(30).expect("not zero"))]
    pub api_key_failures_per_minute: std::num::NonZeroU32,
    /// Who may read `/metrics` (addresses or CIDR ranges, comma-separated; `0.0.0.0/0,::/0`
    /// for anyone). Others get 403.
    #[arg(long, env = "KEYPORT_METRICS_ALLOW", default_value = METRICS_ALLOW, value_parser = AddressRanges::parse)]
    pub metrics_allow: AddressRanges,
    /// Accept API keys in the `api_key` query parameter (links). `false` refuses them.
    #[arg(long, env = "KEYPORT_ALLOW_QUERY_KEYS", default_value_t = true, action = clap::ArgAction::Set)]
    pub allow_query_keys: bool,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            public_url: None,
            secure_cookies: false,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            reauth_minutes: 15,
            trusted_proxies: AddressRanges::default(),
            metrics_allow: AddressRanges::parse(METRICS_ALLOW).unwrap_or_default(),
            api_key_failures_per_minute: std::num::NonZeroU32::new(30).expect("not zero"),
            allow_query_keys: true,
        }
    }
}

/// Addresses and CIDR ranges: the reverse proxies in front of keyport, or who may read
/// `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressRanges(pub Vec<ipnet::IpNet>);

impl AddressRanges {
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<ipnet::IpNet>()
                    .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("`{part}` is not an IP address or CIDR range"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(AddressRanges)
    }

    pub fn contains(&self, addr: &std::net::IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(addr))
    }
}

impl DatabaseArgs {
    pub fn pool_size(&self, postgres: bool) -> u32 {
        self.db_pool_size.unwrap_or(if postgres { 16 } else { 8 })
    }
}

/// A number of seconds (`10`) or a duration (`1m`), more than zero.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let duration = match text.trim().parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(text.trim()).map_err(|e| e.to_string())?,
    };
    if duration.is_zero() {
        return Err("must be more than zero".into());
    }
    Ok(duration)
}
