//! Open data in the public API: a body's availability per office and service, as JSON and CSV,
//! for anyone (no personal data; `404` unless the body publishes it).

use poem_openapi::param::Path;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use super::problem::ProblemResponse;
use crate::app::{OpenAvailability, Sportello};

#[derive(Tags)]
enum Tag {
    /// Aggregates a body publishes, with no personal data.
    OpenData,
}

pub struct OpenDataApi {
    pub app: Sportello,
}

/// One office and service.
#[derive(Object)]
pub struct OpenAvailabilityItem {
    /// The office's slug and name.
    pub office: String,
    pub office_name: String,
    /// The service's slug and name (in the body's first language).
    pub service: String,
    pub service_name: String,
    /// The first date (`YYYY-MM-DD`, the office's calendar) with a free place within the
    /// service's booking horizon; absent when there is none.
    pub next_free_date: Option<String>,
    /// Days from booking to appointment, on average, over the bookings made in the last 30 days
    /// online, through the API or by phone; absent when fewer than 5 were made.
    pub average_waiting_days: Option<f64>,
    /// How many bookings that average is of.
    pub bookings_counted: u64,
}

#[derive(Object)]
pub struct OpenAvailabilityDocument {
    pub tenant: String,
    /// When the figures were worked out (RFC 3339); they are at most 5 minutes old.
    pub generated_at: String,
    pub items: Vec<OpenAvailabilityItem>,
}

impl From<&OpenAvailability> for OpenAvailabilityDocument {
    fn from(table: &OpenAvailability) -> Self {
        Self {
            tenant: table.tenant.clone(),
            generated_at: table.generated_at.to_rfc3339(),
            items: table
                .rows
                .iter()
                .map(|r| OpenAvailabilityItem {
                    office: r.office.clone(),
                    office_name: r.office_name.clone(),
                    service: r.service.clone(),
                    service_name: r.service_name.clone(),
                    next_free_date: r.next_free_date.map(|d| d.to_string()),
                    average_waiting_days: r.average_waiting_days,
                    bookings_counted: r.bookings_counted,
                })
                .collect(),
        }
    }
}

/// Anyone may read it, from any page, for five minutes.
const CACHE: &str = "public, max-age=300";

#[derive(ApiResponse)]
pub enum OpenJson {
    #[oai(status = 200)]
    Ok(
        Json<OpenAvailabilityDocument>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Access-Control-Allow-Origin")] String,
    ),
}

#[derive(ApiResponse)]
pub enum OpenCsv {
    /// The same fields as the JSON, one row per office and service (UTF-8, a header row).
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(
        PlainText<String>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Access-Control-Allow-Origin")] String,
    ),
}

#[OpenApi]
impl OpenDataApi {
    /// Per office and service: the next free date and the average wait in days.
    #[oai(path = "/t/:tenant/open-data/availability", method = "get", tag = "Tag::OpenData")]
    async fn availability(&self, tenant: Path<String>) -> Result<OpenJson, ProblemResponse> {
        let table = self.app.open_availability(&tenant).await?;
        Ok(OpenJson::Ok(Json(table.as_ref().into()), CACHE.to_owned(), "*".to_owned()))
    }

    /// The same as CSV.
    #[oai(path = "/t/:tenant/open-data/availability.csv", method = "get", tag = "Tag::OpenData")]
    async fn availability_csv(&self, tenant: Path<String>) -> Result<OpenCsv, ProblemResponse> {
        let table = self.app.open_availability(&tenant).await?;
        let csv = Sportello::open_availability_csv(&table)?;
        Ok(OpenCsv::Ok(PlainText(csv), CACHE.to_owned(), "*".to_owned()))
    }
}
