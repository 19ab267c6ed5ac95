//! A tenant's logo, judged by its content rather than its name: a PNG, JPEG, WebP or SVG image of
//! at most 512 KiB. The logo is served from Sportello's own origin, so an SVG that could run or
//! fetch anything (scripts, event handlers, animations that rewrite links, references outside
//! itself, entity declarations) is refused rather than cleaned: a refused file is easy to fix,
//! a cleaner that misses one trick is not.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

pub const MAX_LOGO_BYTES: usize = 512 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogoKind {
    Png,
    Jpeg,
    Webp,
    Svg,
}

impl LogoKind {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Svg => "image/svg+xml",
        }
    }

    /// The file name the logo is stored under in the pack.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Png => "logo.png",
            Self::Jpeg => "logo.jpg",
            Self::Webp => "logo.webp",
            Self::Svg => "logo.svg",
        }
    }
}

/// Why a logo is refused, said to the admin who uploaded it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    #[error("the logo must be at most 512 KiB")]
    TooLarge,
    #[error("the logo must be a PNG, JPEG, WebP or SVG image")]
    UnknownKind,
    #[error("the SVG logo is not well-formed: {0}")]
    Malformed(String),
    #[error("the SVG logo contains {0}, which a logo may not")]
    Unsafe(Risk),
}

/// What an SVG carries that a logo may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Risk {
    #[error("a script")]
    Script,
    #[error("an event handler")]
    Handler,
    #[error("an element that embeds or animates content")]
    Embedded,
    #[error("a reference outside the image")]
    Reference,
    #[error("a DOCTYPE (entity declarations)")]
    Entities,
    #[error("a processing instruction")]
    Instruction,
}

impl LogoError {
    /// A stable name for the refusal, for messages in the user's language.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge => "logo_too_large",
            Self::UnknownKind => "logo_not_an_image",
            Self::Malformed(_) => "logo_malformed",
            Self::Unsafe(Risk::Script | Risk::Handler) => "logo_runs_code",
            Self::Unsafe(Risk::Embedded) => "logo_embeds",
            Self::Unsafe(Risk::Reference | Risk::Entities | Risk::Instruction) => "logo_references",
        }
    }
}

/// Elements that run, embed or animate something: none belongs in a logo.
const FORBIDDEN_ELEMENTS: [&str; 14] = [
    "script",
    "foreignobject",
    "iframe",
    "object",
    "embed",
    "audio",
    "video",
    "handler",
    "listener",
    "set",
    "animate",
    "animatemotion",
    "animatetransform",
    "discard",
];

/// The kind of image `bytes` hold, if they make an acceptable logo.
pub fn check_logo(bytes: &[u8]) -> Result<LogoKind, LogoError> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(LogoError::TooLarge);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(LogoKind::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(LogoKind::Jpeg);
    }
    if bytes.len() > 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP".as_slice()) {
        return Ok(LogoKind::Webp);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| LogoError::UnknownKind)?;
    let text = text.trim_start_matches('\u{feff}');
    if !text.trim_start().starts_with('<') {
        return Err(LogoError::UnknownKind);
    }
    check_svg(text)?;
    Ok(LogoKind::Svg)
}

fn check_svg(text: &str) -> Result<(), LogoError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut root_seen = false;
    let mut in_style = false;
    loop {
        let event = reader.read_event().map_err(|e| LogoError::Malformed(e.to_string()))?;
        match event {
            Event::Start(element) | Event::Empty(element) => {
                let name = element_name(&element);
                if !root_seen && name != "svg" {
                    return Err(LogoError::UnknownKind);
                }
                root_seen = true;
                if FORBIDDEN_ELEMENTS.contains(&name.as_str()) {
                    return Err(LogoError::Unsafe(if name == "script" { Risk::Script } else { Risk::Embedded }));
                }
                check_attributes(&element)?;
                in_style = name == "style";
            }
            Event::End(_) => in_style = false,
            Event::Text(text) if in_style => check_css(&String::from_utf8_lossy(&text))?,
            Event::CData(data) if in_style => check_css(&String::from_utf8_lossy(&data))?,
            Event::DocType(_) => return Err(LogoError::Unsafe(Risk::Entities)),
            Event::PI(_) => return Err(LogoError::Unsafe(Risk::Instruction)),
            Event::Eof => break,
            _ => {}
        }
    }
    if root_seen { Ok(()) } else { Err(LogoError::UnknownKind) }
}

/// An element's local name, lower-cased (`svg:script` is a script too).
fn element_name(element: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(element.local_name().as_ref()).to_ascii_lowercase()
}

fn check_attributes(element: &BytesStart<'_>) -> Result<(), LogoError> {
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| LogoError::Malformed(e.to_string()))?;
        let name = String::from_utf8_lossy(attribute.key.local_name().as_ref()).to_ascii_lowercase();
        let value = attribute.unescape_value().map_err(|e| LogoError::Malformed(e.to_string()))?;
        let lowered = value.to_ascii_lowercase();
        if name.starts_with("on") {
            return Err(LogoError::Unsafe(Risk::Handler));
        }
        if (name == "href" || name == "src") && !value.trim_start().starts_with('#') {
            return Err(LogoError::Unsafe(Risk::Reference));
        }
        if lowered.contains("javascript:") {
            return Err(LogoError::Unsafe(Risk::Script));
        }
        if name == "style" {
            check_css(&value)?;
        } else if lowered.contains("url(") && !only_local_urls(&lowered) {
            return Err(LogoError::Unsafe(Risk::Reference));
        }
    }
    Ok(())
}

fn check_css(css: &str) -> Result<(), LogoError> {
    let lowered = css.to_ascii_lowercase();
    if lowered.contains("@import") || !only_local_urls(&lowered) {
        return Err(LogoError::Unsafe(Risk::Reference));
    }
    if lowered.contains("javascript:") || lowered.contains("expression(") {
        return Err(LogoError::Unsafe(Risk::Script));
    }
    Ok(())
}

/// Every `url(…)` in `text` points inside the image (`url(#gradient)`).
fn only_local_urls(text: &str) -> bool {
    text.split("url(").skip(1).all(|rest| rest.trim_start().trim_start_matches(['\'', '"']).starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAFE: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<!-- A plain logo -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">
  <defs><linearGradient id="g"><stop offset="0" stop-color="#005a8c"/></linearGradient></defs>
  <style>.a { fill: url(#g); }</style>
  <rect class="a" width="10" height="10" fill="url('#g')"/>
  <use xlink:href="#g"/>
  <text x="1" y="5">Ente</text>
</svg>"##;

    fn unsafe_because(svg: &str) -> LogoError {
        check_logo(svg.as_bytes()).expect_err(svg)
    }

    #[test]
    fn a_plain_svg_passes() {
        assert_eq!(check_logo(SAFE.as_bytes()), Ok(LogoKind::Svg));
        assert_eq!(check_logo(include_bytes!("../../../tenants/cbtoscananord/logo.svg")), Ok(LogoKind::Svg));
    }

    #[test]
    fn svgs_that_could_run_or_fetch_are_refused() {
        let svg = |inner: &str| format!(r#"<svg xmlns="http://www.w3.org/2000/svg">{inner}</svg>"#);
        for (inner, why) in [
            ("<script>alert(1)</script>", Risk::Script),
            ("<svg:script xmlns:svg=\"http://www.w3.org/2000/svg\">alert(1)</svg:script>", Risk::Script),
            ("<rect onload=\"alert(1)\"/>", Risk::Handler),
            ("<rect ONCLICK=\"alert(1)\"/>", Risk::Handler),
            ("<image href=\"https://tracker.example/p.png\"/>", Risk::Reference),
            (
                "<use xlink:href=\"data:image/svg+xml;base64,AAAA\" xmlns:xlink=\"http://www.w3.org/1999/xlink\"/>",
                Risk::Reference,
            ),
            ("<a href=\"javascript:alert(1)\"><rect/></a>", Risk::Reference),
            ("<set attributeName=\"href\" to=\"javascript:alert(1)\"/>", Risk::Embedded),
            ("<foreignObject><p>hi</p></foreignObject>", Risk::Embedded),
            ("<style>@import url(https://evil.example/a.css);</style>", Risk::Reference),
            ("<style><![CDATA[ rect { fill: url(https://evil.example/x) } ]]></style>", Risk::Reference),
            ("<rect style=\"fill: url( 'https://evil.example/x')\"/>", Risk::Reference),
            ("<rect fill=\"url(https://evil.example/x)\"/>", Risk::Reference),
        ] {
            assert_eq!(unsafe_because(&svg(inner)), LogoError::Unsafe(why), "{inner}");
        }
        let entities = "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a \"aaaa\">]><svg>&a;</svg>";
        assert_eq!(unsafe_because(entities), LogoError::Unsafe(Risk::Entities));
        let stylesheet = "<?xml-stylesheet href=\"https://evil.example/a.css\"?><svg/>";
        assert_eq!(unsafe_because(stylesheet), LogoError::Unsafe(Risk::Instruction));
    }

    #[test]
    fn what_is_not_an_image_is_refused() {
        assert_eq!(check_logo(b"<html><script>alert(1)</script></html>"), Err(LogoError::UnknownKind));
        assert_eq!(check_logo(b"GIF89a...."), Err(LogoError::UnknownKind));
        assert_eq!(check_logo(&[0u8, 159, 146, 150]), Err(LogoError::UnknownKind));
        assert!(matches!(check_logo(b"<svg><g></svg>"), Err(LogoError::Malformed(_))));
        assert_eq!(check_logo(&vec![b' '; MAX_LOGO_BYTES + 1]), Err(LogoError::TooLarge));
    }

    #[test]
    fn rasters_are_known_by_their_first_bytes() {
        assert_eq!(check_logo(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Ok(LogoKind::Png));
        assert_eq!(check_logo(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Ok(LogoKind::Jpeg));
        assert_eq!(check_logo(b"RIFF\x24\0\0\0WEBPVP8 "), Ok(LogoKind::Webp));
    }
}
