//! Where mails go: an SMTP server (lettre, over rustls), or, with none configured, the log —
//! so keyport works, and its demo shows what it would send, without a mail server.

use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Tokio1Executor};

use super::compose::Composed;

/// What the SMTP server answered when it did not take a mail.
#[derive(Debug, Clone)]
pub struct Refused {
    /// A 5xx reply: sending again will not help.
    pub permanent: bool,
    pub reason: String,
}

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Log,
}

impl Transport {
    /// From `KEYPORT_SMTP_URL`; none means the log.
    pub fn new(smtp_url: Option<&str>) -> Result<Self, String> {
        match smtp_url {
            None => Ok(Transport::Log),
            Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                // The URL may carry a password: the error names the problem, not the URL.
                .map_err(|e| format!("KEYPORT_SMTP_URL is not an SMTP URL keyport can use: {e}"))
                .map(|builder| {
                    Transport::Smtp(
                        builder
                            .timeout(Some(std::time::Duration::from_secs(30)))
                            .build(),
                    )
                }),
        }
    }

    /// Sends one message; the server's reply when it took it.
    pub async fn send(&self, mail: Composed) -> Result<String, Refused> {
        match self {
            Transport::Log => {
                let headers = mail.message.headers();
                let field = |name: &str| headers.get_raw(name).unwrap_or_default().to_owned();
                tracing::info!(
                    to = %field("To"),
                    subject = %field("Subject"),
                    text = %mail.text,
                    "no SMTP server is set (KEYPORT_SMTP_URL): this mail was written to the log instead"
                );
                Ok("written to the log (no SMTP server is set)".into())
            }
            Transport::Smtp(smtp) => match smtp.send(mail.message).await {
                Ok(response) => Ok(format!(
                    "{} {}",
                    response.code(),
                    response.message().collect::<Vec<_>>().join(" ")
                )),
                Err(e) => Err(Refused {
                    permanent: e.is_permanent(),
                    reason: e.to_string(),
                }),
            },
        }
    }
}
