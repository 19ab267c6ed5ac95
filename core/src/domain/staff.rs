//! The people who run Sportello: their identity, roles and passwords, as values that can only be
//! valid. What each role may do is decided here, once, for the API and the admin pages alike.

use std::fmt;

use super::contact::Email;
use super::text::{Slug, TenantId};

/// A staff member's sign-in address: an e-mail address compared without regard to case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StaffEmail(String);

impl StaffEmail {
    pub fn parse(raw: &str) -> Option<Self> {
        Email::parse(raw).map(|e| Self(e.as_str().to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StaffEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a grant lets its holder do; ordered from least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Works the agenda of the offices assigned to them, and nothing else.
    Operator,
    /// Everything inside one tenant.
    TenantAdmin,
    /// Onboards and suspends tenants and manages their admins; acts as a tenant admin anywhere.
    Platform,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Platform, Role::TenantAdmin, Role::Operator];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "platform" => Some(Self::Platform),
            "tenant" | "tenant_admin" => Some(Self::TenantAdmin),
            "operator" => Some(Self::Operator),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Platform => "platform",
            Self::TenantAdmin => "tenant_admin",
            Self::Operator => "operator",
        }
    }
}

/// A role held by an account: on the platform, or in one tenant (with offices, for operators).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    Platform,
    Tenant { tenant: TenantId, slug: String, role: Role, offices: Vec<Slug> },
}

/// Why an account may not do something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// It holds no role in that tenant: to it, the tenant does not exist.
    Unknown,
    /// It holds a role there, but a lesser one.
    Forbidden,
}

/// A signed-in staff member and what they hold.
#[derive(Clone, Debug)]
pub struct StaffMember {
    pub id: i32,
    pub email: StaffEmail,
    pub grants: Vec<Grant>,
}

impl StaffMember {
    pub fn is_platform(&self) -> bool {
        self.grants.iter().any(|g| matches!(g, Grant::Platform))
    }

    /// The role held in `tenant` (a platform admin holds `Platform` everywhere).
    pub fn role_in(&self, tenant: TenantId) -> Option<Role> {
        if self.is_platform() {
            return Some(Role::Platform);
        }
        self.grants.iter().find_map(|g| match g {
            Grant::Tenant { tenant: t, role, .. } if *t == tenant => Some(*role),
            _ => None,
        })
    }

    /// Whether this member may act as `needed` in `tenant`.
    pub fn may(&self, tenant: TenantId, needed: Role) -> Result<Role, Denied> {
        match self.role_in(tenant) {
            None => Err(Denied::Unknown),
            Some(role) if role >= needed => Ok(role),
            Some(_) => Err(Denied::Forbidden),
        }
    }

    /// Platform actions: onboarding, suspending, every tenant's size.
    pub fn may_run_platform(&self) -> Result<(), Denied> {
        if self.is_platform() { Ok(()) } else { Err(Denied::Forbidden) }
    }

    /// The tenants this member holds a role in, by slug (a platform admin's grant names none).
    pub fn tenant_grants(&self) -> impl Iterator<Item = (&str, Role, &[Slug])> {
        self.grants.iter().filter_map(|g| match g {
            Grant::Tenant { slug, role, offices, .. } => Some((slug.as_str(), *role, offices.as_slice())),
            Grant::Platform => None,
        })
    }
}

/// The shortest password accepted (NIST SP 800-63B asks for at least 8; staff accounts guard
/// every citizen's data).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longer passwords are refused so that hashing stays cheap to ask for.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A password someone chose, checked against the policy. Never logged, never displayed.
pub struct NewPassword(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("use at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("use at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("this password is among the most common ones; choose another")]
    Common,
    #[error("the password must not be the e-mail address")]
    SameAsEmail,
}

impl PasswordError {
    pub fn code(self) -> &'static str {
        match self {
            Self::TooShort => "password_too_short",
            Self::TooLong => "password_too_long",
            Self::Common => "password_common",
            Self::SameAsEmail => "password_is_email",
        }
    }
}

impl NewPassword {
    /// Checks length (in characters, spaces allowed), the list of common passwords shipped with
    /// the `passwords` crate (no network), and that it is not the account's own address.
    pub fn parse(raw: &str, email: &StaffEmail) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        let lower = raw.to_lowercase();
        if passwords::analyzer::is_common_password(raw) || passwords::analyzer::is_common_password(&lower) {
            return Err(PasswordError::Common);
        }
        let local = email.as_str().split('@').next().unwrap_or_default();
        if lower == email.as_str() || lower == local {
            return Err(PasswordError::SameAsEmail);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> StaffEmail {
        StaffEmail::parse("Mario.Rossi@Example.IT").unwrap()
    }

    #[test]
    fn addresses_compare_without_case() {
        assert_eq!(email().as_str(), "mario.rossi@example.it");
        assert!(StaffEmail::parse("not an address").is_none());
    }

    #[test]
    fn the_password_policy() {
        assert_eq!(NewPassword::parse("short", &email()).unwrap_err(), PasswordError::TooShort);
        assert_eq!(NewPassword::parse(&"x".repeat(257), &email()).unwrap_err(), PasswordError::TooLong);
        // Long, and yet on every list.
        assert_eq!(NewPassword::parse("123456789012", &email()).unwrap_err(), PasswordError::Common);
        assert_eq!(NewPassword::parse("PasswordPassword", &email()).unwrap_err(), PasswordError::Common);
        assert_eq!(NewPassword::parse("mario.rossi@example.it", &email()).unwrap_err(), PasswordError::SameAsEmail);
        assert!(NewPassword::parse("canale di bonifica 42", &email()).is_ok());
        assert_eq!(format!("{:?}", NewPassword::parse("canale di bonifica 42", &email()).unwrap()), "NewPassword(…)");
    }

    #[test]
    fn roles_are_checked_per_tenant() {
        let (prova, altro) = (TenantId::from_stored(1), TenantId::from_stored(2));
        let operator = StaffMember {
            id: 1,
            email: email(),
            grants: vec![Grant::Tenant { tenant: prova, slug: "prova".into(), role: Role::Operator, offices: vec![] }],
        };
        assert_eq!(operator.may(prova, Role::Operator), Ok(Role::Operator));
        assert_eq!(operator.may(prova, Role::TenantAdmin), Err(Denied::Forbidden));
        assert_eq!(operator.may(altro, Role::Operator), Err(Denied::Unknown));
        assert_eq!(operator.may_run_platform(), Err(Denied::Forbidden));
        let platform = StaffMember { id: 2, email: email(), grants: vec![Grant::Platform] };
        assert_eq!(platform.may(altro, Role::TenantAdmin), Ok(Role::Platform));
    }
}
