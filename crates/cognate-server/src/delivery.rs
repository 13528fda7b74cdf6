//! Real message delivery for the production profile: email over SMTP, SMS to a webhook.
use async_trait::async_trait;
use cognate_core::messages::MessageSink;
use cognate_core::model::OutboxMessage;
use cognate_core::{Error, Result};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How to reach the SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (a local relay or a test sink).
    None,
    /// STARTTLS after connecting (usually port 587).
    StartTls,
    /// TLS from the start (usually port 465).
    Tls,
}

/// Settings for sending email.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The From address, e.g. `Example <no-reply@example.com>`.
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpSettings {
    /// Parses `smtp://[user:pass@]host[:port]` (plain), `smtp+starttls://…` or `smtps://…`.
    pub fn from_url(url: &str, from: &str) -> anyhow::Result<Self> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| anyhow::anyhow!("SMTP URL needs a scheme: {url}"))?;
        let (security, default_port) = match scheme {
            "smtp" => (SmtpSecurity::None, 25),
            "smtp+starttls" => (SmtpSecurity::StartTls, 587),
            "smtps" => (SmtpSecurity::Tls, 465),
            other => anyhow::bail!("unsupported SMTP scheme {other:?} (use smtp, smtp+starttls or smtps)"),
        };
        let rest = rest.trim_end_matches('/');
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (username, password) = match auth.map(|a| a.split_once(':').unwrap_or((a, ""))) {
            Some((u, p)) => (Some(decode(u)), Some(decode(p))),
            None => (None, None),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse()?),
            None => (hostport.to_owned(), default_port),
        };
        Ok(Self {
            host,
            port,
            security,
            username,
            password,
            from: from.to_owned(),
        })
    }
}

fn decode(s: &str) -> String {
    // Percent-decoding for credentials written in the URL.
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let escaped = (b[i] == b'%' && i + 3 <= b.len())
            .then(|| {
                std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .flatten();
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Delivers messages for real: email through SMTP, SMS by POSTing JSON to a webhook.
pub struct RealDelivery {
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    sms_webhook: Option<String>,
    http: reqwest::Client,
}

impl RealDelivery {
    pub fn new(smtp: Option<SmtpSettings>, sms_webhook: Option<String>) -> anyhow::Result<Self> {
        let smtp = match smtp {
            None => None,
            Some(s) => {
                let mut builder = match s.security {
                    SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
                    SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)?,
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)?,
                }
                .port(s.port);
                if let (Some(u), Some(p)) = (&s.username, &s.password) {
                    builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
                }
                let from: Mailbox = s
                    .from
                    .parse()
                    .map_err(|e| anyhow::anyhow!("bad From address {:?}: {e}", s.from))?;
                Some((builder.build(), from))
            }
        };
        Ok(Self {
            smtp,
            sms_webhook,
            http: reqwest::Client::new(),
        })
    }
}

#[async_trait]
impl MessageSink for RealDelivery {
    async fn send(&self, m: &OutboxMessage) -> Result<()> {
        match m.channel.as_str() {
            "email" => {
                let Some((transport, from)) = &self.smtp else {
                    tracing::warn!(pool = %m.pool_id, "no SMTP server configured; email not sent");
                    return Ok(());
                };
                let to: Mailbox = m.to.parse().map_err(|e| {
                    Error::new(
                        cognate_core::ErrorKind::CodeDeliveryFailureException,
                        format!("Invalid email address: {e}"),
                    )
                })?;
                let email = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(m.subject.clone().unwrap_or_default())
                    .header(if m.body.contains('<') {
                        ContentType::TEXT_HTML
                    } else {
                        ContentType::TEXT_PLAIN
                    })
                    .body(m.body.clone())
                    .map_err(Error::internal)?;
                transport.send(email).await.map_err(|e| {
                    tracing::error!(error = %e, "SMTP delivery failed");
                    Error::new(
                        cognate_core::ErrorKind::CodeDeliveryFailureException,
                        "Unable to deliver the message.",
                    )
                })?;
                Ok(())
            }
            _ => {
                let Some(url) = &self.sms_webhook else {
                    tracing::warn!(pool = %m.pool_id, "no SMS webhook configured; SMS not sent");
                    return Ok(());
                };
                let body = serde_json::json!({
                    "to": m.to, "body": m.body, "pool_id": m.pool_id, "trigger_source": m.trigger_source,
                });
                let resp = self
                    .http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status().is_success() => Ok(()),
                    other => {
                        tracing::error!(status = ?other.as_ref().map(|r| r.status()).ok(), "SMS webhook delivery failed");
                        Err(Error::new(
                            cognate_core::ErrorKind::CodeDeliveryFailureException,
                            "Unable to deliver the message.",
                        ))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls() {
        let s = SmtpSettings::from_url("smtp+starttls://me%40x.com:p%3Ass@mail.example.com:2525", "a@b.c").unwrap();
        assert_eq!(s.host, "mail.example.com");
        assert_eq!(s.port, 2525);
        assert_eq!(s.security, SmtpSecurity::StartTls);
        assert_eq!(s.username.as_deref(), Some("me@x.com"));
        assert_eq!(s.password.as_deref(), Some("p:ss"));
        let s = SmtpSettings::from_url("smtp://127.0.0.1:1025", "a@b.c").unwrap();
        assert_eq!((s.port, s.security, s.username), (1025, SmtpSecurity::None, None));
        assert!(SmtpSettings::from_url("http://x", "a@b.c").is_err());
    }
}
