//! RFC 9457 problem details: every error the API answers, in one shape.

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use crate::app::AppError;
use crate::outcome::Outcome;

/// A problem with one request field.
#[derive(Object, Debug, Clone)]
pub struct FieldProblem {
    /// Dotted path of the field, e.g. `citizen.email`.
    pub field: String,
    /// Stable machine-readable code, e.g. `invalid_email`.
    pub code: String,
    pub message: String,
}

/// `application/problem+json` (RFC 9457).
#[derive(Object, Debug, Clone)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/slot-taken`.
    #[oai(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Present on validation problems only.
    #[oai(default, skip_serializing_if_is_empty)]
    pub errors: Vec<FieldProblem>,
    /// On `strands-bookings` only: the upcoming bookings a configuration would strand.
    #[oai(default, skip_serializing_if_is_empty)]
    pub bookings: Vec<StrandedProblem>,
}

/// An upcoming booking a configuration change would strand, and why.
#[derive(Object, Debug, Clone)]
pub struct StrandedProblem {
    pub code: String,
    /// In the office's offset.
    pub start: String,
    pub service: String,
    pub office: String,
    /// `service_removed`, `office_removed`, `not_offered_here`, `mode_removed`, `closed`,
    /// `outside_hours` or `over_capacity`.
    pub reason: String,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            bookings: Vec::new(),
        }
    }
}

/// The error responses of the API.
#[derive(ApiResponse, Debug)]
pub enum ProblemResponse {
    /// The request is malformed.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Box<Problem>>),
    /// No credentials, or a session that ended.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Box<Problem>>),
    /// The caller's role does not allow this.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Box<Problem>>),
    /// The tenant, service, office, hold or booking does not exist.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Box<Problem>>),
    /// The slot is taken, the hold expired, or the booking can no longer change.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Box<Problem>>),
    /// The configuration changed since the version named in `If-Match`.
    #[oai(status = 412, content_type = "application/problem+json")]
    PreconditionFailed(Json<Box<Problem>>),
    /// The body is larger than its limit (64 KiB; staff requests 1 MiB, a logo 528 KiB).
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Box<Problem>>),
    /// The body is not `application/json`.
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Box<Problem>>),
    /// Some fields are invalid; `errors` lists each.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Box<Problem>>),
    /// An edit without `If-Match`.
    #[oai(status = 428, content_type = "application/problem+json")]
    PreconditionRequired(Json<Box<Problem>>),
    /// Too many holds or requests from this client; `Retry-After` says when to try again.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Json<Box<Problem>>, #[oai(header = "Retry-After")] Option<u32>),
    /// Something broke on our side.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Box<Problem>>),
    /// A dependency is down or busy; `Retry-After` says when to try again.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Box<Problem>>, #[oai(header = "Retry-After")] Option<u32>),
}

impl From<Problem> for ProblemResponse {
    fn from(problem: Problem) -> Self {
        let body = Json(Box::new(problem.clone()));
        match problem.status {
            400 => Self::BadRequest(body),
            401 => Self::Unauthorized(body),
            403 => Self::Forbidden(body),
            404 => Self::NotFound(body),
            409 => Self::Conflict(body),
            412 => Self::PreconditionFailed(body),
            428 => Self::PreconditionRequired(body),
            413 => Self::PayloadTooLarge(body),
            415 => Self::UnsupportedMediaType(body),
            429 => Self::TooManyRequests(body, None),
            422 => Self::Unprocessable(body),
            503 => Self::Unavailable(body, None),
            _ => Self::Internal(body),
        }
    }
}

impl From<AppError> for ProblemResponse {
    fn from(error: AppError) -> Self {
        let outcome = Outcome::of(&error);
        let mut problem = Problem::new(status_of(outcome.status), outcome.kind, outcome.title, outcome.detail);
        if let AppError::Invalid(errors) = &error {
            problem.errors = errors
                .0
                .iter()
                .map(|e| FieldProblem { field: e.field.clone(), code: e.code.to_owned(), message: e.message.clone() })
                .collect();
        }
        if let AppError::StrandsBookings(stranded) = &error {
            problem.bookings = stranded
                .iter()
                .map(|b| StrandedProblem {
                    code: b.code.clone(),
                    start: b.start.with_timezone(&b.timezone).to_rfc3339(),
                    service: b.service.clone(),
                    office: b.office.clone(),
                    reason: b.reason.code().to_owned(),
                })
                .collect();
        }
        let body = Json(Box::new(problem.clone()));
        match outcome.status {
            429 => Self::TooManyRequests(body, outcome.retry_after),
            503 => Self::Unavailable(body, outcome.retry_after),
            _ => problem.into(),
        }
    }
}

fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Problems for errors raised by the framework itself (bad JSON, unknown route, body too large).
pub fn from_framework_error(err: &poem::Error) -> Problem {
    let status = err.status();
    let (kind, title) = match status {
        StatusCode::UNAUTHORIZED => ("unauthenticated", "Sign in first"),
        StatusCode::NOT_FOUND => ("not-found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "Request too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "Unsupported media type"),
        s if s.is_client_error() => ("bad-request", "Bad request"),
        _ => ("internal", "Internal error"),
    };
    let detail = if status.is_server_error() { "Please try again later.".to_owned() } else { err.to_string() };
    Problem::new(status, kind, title, detail)
}
