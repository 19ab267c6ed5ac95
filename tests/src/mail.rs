//! The tests' SMTP server: the `smtp-sink` binary of this crate, run as a real process on
//! loopback, and the messages it received, read back with an independent parser (`mailparse`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running `smtp-sink`. Stopped when dropped.
pub struct SmtpSink {
    binary: String,
    pub port: u16,
    pub dir: PathBuf,
    extra: Vec<String>,
    child: Option<Child>,
}

impl SmtpSink {
    /// Starts `binary` (the suite passes `env!("CARGO_BIN_EXE_smtp-sink")`) on a free port.
    pub fn start(binary: &str, extra: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!("sportello-mail-{}", uuid::Uuid::new_v4()));
        let mut sink = Self {
            binary: binary.to_owned(),
            port: 0,
            dir,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
        };
        sink.launch();
        sink
    }

    /// A port where nothing listens yet, for a sink started later (the SMTP server is "down").
    pub fn not_yet(binary: &str, extra: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let dir = std::env::temp_dir().join(format!("sportello-mail-{}", uuid::Uuid::new_v4()));
        Self {
            binary: binary.to_owned(),
            port,
            dir,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
        }
    }

    /// Starts it (again), on the same port and folder.
    pub fn launch(&mut self) {
        let mut command = Command::new(&self.binary);
        command.arg("--dir").arg(&self.dir).arg("--port").arg(self.port.to_string()).args(&self.extra);
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start smtp-sink");
        let stdout = child.stdout.take().expect("sink stdout");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("sink says where it listens");
        let address = line.trim().strip_prefix("listening on ").expect("listening line");
        self.port = address.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
        self.child = Some(child);
    }

    /// Kills it, as a crash or an outage would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, in arrival order.
    pub fn messages(&self) -> Vec<Received> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut files: Vec<PathBuf> =
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
        files.sort();
        files.into_iter().map(|f| Received { raw: std::fs::read(f).expect("read message") }).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One message as the SMTP server received it.
pub struct Received {
    pub raw: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(&self.raw).expect("a well-formed message")
    }

    /// A header, decoded (RFC 2047 words included).
    pub fn header(&self, name: &str) -> Option<String> {
        use mailparse::MailHeaderMap;
        self.parsed().headers.get_first_value(name)
    }

    /// The decoded body of the first part of `mime_type` (`text/plain`, `text/html`,
    /// `text/calendar`), anywhere in the tree.
    pub fn part(&self, mime_type: &str) -> Option<String> {
        fn find(part: &mailparse::ParsedMail<'_>, wanted: &str) -> Option<String> {
            if part.ctype.mimetype == wanted {
                return part.get_body().ok();
            }
            part.subparts.iter().find_map(|p| find(p, wanted))
        }
        find(&self.parsed(), mime_type)
    }
}
