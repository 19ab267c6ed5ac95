//! E-mails to citizens: what they say (`compose.rs`: templates in `core/mail/templates`, strings
//! in `core/mail/i18n`, in the booking's language) and how they leave (`transport.rs`: SMTP, or a
//! mailbox folder for the demo). Only this module knows lettre; the outbox (`app/outbox.rs`)
//! decides when.

mod compose;
mod overrides;
mod transport;

pub use compose::{ComposeError, Composed, Composer, Links, Topic};
pub use overrides::{HTML_TEMPLATE, MailTemplates, TEXT_TEMPLATE};
pub use transport::{MailboxMailer, Mailer, OutgoingMail, SMTP_CONNECTIONS, SendError, SmtpMailer, build};
