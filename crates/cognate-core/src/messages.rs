//! Codes and the messages that carry them: templates, the CustomMessage trigger, delivery.
use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::rng::RandomExt;
use crate::service::{CallContext, Cognito};
use crate::triggers::events::{
    CustomEmailSenderEvent, CustomMessageEvent, CustomMessageRequest, CustomSenderRequest, CustomSmsSenderEvent,
    SyncTriggerEvent,
};
use crate::triggers::{Trigger, string_map, trigger_arn, trigger_envelope, user_attributes_for_trigger};
use async_trait::async_trait;
use serde_json::{Map, Value, json};

pub const SIGN_UP_CODE_TTL_MS: i64 = 24 * 3600 * 1000;
pub const RESET_CODE_TTL_MS: i64 = 3600 * 1000;
pub const ATTRIBUTE_CODE_TTL_MS: i64 = 24 * 3600 * 1000;

/// Which message is being sent; names the CustomMessage trigger source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    SignUp,
    ResendCode,
    ForgotPassword,
    UpdateUserAttribute,
    VerifyUserAttribute,
    AdminCreateUser,
    Authentication,
}

impl MessageKind {
    pub fn suffix(self) -> &'static str {
        match self {
            MessageKind::SignUp => "SignUp",
            MessageKind::ResendCode => "ResendCode",
            MessageKind::ForgotPassword => "ForgotPassword",
            MessageKind::UpdateUserAttribute => "UpdateUserAttribute",
            MessageKind::VerifyUserAttribute => "VerifyUserAttribute",
            MessageKind::AdminCreateUser => "AdminCreateUser",
            MessageKind::Authentication => "Authentication",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn attribute(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "phone_number",
        }
    }
    fn medium(self) -> &'static str {
        match self {
            Channel::Email => "EMAIL",
            Channel::Sms => "SMS",
        }
    }
}

/// Encrypts codes for custom sender triggers (an AWS Encryption SDK message under the
/// pool's KMS key, as Cognito does).
#[async_trait]
pub trait CodeEncryptor: Send + Sync + 'static {
    async fn encrypt_code(&self, key_id: &str, pool_id: &str, plaintext: &str) -> Result<String>;
}

/// Where rendered messages go: the development outbox, or real delivery (SMTP, SMS).
#[async_trait]
pub trait MessageSink: Send + Sync + 'static {
    async fn send(&self, message: &OutboxMessage) -> Result<()>;
}

/// A message ready to go: for Cognate to deliver, or for a custom sender trigger.
#[derive(Debug, Clone)]
pub enum Delivery {
    Message(OutboxMessage),
    CustomSender {
        function_arn: String,
        /// Boxed: an event is several times the size of a message.
        event: Box<CustomSenderEvent>,
    },
}

/// The event of a custom sender trigger, by channel.
#[derive(Debug, Clone)]
pub enum CustomSenderEvent {
    Email(CustomEmailSenderEvent),
    Sms(CustomSmsSenderEvent),
}

/// Masks a destination the way Cognito's CodeDeliveryDetails do.
pub fn mask_destination(channel: Channel, to: &str) -> String {
    match channel {
        Channel::Email => match to.split_once('@') {
            Some((local, domain)) => format!(
                "{}***@{}***",
                local.chars().next().unwrap_or('*'),
                domain.chars().next().unwrap_or('*')
            ),
            None => "***".into(),
        },
        Channel::Sms => {
            let n = to.chars().count();
            let keep: String = to.chars().skip(n.saturating_sub(4)).collect();
            format!("+{}{}", "*".repeat(n.saturating_sub(5)), keep)
        }
    }
}

pub fn delivery_details(channel: Channel, to: &str) -> Value {
    json!({
        "Destination": mask_destination(channel, to),
        "DeliveryMedium": channel.medium(),
        "AttributeName": channel.attribute(),
    })
}

fn template_str<'a>(pool: &'a UserPool, path: &[&str]) -> Option<&'a str> {
    let mut v = pool.setting(path[0])?;
    for p in &path[1..] {
        v = v.get(*p)?;
    }
    v.as_str()
}

/// The pool's templates for a message: (email subject, email body, sms body).
fn templates(pool: &UserPool, kind: MessageKind) -> (String, String, String) {
    match kind {
        MessageKind::AdminCreateUser => {
            let base = ["AdminCreateUserConfig", "InviteMessageTemplate"];
            let get = |m: &str| template_str(pool, &[base[0], base[1], m]).map(str::to_owned);
            (
                get("EmailSubject").unwrap_or_else(|| "Your temporary password".into()),
                get("EmailMessage")
                    .unwrap_or_else(|| "Your username is {username} and temporary password is {####}. ".into()),
                get("SMSMessage")
                    .unwrap_or_else(|| "Your username is {username} and temporary password is {####}. ".into()),
            )
        }
        MessageKind::Authentication => (
            template_str(pool, &["EmailAuthenticationSubject"])
                .unwrap_or("Your authentication code")
                .to_owned(),
            template_str(pool, &["EmailAuthenticationMessage"])
                .unwrap_or("Your authentication code is {####}. ")
                .to_owned(),
            template_str(pool, &["SmsAuthenticationMessage"])
                .unwrap_or("Your authentication code is {####}. ")
                .to_owned(),
        ),
        _ => {
            let get = |m: &str| template_str(pool, &["VerificationMessageTemplate", m]).map(str::to_owned);
            (
                get("EmailSubject").unwrap_or_else(|| "Your verification code".into()),
                get("EmailMessage").unwrap_or_else(|| "Your verification code is {####}. ".into()),
                get("SmsMessage").unwrap_or_else(|| "Your verification code is {####}. ".into()),
            )
        }
    }
}

/// A message to send and the secret it carries.
pub struct Outgoing<'a> {
    pub kind: MessageKind,
    pub channel: Channel,
    pub to: String,
    pub code: String,
    pub client_id: Option<&'a str>,
    pub client_metadata: Option<Map<String, Value>>,
}

impl Cognito {
    /// What a code is stored as: hex HMAC-SHA256, under a key derived from the master key, of
    /// the pool id, username, purpose and code (each length-prefixed). A plain digest of a
    /// 6-digit code is reversed by trying all 10^6 codes; without the key this one is not.
    /// Codes stored before this change (plain SHA-256 digests) no longer match: they expire
    /// within 24 hours and the user asks for a new one.
    pub(crate) fn code_digest(&self, pool_id: &str, username: &str, purpose: &str, code: &str) -> String {
        let code = code.trim();
        let mut parts: Vec<&[u8]> = Vec::new();
        let lengths: Vec<[u8; 8]> = [pool_id, username, purpose, code]
            .iter()
            .map(|p| (p.len() as u64).to_be_bytes())
            .collect();
        for (len, part) in lengths.iter().zip([pool_id, username, purpose, code]) {
            parts.push(len);
            parts.push(part.as_bytes());
        }
        cognate_crypto::hex(&cognate_crypto::hmac_sha256(&self.code_key, &parts))
    }

    /// A fresh 6-digit code for `purpose`, stored on the user as a keyed digest (replacing any
    /// earlier code for the same purpose). The caller saves the user.
    pub fn new_code(&self, user: &mut User, purpose: CodePurpose, ttl_ms: i64) -> String {
        let code = self.random.digits(6);
        user.codes.retain(|c| c.purpose != purpose);
        let digest = self.code_digest(
            &user.pool_id,
            &user.username,
            &crate::ops::limits::purpose_label(&purpose),
            &code,
        );
        user.codes.push(PendingCode {
            purpose,
            digest,
            expires_ms: self.now_ms() + ttl_ms,
            failed_attempts: 0,
        });
        code
    }

    /// Renders and sends a message.
    pub async fn send_message(&self, pool: &UserPool, user: &User, out: Outgoing<'_>, ctx: &CallContext) -> Result<()> {
        let message = self.render_message(pool, user, out, ctx).await?;
        self.deliver(message).await
    }

    /// Sends a rendered message. Custom senders are invoked asynchronously, as Cognito does:
    /// their failure is logged and never fails the operation.
    pub async fn deliver(&self, delivery: Delivery) -> Result<()> {
        match delivery {
            Delivery::Message(m) => self.sink.send(&m).await,
            Delivery::CustomSender { function_arn, event } => {
                match *event {
                    CustomSenderEvent::Email(e) => {
                        self.send_to_function(&function_arn, Trigger::CustomEmailSender, e)
                            .await
                    }
                    CustomSenderEvent::Sms(e) => {
                        self.send_to_function(&function_arn, Trigger::CustomSmsSender, e).await
                    }
                }
                Ok(())
            }
        }
    }

    /// The custom sender event for a message, when the pool configures one for its channel.
    async fn custom_sender(
        &self,
        pool: &UserPool,
        user: &User,
        out: &Outgoing<'_>,
        ctx: &CallContext,
    ) -> Result<Option<Delivery>> {
        let (trigger, kind) = match out.channel {
            Channel::Email => (Trigger::CustomEmailSender, "customEmailSenderRequestV1"),
            Channel::Sms => (Trigger::CustomSmsSender, "customSMSSenderRequestV1"),
        };
        let Some(function_arn) = trigger_arn(pool, trigger) else {
            return Ok(None);
        };
        let key = pool
            .setting("LambdaConfig")
            .and_then(|l| l.get("KMSKeyID"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidUserPoolConfigurationException,
                    "KMSKeyID is not configured.",
                )
            })?;
        let encryptor = self
            .encryptor
            .as_ref()
            .ok_or_else(|| Error::internal("no code encryptor configured for custom sender triggers"))?;
        // Temporary passwords are HTML-escaped before encryption, as Cognito does.
        let plaintext = if out.kind == MessageKind::AdminCreateUser {
            out.code.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
        } else {
            out.code.clone()
        };
        let code = encryptor.encrypt_code(key, &pool.id, &plaintext).await?;
        let source = format!("{}_{}", trigger.config_key(), out.kind.suffix());
        let envelope = trigger_envelope(pool, trigger, &source, &user.username, out.client_id, ctx);
        let request = CustomSenderRequest {
            request_type: kind.to_owned(),
            code: Some(code),
            client_metadata: out.client_metadata.as_ref().map(string_map),
            user_attributes: user_attributes_for_trigger(pool, user),
            ..Default::default()
        };
        let event = match out.channel {
            Channel::Email => CustomSenderEvent::Email(CustomEmailSenderEvent::new(envelope, request)),
            Channel::Sms => CustomSenderEvent::Sms(CustomSmsSenderEvent::new(envelope, request)),
        };
        Ok(Some(Delivery::CustomSender {
            function_arn,
            event: Box::new(event),
        }))
    }

    /// Renders a message: runs CustomMessage when configured and substitutes the
    /// placeholders. Rendering before a write lets a failing trigger leave nothing behind.
    pub async fn render_message(
        &self,
        pool: &UserPool,
        user: &User,
        out: Outgoing<'_>,
        ctx: &CallContext,
    ) -> Result<Delivery> {
        if let Some(d) = self.custom_sender(pool, user, &out, ctx).await? {
            return Ok(d);
        }
        let (mut subject, mut email, mut sms) = templates(pool, out.kind);
        let source = format!("CustomMessage_{}", out.kind.suffix());
        let request = CustomMessageRequest {
            user_attributes: user_attributes_for_trigger(pool, user),
            code_parameter: Some("{####}".into()),
            link_parameter: Some("{##Click Here##}".into()),
            username_parameter: (out.kind == MessageKind::AdminCreateUser).then(|| "{username}".into()),
            client_metadata: out.client_metadata.as_ref().map(string_map),
            ..Default::default()
        };
        let envelope = trigger_envelope(
            pool,
            Trigger::CustomMessage,
            &source,
            &user.username,
            out.client_id,
            ctx,
        );
        let event = CustomMessageEvent::new(envelope, request, Default::default());
        if let Some(r) = self.invoke_trigger(pool, Trigger::CustomMessage, event).await? {
            if let Some(m) = r.sms_message {
                sms = m;
            }
            // Cognito honours custom email content only when the pool sends its own email
            // (EmailSendingAccount DEVELOPER); with its default sender it refuses the output.
            let developer = pool
                .setting("EmailConfiguration")
                .and_then(|e| e.get("EmailSendingAccount"))
                .and_then(Value::as_str)
                == Some("DEVELOPER");
            if out.channel == Channel::Email && !developer && (r.email_message.is_some() || r.email_subject.is_some()) {
                return Err(Error::new(
                    ErrorKind::InvalidLambdaResponseException,
                    "Invalid lambda function output : emailMessage and emailSubject require EmailSendingAccount DEVELOPER",
                ));
            }
            if let Some(m) = r.email_message {
                email = m;
            }
            if let Some(m) = r.email_subject {
                subject = m;
            }
            let body = if out.channel == Channel::Email { &email } else { &sms };
            if !body.contains("{####}") {
                return Err(Error::new(
                    ErrorKind::InvalidLambdaResponseException,
                    "Invalid lambda function output : Message must contain {####}",
                ));
            }
        }
        let fill = |t: &str| t.replace("{####}", &out.code).replace("{username}", &user.username);
        let (subject, body) = match out.channel {
            Channel::Email => (Some(fill(&subject)), fill(&email)),
            Channel::Sms => (None, fill(&sms)),
        };
        let message = OutboxMessage {
            pool_id: pool.id.clone(),
            channel: match out.channel {
                Channel::Email => "email".into(),
                Channel::Sms => "sms".into(),
            },
            to: out.to,
            subject,
            body,
            trigger_source: source,
            username: user.username.clone(),
            created_ms: self.now_ms(),
            code: Some(out.code),
        };
        Ok(Delivery::Message(message))
    }
}

/// Where a verification code for sign-up goes: phone first when both are auto-verified.
pub fn verification_channel(pool: &UserPool, user: &User) -> Option<(Channel, String)> {
    let auto = pool.auto_verified_attributes();
    if auto.iter().any(|a| a == "phone_number")
        && let Some(p) = user.attributes.get("phone_number")
    {
        return Some((Channel::Sms, p.clone()));
    }
    if auto.iter().any(|a| a == "email")
        && let Some(e) = user.attributes.get("email")
    {
        return Some((Channel::Email, e.clone()));
    }
    None
}

/// Where a password-reset code goes, following AccountRecoverySetting (by default a
/// verified phone number first, then a verified email).
pub fn recovery_channel(pool: &UserPool, user: &User) -> Option<(Channel, String)> {
    let mut order: Vec<(i64, String)> = pool
        .setting("AccountRecoverySetting")
        .and_then(|a| a.get("RecoveryMechanisms"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|m| Some((m.get("Priority")?.as_i64()?, m.get("Name")?.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    if order.is_empty() {
        order = vec![(1, "verified_phone_number".into()), (2, "verified_email".into())];
    }
    order.sort();
    for (_, name) in order {
        let (channel, attr) = match name.as_str() {
            "verified_phone_number" => (Channel::Sms, "phone_number"),
            "verified_email" => (Channel::Email, "email"),
            _ => continue,
        };
        if user.is_verified(attr)
            && let Some(v) = user.attributes.get(attr)
        {
            return Some((channel, v.clone()));
        }
    }
    None
}

/// The development outbox: messages are kept in the store and listed by
/// `GET /_cognate/messages`.
pub struct StoreOutbox(pub std::sync::Arc<dyn crate::store::Store>);

#[async_trait]
impl MessageSink for StoreOutbox {
    async fn send(&self, message: &OutboxMessage) -> Result<()> {
        self.0.push_message(message).await?;
        Ok(())
    }
}
