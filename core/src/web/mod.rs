//! The citizens' pages: server-rendered HTML that works without JavaScript.
//!
//! Invariant: like `http/`, this module knows poem; it calls the same use cases as the API
//! and never builds its own view of capacity. Strings come from `i18n`, markup from templates
//! (`core/web/templates`, overridable per tenant in `tenants/<slug>/templates/`).

mod assets;
mod citizen;
mod client;
mod hold_cookie;
mod i18n;
mod language;
mod render;

use std::path::PathBuf;
use std::sync::Arc;

use poem::{Route, get, post};

use crate::app::Sportello;
pub(crate) use client::client_address;
pub use i18n::TranslationError;

/// Where the pages find what they need besides the application.
#[derive(Clone, Debug)]
pub struct WebOptions {
    /// Folder of built assets (`scripts/build-assets` writes it), with its `manifest.json`.
    pub assets_dir: PathBuf,
}

/// Shared by every page handler.
pub(crate) struct Web {
    app: Sportello,
    render: render::Renderer,
    assets: assets::Assets,
    /// How clients are identified (`HttpOptions::trust_forwarded_for`).
    trust_forwarded_for: bool,
}

/// The routes of the citizens' pages, and the state their handlers expect as endpoint data.
pub(crate) fn routes(
    app: Sportello,
    options: WebOptions,
    trust_forwarded_for: bool,
) -> Result<(Route, Arc<Web>), TranslationError> {
    let assets = assets::Assets::load(&options.assets_dir);
    let web = Arc::new(Web { app, render: render::Renderer::new()?, assets, trust_forwarded_for });
    let route = Route::new()
        .at("/", get(citizen::home_page))
        .at("/static/:file", get(assets::serve))
        .at("/t/:tenant", get(citizen::services_page))
        .at("/t/:tenant/", get(citizen::services_page))
        .at("/t/:tenant/s/:service", get(citizen::offices_step))
        .at("/t/:tenant/s/:service/choose", get(citizen::choose_office))
        .at("/t/:tenant/s/:service/o/:office/m/:mode", get(citizen::calendar_step))
        .at("/t/:tenant/hold", post(citizen::hold_slot))
        .at("/t/:tenant/details/:hold", get(citizen::details_step).post(citizen::review_step))
        .at("/t/:tenant/confirm/:hold", post(citizen::confirm_step))
        .at("/t/:tenant/booking", get(citizen::manage_page).post(citizen::find_booking))
        .at("/t/:tenant/booking/cancel", post(citizen::cancel_booking))
        .at("/t/:tenant/booking/reschedule", post(citizen::reschedule_booking));
    Ok((route, web))
}
