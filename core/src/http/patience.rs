//! How long a client may take: to send its body, to be answered, to stay idle between requests.
//! A slow client holds a connection, never a worker: these bound how long, so that a crowd of
//! them (a byte a second each) cannot keep connections, memory and database turns from others.
//! Slow *headers* are the reverse proxy's to cut (nginx `client_header_timeout`).

use std::time::Duration;

use poem::http::StatusCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Patience {
    /// From the headers to the end of the body.
    pub body: Duration,
    /// From the request to the answer's head (a stream, such as the display board's, may go on).
    pub answer: Duration,
    /// A kept-alive connection with nothing read or written is closed after this.
    pub idle: Duration,
}

impl Default for Patience {
    fn default() -> Self {
        // The answer waits longer than the database's own 30-second limits; idle connections
        // outlast an answer, and the board's 15-second keep-alives keep its stream open.
        Self { body: Duration::from_secs(20), answer: Duration::from_secs(60), idle: Duration::from_secs(75) }
    }
}

/// The error for a body that did not arrive in time.
pub fn body_too_slow(limit: Duration) -> poem::Error {
    let text = format!("The request body did not arrive within {} seconds.", limit.as_secs());
    poem::Error::from_string(text, StatusCode::REQUEST_TIMEOUT)
}
