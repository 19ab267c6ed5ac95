//! A body's own e-mail templates: `templates/mail-html.hbs` and `templates/mail-text.hbs` in its
//! pack replace the built-in ones (they receive the same data; see docs/notifications.md),
//! compiled once per configuration version. A template of the body's that fails to render falls
//! back to the built-in one, said in the log: a body's mistake never stops a booking.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use handlebars::Handlebars;

use crate::domain::TenantId;

/// Pack template names (`templates/<name>.hbs`) of the two parts.
pub const HTML_TEMPLATE: &str = "mail-html";
pub const TEXT_TEMPLATE: &str = "mail-text";

/// A tenant's templates as its configuration stores them.
#[derive(Clone, Copy, Debug)]
pub struct MailTemplates<'a> {
    pub tenant: TenantId,
    /// The configuration version they belong to.
    pub version: i64,
    pub html: Option<&'a str>,
    pub text: Option<&'a str>,
}

pub(super) struct Compiled {
    pub html: Option<Handlebars<'static>>,
    pub text: Option<Handlebars<'static>>,
}

#[derive(Default)]
pub(super) struct Overrides {
    cache: Mutex<HashMap<TenantId, (i64, Arc<Compiled>)>>,
}

fn registry(text: Option<&str>, escape: bool) -> Option<Handlebars<'static>> {
    let mut registry = Handlebars::new();
    if !escape {
        registry.register_escape_fn(handlebars::no_escape);
    }
    match registry.register_template_string("message", text?) {
        Ok(()) => Some(registry),
        Err(error) => {
            tracing::warn!(%error, "a body's e-mail template does not compile: the built-in one is used");
            None
        }
    }
}

impl Overrides {
    /// The tenant's compiled templates, `None` when it has none.
    pub(super) fn compiled(&self, templates: &MailTemplates<'_>) -> Option<Arc<Compiled>> {
        if templates.html.is_none() && templates.text.is_none() {
            return None;
        }
        let mut cache = self.cache.lock().ok()?;
        if let Some((version, compiled)) = cache.get(&templates.tenant)
            && *version == templates.version
        {
            return Some(compiled.clone());
        }
        let compiled =
            Arc::new(Compiled { html: registry(templates.html, true), text: registry(templates.text, false) });
        cache.insert(templates.tenant, (templates.version, compiled.clone()));
        Some(compiled)
    }
}
