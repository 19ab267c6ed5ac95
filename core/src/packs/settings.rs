//! The tenant-wide settings of a manifest (name, zone, languages, branding, privacy notice, the
//! hold and the anti-hoarding limits) as an admin edits them, written back in place like a
//! service or an office.

use std::collections::BTreeMap;

use toml_edit::{Item, Table, Value};

use super::edit::{Manifest, set, strings};
use super::file::PackFile;
use super::{MANIFEST, PackError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsDraft {
    pub name: String,
    pub timezone: String,
    /// Language codes, the default first.
    pub locales: Vec<String>,
    /// How long a place is held while the citizen types: minutes, or seconds for a finer hold.
    pub hold_minutes: Option<u16>,
    pub hold_seconds: Option<u32>,
    pub privacy_notice_version: String,
    /// The privacy notice's text by language code; empty for none.
    pub privacy_notice: BTreeMap<String, String>,
    /// Its staff must sign in with a second factor.
    pub require_two_factor: bool,
    /// It publishes open data on its availability.
    pub publish_open_data: bool,
    /// Days after an appointment the citizen's personal data are kept; `None`: the default.
    pub retention_days: Option<u16>,
    pub display_name: Option<String>,
    pub primary_color: String,
    pub secondary_color: Option<String>,
    pub contacts: Option<String>,
    pub privacy_notice_url: Option<String>,
    pub accessibility_url: Option<String>,
    pub limits: LimitsDraft,
    pub mail: MailDraft,
    /// The Jitsi server of `jitsi` video calls; `None`: Jitsi's public one.
    pub jitsi_server: Option<String>,
}

/// How the body's e-mails go out; `None`: the default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailDraft {
    pub sender_name: Option<String>,
    pub sender_address: Option<String>,
    pub reply_to: Option<String>,
    pub reminder_hours: Option<u16>,
}

/// `None`: the platform default; 0 switches a limit off.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LimitsDraft {
    pub holds_per_client: Option<u32>,
    pub holds_per_minute: Option<u32>,
    pub bookings_per_minute: Option<u32>,
    pub lookups_per_minute: Option<u32>,
}

/// The settings of a manifest, as a draft.
pub fn settings(manifest: &str) -> Result<SettingsDraft, PackError> {
    let file: PackFile =
        toml::from_str(manifest).map_err(|e| PackError::new(MANIFEST, "(syntax)", e.message().to_owned()))?;
    let (b, l, m) = (file.branding, file.limits, file.mail);
    Ok(SettingsDraft {
        name: file.name,
        timezone: file.timezone,
        locales: file.locales,
        hold_minutes: file.hold_minutes,
        hold_seconds: file.hold_seconds,
        privacy_notice_version: file.privacy_notice_version,
        privacy_notice: file.privacy_notice.unwrap_or_default(),
        require_two_factor: file.require_two_factor,
        publish_open_data: file.publish_open_data,
        retention_days: file.retention_days,
        display_name: b.display_name,
        primary_color: b.primary_color,
        secondary_color: b.secondary_color,
        contacts: b.contacts,
        privacy_notice_url: b.privacy_notice_url,
        accessibility_url: b.accessibility_url,
        limits: LimitsDraft {
            holds_per_client: l.holds_per_client,
            holds_per_minute: l.holds_per_minute,
            bookings_per_minute: l.bookings_per_minute,
            lookups_per_minute: l.lookups_per_minute,
        },
        jitsi_server: file.jitsi_server,
        mail: MailDraft {
            sender_name: m.sender_name,
            sender_address: m.sender_address,
            reply_to: m.reply_to,
            reminder_hours: m.reminder_hours,
        },
    })
}

pub(super) fn text(table: &mut Table, key: &str, text: Option<&str>) {
    set(table, key, text.map(Value::from));
}

fn number(table: &mut Table, key: &str, number: Option<u32>) {
    set(table, key, number.map(|n| Value::from(i64::from(n))));
}

/// The sub-table `name` of the root, made when missing.
pub(super) fn section<'a>(root: &'a mut Table, name: &str) -> Option<&'a mut Table> {
    root.entry(name).or_insert_with(|| Item::Table(Table::new())).as_table_mut()
}

impl Manifest {
    /// Replaces the tenant-wide settings; services, offices, plugins and datasets stay.
    pub fn put_settings(&mut self, draft: &SettingsDraft) {
        let root = self.root();
        text(root, "name", Some(&draft.name));
        text(root, "timezone", Some(&draft.timezone));
        set(root, "locales", Some(strings(&draft.locales)));
        number(root, "hold_minutes", draft.hold_minutes.map(u32::from));
        number(root, "hold_seconds", draft.hold_seconds);
        text(root, "privacy_notice_version", Some(&draft.privacy_notice_version));
        let notice: Vec<(&String, &String)> =
            draft.privacy_notice.iter().filter(|(_, t)| !t.trim().is_empty()).collect();
        if notice.is_empty() {
            root.remove("privacy_notice");
        } else if let Some(table) = section(root, "privacy_notice") {
            let kept: Vec<String> = table.iter().map(|(code, _)| code.to_owned()).collect();
            for code in kept.iter().filter(|code| !notice.iter().any(|(c, _)| c == code)) {
                table.remove(code);
            }
            for (code, words) in notice {
                // Several paragraphs: toml_edit writes them as a multi-line string.
                text(table, code, Some(&words.replace("\r\n", "\n")));
            }
        }
        text(root, "jitsi_server", draft.jitsi_server.as_deref());
        if draft.require_two_factor || root.contains_key("require_two_factor") {
            set(root, "require_two_factor", Some(Value::from(draft.require_two_factor)));
        }
        number(root, "retention_days", draft.retention_days.map(u32::from));
        if draft.publish_open_data || root.contains_key("publish_open_data") {
            set(root, "publish_open_data", Some(Value::from(draft.publish_open_data)));
        }
        if let Some(branding) = section(root, "branding") {
            text(branding, "display_name", draft.display_name.as_deref());
            text(branding, "primary_color", Some(&draft.primary_color));
            text(branding, "secondary_color", draft.secondary_color.as_deref());
            text(branding, "contacts", draft.contacts.as_deref());
            text(branding, "privacy_notice_url", draft.privacy_notice_url.as_deref());
            text(branding, "accessibility_url", draft.accessibility_url.as_deref());
        }
        let l = &draft.limits;
        if *l == LimitsDraft::default() {
            root.remove("limits");
        } else if let Some(limits) = section(root, "limits") {
            number(limits, "holds_per_client", l.holds_per_client);
            number(limits, "holds_per_minute", l.holds_per_minute);
            number(limits, "bookings_per_minute", l.bookings_per_minute);
            number(limits, "lookups_per_minute", l.lookups_per_minute);
        }
        let m = &draft.mail;
        if *m == MailDraft::default() {
            root.remove("mail");
        } else if let Some(mail) = section(root, "mail") {
            text(mail, "sender_name", m.sender_name.as_deref());
            text(mail, "sender_address", m.sender_address.as_deref());
            text(mail, "reply_to", m.reply_to.as_deref());
            number(mail, "reminder_hours", m.reminder_hours.map(u32::from));
        }
    }

    /// Names the logo file in `[branding]`, or removes it.
    pub fn put_logo(&mut self, file_name: Option<&str>) {
        if let Some(branding) = section(self.root(), "branding") {
            text(branding, "logo", file_name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packs::parse_config;

    const PACK: &str = include_str!("../../../tenants/cbtoscananord/tenant.toml");

    #[test]
    fn settings_edited_in_place_keep_the_rest() {
        let mut draft = settings(PACK).unwrap();
        draft.name = "Consorzio di Bonifica Toscana Nord".into();
        draft.hold_minutes = None;
        draft.hold_seconds = Some(90);
        draft.contacts = None;
        draft.limits = LimitsDraft::default();
        draft.mail = MailDraft {
            sender_name: Some("Prenotazioni del Consorzio".into()),
            reply_to: Some("urp@cbtoscananord.it".into()),
            reminder_hours: Some(24),
            ..MailDraft::default()
        };
        let mut manifest = Manifest::parse(PACK).unwrap();
        manifest.put_settings(&draft);
        manifest.put_logo(Some("logo.png"));
        let text = manifest.text();
        assert!(text.contains("# Tenant rules (docs/plugins.md)."), "comments stay:\n{text}");
        let config = parse_config(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.hold_seconds, 90);
        assert_eq!(config.mail.reminder_hours, 24);
        assert_eq!(config.mail.reply_to.map(|a| a.to_string()).as_deref(), Some("urp@cbtoscananord.it"));
        assert_eq!(config.services.len(), 4);
        assert_eq!(config.branding.logo.as_deref(), Some("logo.png"));
        assert_eq!(settings(&text).unwrap(), draft);
    }

    #[test]
    fn a_privacy_notice_of_several_paragraphs_is_written_and_removed() {
        let mut draft = settings(PACK).unwrap();
        let words = "Titolare del trattamento: il Consorzio.\n\nBase giuridica: art. 6(1)(e) GDPR.";
        draft.privacy_notice = [("it".to_owned(), words.to_owned())].into();
        let mut manifest = Manifest::parse(PACK).unwrap();
        manifest.put_settings(&draft);
        let text = manifest.text();
        let config = parse_config(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let notice = config.privacy_notice.unwrap_or_else(|| panic!("{text}"));
        assert_eq!(notice.get(crate::domain::Locale::En), words, "Italian stands in for English");
        draft.privacy_notice.insert("it".into(), "  ".into());
        manifest.put_settings(&draft);
        assert_eq!(parse_config(&manifest.text()).unwrap().privacy_notice, None, "{}", manifest.text());
    }
}
