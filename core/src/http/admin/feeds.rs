//! The calendar feeds of a tenant's offices as resources of the admin API.

use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use super::{AdminApi, AdminTag, ApiResult, Done, StaffToken};
use crate::store::StoredFeed;

pub struct FeedsApi {
    pub admin: AdminApi,
}

/// An office's feed (never its secret address).
#[derive(Object)]
pub struct FeedView {
    pub office: String,
    pub created_by: String,
    pub created_at: String,
}

impl From<StoredFeed> for FeedView {
    fn from(f: StoredFeed) -> Self {
        Self { office: f.office, created_by: f.created_by, created_at: f.created_at.to_rfc3339() }
    }
}

/// The feed's secret address, shown this once: subscribe to it from a calendar program.
#[derive(Object)]
pub struct FeedMade {
    pub url: String,
}

#[derive(ApiResponse)]
pub enum FeedCreated {
    #[oai(status = 201)]
    Created(Json<FeedMade>),
}

#[poem_openapi::OpenApi(prefix_path = "/admin")]
impl FeedsApi {
    /// The offices that have a calendar feed.
    #[oai(path = "/t/:tenant/feeds", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn feeds(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
    ) -> ApiResult<Json<Vec<FeedView>>> {
        let session = self.admin.session(&auth, request).await?;
        Ok(Json(self.admin.app.office_feeds(&session, &tenant).await?.into_iter().map(Into::into).collect()))
    }

    /// A new secret address for the office's feed; the one before it stops working. Only a person
    /// signed in can make one.
    #[oai(path = "/t/:tenant/feeds/:office", method = "post", tag = "AdminTag::TenantAdmin")]
    async fn make(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        office: Path<String>,
    ) -> ApiResult<FeedCreated> {
        let session = self.admin.session(&auth, request).await?;
        let path = self.admin.app.make_office_feed(&session, &tenant, &office).await?;
        Ok(FeedCreated::Created(Json(FeedMade { url: self.admin.app.public_address(&path) })))
    }

    /// Revokes the office's feed: its address stops working at once.
    #[oai(path = "/t/:tenant/feeds/:office", method = "delete", tag = "AdminTag::TenantAdmin")]
    async fn revoke(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        office: Path<String>,
    ) -> ApiResult<Done> {
        let session = self.admin.session(&auth, request).await?;
        self.admin.app.revoke_office_feed(&session, &tenant, &office).await?;
        Ok(Done::NoContent)
    }
}
