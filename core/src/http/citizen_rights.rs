//! A citizen's own data, by a booking's code and proof: a copy to download, and erasure now
//! (`/api/v1/t/{tenant}/bookings/{code}/personal-data`, and `…/erase`).

use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::dto::{BookingView, ProofBody};
use super::public::{ApiResult, HttpOptions, proof};
use crate::app::Sportello;
use crate::web::client_key;

#[derive(Tags)]
enum Tag {
    /// A citizen's rights over their data (GDPR arts. 15 and 17).
    Privacy,
}

pub struct CitizenRightsApi {
    pub app: Sportello,
    pub options: HttpOptions,
}

#[derive(ApiResponse)]
pub enum PersonalDataFile {
    /// Everything held about the booking: the booking, the messages sent about it, and which
    /// staff opened or changed it. Never cached.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Binary<Vec<u8>>, #[oai(header = "Content-Disposition")] String, #[oai(header = "Cache-Control")] String),
}

#[OpenApi]
impl CitizenRightsApi {
    /// A copy of the personal data held about a booking, with the same proof as the booking
    /// (its e-mail in `Booking-Email`, or `?token=`).
    #[oai(path = "/t/:tenant/bookings/:code/personal-data", method = "get", tag = "Tag::Privacy")]
    async fn copy(
        &self,
        request: &poem::Request,
        tenant: Path<String>,
        code: Path<String>,
        #[oai(name = "Booking-Email")] email: Header<Option<String>>,
        token: Query<Option<String>>,
    ) -> ApiResult<PersonalDataFile> {
        let client = client_key(request, self.options.trust_forwarded_for);
        let proof = proof(&code, email.as_deref(), token.as_deref(), client.as_deref())?;
        let (name, json) = self.app.personal_data(&tenant, &proof).await?.file()?;
        let disposition = format!("attachment; filename=\"{name}\"");
        Ok(PersonalDataFile::Ok(Binary(json), disposition, "no-store".to_owned()))
    }

    /// Erases the booking's personal data now: an appointment still to come is cancelled first
    /// (with its e-mail); then the citizen's data are anonymised, as after the retention period.
    /// Asked again, it answers the same.
    #[oai(path = "/t/:tenant/bookings/:code/personal-data/erase", method = "post", tag = "Tag::Privacy")]
    async fn erase(
        &self,
        request: &poem::Request,
        tenant: Path<String>,
        code: Path<String>,
        body: Json<ProofBody>,
    ) -> ApiResult<Json<BookingView>> {
        let client = client_key(request, self.options.trust_forwarded_for);
        let proof = proof(&code, body.email.as_deref(), body.token.as_deref(), client.as_deref())?;
        let erased = self.app.erase_personal_data(&tenant, &proof).await?;
        let token = self.app.manage_token(erased.tenant.id, &erased.booking);
        Ok(Json(BookingView::from(&erased.tenant, &erased.booking, token)))
    }
}
