//! Saving a tenant's configuration: from a pack folder (`sportello tenant apply`) or edited by an
//! admin. Either way the whole configuration is validated, the change is checked against the
//! bookings it could strand, a new version is stored with who saved it and what changed, and the
//! change is audited. An invalid configuration changes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde_json::json;

use super::staff::Actor;
use super::{AppError, Sportello};
use crate::domain::slots::units_between;
use crate::domain::stranding::{StrandReason, stranded};
use crate::domain::{Booking, BookingStatus, TenantConfig};
use crate::mail::Topic;
use crate::packs::{Change, Item, PackError, PackSource, diff, parse_config};
use crate::store::{Bookings, Ledger, NewVersion, OfficeFeeds, StoredTenant, Tenants, Versions, WriteTx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub slug: String,
    pub created: bool,
    /// Empty when the pack was already applied as it is.
    pub changes: Vec<Change>,
    /// The configuration version now in force.
    pub version: i64,
}

/// What to do with upcoming bookings a new configuration would strand.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StrandPolicy {
    /// Save nothing and list them (the default: never a silent loss).
    #[default]
    Refuse,
    /// Save; they stay valid, and new bookings see the reduced capacity.
    Keep,
    /// Save and cancel them, recording `reason` on each. With `listed` (the codes the admin was
    /// shown), only if exactly those are stranded now: on a busy day the list may have grown.
    Cancel { reason: String, listed: Option<BTreeSet<String>> },
}

impl StrandPolicy {
    /// The choice a form or request makes: none or `refuse`, `keep`, or `cancel` with a reason
    /// (and, when given, the codes of the bookings it was shown).
    pub fn parse(choice: Option<&str>, reason: Option<&str>, listed: Option<&[String]>) -> Result<Self, AppError> {
        match choice.map(str::trim).unwrap_or_default() {
            "" | "refuse" => Ok(Self::Refuse),
            "keep" => Ok(Self::Keep),
            "cancel" => Ok(Self::Cancel {
                reason: reason.unwrap_or_default().to_owned(),
                listed: listed
                    .map(|codes| codes.iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect()),
            }),
            _ => Err(AppError::field("stranded", "unknown_choice", "Use keep or cancel.")),
        }
    }
}

/// An upcoming booking a configuration would strand, as listed to the admin (a code, no
/// personal data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrandedBooking {
    pub code: String,
    pub start: chrono::DateTime<chrono::Utc>,
    pub timezone: chrono_tz::Tz,
    pub service: String,
    pub office: String,
    pub reason: StrandReason,
}

/// The longest reason a cancellation may carry.
const MAX_CANCEL_REASON_CHARS: usize = 500;

/// Which version a save replaces.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Expected {
    /// Whatever is stored (a pack applied from the console).
    Current,
    /// Exactly this one, or the save is refused as stale (an admin's edit, `If-Match`).
    Version(i64),
    /// None: the tenant is new (onboarding), and its slug must be free.
    Absent,
}

impl Sportello {
    /// Reads, validates and applies the pack in `dir`. An invalid pack changes nothing, nor does
    /// one that would strand bookings.
    pub async fn apply_pack(&self, dir: &Path) -> Result<ApplyReport, AppError> {
        self.apply_pack_with(dir, &StrandPolicy::Refuse).await
    }

    /// As `apply_pack`, doing with stranded bookings what `policy` says. `path` is a pack
    /// folder, or a pack archive (`.tar.gz`, as the admin pages export).
    pub async fn apply_pack_with(&self, path: &Path, policy: &StrandPolicy) -> Result<ApplyReport, AppError> {
        let (source, config) = if path.is_file() {
            let shown = path.display().to_string();
            let size = std::fs::metadata(path).map_err(|e| PackError::new(&shown, "(file)", e.to_string()))?.len();
            if size > crate::packs::MAX_ARCHIVE_BYTES {
                return Err(PackError::new(&shown, "(file)", "a pack archive may be at most 40 MiB").into());
            }
            let bytes = std::fs::read(path).map_err(|e| PackError::new(&shown, "(file)", e.to_string()))?;
            let (folder, files) = crate::packs::unpack_archive(&bytes)?;
            PackSource::from_files(&folder, files, &shown)?
        } else {
            PackSource::read(path)?
        };
        let file = path.join(crate::packs::MANIFEST).display().to_string();
        self.store_configuration(&source, &config, &file, Expected::Current, policy, &Actor::console()).await
    }

    /// Applies every pack folder under `dir` (each holding a `tenant.toml`), in name order.
    pub async fn apply_all_packs(&self, dir: &Path) -> Result<Vec<ApplyReport>, AppError> {
        let read_error = |e: std::io::Error| PackError::new(dir.display().to_string(), "(folder)", e.to_string());
        let mut folders: Vec<_> = std::fs::read_dir(dir)
            .map_err(read_error)?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.join(crate::packs::MANIFEST).is_file())
            .collect();
        folders.sort();
        let mut reports = Vec::new();
        for folder in folders {
            reports.push(self.apply_pack(&folder).await?);
        }
        Ok(reports)
    }

    /// Stores a validated configuration as the tenant's next version.
    pub(crate) async fn store_configuration(
        &self,
        source: &PackSource,
        config: &TenantConfig,
        file: &str,
        expected: Expected,
        policy: &StrandPolicy,
        actor: &Actor,
    ) -> Result<ApplyReport, AppError> {
        if let StrandPolicy::Cancel { reason, .. } = policy
            && crate::domain::text::single_line(reason, MAX_CANCEL_REASON_CHARS).is_none()
        {
            return Err(AppError::field(
                "cancel_reason",
                "cancel_reason_required",
                "Say why the bookings are cancelled, on one line (the citizens will read it).",
            ));
        }
        // A module that does not compile, speaks another ABI or imports what we do not provide
        // is refused here, precisely, and changes nothing.
        let mut lookups = Vec::new();
        for (index, spec) in config.plugins.iter().enumerate() {
            let bytes = source.files.iter().find(|(path, _)| *path == spec.file).map(|(_, b)| b.clone());
            match self.load_plugin(spec.id.as_str(), bytes.unwrap_or_default()).await {
                Ok(plugin) if plugin.implements(crate::plugin_host::Hook::Lookup) => lookups.push(&spec.id),
                Ok(_) => {}
                Err(error) => {
                    return Err(PackError::new(
                        file,
                        format!("plugins[{index}].file"),
                        format!("{}: {error}", spec.file),
                    )
                    .into());
                }
            }
        }
        // Fields checked before the calendar are checked by the rule's `lookup`.
        for (index, service) in config.services.iter().enumerate() {
            let looks_up = service.plugin.as_ref().is_some_and(|p| lookups.contains(&&p.id));
            if !service.check_first.is_empty() && !looks_up {
                let problem = "the service's plugin has no lookup hook to check these fields with";
                return Err(PackError::new(file, format!("services[{index}].check_first"), problem).into());
            }
        }
        let slug = config.slug.to_string();
        let now = self.clock.now();
        let tx = self.store.begin_write().await?;
        let existing = Tenants::find(tx.conn(), &slug).await?;
        let stale = |current: i64| AppError::StaleVersion { current, changes: Vec::new() };
        let changes = match (&existing, expected) {
            (None, Expected::Version(_)) => return Err(AppError::NotFound("tenant")),
            (Some(_), Expected::Absent) => {
                return Err(AppError::field("slug", "slug_taken", "Another public body already has this address."));
            }
            (None, Expected::Absent) => vec![Change::TenantCreated],
            (Some(stored), Expected::Version(v)) if stored.version != v => return Err(stale(stored.version)),
            (None, Expected::Current) => vec![Change::TenantCreated],
            (Some(stored), _) => self.changes_from(&tx, stored, source, config, file).await?,
        };
        let previous = existing.as_ref().map(|s| s.version);
        if changes.is_empty() {
            return Ok(ApplyReport { slug, created: false, changes, version: previous.unwrap_or(0) });
        }
        let mut strand_detail = serde_json::Value::Null;
        if let Some(stored) = &existing {
            strand_detail = self.settle_stranded(&tx, stored, config, policy).await?;
            self.keep_in_history(&tx, stored).await?;
        }
        // Compare and set: a save that committed since we read loses us the race, never its change.
        let saved = Tenants::save(tx.conn(), &slug, &config.name, &source.manifest, source.logo.clone(), previous, now)
            .await?
            .ok_or_else(|| stale(previous.unwrap_or(0)))?;
        Tenants::replace_files(tx.conn(), saved.id, &source.files).await?;
        // A removed office's feed goes with it: the same slug added again later starts without one.
        for change in &changes {
            if let Change::Removed(Item::Office, office) = change {
                OfficeFeeds::remove(tx.conn(), saved.id, office.as_str()).await?;
            }
        }
        let sentences: Vec<String> = changes.iter().map(ToString::to_string).collect();
        let version = NewVersion {
            tenant: saved.id,
            version: saved.version,
            manifest: &source.manifest,
            files: &source.files,
            logo: source.logo.as_ref(),
            saved_at: now,
            saved_by: actor.label(),
            changes: &sentences,
        };
        Versions::record(tx.conn(), version).await?;
        tx.commit().await?;
        self.catalog.forget(&slug);
        self.full_units.forget_tenant(saved.id);
        let mut detail = json!({ "version": saved.version, "changes": sentences });
        if let (Some(detail), false) = (detail.as_object_mut(), strand_detail.is_null()) {
            detail.insert("stranded".into(), strand_detail);
        }
        self.audit(Some(saved.id), actor, "configuration.saved", detail).await?;
        Ok(ApplyReport { slug, created: existing.is_none(), changes, version: saved.version })
    }

    /// What saving `config` over `stored` changes; refuses changes that would strand bookings.
    async fn changes_from(
        &self,
        tx: &WriteTx,
        stored: &StoredTenant,
        source: &PackSource,
        config: &TenantConfig,
        file: &str,
    ) -> Result<Vec<Change>, AppError> {
        let now = self.clock.now();
        let old = parse_config(&stored.pack).ok();
        let mut changes = match &old {
            Some(old) => diff(old, config),
            None => vec![Change::Replaced],
        };
        // Each booking records the notice's version the citizen accepted: a version names one text.
        let same_version_new_text = old.as_ref().is_some_and(|o| {
            o.privacy_notice != config.privacy_notice && o.privacy_notice_version == config.privacy_notice_version
        });
        if same_version_new_text {
            let reason =
                "the privacy notice's text changed: give it a new version (citizens accepted the old one as it was)";
            return Err(PackError::new(file, "privacy_notice_version", reason).into());
        }
        let grid_changed = old.as_ref().is_some_and(|o| o.grid_minutes != config.grid_minutes);
        if grid_changed && Bookings::count_upcoming(tx.conn(), stored.id, None, None, now).await? > 0 {
            return Err(PackError::new(file, "grid_minutes", "cannot change while upcoming bookings exist").into());
        }
        if Tenants::files(tx.conn(), stored.id).await? != source.files {
            changes.push(Change::Files);
        }
        if stored.logo != source.logo {
            changes.push(Change::Logo);
        }
        Ok(changes)
    }

    /// Applies `policy` to the upcoming bookings `config` would strand: refuses with their list,
    /// keeps them, or cancels them with the reason (places given back) in the save's transaction.
    /// What the audit log should say of them, if any.
    async fn settle_stranded(
        &self,
        tx: &WriteTx,
        stored: &StoredTenant,
        config: &TenantConfig,
        policy: &StrandPolicy,
    ) -> Result<serde_json::Value, AppError> {
        let now = self.clock.now();
        let upcoming = Bookings::upcoming(tx.conn(), stored.id, now).await?;
        if upcoming.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        let grid = config.grid_minutes;
        let mut usage: HashMap<(String, i64), u32> = HashMap::new();
        let mut offices: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
        for booking in &upcoming {
            offices.entry(booking.office.as_str()).or_default().extend(units_between(booking.start, booking.end, grid));
        }
        for (office, units) in offices {
            let units: Vec<i64> = units.into_iter().collect();
            for (unit, used) in Ledger::units(tx.conn(), stored.id, office, &units).await? {
                usage.insert((office.to_owned(), unit), used.used);
            }
        }
        let found =
            stranded(config, &upcoming, |office, unit| usage.get(&(office.to_owned(), unit)).copied().unwrap_or(0));
        if found.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        let codes: Vec<String> = found.iter().map(|(b, _)| b.code.to_string()).collect();
        let decided = match policy {
            StrandPolicy::Refuse => false,
            StrandPolicy::Keep => true,
            // The admin chose for the bookings they were shown, not for others found since.
            StrandPolicy::Cancel { listed, .. } => {
                listed.as_ref().is_none_or(|listed| *listed == codes.iter().cloned().collect::<BTreeSet<_>>())
            }
        };
        if !decided {
            let listed = found
                .iter()
                .map(|(b, reason)| StrandedBooking {
                    code: b.code.to_string(),
                    start: b.start,
                    timezone: b.timezone,
                    service: b.service.to_string(),
                    office: b.office.to_string(),
                    reason: *reason,
                })
                .collect();
            return Err(AppError::StrandsBookings(listed));
        }
        match policy {
            StrandPolicy::Refuse => Ok(serde_json::Value::Null),
            StrandPolicy::Keep => Ok(json!({ "kept": codes })),
            StrandPolicy::Cancel { reason, .. } => {
                // The citizen is told with the names they booked under (a removed service's too).
                let old = parse_config(&stored.pack).ok();
                let names = old.as_ref().unwrap_or(config);
                let topic = Topic::Cancelled { by_office: true, reason: Some(reason.trim().to_owned()) };
                for (booking, _) in &found {
                    let when = (booking.start, booking.end);
                    // Moved or cancelled since it was read: what was listed is no longer true.
                    if !Bookings::cancel_with_reason(tx.conn(), stored.id, booking.id, when, reason.trim(), now).await?
                    {
                        return Err(AppError::BookingsChanged);
                    }
                    let units = units_between(booking.start, booking.end, grid);
                    Ledger::release(tx.conn(), stored.id, booking.office.as_str(), &units).await?;
                    // Composed here, inside the save's transaction: a rare save, not a click day.
                    let cancelled = Booking { status: BookingStatus::Cancelled, ..booking.changed(now) };
                    let message = self.prepare_mail((stored.id, names), &cancelled, &topic)?;
                    self.write_mail(tx, booking.id, message.as_slice()).await?;
                    let event =
                        self.prepare_event((stored.id, names), &cancelled, super::BookingEvent::Cancelled, None);
                    self.write_event(tx, booking.id, &event).await?;
                    self.drop_reminder_of(tx, stored.id, booking.id).await?;
                }
                Ok(json!({ "cancelled": codes, "reason": reason.trim() }))
            }
        }
    }

    /// Records the stored version in the history if it is not there yet (a tenant saved before
    /// the history existed), so that it can be restored.
    async fn keep_in_history(&self, tx: &WriteTx, stored: &StoredTenant) -> Result<(), AppError> {
        if Versions::has(tx.conn(), stored.id, stored.version).await? {
            return Ok(());
        }
        let files = Tenants::files(tx.conn(), stored.id).await?;
        let version = NewVersion {
            tenant: stored.id,
            version: stored.version,
            manifest: &stored.pack,
            files: &files,
            logo: stored.logo.as_ref(),
            saved_at: self.clock.now(),
            saved_by: "(before the history was kept)",
            changes: &[],
        };
        Versions::record(tx.conn(), version).await?;
        Ok(())
    }
}
