use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub tenant_id: i32,
    pub booking_id: Option<i32>,
    /// `confirmation`, `cancelled`, `rescheduled`, `reminder`.
    pub topic: String,
    /// The `Message-ID`, the same on every attempt.
    #[sea_orm(unique)]
    pub message_id: String,
    pub sender: String,
    pub reply_to: Option<String>,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// The `.ics` sent with it, if any.
    pub attachment: Option<String>,
    /// `queued`, `in_flight`, `sent`, `retrying`, `failed`, `skipped`.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// While in flight: when the claim lapses (a worker that died leaves it to another).
    pub lease_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// A webhook to this subscription (its `body_text` is the payload), not an e-mail.
    pub webhook_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
