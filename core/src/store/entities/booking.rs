use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bookings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub tenant_id: i32,
    pub code: String,
    pub status: String,
    pub service: String,
    pub office: String,
    pub mode: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub timezone: String,
    pub first_name: String,
    pub last_name: String,
    /// Empty when staff booked a citizen who has no e-mail address.
    pub email: String,
    pub phone: String,
    pub fiscal_code: Option<String>,
    pub contact: Option<String>,
    /// JSON object of the service's extra answers.
    pub answers: String,
    pub reason: Option<String>,
    pub details: Option<String>,
    pub locale: String,
    pub privacy_version: String,
    /// JSON list of what a plugin reported about the booking (label per language, value).
    pub summary: Option<String>,
    /// Why the public body cancelled it, when it did.
    pub cancel_reason: Option<String>,
    /// How many times it changed since it was made (the calendar's `SEQUENCE`).
    pub revision: i32,
    /// The e-mail it still owes (`confirmation`, then `reminder`), due at `mail_due_at`; none
    /// once both went, or when it was cancelled.
    pub mail_next: Option<String>,
    pub mail_due_at: Option<DateTimeUtc>,
    /// The counter's record (see `store::desk`).
    pub checked_in_at: Option<DateTimeUtc>,
    pub called_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    /// The status before the last desk action, and when that was: what "undo" goes back to.
    pub previous_status: Option<String>,
    pub status_changed_at: Option<DateTimeUtc>,
    /// Staff's internal note; never shown to the citizen.
    pub staff_note: Option<String>,
    /// How it was made: `web`, `api`, `counter`, `phone` (bookings made before it was kept: `web`).
    pub channel: String,
    /// The staff member who made it for the citizen.
    pub booked_by: Option<i32>,
    /// The counter queue's ticket (`P017`), given at check-in for its office-local day, and the
    /// desk the citizen was called to.
    pub ticket: Option<String>,
    pub ticket_number: Option<i32>,
    pub ticket_day: Option<Date>,
    pub desk: Option<String>,
    /// When its personal data were anonymised (past the body's retention, or at the citizen's
    /// request); none while it holds them.
    pub anonymised_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
