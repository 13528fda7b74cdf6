//! Hosted UI (classic) branding: SetUICustomization and GetUICustomization. A pool with a
//! domain may have a default style (`ClientId` `ALL`) and a style per app client: some CSS
//! over the classes Cognito names, and a logo. A client with its own style no longer falls
//! back to the default. The logo is served by this server at the `ImageUrl` the operations
//! answer (`logo_path`); the hosted pages read the style through [`Cognito::ui_customization_for`].
use crate::error::{Error, ErrorKind, Result};
use crate::ops::Input;
use crate::ops::domains::has_domain;
use crate::ops::types::Timestamp;
use crate::request::Request;
use crate::service::Cognito;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The `ClientId` of the pool's default style.
pub const ALL_CLIENTS: &str = "ALL";

/// Store name prefix of a style in its pool's scope: `ui-customization/ALL` or
/// `ui-customization/<client id>`.
const KEY_PREFIX: &str = "ui-customization/";

/// The model's limit of `CSS` (characters) and of `ImageFile` (bytes).
const MAX_CSS: usize = 131_072;
const MAX_IMAGE: usize = 131_072;

/// The class names the classic hosted UI lets CSS style, with the two states it names
/// (Amazon Cognito Developer Guide, "Customizing hosted UI (classic) branding").
pub const ALLOWED_CLASSES: &[&str] = &[
    "background-customizable",
    "banner-customizable",
    "errorMessage-customizable",
    "idpButton-customizable",
    "idpButton-customizable:hover",
    "idpDescription-customizable",
    "inputField-customizable",
    "inputField-customizable:focus",
    "label-customizable",
    "legalText-customizable",
    "logo-customizable",
    "passwordCheck-valid-customizable",
    "passwordCheck-notValid-customizable",
    "redirect-customizable",
    "socialButton-customizable",
    "submitButton-customizable",
    "submitButton-customizable:hover",
    "textDescription-customizable",
];

/// Cognito's answer to a style operation on a pool without a domain (the hosted UI has
/// nowhere to live); the text is the one Terraform's AWS provider matches.
const NO_DOMAIN: &str = "There has to be an existing domain associated with this user pool";

fn key(level: &str) -> String {
    format!("{KEY_PREFIX}{level}")
}

/// Where this server serves a style's logo, under its base URL. `version` changes with every
/// SetUICustomization, so the image can be cached for good.
pub fn logo_path(pool_id: &str, level: &str, version: &str) -> String {
    format!("/_cognate/ui/{pool_id}/{level}/{version}/logo")
}

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetUiCustomizationInput {
    pub user_pool_id: String,
    /// An app client, or `ALL` (or none) for the pool's default.
    pub client_id: Option<String>,
    pub css: Option<String>,
    /// The logo's bytes (base64 on the wire).
    pub image_file: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GetUiCustomizationInput {
    pub user_pool_id: String,
    pub client_id: Option<String>,
}

/// `ClientId`: 1–128 characters of `[\w+]+`; the model marks it sensitive, so the message
/// leaves the value out.
fn decode_client_id(req: &Request) -> Result<Option<String>> {
    let Some(id) = req.opt_str("ClientId")? else {
        return Ok(None);
    };
    let length = id.chars().count();
    if length == 0 {
        return Err(Error::sensitive_constraint(
            "clientId",
            "Member must have length greater than or equal to 1",
        ));
    }
    if length > 128 {
        return Err(Error::sensitive_constraint(
            "clientId",
            "Member must have length less than or equal to 128",
        ));
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+') {
        return Err(Error::sensitive_constraint(
            "clientId",
            "Member must satisfy regular expression pattern: [\\w+]+",
        ));
    }
    Ok(Some(id))
}

impl Input for SetUiCustomizationInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        let client_id = decode_client_id(req)?;
        let css = req.opt_str("CSS")?;
        if let Some(css) = &css
            && css.chars().count() > MAX_CSS
        {
            return Err(Error::constraint(
                "cSS",
                css,
                "Member must have length less than or equal to 131072",
            ));
        }
        let image_file = match req.opt_str("ImageFile")? {
            None => None,
            Some(b64) => {
                let bytes = STANDARD.decode(b64.trim()).map_err(|_| {
                    Error::new(
                        ErrorKind::SerializationException,
                        "Unable to decode the base64 value of member 'ImageFile'",
                    )
                })?;
                if bytes.len() > MAX_IMAGE {
                    return Err(Error::sensitive_constraint(
                        "imageFile",
                        "Member must have length less than or equal to 131072",
                    ));
                }
                Some(bytes)
            }
        };
        Ok(Self {
            user_pool_id,
            client_id,
            css,
            image_file,
        })
    }
}

impl Input for GetUiCustomizationInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            client_id: decode_client_id(req)?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

/// UICustomizationType. With no style at all, only the pool and client are given.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UiCustomizationType {
    #[serde(rename = "UserPoolId", skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    #[serde(rename = "ClientId", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(rename = "ImageUrl", skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(rename = "CSS", skip_serializing_if = "Option::is_none")]
    pub css: Option<String>,
    #[serde(rename = "CSSVersion", skip_serializing_if = "Option::is_none")]
    pub css_version: Option<String>,
    #[serde(rename = "LastModifiedDate", skip_serializing_if = "Option::is_none")]
    pub last_modified_date: Option<Timestamp>,
    #[serde(rename = "CreationDate", skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<Timestamp>,
}

/// SetUICustomization and GetUICustomization.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UiCustomizationOutput {
    #[serde(rename = "UICustomization")]
    pub ui_customization: UiCustomizationType,
}

pub type SetUiCustomizationOutput = UiCustomizationOutput;
pub type GetUiCustomizationOutput = UiCustomizationOutput;

/// A logo and the media type its bytes say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiLogo {
    pub bytes: Vec<u8>,
    /// `image/png` or `image/jpeg`.
    pub content_type: &'static str,
}

/// The style the hosted pages apply for one app client: its own, else the pool's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiCustomization {
    /// Whose style this is: the client's id, or `ALL` for the pool's default.
    pub client_id: String,
    /// CSS over [`ALLOWED_CLASSES`] only, checked when it was set.
    pub css: Option<String>,
    pub image: Option<UiLogo>,
    /// Where this server serves `image` (absolute), when there is one.
    pub image_url: Option<String>,
    /// CSSVersion: `YYYYMMDDHHMMSS` of the last SetUICustomization.
    pub css_version: String,
}

/// A style as stored in its pool's scope.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    css: Option<String>,
    /// The logo's bytes, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    css_version: String,
    created_ms: i64,
    modified_ms: i64,
}

impl Stored {
    fn logo(&self) -> Option<UiLogo> {
        let bytes = STANDARD.decode(self.image.as_deref()?).ok()?;
        let content_type = image_type(&bytes)?;
        Some(UiLogo { bytes, content_type })
    }
}

// ---- checks ------------------------------------------------------------------------------

/// The media type of a logo: PNG or JPEG, the formats the classic hosted UI takes (the
/// developer guide: "Choose a PNG, JPG, or JPEG file"). SVG, which can carry script, is not one.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

fn css_refused(reason: impl std::fmt::Display) -> Error {
    Error::invalid_parameter(format!("Invalid CSS: {reason}"))
}

/// Checks CSS the way the developer guide describes: rules whose selectors are only the
/// allowed class names, no `@import`, `@supports`, `@page` or `@media` (no at-rule at all),
/// and no script. Properties are not checked: Cognito ignores the ones its pages do not use.
pub fn check_css(css: &str) -> Result<()> {
    // Comments out first.
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        let Some(end) = rest[start + 2..].find("*/") else {
            return Err(css_refused("a comment is not closed."));
        };
        text.push(' ');
        rest = &rest[start + 2 + end + 2..];
    }
    text.push_str(rest);

    let lower = text.to_ascii_lowercase();
    for rule in ["@import", "@supports", "@page", "@media"] {
        if lower.contains(rule) {
            return Err(css_refused(format!("{rule} is not allowed.")));
        }
    }
    for script in [
        "javascript:",
        "expression(",
        "<script",
        "</style",
        "-moz-binding",
        "behavior:",
    ] {
        if lower.contains(script) {
            return Err(css_refused("JavaScript is not allowed."));
        }
    }

    let mut rest = text.as_str();
    loop {
        let Some(open) = rest.find('{') else {
            if rest.trim().is_empty() {
                return Ok(());
            }
            return Err(css_refused(format!("'{}' is not a rule.", rest.trim())));
        };
        let selectors = &rest[..open];
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(css_refused("a rule is not closed."));
        };
        if after[..close].contains('{') {
            return Err(css_refused("nested rules are not allowed."));
        }
        for selector in selectors.split(',') {
            let selector = selector.trim();
            if selector.starts_with('@') {
                return Err(css_refused(format!("{selector} is not allowed.")));
            }
            let allowed = selector
                .strip_prefix('.')
                .is_some_and(|class| ALLOWED_CLASSES.contains(&class));
            if !allowed {
                return Err(css_refused(format!(
                    "the selector '{selector}' is not allowed. The selectors the hosted UI allows are .{}.",
                    ALLOWED_CLASSES.join(", .")
                )));
            }
        }
        rest = &after[close + 1..];
    }
}

/// CSSVersion: the UTC time `YYYYMMDDHHMMSS`, as Cognito writes it.
fn css_version(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (year, month, day) = cognate_crypto::calendar::civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    pub async fn set_ui_customization(&self, input: SetUiCustomizationInput) -> Result<SetUiCustomizationOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        if !has_domain(&pool) {
            return Err(Error::invalid_parameter(NO_DOMAIN));
        }
        let level = self.style_level(&pool.id, input.client_id.as_deref()).await?;
        let css = input.css.filter(|c| !c.is_empty());
        if let Some(css) = &css {
            check_css(css)?;
        }
        let image = input.image_file.filter(|i| !i.is_empty());
        if let Some(bytes) = &image
            && image_type(bytes).is_none()
        {
            return Err(Error::invalid_parameter(
                "Invalid image file: the logo must be a PNG or JPEG image.",
            ));
        }
        // CSS and logo are set together: a request without either takes the style off.
        if css.is_none() && image.is_none() {
            self.store.delete_secret(&pool.id, &key(&level)).await?;
            return Ok(UiCustomizationOutput {
                ui_customization: UiCustomizationType {
                    user_pool_id: Some(pool.id),
                    client_id: Some(level),
                    ..UiCustomizationType::default()
                },
            });
        }
        let now = self.now_ms();
        let created_ms = self.stored_style(&pool.id, &level).await?.map_or(now, |s| s.created_ms);
        let stored = Stored {
            client_id: level,
            css,
            image: image.map(|b| STANDARD.encode(b)),
            css_version: css_version(now),
            created_ms,
            modified_ms: now,
        };
        let bytes = serde_json::to_vec(&stored).map_err(Error::internal)?;
        self.store.put_secret(&pool.id, &key(&stored.client_id), &bytes).await?;
        Ok(UiCustomizationOutput {
            ui_customization: self.describe_style(&pool.id, &stored),
        })
    }

    pub async fn get_ui_customization(&self, input: GetUiCustomizationInput) -> Result<GetUiCustomizationOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        if !has_domain(&pool) {
            return Err(Error::invalid_parameter(NO_DOMAIN));
        }
        let level = self.style_level(&pool.id, input.client_id.as_deref()).await?;
        let ui_customization = match self.effective_style(&pool.id, &level).await? {
            Some(stored) => self.describe_style(&pool.id, &stored),
            None => UiCustomizationType {
                user_pool_id: Some(pool.id),
                client_id: Some(level),
                ..UiCustomizationType::default()
            },
        };
        Ok(UiCustomizationOutput { ui_customization })
    }

    /// The style the hosted pages apply for `client_id` of pool `pool_id`: the client's own,
    /// else the pool's default; `None` when neither is set.
    pub async fn ui_customization_for(&self, pool_id: &str, client_id: &str) -> Result<Option<UiCustomization>> {
        let Some(stored) = self.effective_style(pool_id, client_id).await? else {
            return Ok(None);
        };
        let image = stored.logo();
        Ok(Some(UiCustomization {
            image_url: image.as_ref().map(|_| self.logo_url(pool_id, &stored)),
            image,
            client_id: stored.client_id,
            css: stored.css,
            css_version: stored.css_version,
        }))
    }

    /// The logo of one style (`level`: a client id or `ALL`, no fallback) if its version is
    /// `version`: what the `ImageUrl` of that style serves.
    pub async fn ui_logo(&self, pool_id: &str, level: &str, version: &str) -> Result<Option<UiLogo>> {
        let Some(stored) = self.stored_style(pool_id, level).await? else {
            return Ok(None);
        };
        if stored.modified_ms.to_string() != version {
            return Ok(None);
        }
        Ok(stored.logo())
    }

    /// Takes a deleted client's style off its pool.
    pub(crate) async fn forget_ui_customization(&self, pool_id: &str, client_id: &str) -> Result<()> {
        self.store.delete_secret(pool_id, &key(client_id)).await?;
        Ok(())
    }

    /// `ALL` for the pool's default (ClientId absent or `ALL`), else a client of the pool.
    async fn style_level(&self, pool_id: &str, client_id: Option<&str>) -> Result<String> {
        match client_id {
            None | Some(ALL_CLIENTS) => Ok(ALL_CLIENTS.to_owned()),
            Some(id) => Ok(self.client_of(pool_id, id).await?.client_id),
        }
    }

    async fn stored_style(&self, pool_id: &str, level: &str) -> Result<Option<Stored>> {
        let stored = self.store.get_secret(pool_id, &key(level)).await?;
        Ok(stored.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// The style of `level`, else (for a client) the pool's default.
    async fn effective_style(&self, pool_id: &str, level: &str) -> Result<Option<Stored>> {
        if let Some(own) = self.stored_style(pool_id, level).await? {
            return Ok(Some(own));
        }
        if level == ALL_CLIENTS {
            return Ok(None);
        }
        self.stored_style(pool_id, ALL_CLIENTS).await
    }

    fn logo_url(&self, pool_id: &str, stored: &Stored) -> String {
        format!(
            "{}{}",
            self.settings.public_base.trim_end_matches('/'),
            logo_path(pool_id, &stored.client_id, &stored.modified_ms.to_string())
        )
    }

    fn describe_style(&self, pool_id: &str, stored: &Stored) -> UiCustomizationType {
        UiCustomizationType {
            user_pool_id: Some(pool_id.to_owned()),
            client_id: Some(stored.client_id.clone()),
            image_url: stored.image.as_ref().map(|_| self.logo_url(pool_id, stored)),
            css: stored.css.clone(),
            css_version: Some(stored.css_version.clone()),
            last_modified_date: Some(Timestamp(stored.modified_ms)),
            creation_date: Some(Timestamp(stored.created_ms)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_of_the_allowed_classes_passes() {
        let css = "/* brand */ .label-customizable { font-weight: 400; }\n\
                   .submitButton-customizable:hover, .banner-customizable { color: #fff; }";
        assert!(check_css(css).is_ok());
        assert!(check_css("").is_ok());
        assert!(check_css("  \n").is_ok());
    }

    #[test]
    fn css_outside_the_allowed_classes_is_refused() {
        for css in [
            "body { color: red; }",
            ".label-customizable:hover { color: red; }",
            ".label-customizable .logo-customizable { color: red; }",
            ".label-customizable { color: red; } .mine { color: blue; }",
            "@media (min-width: 1px) { .label-customizable { color: red; } }",
            "@import url(x.css);",
            ".label-customizable { background: url(javascript:alert(1)); }",
            ".label-customizable { color: red; } </style><script>alert(1)</script>",
            ".label-customizable { color: red;",
            "/* open",
            "color: red;",
        ] {
            let e = check_css(css).expect_err(css);
            assert!(e.is(ErrorKind::InvalidParameterException), "{css}: {e:?}");
        }
    }

    #[test]
    fn images_are_png_or_jpeg() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        assert_eq!(image_type(b"GIF89a"), None);
    }

    #[test]
    fn css_version_is_the_utc_time() {
        // 2025-01-15T19:19:28Z, the version in the AWS CLI's example.
        assert_eq!(css_version(1_736_968_768_000), "20250115191928");
    }
}
