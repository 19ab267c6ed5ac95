//! A body's accessibility statement (dichiarazione di accessibilità), in the shape of AgID's model
//! under Legge 4/2004: how far its booking pages conform to EN 301 549 (WCAG 2.1 AA), what is
//! not accessible and why, when and how that was assessed, and where to report a problem.

use chrono::NaiveDate;

use super::contact::Email;
use super::text::Localized;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessibilityStatement {
    pub conformance: Conformance,
    /// What is not accessible and why (a disproportionate burden, content out of scope…); needed
    /// unless the pages fully conform.
    pub non_accessible: Option<Localized>,
    /// When the statement was first drawn up.
    pub prepared_on: NaiveDate,
    /// When it was last reviewed, if ever.
    pub reviewed_on: Option<NaiveDate>,
    pub method: Assessment,
    /// Where citizens report what they cannot use (AgID's "meccanismo di feedback").
    pub feedback_email: Email,
}

/// The three states of AgID's model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conformance {
    Full,
    Partial,
    None,
}

impl Conformance {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "full" => Some(Self::Full),
            "partial" => Some(Self::Partial),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Partial => "partial",
            Self::None => "none",
        }
    }
}

/// How conformance was assessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assessment {
    /// By the body itself.
    SelfAssessment,
    ThirdParty,
}

impl Assessment {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "self" => Some(Self::SelfAssessment),
            "third_party" => Some(Self::ThirdParty),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::SelfAssessment => "self",
            Self::ThirdParty => "third_party",
        }
    }
}
