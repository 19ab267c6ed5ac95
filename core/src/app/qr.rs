//! QR codes as inline SVG: the authenticator enrolment's secret, a booking's code at the counter.

use super::AppError;

/// `text` as an SVG QR code of at least `size` pixels, without the XML prolog (for inline use).
pub fn qr_svg(text: &str, size: u32) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| AppError::Internal(format!("QR code: {e}")))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(size, size).build();
    Ok(svg.find("<svg").and_then(|start| svg.get(start..)).unwrap_or_default().to_owned())
}
