//! How a message leaves: by SMTP (lettre, one pool of connections reused between messages), or
//! into a mailbox folder as `.eml` files when no SMTP server is configured (the demo run), so a
//! newcomer can open what a citizen would receive.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// A message as the outbox keeps it.
pub struct OutgoingMail<'a> {
    pub message_id: &'a str,
    pub sender: &'a str,
    pub reply_to: Option<&'a str>,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    /// A `.ics` calendar entry.
    pub attachment: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: the server is down, busy, or said 4xx.
    #[error("{0}")]
    Transient(String),
    /// Never going to work: the server said 5xx, or the message cannot be written.
    #[error("{0}")]
    Permanent(String),
}

#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &OutgoingMail<'_>) -> Result<(), SendError>;
}

/// `Auto-Submitted: auto-generated` (RFC 3834): out-of-office replies stay away.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

fn mailbox(what: &str, raw: &str) -> Result<Mailbox, SendError> {
    raw.parse().map_err(|e| SendError::Permanent(format!("{what} is not an address: {e}")))
}

/// The MIME message: plain text and HTML as alternatives, the calendar entry attached.
pub fn build(mail: &OutgoingMail<'_>) -> Result<Message, SendError> {
    let mut builder = Message::builder()
        .from(mailbox("the sender", mail.sender)?)
        .to(mailbox("the recipient", mail.recipient)?)
        .subject(mail.subject)
        .message_id(Some(mail.message_id.to_owned()))
        .header(AutoSubmitted);
    if let Some(reply_to) = mail.reply_to {
        builder = builder.reply_to(mailbox("the reply-to address", reply_to)?);
    }
    let alternative = MultiPart::alternative_plain_html(mail.text.to_owned(), mail.html.to_owned());
    let body = match mail.attachment {
        Some(ics) => {
            // Mail clients offer an invitation's buttons only when the part names its method.
            let method = ics
                .lines()
                .find_map(|line| line.strip_prefix("METHOD:"))
                .filter(|m| m.chars().all(|c| c.is_ascii_alphabetic()))
                .map(|m| format!("; method={m}"))
                .unwrap_or_default();
            let calendar = ContentType::parse(&format!("text/calendar; charset=utf-8{method}"))
                .map_err(|e| SendError::Permanent(format!("calendar type: {e}")))?;
            MultiPart::mixed()
                .multipart(alternative)
                .singlepart(Attachment::new("appuntamento.ics".to_owned()).body(ics.to_owned(), calendar))
        }
        None => alternative,
    };
    builder.multipart(body).map_err(|e| SendError::Permanent(format!("the message cannot be written: {e}")))
}

/// Connections to the SMTP server kept open, each carrying one message at a time: lettre writes
/// a message's final dot on its own, so each message waits out the server's delayed
/// acknowledgement (about 40 ms) and throughput comes from connections in parallel.
pub const SMTP_CONNECTIONS: u32 = 24;

/// SMTP, `smtp://host:port` (plain, for a relay on the same host), `smtp://…?tls=required`
/// (STARTTLS) or `smtps://user:pass@host` (TLS from the start).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    pub fn new(url: &str) -> Result<Self, SendError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| SendError::Permanent(format!("the SMTP URL does not read: {e}")))?
            .pool_config(PoolConfig::new().max_size(SMTP_CONNECTIONS).idle_timeout(Duration::from_secs(30)))
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Ok(Self { transport })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail<'_>) -> Result<(), SendError> {
        let message = build(mail)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}

/// Each message written as `<folder>/<Message-ID>.eml`: a mailbox to look at, not a delivery.
pub struct MailboxMailer {
    dir: PathBuf,
}

impl MailboxMailer {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

#[async_trait::async_trait]
impl Mailer for MailboxMailer {
    async fn send(&self, mail: &OutgoingMail<'_>) -> Result<(), SendError> {
        let bytes = build(mail)?.formatted();
        let name: String = mail.message_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        let path = self.dir.join(format!("{name}.eml"));
        let dir = self.dir.clone();
        let written = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(path, bytes)
        })
        .await;
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(SendError::Transient(format!("the mailbox folder cannot be written: {e}"))),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}
