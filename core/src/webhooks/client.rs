//! Sending one webhook: a POST with the Standard Webhooks headers, 10 seconds at most, no
//! redirects, no proxy from the environment, and a resolver that connects only to addresses the
//! platform's `TargetPolicy` allows (checked when sent, so a name that later resolves to a
//! private address is refused too).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;

use super::target::{Target, TargetPolicy};

/// What became of one attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Worth trying again later: a timeout, a refused connection, a 5xx, a 429.
    Retry(String),
    /// Never worth trying again (a redirect, an address that is not allowed).
    Failed(String),
    /// 410 Gone: the receiver asks for no more; the subscription is switched off.
    Gone,
}

pub struct WebhookClient {
    http: reqwest::Client,
    policy: TargetPolicy,
}

#[derive(Debug, thiserror::Error)]
#[error("the address resolves only to private or reserved networks")]
struct PrivateTarget;

/// Resolves with the system, then keeps only allowed addresses.
struct SafeResolver {
    policy: TargetPolicy,
}

impl Resolve for SafeResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = found.filter(|a| policy.allows(a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(PrivateTarget) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

const TIMEOUT: Duration = Duration::from_secs(10);

impl WebhookClient {
    pub fn new(policy: TargetPolicy) -> Result<Self, String> {
        // reqwest insists on a process-wide provider even with a configuration of our own.
        super::install_tls_provider();
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .dns_resolver(Arc::new(SafeResolver { policy }))
            .redirect(Policy::none())
            .no_proxy()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Sportello-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { http, policy })
    }

    pub fn policy(&self) -> TargetPolicy {
        self.policy
    }

    /// POSTs `body` to `url` as message `id`, signed (`signature`) at `timestamp`.
    pub async fn post(&self, url: &str, id: &str, timestamp: i64, signature: &str, body: String) -> Delivery {
        // An IP address in the URL is not resolved: it is judged here.
        if let Err(refused) = Target::parse(url, self.policy) {
            return Delivery::Failed(refused.to_string());
        }
        let sent = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status();
                match status.as_u16() {
                    200..=299 => Delivery::Delivered,
                    410 => Delivery::Gone,
                    300..=399 => Delivery::Failed(format!("answered {status}: redirects are not followed")),
                    _ => Delivery::Retry(format!("answered {status}")),
                }
            }
            Err(error) if is_private(&error) => Delivery::Failed(PrivateTarget.to_string()),
            Err(error) if error.is_timeout() => Delivery::Retry("no answer within 10 seconds".to_owned()),
            Err(error) => Delivery::Retry(error.without_url().to_string()),
        }
    }
}

fn is_private(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause.is::<PrivateTarget>() {
            return true;
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_not_reached() {
        let strict = SafeResolver { policy: TargetPolicy::PublicOnly };
        let name: Name = "localhost".parse().unwrap();
        let refused = strict.resolve(name).await.err().unwrap();
        assert!(refused.is::<PrivateTarget>(), "{refused}");
        let lenient = SafeResolver { policy: TargetPolicy::AllowPrivate };
        let found: Vec<SocketAddr> = lenient.resolve("localhost".parse().unwrap()).await.unwrap().collect();
        assert!(found.iter().all(|a| a.ip().is_loopback()) && !found.is_empty(), "{found:?}");
    }
}
