//! A queued mail drawn into a message: a plain-text and an HTML part from one content, the
//! headers that mark it as automatic, and addresses built as mailboxes (never by formatting
//! text), so a name with a line break cannot add a header or a recipient.

use askama::Template;
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use super::{MailContent, one_line};
use crate::models::mail::Mail;

#[derive(Template)]
#[template(path = "mail/mail.txt")]
struct TextPart<'a> {
    name: &'a str,
    content: &'a MailContent,
    link: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "mail/mail.html")]
struct HtmlPart<'a> {
    name: &'a str,
    content: &'a MailContent,
    link: Option<(String, String)>,
}

/// A message ready to send, and its plain-text part (what the log shows when no SMTP server
/// is set).
pub struct Composed {
    pub message: Message,
    pub text: String,
}

/// Why a mail cannot be made into a message: not worth retrying.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unsendable(pub String);

/// The message for a queued `mail`, from `from`, with links on `public_url`.
pub fn message(mail: &Mail, from: &Mailbox, public_url: &str) -> Result<Composed, Unsendable> {
    let content: MailContent = serde_json::from_str(&mail.content)
        .map_err(|e| Unsendable(format!("the mail's content cannot be read: {e}")))?;
    // One Message-ID for every attempt at this mail, so a mail sent again after a crash
    // (at least once) is recognisably the same message to the receiving side.
    let id = format!(
        "<keyport.mail.{}.{}@{}>",
        mail.id.0,
        mail.created_at.and_utc().timestamp_micros(),
        from.email.domain()
    );
    render(
        &mail.to_name,
        &mail.to_email,
        &content,
        from,
        public_url,
        Some(id),
    )
}

/// The message saying `content` to `to_name <to_email>`; with no `message_id`, a new one.
pub fn render(
    to_name: &str,
    to_email: &str,
    content: &MailContent,
    from: &Mailbox,
    public_url: &str,
    message_id: Option<String>,
) -> Result<Composed, Unsendable> {
    let address = to_email
        .parse()
        .map_err(|e| Unsendable(format!("not an address mail can go to: {e}")))?;
    // A display name is one line: lettre would fail (panic) on a line break in it.
    let to = Mailbox::new(Some(one_line(to_name, usize::MAX)), address);
    let link = content.action.as_ref().map(|(label, path)| {
        (
            label.clone(),
            format!("{}{path}", public_url.trim_end_matches('/')),
        )
    });
    let text = TextPart {
        name: to_name,
        content,
        link: link.clone(),
    }
    .render()
    .map_err(|e| Unsendable(e.to_string()))?;
    let html = HtmlPart {
        name: to_name,
        content,
        link,
    }
    .render()
    .map_err(|e| Unsendable(e.to_string()))?;
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(content.subject.clone())
        .date_now()
        .message_id(message_id)
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        )
        .map_err(|e| Unsendable(e.to_string()))?;
    Ok(Composed { message, text })
}
