//! Settings from flags and the environment (every flag has an environment variable).

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
    /// The address people use to reach keyport (for the setup link). Default: http://BIND.
    #[arg(long, env = "KEYPORT_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[command(flatten)]
    pub web: WebSettings,
}

/// What the web layer needs to know.
#[derive(Args, Debug, Clone)]
pub struct WebSettings {
    /// Mark cookies Secure (set this when keyport is served over HTTPS).
    #[arg(long, env = "KEYPORT_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Minutes of inactivity after which a session ends.
    #[arg(long, env = "KEYPORT_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: i64,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_idle_minutes: 30,
        }
    }
}

impl DatabaseArgs {
    pub fn pool_size(&self, postgres: bool) -> u32 {
        self.db_pool_size.unwrap_or(if postgres { 16 } else { 8 })
    }
}
