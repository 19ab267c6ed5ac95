//! The tests' webhook receiver: `tests/python/webhook_receiver.py`, a real process on loopback
//! that verifies signatures with the Standard Webhooks reference library. Under `CI=true` a
//! missing Python environment (`SPORTELLO_TEST_PYTHON`, set up by `scripts/test`) fails the test.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct Receiver {
    child: Child,
    pub url: String,
    log: PathBuf,
    secret: PathBuf,
}

impl Receiver {
    /// Starts a receiver, with more arguments (`--fail-first 1`, `--gone`); it trusts the
    /// secret given to `trust`. `None` when no Python environment is installed outside CI.
    pub fn start(extra: &[&str]) -> Option<Self> {
        let python = crate::ics::test_python()?;
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/webhook_receiver.py");
        let log = std::env::temp_dir().join(format!("sportello-webhooks-{}.jsonl", uuid::Uuid::new_v4()));
        let secret = log.with_extension("secret");
        std::fs::write(&secret, "whsec_bm90IHlldCBnaXZlbiwgbm90IHlldCBnaXZlbg==").expect("secret file");
        let mut child = Command::new(python)
            .arg(script)
            .arg("--secret-file")
            .arg(&secret)
            .arg("--log")
            .arg(&log)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the webhook receiver");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("listening line");
        let address = line.trim().strip_prefix("listening on ").expect("listening line").to_owned();
        Some(Self { child, url: format!("http://{address}/hooks/sportello"), log, secret })
    }

    /// The secret it verifies with from now on.
    pub fn trust(&self, secret: &str) {
        std::fs::write(&self.secret, secret).expect("secret file");
    }

    /// What it received so far, in order.
    pub fn received(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_file(&self.secret);
    }
}
