//! What each admin page's template receives.

use std::collections::BTreeMap;

use serde::Serialize;

/// What every signed-in page shows: who is signed in, the CSRF token for its forms, and where
/// they may go.
#[derive(Serialize)]
pub struct StaffFrame {
    pub email: String,
    pub csrf: String,
    pub platform: bool,
    pub tenants: Vec<NavLink>,
}

#[derive(Serialize)]
pub struct NavLink {
    pub label: String,
    pub url: String,
    pub current: bool,
}

/// A page's own data with the frame beside it (`staff.…` in templates).
#[derive(Serialize)]
pub struct WithStaff<'a, T: Serialize> {
    pub staff: StaffFrame,
    #[serde(flatten)]
    pub view: &'a T,
}

#[derive(Serialize)]
pub struct ErrorView {
    pub title_key: &'static str,
    pub body_key: &'static str,
}

#[derive(Serialize, Default)]
pub struct LoginView {
    /// The login form's own CSRF token (there is no session yet): also in a cookie.
    pub login_token: String,
    pub email: String,
    pub next: String,
    pub error_key: Option<&'static str>,
    pub retry_after: Option<u32>,
}

#[derive(Serialize)]
pub struct InvitationView {
    pub email: String,
    pub role_key: String,
    pub tenant: Option<String>,
    pub action: String,
    pub errors: BTreeMap<String, String>,
}

#[derive(Serialize, Default)]
pub struct PasswordView {
    pub errors: BTreeMap<String, String>,
    pub changed: bool,
}

#[derive(Serialize)]
pub struct DashboardView {
    /// Platform admins: every tenant.
    pub all_tenants: Vec<TenantRow>,
    /// Everyone else: the tenants they work for.
    pub own_tenants: Vec<OwnTenant>,
    /// Platform admins: the form that onboards a body.
    pub new_tenant: Option<NewTenantForm>,
}

/// The onboarding form, with what was typed and its errors, or the body just made.
#[derive(Serialize)]
pub struct NewTenantForm {
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub italian: bool,
    pub english: bool,
    pub admin_email: String,
    pub errors: BTreeMap<String, String>,
    pub created: Option<CreatedTenant>,
}

impl NewTenantForm {
    pub fn blank() -> Self {
        Self {
            slug: String::new(),
            name: String::new(),
            timezone: "Europe/Rome".into(),
            italian: true,
            english: true,
            admin_email: String::new(),
            errors: BTreeMap::new(),
            created: None,
        }
    }
}

#[derive(Serialize)]
pub struct CreatedTenant {
    pub name: String,
    pub url: String,
    pub invitation_url: String,
    pub email: String,
}

#[derive(Serialize)]
pub struct TenantRow {
    pub slug: String,
    pub name: String,
    pub url: String,
    pub version: i64,
    pub suspended: bool,
    pub staff: u64,
    pub upcoming_bookings: u64,
    pub suspension_action: String,
    pub public_url: String,
}

#[derive(Serialize)]
pub struct OwnTenant {
    pub slug: String,
    pub url: String,
    pub role_key: String,
}

#[derive(Serialize)]
pub struct OverviewView {
    pub name: String,
    pub slug: String,
    pub version: i64,
    pub role_key: String,
    pub is_admin: bool,
    pub services: usize,
    pub offices: Vec<OfficeRow>,
    pub staff_url: String,
    pub audit_url: String,
    pub keys_url: String,
    pub webhooks_url: String,
    pub feeds_url: String,
    pub processing_url: String,
    pub accessibility_url: String,
    pub configuration_url: String,
    pub public_url: String,
    pub statistics_url: String,
}

#[derive(Serialize)]
pub struct OfficeRow {
    pub name: String,
    /// The office's agenda at the desk.
    pub agenda_url: String,
    pub upcoming_bookings: u64,
}

#[derive(Serialize)]
pub struct StaffView {
    pub tenant_name: String,
    pub back: String,
    pub members: Vec<MemberRow>,
    pub pending: Vec<PendingRow>,
    pub offices: Vec<OfficeChoice>,
    pub action: String,
    /// What was typed, kept when the form has errors.
    pub email: String,
    pub role: String,
    pub errors: BTreeMap<String, String>,
    /// The invitation just made: its link is shown this once.
    pub invited: Option<Invited>,
}

#[derive(Serialize)]
pub struct MemberRow {
    pub email: String,
    /// The member's own page.
    pub url: String,
    pub role_key: String,
    pub offices: String,
    pub disabled: bool,
}

#[derive(Serialize)]
pub struct PendingRow {
    pub email: String,
    pub role_key: String,
    pub expires: String,
}

#[derive(Serialize)]
pub struct OfficeChoice {
    pub slug: String,
    pub name: String,
    pub checked: bool,
}

#[derive(Serialize)]
pub struct Invited {
    pub email: String,
    pub url: String,
    pub expires: String,
}

#[derive(Serialize)]
pub struct AuditView {
    pub heading: String,
    pub back: Option<String>,
    pub action: String,
    /// The log's address without a filter.
    pub filter_action: String,
    /// How many entries the page shows, said to screen readers when the list changes in place.
    pub shown: usize,
    pub entries: Vec<AuditRow>,
    pub next_page: Option<String>,
}

#[derive(Serialize)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub client: String,
    pub action: String,
    pub detail: String,
}

/// A value for a query string (`next=`), percent-encoded.
pub fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)]).map(|s| s.trim_start_matches("v=").to_owned()).unwrap_or_default()
}

/// A role's message key.
pub fn role_key(role: crate::domain::Role) -> String {
    format!("admin-role-{}", role.code().replace('_', "-"))
}

#[derive(Serialize)]
pub struct ConfigurationPage {
    pub tenant_name: String,
    pub back: String,
    pub action: String,
    pub settings: String,
    pub new_service: String,
    pub new_office: String,
    pub services: Vec<PartRow>,
    pub offices: Vec<PartRow>,
    pub current_version: i64,
    pub text: String,
    #[serde(flatten)]
    pub state: super::edits::EditState,
    pub saved_version: Option<i64>,
    pub saved_changes: Vec<String>,
    pub history: Vec<VersionRow>,
    /// When a restore was refused for stranding: where to send the choice.
    pub restore_action: Option<String>,
    /// An import was refused: the strand choice goes with the next upload.
    pub importing: bool,
    /// Where the pack is downloaded, and uploaded.
    pub export: String,
    pub datasets: Vec<FileRow>,
    pub plugins: Vec<FileRow>,
    pub datasets_action: String,
    pub plugins_action: String,
    /// What a new plugin may be shown of the citizen.
    pub citizen_fields: Vec<CitizenFieldChoice>,
}

#[derive(Serialize)]
pub struct CitizenFieldChoice {
    pub code: &'static str,
    pub label_key: String,
}

/// A dataset or plugin of the pack, and its file.
#[derive(Serialize)]
pub struct FileRow {
    pub name: String,
    pub file: String,
    pub removal_action: String,
    /// A plugin's: the label keys of the citizen's details it is shown.
    pub sees: Vec<String>,
    /// A plugin's: the services it checks.
    pub used_by: Vec<String>,
}

/// A service or office in the configuration's lists.
#[derive(Serialize)]
pub struct PartRow {
    pub name: String,
    pub slug: String,
    pub url: String,
    pub active: bool,
}

#[derive(Serialize)]
pub struct StrandedRow {
    pub code: String,
    pub when: String,
    pub service: String,
    pub office: String,
    pub reason_key: String,
}

#[derive(Serialize)]
pub struct VersionRow {
    pub version: i64,
    pub saved_at: String,
    pub saved_by: String,
    pub changes: String,
    /// None for the version in force.
    pub restore_action: Option<String>,
}
