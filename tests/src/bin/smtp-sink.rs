//! A small SMTP server for the tests: a real process on loopback that accepts mail and writes each
//! message, as received, to a folder (`<n>.eml`). It can refuse a recipient domain for good
//! (550) or put off the first messages (451), as real servers do.
//!
//! `smtp-sink --dir DIR [--port P] [--reject-domain D] [--defer N]`; prints `listening on
//! 127.0.0.1:P` once it accepts connections.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

type Failure = Box<dyn Error + Send + Sync>;

struct Options {
    dir: PathBuf,
    port: u16,
    reject_domain: Option<String>,
    /// How many messages to put off (451) before taking any.
    defer: u64,
}

struct Sink {
    options: Options,
    /// Messages whose DATA ended, taken or put off.
    seen: AtomicU64,
    stored: AtomicU64,
}

fn options() -> Result<Options, Failure> {
    let mut args = std::env::args().skip(1);
    let mut options = Options { dir: PathBuf::new(), port: 0, reject_domain: None, defer: 0 };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--dir" => options.dir = PathBuf::from(value),
            "--port" => options.port = value.parse()?,
            "--reject-domain" => options.reject_domain = Some(value.to_ascii_lowercase()),
            "--defer" => options.defer = value.parse()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    if options.dir.as_os_str().is_empty() {
        return Err("--dir is required".into());
    }
    Ok(options)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let options = options()?;
    std::fs::create_dir_all(&options.dir)?;
    let listener = TcpListener::bind(("127.0.0.1", options.port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let sink = Arc::new(Sink { options, seen: AtomicU64::new(0), stored: AtomicU64::new(0) });
    loop {
        let (stream, _) = listener.accept().await?;
        let sink = Arc::clone(&sink);
        tokio::spawn(async move {
            if let Err(error) = sink.serve(stream).await {
                eprintln!("smtp-sink: {error}");
            }
        });
    }
}

impl Sink {
    async fn serve(&self, stream: TcpStream) -> Result<(), Failure> {
        // Replies go at once, as a real server's do (no Nagle delay waiting for more to send).
        stream.set_nodelay(true)?;
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 localhost smtp-sink ready\r\n").await?;
        let mut line = String::new();
        let mut recipients = 0;
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_ascii_uppercase();
            let reply: &[u8] = if command.starts_with("EHLO") {
                b"250-localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n"
            } else if command.starts_with("HELO") {
                b"250 localhost\r\n"
            } else if command.starts_with("MAIL FROM:") {
                recipients = 0;
                b"250 sender ok\r\n"
            } else if command.starts_with("RCPT TO:") {
                let domain = command.rsplit('@').next().unwrap_or_default().trim_end_matches('>').to_ascii_lowercase();
                if self.options.reject_domain.as_deref() == Some(domain.as_str()) {
                    b"550 5.1.1 no such recipient\r\n"
                } else {
                    recipients += 1;
                    b"250 recipient ok\r\n"
                }
            } else if command == "DATA" {
                if recipients == 0 {
                    b"503 5.5.1 no valid recipients\r\n"
                } else {
                    write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                    let message = read_data(&mut lines).await?;
                    recipients = 0;
                    if self.seen.fetch_add(1, Ordering::SeqCst) < self.options.defer {
                        b"451 4.3.0 try again later\r\n"
                    } else {
                        let n = self.stored.fetch_add(1, Ordering::SeqCst);
                        store(&self.options.dir, n, &message)?;
                        b"250 2.0.0 queued\r\n"
                    }
                }
            } else if command == "RSET" || command == "NOOP" {
                recipients = 0;
                b"250 ok\r\n"
            } else if command == "QUIT" {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                b"502 5.5.2 not implemented\r\n"
            };
            write.write_all(reply).await?;
        }
    }
}

/// The message up to the lone dot, with dot-stuffing undone.
async fn read_data(lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Result<Vec<u8>, Failure> {
    let mut message = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Err("connection closed during DATA".into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(message);
        }
        let unstuffed = line.strip_prefix(b".").filter(|_| line.starts_with(b"..")).unwrap_or(&line);
        message.extend_from_slice(unstuffed);
    }
}

/// Written whole under a temporary name, then renamed: a reader never sees half a message. Names
/// sort in arrival order, across restarts of the sink on the same folder.
fn store(dir: &Path, n: u64, message: &[u8]) -> Result<(), Failure> {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let name = format!("{since_epoch:020}-{n:06}");
    let partial = dir.join(format!(".{name}.part"));
    std::fs::write(&partial, message)?;
    std::fs::rename(partial, dir.join(format!("{name}.eml")))?;
    Ok(())
}
