//! A tenant's webhooks (add, rotate the secret — shown once —, switch on again, remove) and its
//! delivery log (e-mails and webhooks, a failed one sent again), on one page each.

use std::collections::BTreeMap;

use poem::http::StatusCode;
use poem::web::{Form, Path, Query};
use poem::{Request, handler};
use serde::Serialize;

use super::{Fields, Page, StaffVisit, WebData, stop};
use crate::app::{AppError, BookingEvent, NewWebhookRequest, WebhookKeyed};
use crate::web::{Web, see_other};

#[derive(Serialize)]
struct HookRow {
    url: String,
    events: String,
    personal_data: bool,
    created: String,
    disabled: Option<String>,
    rotate_action: String,
    enable_action: String,
    remove_action: String,
}

#[derive(Serialize)]
struct EventChoice {
    code: &'static str,
    checked: bool,
}

#[derive(Serialize)]
struct Keyed {
    url: String,
    secret: String,
}

#[derive(Serialize)]
struct HooksPage {
    tenant_name: String,
    back: String,
    action: String,
    deliveries_url: String,
    hooks: Vec<HookRow>,
    keyed: Option<Keyed>,
    url: String,
    events: Vec<EventChoice>,
    personal_data: bool,
    errors: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct DeliveryRow {
    created: String,
    channel_key: &'static str,
    topic: String,
    recipient: String,
    state_key: String,
    attempts: u32,
    last_error: Option<String>,
    retry_action: Option<String>,
}

#[derive(Serialize)]
struct DeliveriesPage {
    tenant_name: String,
    back: String,
    deliveries: Vec<DeliveryRow>,
    older: Option<String>,
}

/// What the form was sent with, to show again.
#[derive(Default)]
struct Typed {
    url: String,
    events: Vec<String>,
    personal_data: bool,
}

impl Web {
    async fn hooks_page(
        &self,
        visit: &StaffVisit,
        slug: &str,
        typed: Typed,
        errors: BTreeMap<String, String>,
        keyed: Option<WebhookKeyed>,
    ) -> Page {
        let fail = |e: AppError| stop(self.admin_failure(visit, &e));
        let hooks = self.app.webhooks(&visit.session, slug).await.map_err(fail)?;
        let overview = self.app.tenant_overview(&visit.session, slug).await.map_err(fail)?;
        let tz = overview.timezone;
        let when = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string();
        let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        let fresh = typed.url.is_empty() && typed.events.is_empty();
        let view = HooksPage {
            tenant_name: overview.name,
            back: format!("/admin/t/{slug}/"),
            action: format!("/admin/t/{slug}/webhooks"),
            deliveries_url: format!("/admin/t/{slug}/deliveries"),
            hooks: hooks
                .into_iter()
                .map(|h| {
                    let base = format!("/admin/t/{slug}/webhooks/{}", h.id);
                    HookRow {
                        events: h.events.join(", "),
                        personal_data: h.personal_data,
                        created: when(h.created_at),
                        disabled: h
                            .disabled_at
                            .map(|at| format!("{} · {}", when(at), h.disabled_reason.clone().unwrap_or_default())),
                        rotate_action: format!("{base}/secret"),
                        enable_action: format!("{base}/enable"),
                        remove_action: format!("{base}/removal"),
                        url: h.url,
                    }
                })
                .collect(),
            keyed: keyed.map(|k| Keyed { url: k.webhook.url, secret: k.secret }),
            url: typed.url,
            events: BookingEvent::ALL
                .iter()
                .map(|e| EventChoice { code: e.code(), checked: fresh || typed.events.iter().any(|t| t == e.code()) })
                .collect(),
            personal_data: typed.personal_data,
            errors,
        };
        Ok(self.staff_page(visit, "admin-webhooks", status, &view))
    }
}

#[handler]
pub async fn hooks_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    web.hooks_page(&visit, &tenant, Typed::default(), BTreeMap::new(), None).await
}

#[handler]
pub async fn add_hook(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let single: Fields = fields.iter().cloned().collect();
    let visit = web.staff_form(request, &single).await?;
    let typed = Typed {
        url: single.get("url").map(|u| u.trim().to_owned()).unwrap_or_default(),
        events: fields.iter().filter(|(k, _)| k == "events").map(|(_, v)| v.clone()).collect(),
        personal_data: single.contains_key("personal_data"),
    };
    let new =
        NewWebhookRequest { url: typed.url.clone(), events: typed.events.clone(), personal_data: typed.personal_data };
    match web.app.add_webhook(&visit.session, &tenant, &new).await {
        Ok(keyed) => web.hooks_page(&visit, &tenant, Typed::default(), BTreeMap::new(), Some(keyed)).await,
        Err(AppError::Invalid(errors)) => {
            let errors = web.field_errors(visit.locale, &errors);
            web.hooks_page(&visit, &tenant, typed, errors, None).await
        }
        Err(error) => Err(stop(web.admin_failure(&visit, &error))),
    }
}

fn hook_id(web: &Web, visit: &StaffVisit, raw: &str) -> Page<i32> {
    raw.parse().map_err(|_| stop(web.admin_failure(visit, &AppError::NotFound("webhook"))))
}

#[handler]
pub async fn rotate_hook(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, hook)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let id = hook_id(&web, &visit, &hook)?;
    let keyed = web.app.rotate_webhook_secret(&visit.session, &tenant, id).await;
    let keyed = keyed.map_err(|e| stop(web.admin_failure(&visit, &e)))?;
    web.hooks_page(&visit, &tenant, Typed::default(), BTreeMap::new(), Some(keyed)).await
}

/// Switching a webhook on again, or removing it: then back to the list.
enum Change {
    Enable,
    Remove,
}

async fn change_hook(web: &Web, request: &Request, tenant: &str, hook: &str, fields: &Fields, change: Change) -> Page {
    let visit = web.staff_form(request, fields).await?;
    let id = hook_id(web, &visit, hook)?;
    let done = match change {
        Change::Enable => web.app.enable_webhook(&visit.session, tenant, id).await.map(|_| ()),
        Change::Remove => web.app.remove_webhook(&visit.session, tenant, id).await,
    };
    done.map_err(|e| stop(web.admin_failure(&visit, &e)))?;
    Ok(see_other(&format!("/admin/t/{tenant}/webhooks")))
}

#[handler]
pub async fn enable_hook(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, hook)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    change_hook(&web, request, &tenant, &hook, &fields, Change::Enable).await
}

#[handler]
pub async fn remove_hook(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, hook)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    change_hook(&web, request, &tenant, &hook, &fields, Change::Remove).await
}

/// A page of the delivery log: the messages before `before`, or the newest.
#[derive(serde::Deserialize, Default)]
pub struct LogQuery {
    before: Option<i32>,
}

#[handler]
pub async fn deliveries_page(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Query(query): Query<LogQuery>,
) -> Page {
    let visit = web.staff_visit(request).await?;
    let fail = |e: AppError| stop(web.admin_failure(&visit, &e));
    let log = web.app.delivery_log(&visit.session, &tenant, query.before).await.map_err(fail)?;
    let overview = web.app.tenant_overview(&visit.session, &tenant).await.map_err(fail)?;
    let tz = overview.timezone;
    let when = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%d/%m/%Y %H:%M:%S").to_string();
    let older = (log.len() as u64 == crate::app::DELIVERY_PAGE)
        .then(|| log.last().map(|m| format!("/admin/t/{tenant}/deliveries?before={}", m.id)))
        .flatten();
    let view = DeliveriesPage {
        tenant_name: overview.name,
        back: format!("/admin/t/{tenant}/webhooks"),
        deliveries: log
            .into_iter()
            .map(|m| DeliveryRow {
                created: when(m.created_at),
                channel_key: if m.webhook.is_some() { "admin-channel-webhook" } else { "admin-channel-email" },
                recipient: m.recipient,
                state_key: format!("admin-delivery-{}", m.state.code().replace('_', "-")),
                attempts: m.attempts,
                last_error: m.last_error,
                retry_action: (m.state == crate::store::DeliveryState::Failed)
                    .then(|| format!("/admin/t/{tenant}/deliveries/{}/retry", m.id)),
                topic: m.topic,
            })
            .collect(),
        older,
    };
    Ok(web.staff_page(&visit, "admin-deliveries", StatusCode::OK, &view))
}

#[handler]
pub async fn retry_delivery(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, message)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let fail = |e: AppError| stop(web.admin_failure(&visit, &e));
    let id = message.parse().map_err(|_| fail(AppError::NotFound("failed message")))?;
    web.app.retry_delivery(&visit.session, &tenant, id).await.map_err(fail)?;
    Ok(see_other(&format!("/admin/t/{tenant}/deliveries")))
}
