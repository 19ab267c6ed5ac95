//! The calendar feeds of a tenant's offices: one row per office, an address made (shown once)
//! or revoked.

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, handler};
use serde::Serialize;

use super::{Fields, Page, StaffVisit, WebData, stop};
use crate::app::AppError;
use crate::web::{Web, see_other};

#[derive(Serialize)]
struct FeedRow {
    office: String,
    name: String,
    made: Option<String>,
    make_action: String,
    revoke_action: String,
}

#[derive(Serialize)]
struct FeedsPage {
    tenant_name: String,
    back: String,
    offices: Vec<FeedRow>,
    /// The address just made, shown this once.
    made_url: Option<String>,
    made_office: Option<String>,
}

impl Web {
    async fn feeds_page(&self, visit: &StaffVisit, slug: &str, made: Option<(String, String)>) -> Page {
        let fail = |e: AppError| stop(self.admin_failure(visit, &e));
        let feeds = self.app.office_feeds(&visit.session, slug).await.map_err(fail)?;
        let overview = self.app.tenant_overview(&visit.session, slug).await.map_err(fail)?;
        let tz = overview.timezone;
        let view = FeedsPage {
            tenant_name: overview.name,
            back: format!("/admin/t/{slug}/"),
            offices: overview
                .offices
                .iter()
                .map(|o| {
                    let feed = feeds.iter().find(|f| f.office == o.slug.as_str());
                    let base = format!("/admin/t/{slug}/feeds/{}", o.slug);
                    FeedRow {
                        office: o.slug.to_string(),
                        name: o.name.clone(),
                        made: feed.map(|f| {
                            format!("{} · {}", f.created_at.with_timezone(&tz).format("%d/%m/%Y %H:%M"), f.created_by)
                        }),
                        make_action: base.clone(),
                        revoke_action: format!("{base}/revocation"),
                    }
                })
                .collect(),
            made_office: made.as_ref().map(|(office, _)| office.clone()),
            made_url: made.map(|(_, url)| url),
        };
        Ok(self.staff_page(visit, "admin-feeds", StatusCode::OK, &view))
    }
}

#[handler]
pub async fn feeds_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    web.feeds_page(&visit, &tenant, None).await
}

#[handler]
pub async fn make_feed(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, office)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let path = web.app.make_office_feed(&visit.session, &tenant, &office).await;
    let path = path.map_err(|e| stop(web.admin_failure(&visit, &e)))?;
    web.feeds_page(&visit, &tenant, Some((office, web.app.public_address(&path)))).await
}

#[handler]
pub async fn revoke_feed(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, office)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    web.app
        .revoke_office_feed(&visit.session, &tenant, &office)
        .await
        .map_err(|e| stop(web.admin_failure(&visit, &e)))?;
    Ok(see_other(&format!("/admin/t/{tenant}/feeds")))
}
