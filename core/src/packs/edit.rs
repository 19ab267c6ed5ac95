//! Editing one service or office of a `tenant.toml` in place, for the admin forms and the admin
//! API: the rest of the text (comments, order, keys the forms do not show) stays as it was. The
//! result is validated whole by the caller, like any other configuration.

use std::collections::BTreeMap;

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use super::file::{OfficeFile, PackFile, ServiceFile};
use super::{MANIFEST, PackError};

/// The week as `tenant.toml` names its days.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A service as an admin edits it without the text.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceDraft {
    pub slug: String,
    /// By language code (`it`, `en`); an empty text is left out.
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    pub duration_minutes: u16,
    pub modes: Vec<String>,
    pub min_notice_hours: u32,
    pub horizon_days: u16,
    pub fiscal_code_required: bool,
    pub max_active_bookings_per_person: Option<u16>,
    pub active: bool,
    /// What to bring, by language; empty for nothing to say.
    pub bring: BTreeMap<String, String>,
    /// The reasons a citizen chooses from; `None` keeps the ones the text has.
    pub reasons: Option<Vec<ReasonDraft>>,
    /// The questions the booking form asks beside the citizen's details; `None` keeps them.
    pub fields: Option<Vec<FieldDraft>>,
    pub plugin: PluginChoice,
}

/// Which of the tenant's plugins checks a service's bookings, and with which settings.
#[derive(Clone, Debug, PartialEq)]
pub enum PluginChoice {
    /// As the text has it.
    Keep,
    Without,
    With {
        id: String,
        config: toml::Table,
    },
}

/// A question of a service's booking form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDraft {
    pub key: String,
    pub label: BTreeMap<String, String>,
    /// Help under the question, by language; empty for none.
    pub help: BTreeMap<String, String>,
    /// `text` or `digits`.
    pub kind: String,
    pub required: bool,
    pub min_length: Option<u16>,
    pub max_length: Option<u16>,
}

/// A reason for an appointment, offered to the citizen to choose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReasonDraft {
    pub key: String,
    /// By language code.
    pub label: BTreeMap<String, String>,
}

/// An office as an admin edits it: its place, modes, services, weekly hours and closures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfficeDraft {
    pub slug: String,
    pub name: String,
    pub address: String,
    /// `None`: the tenant's zone.
    pub timezone: Option<String>,
    pub modes: Vec<String>,
    pub services: Vec<String>,
    /// Opening intervals by day, in `WEEKDAYS` order.
    pub hours: [Vec<IntervalDraft>; 7],
    pub closures: Vec<ClosureDraft>,
    /// "MM-DD"
    pub patron_saint_day: Option<String>,
    pub national_holidays: bool,
    pub teams_link: Option<String>,
    pub skype_contact: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntervalDraft {
    /// "HH:MM"
    pub from: String,
    pub to: String,
    pub desks: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosureDraft {
    /// "YYYY-MM-DD"
    pub from: String,
    /// `None`: the one day `from`.
    pub to: Option<String>,
    pub reason: String,
}

/// Why an edit could not be made.
#[derive(Debug, PartialEq, Eq)]
pub enum EditError {
    /// No service or office with that slug.
    Missing,
    /// A new one takes a slug already used.
    Taken,
    /// The stored text does not parse (it cannot be edited by parts until it is fixed).
    Unreadable(PackError),
}

/// The services and offices of a manifest, as drafts.
pub fn drafts(manifest: &str) -> Result<(Vec<ServiceDraft>, Vec<OfficeDraft>), PackError> {
    let file: PackFile =
        toml::from_str(manifest).map_err(|e| PackError::new(MANIFEST, "(syntax)", e.message().to_owned()))?;
    let services = file.services.into_iter().map(ServiceDraft::from).collect();
    let offices = file.offices.into_iter().map(OfficeDraft::from).collect();
    Ok((services, offices))
}

impl From<ServiceFile> for ServiceDraft {
    fn from(file: ServiceFile) -> Self {
        Self {
            slug: file.slug,
            name: file.name,
            description: file.description,
            duration_minutes: file.duration_minutes,
            modes: file.modes,
            min_notice_hours: file.min_notice_hours,
            horizon_days: file.horizon_days,
            fiscal_code_required: file.fiscal_code_required,
            max_active_bookings_per_person: file.max_active_bookings_per_person,
            active: file.active,
            bring: file.bring.unwrap_or_default(),
            reasons: Some(file.reasons.into_iter().map(|r| ReasonDraft { key: r.key, label: r.label }).collect()),
            fields: Some(
                file.fields
                    .into_iter()
                    .map(|f| FieldDraft {
                        key: f.key,
                        label: f.label,
                        help: f.help.unwrap_or_default(),
                        kind: f.kind,
                        required: f.required,
                        min_length: f.min_length,
                        max_length: f.max_length,
                    })
                    .collect(),
            ),
            plugin: match file.plugin {
                Some(id) => PluginChoice::With { id, config: file.plugin_config.unwrap_or_default() },
                None => PluginChoice::Without,
            },
        }
    }
}

impl From<OfficeFile> for OfficeDraft {
    fn from(file: OfficeFile) -> Self {
        let h = file.hours;
        let hours = [h.mon, h.tue, h.wed, h.thu, h.fri, h.sat, h.sun]
            .map(|day| day.into_iter().map(|i| IntervalDraft { from: i.from, to: i.to, desks: i.desks }).collect());
        Self {
            slug: file.slug,
            name: file.name,
            address: file.address,
            timezone: file.timezone,
            modes: file.modes,
            services: file.services,
            hours,
            closures: file
                .closures
                .into_iter()
                .map(|c| ClosureDraft { from: c.from, to: c.to, reason: c.reason })
                .collect(),
            patron_saint_day: file.patron_saint_day,
            national_holidays: file.national_holidays,
            teams_link: file.teams_link,
            skype_contact: file.skype_contact,
        }
    }
}

/// A manifest being edited.
pub struct Manifest {
    document: DocumentMut,
    /// The text it was read from, to check that an edit touched only its part.
    original: String,
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Self, EditError> {
        let document = text
            .parse::<DocumentMut>()
            .map_err(|e| EditError::Unreadable(PackError::new(MANIFEST, "(syntax)", e.message().to_owned())))?;
        Ok(Self { document, original: text.to_owned() })
    }

    pub fn text(&self) -> String {
        self.document.to_string()
    }

    pub(super) fn root(&mut self) -> &mut Table {
        self.document.as_table_mut()
    }

    /// Replaces the service `original` with `draft` (its other keys kept), or adds `draft` as a
    /// new service when `original` is `None`. Returns its index among the services.
    pub fn put_service(&mut self, original: Option<&str>, draft: &ServiceDraft) -> Result<usize, EditError> {
        let next = max_position(self.document.as_table()) + 1;
        let list = self.list("services")?;
        let index = place(list, original, &draft.slug, next)?;
        let table = list.get_mut(index).ok_or(EditError::Missing)?;
        write_service(table, draft)?;
        let lists = Kept {
            reasons: draft.reasons.is_none(),
            fields: draft.fields.is_none(),
            plugin: draft.plugin == PluginChoice::Keep,
        };
        self.check_only(Part::Service(original.unwrap_or(&draft.slug)), lists)?;
        Ok(index)
    }

    /// Removes a service, and every office's reference to it.
    pub fn remove_service(&mut self, slug: &str) -> Result<(), EditError> {
        let list = self.list("services")?;
        let index = position(list, slug).ok_or(EditError::Missing)?;
        list.remove(index);
        for office in self.list("offices")?.iter_mut() {
            if let Some(services) = office.get_mut("services").and_then(Item::as_array_mut) {
                services.retain(|s| s.as_str() != Some(slug));
            }
        }
        Ok(())
    }

    /// Replaces the office `original` with `draft` (its other keys kept), or adds it.
    pub fn put_office(&mut self, original: Option<&str>, draft: &OfficeDraft) -> Result<usize, EditError> {
        let next = max_position(self.document.as_table()) + 1;
        let previous = drafts(&self.original)
            .ok()
            .and_then(|(_, offices)| offices.into_iter().find(|o| original.is_some_and(|slug| o.slug == slug)));
        let list = self.list("offices")?;
        let index = place(list, original, &draft.slug, next)?;
        let table = list.get_mut(index).ok_or(EditError::Missing)?;
        // Sub-tables of a new office follow it; an existing one keeps its own.
        let fresh = original.is_none().then_some(next + 1);
        write_office(table, draft, previous.as_ref(), fresh);
        self.check_only(Part::Office(original.unwrap_or(&draft.slug)), Kept::default())?;
        Ok(index)
    }

    pub fn remove_office(&mut self, slug: &str) -> Result<(), EditError> {
        let list = self.list("offices")?;
        let index = position(list, slug).ok_or(EditError::Missing)?;
        list.remove(index);
        Ok(())
    }

    /// The `[[name]]` array, made when the manifest has none yet.
    fn list(&mut self, name: &str) -> Result<&mut ArrayOfTables, EditError> {
        let item = self.document.entry(name).or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
        if item.as_array().is_some_and(toml_edit::Array::is_empty) {
            // `services = []` written inline: the same empty list, as tables.
            *item = Item::ArrayOfTables(ArrayOfTables::new());
        }
        item.as_array_of_tables_mut().ok_or_else(|| {
            EditError::Unreadable(PackError::new(MANIFEST, name, format!("write each as a [[{name}]] table")))
        })
    }

    /// Refuses an edit that changed anything but `part`: TOML tables are placed by their
    /// headers, so a misplaced one would silently move, say, a closure to another office.
    fn check_only(&mut self, part: Part<'_>, lists: Kept) -> Result<(), EditError> {
        let read = |text: &str| toml::from_str::<PackFile>(text).ok();
        let (Some(before), Some(after)) = (read(&self.original), read(&self.text())) else {
            return Err(misplaced());
        };
        let others = |file: &PackFile| {
            let services: Vec<&ServiceFile> = file.services.iter().filter(|s| part != Part::Service(&s.slug)).collect();
            let offices: Vec<&OfficeFile> = file.offices.iter().filter(|o| part != Part::Office(&o.slug)).collect();
            format!("{services:?}{offices:?}")
        };
        let kept = |file: &PackFile| {
            file.services.iter().find(|s| part == Part::Service(&s.slug)).map(|s| {
                let reasons = if lists.reasons { format!("{:?}", s.reasons) } else { String::new() };
                let fields = if lists.fields { format!("{:?}", s.fields) } else { String::new() };
                let plugin = if lists.plugin { format!("{:?}{:?}", s.plugin, s.plugin_config) } else { String::new() };
                format!("{fields}{reasons}{plugin}")
            })
        };
        let unchanged_rest = others(&before) == others(&after);
        let kept_keys = kept(&before).is_none_or(|keys| Some(keys) == kept(&after));
        if !(unchanged_rest && kept_keys) {
            return Err(misplaced());
        }
        // The next edit is checked against this one's result.
        self.original = self.text();
        Ok(())
    }
}

/// Which lists of a service an edit left as they were (and must find unchanged).
#[derive(Clone, Copy, Default)]
struct Kept {
    reasons: bool,
    fields: bool,
    plugin: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part<'a> {
    Service(&'a str),
    Office(&'a str),
}

fn misplaced() -> EditError {
    EditError::Unreadable(PackError::new(
        MANIFEST,
        "(layout)",
        "this change cannot be made by the form without moving other parts of the text: make it in the whole text",
    ))
}

/// The highest position of any table: a table added after it is written last.
pub(super) fn max_position(table: &Table) -> isize {
    table.iter().fold(table.position().unwrap_or(0), |max, (_, item)| match item {
        Item::Table(t) => max.max(max_position(t)),
        Item::ArrayOfTables(list) => list.iter().map(max_position).fold(max, isize::max),
        _ => max,
    })
}

fn position(list: &ArrayOfTables, slug: &str) -> Option<usize> {
    list.iter().position(|t| t.get("slug").and_then(Item::as_str) == Some(slug))
}

/// Where a put goes: the existing entry, or a new one written at `next`, after every table.
fn place(list: &mut ArrayOfTables, original: Option<&str>, slug: &str, next: isize) -> Result<usize, EditError> {
    match original {
        Some(original) => position(list, original).ok_or(EditError::Missing),
        None if position(list, slug).is_some() => Err(EditError::Taken),
        None => {
            let mut table = Table::new();
            table.set_position(Some(next));
            list.push(table);
            Ok(list.len().saturating_sub(1))
        }
    }
}

pub(super) fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Value {
    items.into_iter().map(String::as_str).collect::<Array>().into()
}

fn localized(texts: &BTreeMap<String, String>) -> Value {
    let mut table = InlineTable::new();
    for (code, text) in texts.iter().filter(|(_, t)| !t.trim().is_empty()) {
        table.insert(code, text.as_str().into());
    }
    table.into()
}

/// Whether two values mean the same, however written.
fn same(a: &Value, b: &Value) -> bool {
    let read = |v: &Value| {
        let mut bare = v.clone();
        bare.decor_mut().clear();
        toml::from_str::<toml::Table>(&format!("v = {bare}")).ok()
    };
    read(a).is_some_and(|a| Some(a) == read(b))
}

/// Sets `key` to `new`: an equal value is left as written, a changed one keeps the comments
/// around it; `None` removes the key (its default applies).
pub(super) fn set(table: &mut Table, key: &str, new: Option<Value>) {
    let Some(mut new) = new else {
        table.remove(key);
        return;
    };
    match table.get_mut(key) {
        Some(Item::Value(old)) => {
            if !same(old, &new) {
                *new.decor_mut() = old.decor().clone();
                *old = new;
            }
        }
        Some(other) => *other = Item::Value(new),
        None => {
            table.insert(key, Item::Value(new));
        }
    }
}

/// Sets `key`, except that a default value is not added where the text leaves it out.
fn set_unless_default(table: &mut Table, key: &str, new: Value, is_default: bool) {
    if !is_default || table.contains_key(key) {
        set(table, key, Some(new));
    }
}

fn write_service(table: &mut Table, draft: &ServiceDraft) -> Result<(), EditError> {
    set(table, "slug", Some(draft.slug.as_str().into()));
    set(table, "name", Some(localized(&draft.name)));
    set(table, "description", Some(localized(&draft.description)));
    set(table, "duration_minutes", Some(i64::from(draft.duration_minutes).into()));
    set(table, "modes", Some(strings(&draft.modes)));
    let notice = draft.min_notice_hours;
    set_unless_default(table, "min_notice_hours", i64::from(notice).into(), notice == 0);
    set_unless_default(table, "horizon_days", i64::from(draft.horizon_days).into(), draft.horizon_days == 60);
    let fiscal_code = draft.fiscal_code_required;
    set_unless_default(table, "fiscal_code_required", fiscal_code.into(), !fiscal_code);
    set(table, "max_active_bookings_per_person", draft.max_active_bookings_per_person.map(|n| i64::from(n).into()));
    set_unless_default(table, "active", draft.active.into(), draft.active);
    let bring: BTreeMap<String, String> =
        draft.bring.iter().filter(|(_, t)| !t.trim().is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect();
    set(table, "bring", (!bring.is_empty()).then(|| localized(&bring)));
    if let Some(reasons) = &draft.reasons {
        let written: Vec<InlineTable> = reasons
            .iter()
            .map(|r| {
                let mut reason = InlineTable::new();
                reason.insert("key", r.key.as_str().into());
                reason.insert("label", localized(&r.label));
                reason
            })
            .collect();
        let current = table.get("reasons").and_then(Item::as_value).cloned();
        let new = lines(written);
        if current.as_ref().is_none_or(|c| !same(c, &new)) {
            // Inline, in place of any `[[services.reasons]]` tables: no header can stray.
            table.remove("reasons");
            set(table, "reasons", (!reasons.is_empty()).then_some(new));
        }
    }
    if let Some(fields) = &draft.fields {
        let written: Vec<InlineTable> = fields.iter().map(question).collect();
        let current = table.get("fields").and_then(Item::as_value).cloned();
        let new = lines(written);
        if current.as_ref().is_none_or(|c| !same(c, &new)) {
            // Inline, in place of any `[[services.fields]]` tables: no header can stray.
            table.remove("fields");
            set(table, "fields", (!fields.is_empty()).then_some(new));
        }
    }
    write_plugin(table, &draft.plugin)
}

fn write_plugin(table: &mut Table, choice: &PluginChoice) -> Result<(), EditError> {
    match choice {
        PluginChoice::Keep => {}
        PluginChoice::Without => {
            table.remove("plugin");
            table.remove("plugin_config");
        }
        PluginChoice::With { id, config } => {
            set(table, "plugin", Some(id.as_str().into()));
            let new = inline(config)?;
            let current = table.get("plugin_config").cloned().and_then(|item| item.into_value().ok());
            if current.as_ref().is_none_or(|c| !same(c, &new)) {
                // Inline, in place of any `[services.plugin_config]` table: no header can stray.
                table.remove("plugin_config");
                set(table, "plugin_config", (!config.is_empty()).then_some(new));
            }
        }
    }
    Ok(())
}

/// A TOML table as an inline table value; a table that cannot be written inline is refused, never
/// saved empty.
fn inline(config: &toml::Table) -> Result<Value, EditError> {
    let written = toml::Value::Table(config.clone()).to_string();
    written.parse::<Value>().map_err(|e| {
        EditError::Unreadable(PackError::new(MANIFEST, "plugin_config", format!("cannot be written inline: {e}")))
    })
}

fn question(f: &FieldDraft) -> InlineTable {
    let mut field = InlineTable::new();
    field.insert("key", f.key.as_str().into());
    field.insert("label", localized(&f.label));
    if f.help.values().any(|h| !h.trim().is_empty()) {
        field.insert("help", localized(&f.help));
    }
    field.insert("kind", f.kind.as_str().into());
    if f.required {
        field.insert("required", true.into());
    }
    if let Some(min) = f.min_length {
        field.insert("min_length", i64::from(min).into());
    }
    if let Some(max) = f.max_length {
        field.insert("max_length", i64::from(max).into());
    }
    field
}

/// An inline list, one entry a line.
fn lines(values: impl IntoIterator<Item = InlineTable>) -> Value {
    let mut array: Array = values.into_iter().collect();
    for value in array.iter_mut() {
        value.decor_mut().set_prefix("\n  ");
    }
    array.set_trailing("\n");
    array.set_trailing_comma(true);
    array.into()
}

fn day(intervals: &[IntervalDraft]) -> Value {
    intervals
        .iter()
        .map(|i| {
            let mut interval = InlineTable::new();
            interval.insert("from", i.from.as_str().into());
            interval.insert("to", i.to.as_str().into());
            interval.insert("desks", i64::from(i.desks).into());
            interval
        })
        .collect::<Array>()
        .into()
}

/// `previous`: the office as stored, when it exists; `fresh`: where a new office's hours table
/// goes.
fn write_office(table: &mut Table, draft: &OfficeDraft, previous: Option<&OfficeDraft>, fresh: Option<isize>) {
    set(table, "slug", Some(draft.slug.as_str().into()));
    set(table, "name", Some(draft.name.as_str().into()));
    set(table, "address", Some(draft.address.as_str().into()));
    set(table, "timezone", draft.timezone.as_deref().map(Value::from));
    set(table, "modes", Some(strings(&draft.modes)));
    set(table, "services", Some(strings(&draft.services)));
    set(table, "patron_saint_day", draft.patron_saint_day.as_deref().map(Value::from));
    let holidays = draft.national_holidays;
    set_unless_default(table, "national_holidays", holidays.into(), holidays);
    set(table, "teams_link", draft.teams_link.as_deref().map(Value::from));
    set(table, "skype_contact", draft.skype_contact.as_deref().map(Value::from));
    if previous.is_none_or(|p| p.hours != draft.hours) {
        write_hours(table, &draft.hours, fresh);
    }
    if previous.is_none_or(|p| p.closures != draft.closures) {
        // Inline, so that no table header can end up under another office.
        let closures = draft.closures.iter().map(|c| {
            let mut row = InlineTable::new();
            row.insert("from", c.from.as_str().into());
            if let Some(to) = &c.to {
                row.insert("to", to.as_str().into());
            }
            row.insert("reason", c.reason.as_str().into());
            row
        });
        table.remove("closures");
        set(table, "closures", (!draft.closures.is_empty()).then(|| lines(closures)));
    }
}

/// Hours go into the office's own `[offices.hours]` table when it has one, a day at a time; a
/// new office gets one at `fresh`; otherwise they are written inline.
fn write_hours(table: &mut Table, hours: &[Vec<IntervalDraft>; 7], fresh: Option<isize>) {
    let days = WEEKDAYS.iter().zip(hours);
    match (table.get_mut("hours"), fresh) {
        (Some(Item::Table(existing)), _) => {
            for (name, intervals) in days {
                set(existing, name, (!intervals.is_empty()).then(|| day(intervals)));
            }
        }
        (_, Some(position)) => {
            let mut new = Table::new();
            new.set_position(Some(position));
            for (name, intervals) in days.filter(|(_, i)| !i.is_empty()) {
                new.insert(name, Item::Value(day(intervals)));
            }
            table.insert("hours", Item::Table(new));
        }
        _ => {
            let mut inline = InlineTable::new();
            for (name, intervals) in days.filter(|(_, i)| !i.is_empty()) {
                inline.insert(*name, day(intervals));
            }
            table.remove("hours");
            table.insert("hours", Item::Value(inline.into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packs::parse_config;

    const PACK: &str = r##"# The demo body.
slug = "demo"
name = "Demo"
privacy_notice_version = "1"

[branding]
primary_color = "#005a8c"

[[services]]
slug = "tributi"
name = { it = "Tributi", en = "Taxes" }
description = { it = "Tasse", en = "Taxes" }
duration_minutes = 30
modes = ["in_person"]
# A field the forms do not show: kept.
reasons = [{ key = "altro", label = { it = "Altro" } }]

[[offices]]
slug = "centro"
name = "Centro"
address = "Via Roma 1"
modes = ["in_person"]
services = ["tributi"]

[offices.hours]
mon = [{ from = "09:00", to = "12:00", desks = 2 }]
"##;

    fn draft_office() -> OfficeDraft {
        let mut hours: [Vec<IntervalDraft>; 7] = Default::default();
        hours[1] = vec![
            IntervalDraft { from: "08:30".into(), to: "12:30".into(), desks: 3 },
            IntervalDraft { from: "14:00".into(), to: "16:00".into(), desks: 1 },
        ];
        OfficeDraft {
            slug: "nord".into(),
            name: "Sede nord".into(),
            address: "Via Po 2".into(),
            timezone: None,
            modes: vec!["in_person".into()],
            services: vec!["tributi".into()],
            hours,
            closures: vec![ClosureDraft { from: "2026-12-24".into(), to: None, reason: "Vigilia".into() }],
            patron_saint_day: Some("06-24".into()),
            national_holidays: true,
            teams_link: Some("https://teams.microsoft.com/l/meetup-join/nord".into()),
            skype_contact: None,
        }
    }

    #[test]
    fn an_edited_service_keeps_what_the_form_does_not_show() {
        let (services, _) = drafts(PACK).unwrap();
        let mut draft = services[0].clone();
        draft.duration_minutes = 45;
        draft.name.insert("en".into(), "Local taxes".into());
        let mut manifest = Manifest::parse(PACK).unwrap();
        assert_eq!(manifest.put_service(Some("tributi"), &draft).unwrap(), 0);
        let text = manifest.text();
        assert!(text.starts_with("# The demo body."), "{text}");
        assert!(text.contains("# A field the forms do not show: kept."), "{text}");
        let config = parse_config(&text).unwrap();
        let service = &config.services[0];
        assert_eq!(service.duration_minutes, 45);
        assert_eq!(service.reasons.len(), 1);
        assert_eq!(drafts(&text).unwrap().0[0], draft);
    }

    #[test]
    fn a_plugin_is_bound_with_its_settings_kept_and_unbound() {
        let with_plugin = PACK.replace(
            "privacy_notice_version = \"1\"\n",
            "privacy_notice_version = \"1\"\n\n[[plugins]]\nid = \"check\"\nfile = \"plugins/check.wasm\"\n",
        );
        let mut manifest = Manifest::parse(&with_plugin).unwrap();
        let mut draft = drafts(&with_plugin).unwrap().0[0].clone();
        assert_eq!(draft.plugin, PluginChoice::Without);
        let config: toml::Table = toml::from_str("check_holder = true\nlimit = 3\n[nested]\nkey = \"v\"").unwrap();
        draft.plugin = PluginChoice::With { id: "check".into(), config: config.clone() };
        manifest.put_service(Some("tributi"), &draft).unwrap();
        let bound = drafts(&manifest.text()).unwrap().0[0].clone();
        assert_eq!(bound.plugin, draft.plugin, "{}", manifest.text());

        let mut kept = draft.clone();
        kept.plugin = PluginChoice::Keep;
        kept.duration_minutes = 60;
        manifest.put_service(Some("tributi"), &kept).unwrap();
        assert_eq!(drafts(&manifest.text()).unwrap().0[0].plugin, draft.plugin);

        kept.plugin = PluginChoice::Without;
        manifest.put_service(Some("tributi"), &kept).unwrap();
        let text = manifest.text();
        assert_eq!(drafts(&text).unwrap().0[0].plugin, PluginChoice::Without);
        assert!(!text.contains("plugin_config") && !text.contains("plugin ="), "{text}");
    }

    #[test]
    fn a_new_office_with_hours_and_closures_reads_back_the_same() {
        let mut manifest = Manifest::parse(PACK).unwrap();
        let draft = draft_office();
        assert_eq!(manifest.put_office(None, &draft).unwrap(), 1);
        let text = manifest.text();
        let config = parse_config(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.offices.len(), 2);
        assert_eq!(drafts(&text).unwrap().1[1], draft);
        assert_eq!(manifest.put_office(None, &draft), Err(EditError::Taken));
    }

    #[test]
    fn hours_replaced_drop_the_days_left_empty() {
        let mut manifest = Manifest::parse(PACK).unwrap();
        let mut draft = drafts(PACK).unwrap().1[0].clone();
        draft.hours[0].clear();
        draft.hours[4] = vec![IntervalDraft { from: "10:00".into(), to: "11:00".into(), desks: 1 }];
        manifest.put_office(Some("centro"), &draft).unwrap();
        let back = drafts(&manifest.text()).unwrap().1[0].clone();
        assert!(back.hours[0].is_empty());
        assert_eq!(back.hours[4], draft.hours[4]);
    }

    #[test]
    fn a_removed_service_leaves_no_reference_behind() {
        let mut manifest = Manifest::parse(PACK).unwrap();
        manifest.remove_service("tributi").unwrap();
        let (services, offices) = drafts(&manifest.text()).unwrap();
        assert!(services.is_empty());
        assert!(offices[0].services.is_empty());
        assert_eq!(manifest.remove_service("tributi"), Err(EditError::Missing));
    }

    #[test]
    fn a_first_service_in_an_empty_pack() {
        let empty = "slug = \"demo\"\nname = \"Demo\"\nprivacy_notice_version = \"1\"\n\n[branding]\nprimary_color = \"#005a8c\"\n";
        let mut manifest = Manifest::parse(empty).unwrap();
        let (services, _) = drafts(PACK).unwrap();
        manifest.put_service(None, &services[0]).unwrap();
        let text = manifest.text();
        assert_eq!(drafts(&text).unwrap().0.len(), 1, "{text}");
        parse_config(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }

    #[test]
    fn comments_on_unchanged_and_changed_keys_stay() {
        let commented = PACK.replace("duration_minutes = 30", "# Half an hour.\nduration_minutes = 30 # the usual");
        let (services, offices) = drafts(&commented).unwrap();
        let mut manifest = Manifest::parse(&commented).unwrap();
        manifest.put_service(Some("tributi"), &services[0]).unwrap();
        assert_eq!(manifest.text(), commented, "an unchanged save changes nothing");
        let mut longer = services[0].clone();
        longer.duration_minutes = 45;
        manifest.put_service(Some("tributi"), &longer).unwrap();
        assert!(manifest.text().contains("# Half an hour.\nduration_minutes = 45 # the usual"), "{}", manifest.text());
        manifest.put_office(Some("centro"), &offices[0]).unwrap();
        assert!(manifest.text().contains("[offices.hours]\nmon = [{ from = \"09:00\""), "{}", manifest.text());
    }

    #[test]
    fn a_new_office_never_takes_another_one_s_tables() {
        // The last office's tables out of the usual order: closures, hours, closures again.
        let eve = "[[offices.closures]]\nfrom = \"2026-12-24\"\nreason = \"Vigilia\"\n\n";
        let tangled = format!(
            "{}\n[[offices.closures]]\nfrom = \"2026-12-31\"\nreason = \"San Silvestro\"\n",
            PACK.replace("[offices.hours]", &format!("{eve}[offices.hours]"))
        );
        let before = drafts(&tangled).unwrap().1;
        assert_eq!(before[0].closures.len(), 2);
        let mut manifest = Manifest::parse(&tangled).unwrap();
        manifest.put_office(None, &draft_office()).unwrap();
        let after = drafts(&manifest.text()).unwrap().1;
        assert_eq!(after[0], before[0], "{}", manifest.text());
        assert_eq!(after[1], draft_office());
        let mut closed = before[0].clone();
        closed.closures.pop();
        manifest.put_office(Some("centro"), &closed).unwrap();
        assert_eq!(drafts(&manifest.text()).unwrap().1, [closed, draft_office()], "{}", manifest.text());
    }

    #[test]
    fn reasons_are_edited_with_the_service() {
        let mut draft = drafts(PACK).unwrap().0[0].clone();
        let label = BTreeMap::from([("it".to_owned(), "Rateizzazione".to_owned())]);
        draft.reasons = Some(vec![ReasonDraft { key: "rate".into(), label }]);
        let mut manifest = Manifest::parse(PACK).unwrap();
        manifest.put_service(Some("tributi"), &draft).unwrap();
        let config = parse_config(&manifest.text()).unwrap();
        assert_eq!(config.services[0].reasons.len(), 1);
        assert_eq!(config.services[0].reasons[0].key, "rate");
        assert_eq!(drafts(&manifest.text()).unwrap().0[0], draft);
    }
}
