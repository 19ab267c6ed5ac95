//! The pure heart of Sportello: tenant configuration, schedules, slots, bookings.
//!
//! Invariant: nothing here does I/O, awaits, or knows about poem, sea-orm or holds storage.
//! Every type that leaves this module holds only valid values (parse, don't validate).

pub mod accessibility;
pub mod booking;
pub mod catalog;
pub mod contact;
pub mod desk;
pub mod holidays;
pub mod mode;
pub mod network;
pub mod queue;
pub mod schedule;
pub mod slots;
pub mod staff;
pub mod statistics;
pub mod stranding;
pub mod text;

pub use accessibility::{AccessibilityStatement, Assessment, Conformance};
pub use booking::{
    Booking, BookingCode, BookingDetails, BookingStatus, Channel, Citizen, DetailsForm, FieldError, FieldErrors,
};
pub use catalog::{
    Branding, CitizenField, FieldKind, FieldSpec, Limits, MailSettings, OfferKey, OfferKeyError, Office, PluginSpec,
    Service, ServicePlugin, TenantConfig,
};
pub use contact::{Email, FiscalCode, Phone, SkypeName};
pub use mode::{ContactKind, JitsiRoom, Mode, ModeContact};
pub use schedule::{Closure, HolidayPolicy, OpeningInterval, WeeklyHours};
pub use slots::{Slot, SlotQuery};
pub use staff::{Denied, Grant, NewPassword, PasswordError, Role, StaffEmail, StaffMember};
pub use text::{Locale, Localized, Slug, TenantId};
