//! Editing one service or office of a `tenant.toml` in place, for the admin forms and the admin
//! API: the rest of the text (comments, order, keys the forms do not show) stays as it was. The
//! result is validated whole by the caller, like any other configuration.

use std::collections::BTreeMap;

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, value};

use super::file::{OfficeFile, PackFile, ServiceFile};
use super::{MANIFEST, PackError};

/// The week as `tenant.toml` names its days.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A service as an admin edits it without the text. Its form fields, reasons and plugin binding
/// are not part of it: an edit keeps them as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
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
        }
    }
}

/// A manifest being edited.
pub struct Manifest(DocumentMut);

impl Manifest {
    pub fn parse(text: &str) -> Result<Self, EditError> {
        text.parse::<DocumentMut>()
            .map(Self)
            .map_err(|e| EditError::Unreadable(PackError::new(MANIFEST, "(syntax)", e.message().to_owned())))
    }

    pub fn text(&self) -> String {
        self.0.to_string()
    }

    /// Replaces the service `original` with `draft` (its other keys kept), or adds `draft` as a
    /// new service when `original` is `None`. Returns its index among the services.
    pub fn put_service(&mut self, original: Option<&str>, draft: &ServiceDraft) -> Result<usize, EditError> {
        let list = self.list("services")?;
        let index = place(list, original, &draft.slug)?;
        let table = list.get_mut(index).ok_or(EditError::Missing)?;
        write_service(table, draft);
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
        let list = self.list("offices")?;
        let index = place(list, original, &draft.slug)?;
        let table = list.get_mut(index).ok_or(EditError::Missing)?;
        write_office(table, draft);
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
        let item = self.0.entry(name).or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
        if item.as_array().is_some_and(toml_edit::Array::is_empty) {
            // `services = []` written inline: the same empty list, as tables.
            *item = Item::ArrayOfTables(ArrayOfTables::new());
        }
        item.as_array_of_tables_mut().ok_or_else(|| {
            EditError::Unreadable(PackError::new(MANIFEST, name, format!("write each as a [[{name}]] table")))
        })
    }
}

fn position(list: &ArrayOfTables, slug: &str) -> Option<usize> {
    list.iter().position(|t| t.get("slug").and_then(Item::as_str) == Some(slug))
}

/// Where a put goes: the existing entry, or a new one at the end.
fn place(list: &mut ArrayOfTables, original: Option<&str>, slug: &str) -> Result<usize, EditError> {
    match original {
        Some(original) => position(list, original).ok_or(EditError::Missing),
        None if position(list, slug).is_some() => Err(EditError::Taken),
        None => {
            list.push(Table::new());
            Ok(list.len().saturating_sub(1))
        }
    }
}

fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Item {
    value(items.into_iter().map(String::as_str).collect::<Array>())
}

fn localized(texts: &BTreeMap<String, String>) -> Item {
    let mut table = InlineTable::new();
    for (code, text) in texts.iter().filter(|(_, t)| !t.trim().is_empty()) {
        table.insert(code, text.as_str().into());
    }
    value(table)
}

/// Sets `key` to `item`, or removes it when `item` is `None` (the default applies).
fn set(table: &mut Table, key: &str, item: Option<Item>) {
    match item {
        Some(item) => {
            table.insert(key, item);
        }
        None => {
            table.remove(key);
        }
    }
}

fn write_service(table: &mut Table, draft: &ServiceDraft) {
    table.insert("slug", value(draft.slug.as_str()));
    table.insert("name", localized(&draft.name));
    table.insert("description", localized(&draft.description));
    table.insert("duration_minutes", value(i64::from(draft.duration_minutes)));
    table.insert("modes", strings(&draft.modes));
    table.insert("min_notice_hours", value(i64::from(draft.min_notice_hours)));
    table.insert("horizon_days", value(i64::from(draft.horizon_days)));
    set(table, "fiscal_code_required", draft.fiscal_code_required.then(|| value(true)));
    set(table, "max_active_bookings_per_person", draft.max_active_bookings_per_person.map(|n| value(i64::from(n))));
    set(table, "active", (!draft.active).then(|| value(false)));
}

fn write_office(table: &mut Table, draft: &OfficeDraft) {
    table.insert("slug", value(draft.slug.as_str()));
    table.insert("name", value(draft.name.as_str()));
    table.insert("address", value(draft.address.as_str()));
    set(table, "timezone", draft.timezone.as_deref().map(value));
    table.insert("modes", strings(&draft.modes));
    table.insert("services", strings(&draft.services));
    set(table, "patron_saint_day", draft.patron_saint_day.as_deref().map(value));
    set(table, "national_holidays", (!draft.national_holidays).then(|| value(false)));
    let mut hours = Table::new();
    for (day, intervals) in WEEKDAYS.iter().zip(&draft.hours).filter(|(_, i)| !i.is_empty()) {
        let array: Array = intervals
            .iter()
            .map(|i| {
                let mut interval = InlineTable::new();
                interval.insert("from", i.from.as_str().into());
                interval.insert("to", i.to.as_str().into());
                interval.insert("desks", i64::from(i.desks).into());
                interval
            })
            .collect();
        hours.insert(day, value(array));
    }
    table.insert("hours", Item::Table(hours));
    let mut closures = ArrayOfTables::new();
    for closure in &draft.closures {
        let mut row = Table::new();
        row.insert("from", value(closure.from.as_str()));
        if let Some(to) = &closure.to {
            row.insert("to", value(to.as_str()));
        }
        row.insert("reason", value(closure.reason.as_str()));
        closures.push(row);
    }
    set(table, "closures", (!closures.is_empty()).then_some(Item::ArrayOfTables(closures)));
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
}
