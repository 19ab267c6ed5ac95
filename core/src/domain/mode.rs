//! How an appointment happens, and which contact each way needs.

use super::contact::{Email, Phone, SkypeName};

/// The seed's four modes and Jitsi. New ones are added here with the contact they need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    InPerson,
    Skype,
    WhatsApp,
    Teams,
    /// A video call in a room of its own on the body's Jitsi server: the citizen leaves nothing,
    /// the booking gets an unguessable room.
    Jitsi,
}

/// What the citizen must leave so that the office can start the appointment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactKind {
    None,
    Phone,
    SkypeName,
    Email,
}

/// A validated contact for a mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModeContact {
    None,
    Phone(Phone),
    Skype(SkypeName),
    Email(Email),
    Room(JitsiRoom),
}

/// A Jitsi room's name: `sportello-` and 24 random letters and digits (about 124 bits), so that
/// nobody finds a citizen's call by trying names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitsiRoom(String);

const ROOM_PREFIX: &str = "sportello-";
const ROOM_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const ROOM_LENGTH: usize = 24;

impl JitsiRoom {
    pub fn generate(rng: &mut impl rand::Rng) -> Self {
        use rand::seq::IndexedRandom;
        let name: String = (0..ROOM_LENGTH).filter_map(|_| ROOM_CHARS.choose(rng).copied().map(char::from)).collect();
        Self(format!("{ROOM_PREFIX}{name}"))
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let name = raw.strip_prefix(ROOM_PREFIX)?;
        (name.len() == ROOM_LENGTH && name.bytes().all(|b| ROOM_CHARS.contains(&b))).then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Mode {
    pub const ALL: [Mode; 5] = [Mode::InPerson, Mode::Skype, Mode::WhatsApp, Mode::Teams, Mode::Jitsi];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == raw)
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::InPerson => "in_person",
            Self::Skype => "skype",
            Self::WhatsApp => "whatsapp",
            Self::Teams => "teams",
            Self::Jitsi => "jitsi",
        }
    }

    pub fn contact_kind(self) -> ContactKind {
        match self {
            Self::InPerson | Self::Jitsi => ContactKind::None,
            Self::WhatsApp => ContactKind::Phone,
            Self::Skype => ContactKind::SkypeName,
            Self::Teams => ContactKind::Email,
        }
    }

    /// Parses the contact this mode needs. In person needs none and ignores what is given.
    pub fn parse_contact(self, raw: Option<&str>) -> Result<ModeContact, ContactError> {
        let raw = raw.map(str::trim).filter(|r| !r.is_empty());
        match (self.contact_kind(), raw) {
            (ContactKind::None, _) => Ok(ModeContact::None),
            (_, None) => Err(ContactError::Missing),
            (ContactKind::Phone, Some(r)) => match Phone::parse(r) {
                Some(phone) if phone.may_be_mobile() => Ok(ModeContact::Phone(phone)),
                Some(_) => Err(ContactError::NotMobile),
                None => Err(ContactError::InvalidPhone),
            },
            (ContactKind::SkypeName, Some(r)) => {
                SkypeName::parse(r).map(ModeContact::Skype).ok_or(ContactError::InvalidSkypeName)
            }
            (ContactKind::Email, Some(r)) => Email::parse(r).map(ModeContact::Email).ok_or(ContactError::InvalidEmail),
        }
    }
}

impl ModeContact {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::None => None,
            Self::Phone(p) => Some(p.as_str()),
            Self::Skype(s) => Some(s.as_str()),
            Self::Email(e) => Some(e.as_str()),
            Self::Room(r) => Some(r.as_str()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("this mode needs a contact")]
    Missing,
    #[error("must be a phone number in international form, e.g. +39 333 123 4567")]
    InvalidPhone,
    /// A video call on WhatsApp needs a mobile number; an Italian landline cannot take it.
    #[error("must be a mobile number, e.g. +39 333 123 4567")]
    NotMobile,
    #[error("must be a Skype name (6-32 letters, digits, '.', ',', '-', '_', starting with a letter)")]
    InvalidSkypeName,
    #[error("must be an e-mail address")]
    InvalidEmail,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_asks_for_its_own_contact() {
        assert_eq!(Mode::InPerson.parse_contact(None), Ok(ModeContact::None));
        assert_eq!(Mode::WhatsApp.parse_contact(None), Err(ContactError::Missing));
        assert_eq!(Mode::WhatsApp.parse_contact(Some("abc")), Err(ContactError::InvalidPhone));
        assert_eq!(Mode::WhatsApp.parse_contact(Some("06 1234 5678")), Err(ContactError::NotMobile));
        assert_eq!(Mode::WhatsApp.parse_contact(Some("+39 0584 123456")), Err(ContactError::NotMobile));
        assert!(Mode::WhatsApp.parse_contact(Some("347 111 2222")).is_ok());
        assert!(Mode::WhatsApp.parse_contact(Some("+44 7700 900123")).is_ok(), "abroad, any number may be a mobile");
        assert!(matches!(Mode::WhatsApp.parse_contact(Some("+39 333 1234567")), Ok(ModeContact::Phone(_))));
        assert!(matches!(Mode::Skype.parse_contact(Some("mario.rossi85")), Ok(ModeContact::Skype(_))));
        assert_eq!(Mode::Teams.parse_contact(Some("not-an-email")), Err(ContactError::InvalidEmail));
        assert!(matches!(Mode::Teams.parse_contact(Some("m@example.it")), Ok(ModeContact::Email(_))));
    }

    #[test]
    fn jitsi_rooms_are_long_random_names() {
        let mut rng = rand::rng();
        let (a, b) = (JitsiRoom::generate(&mut rng), JitsiRoom::generate(&mut rng));
        assert_ne!(a, b);
        assert_eq!(JitsiRoom::parse(a.as_str()), Some(a.clone()));
        assert_eq!(a.as_str().len(), ROOM_PREFIX.len() + ROOM_LENGTH);
        for bad in ["sportello-short", "other-abcdefghijklmnopqrstuvwx", "sportello-ABCDEFGHIJKLMNOPQRSTUVWX"] {
            assert_eq!(JitsiRoom::parse(bad), None, "{bad}");
        }
        assert_eq!(Mode::Jitsi.parse_contact(Some("anything")), Ok(ModeContact::None), "the citizen leaves nothing");
    }

    #[test]
    fn codes_round_trip() {
        for mode in Mode::ALL {
            assert_eq!(Mode::parse(mode.code()), Some(mode));
        }
        assert_eq!(Mode::parse("fax"), None);
    }
}
