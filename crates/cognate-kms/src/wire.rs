//! The `TrentService` JSON 1.1 protocol: `POST /` with `X-Amz-Target: TrentService.<Op>`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::KmsError;
use crate::kms::{Alias, CreateKeyInput, DataKeySpec, EncryptionContext, KeyMetadata, Kms, Tag};

/// Content type of requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// The `X-Amz-Target` prefix routed to the KMS.
pub const TARGET_PREFIX: &str = "TrentService.";

const SYMMETRIC_DEFAULT: &str = "SYMMETRIC_DEFAULT";

/// A successful answer, transport-agnostic: send `body` (empty for operations that answer
/// nothing) with status 200 and `Content-Type:` [`CONTENT_TYPE`]. Errors are [`KmsError`]s,
/// which the transport writes in AWS's error shape (`__type`, `message`).
#[derive(Clone, PartialEq, Eq)]
pub struct KmsResponse {
    pub body: Vec<u8>,
}

impl KmsResponse {
    fn ok(body: Option<Value>) -> Self {
        Self {
            body: body.map(|v| v.to_string().into_bytes()).unwrap_or_default(),
        }
    }
}

impl fmt::Debug for KmsResponse {
    // The body may carry plaintexts and data keys: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsResponse")
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, KmsError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| KmsError::Serialization(format!("Malformed request body: {e}")))
}

fn required<T>(value: Option<T>, member: &str) -> Result<T, KmsError> {
    value.ok_or_else(|| {
        KmsError::Validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn blob(value: Option<String>, member: &str) -> Result<Vec<u8>, KmsError> {
    let value = required(value, member)?;
    STANDARD
        .decode(value.as_bytes())
        .map_err(|_| KmsError::Serialization(format!("Value of '{member}' is not valid base64")))
}

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

fn epoch_seconds(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn check_algorithm(alg: Option<&str>) -> Result<(), KmsError> {
    match alg {
        None | Some(SYMMETRIC_DEFAULT) => Ok(()),
        Some(other) => Err(KmsError::InvalidKeyUsage(format!(
            "The encryption algorithm {other} is not compatible with the key's key spec SYMMETRIC_DEFAULT"
        ))),
    }
}

fn metadata_json(m: &KeyMetadata) -> Value {
    json!({
        "AWSAccountId": m.account,
        "KeyId": m.key_id,
        "Arn": m.arn,
        "CreationDate": epoch_seconds(m.created_ms),
        "Enabled": m.enabled(),
        "Description": m.description,
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": m.state.as_str(),
        "Origin": "AWS_KMS",
        "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": SYMMETRIC_DEFAULT,
        "KeySpec": SYMMETRIC_DEFAULT,
        "EncryptionAlgorithms": [SYMMETRIC_DEFAULT],
        "MultiRegion": false,
    })
}

fn alias_json(a: &Alias) -> Value {
    json!({
        "AliasName": a.name,
        "AliasArn": a.arn,
        "TargetKeyId": a.target_key_id,
        "CreationDate": epoch_seconds(a.created_ms),
        "LastUpdatedDate": epoch_seconds(a.updated_ms),
    })
}

/// Applies `Limit` / `Marker` to items sorted by `id`; returns the page and the next marker.
fn paginate<T>(
    items: Vec<T>,
    limit: Option<i64>,
    marker: Option<&str>,
    id: impl Fn(&T) -> &str,
) -> Result<(Vec<T>, Option<String>), KmsError> {
    let limit = match limit {
        None => 100,
        Some(n @ 1..=1000) => n as usize,
        Some(n) => {
            return Err(KmsError::Validation(format!(
                "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: \
                 Member must have value between 1 and 1000"
            )));
        }
    };
    let after = match marker {
        None => None,
        Some(m) => Some(
            URL_SAFE_NO_PAD
                .decode(m)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| KmsError::InvalidMarker(format!("Invalid marker: {m}")))?,
        ),
    };
    let mut page: Vec<T> = items
        .into_iter()
        .filter(|item| after.as_deref().is_none_or(|a| id(item) > a))
        .collect();
    let next = if page.len() > limit {
        page.truncate(limit);
        page.last().map(|last| URL_SAFE_NO_PAD.encode(id(last)))
    } else {
        None
    };
    Ok((page, next))
}

fn page_json(field: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut out = serde_json::Map::new();
    out.insert(field.to_owned(), Value::Array(items));
    out.insert("Truncated".to_owned(), Value::Bool(next.is_some()));
    if let Some(next) = next {
        out.insert("NextMarker".to_owned(), Value::String(next));
    }
    Value::Object(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagIn {
    tag_key: Option<String>,
    tag_value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateKeyReq {
    description: Option<String>,
    key_spec: Option<String>,
    customer_master_key_spec: Option<String>,
    key_usage: Option<String>,
    origin: Option<String>,
    #[serde(default)]
    tags: Vec<TagIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyIdReq {
    key_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListReq {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EncryptReq {
    key_id: Option<String>,
    plaintext: Option<String>,
    encryption_context: Option<EncryptionContext>,
    encryption_algorithm: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DecryptReq {
    key_id: Option<String>,
    ciphertext_blob: Option<String>,
    encryption_context: Option<EncryptionContext>,
    encryption_algorithm: Option<String>,
    recipient: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReEncryptReq {
    ciphertext_blob: Option<String>,
    source_encryption_context: Option<EncryptionContext>,
    source_key_id: Option<String>,
    destination_key_id: Option<String>,
    destination_encryption_context: Option<EncryptionContext>,
    source_encryption_algorithm: Option<String>,
    destination_encryption_algorithm: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DataKeyReq {
    key_id: Option<String>,
    key_spec: Option<String>,
    number_of_bytes: Option<i64>,
    encryption_context: Option<EncryptionContext>,
    recipient: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RandomReq {
    number_of_bytes: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasReq {
    alias_name: Option<String>,
    target_key_id: Option<String>,
}

fn data_key_spec(req: &DataKeyReq) -> Result<DataKeySpec, KmsError> {
    match (req.key_spec.as_deref(), req.number_of_bytes) {
        (Some(_), Some(_)) | (None, None) => Err(KmsError::Validation(
            "Please specify either number of bytes or key spec.".to_owned(),
        )),
        (Some("AES_256"), None) => Ok(DataKeySpec::Aes256),
        (Some("AES_128"), None) => Ok(DataKeySpec::Aes128),
        (Some(other), None) => Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'keySpec' failed to satisfy constraint: \
             Member must satisfy enum value set: [AES_256, AES_128]"
        ))),
        (None, Some(n)) => Ok(DataKeySpec::Bytes(usize::try_from(n).unwrap_or(0))),
    }
}

fn no_recipient(recipient: &Option<Value>) -> Result<(), KmsError> {
    match recipient {
        None | Some(Value::Null) => Ok(()),
        Some(_) => Err(KmsError::UnsupportedOperation(
            "Recipient (Nitro Enclaves attestation) is not supported by Cognate's built-in KMS".to_owned(),
        )),
    }
}

impl Kms {
    /// Handles one `TrentService` request. `operation` is the part of `X-Amz-Target` after
    /// `TrentService.` (the prefix is also accepted); `body` is the JSON request. An error
    /// names its AWS exception, status and client message ([`KmsError::error_type`],
    /// [`KmsError::status`], [`KmsError::client_message`]); an internal one keeps its detail for
    /// the caller's log.
    pub async fn handle(&self, operation: &str, body: &[u8]) -> Result<KmsResponse, KmsError> {
        let operation = operation.strip_prefix(TARGET_PREFIX).unwrap_or(operation);
        self.dispatch(operation, body).await.map(KmsResponse::ok)
    }

    async fn dispatch(&self, operation: &str, body: &[u8]) -> Result<Option<Value>, KmsError> {
        let empty = EncryptionContext::new();
        match operation {
            "CreateKey" => {
                let req: CreateKeyReq = parse(body)?;
                if let Some(origin) = req.origin.as_deref().filter(|o| *o != "AWS_KMS") {
                    return Err(KmsError::UnsupportedOperation(format!(
                        "Origin {origin} is not supported by Cognate's built-in KMS"
                    )));
                }
                let mut tags = Vec::with_capacity(req.tags.len());
                for t in req.tags {
                    tags.push(Tag {
                        key: required(t.tag_key, "tagKey")?,
                        value: required(t.tag_value, "tagValue")?,
                    });
                }
                let meta = self
                    .create_key(CreateKeyInput {
                        description: req.description,
                        key_spec: req.key_spec.or(req.customer_master_key_spec),
                        key_usage: req.key_usage,
                        tags,
                    })
                    .await?;
                Ok(Some(json!({ "KeyMetadata": metadata_json(&meta) })))
            }
            "DescribeKey" => {
                let req: KeyIdReq = parse(body)?;
                let meta = self.describe_key(&required(req.key_id, "keyId")?).await?;
                Ok(Some(json!({ "KeyMetadata": metadata_json(&meta) })))
            }
            "ListKeys" => {
                let req: ListReq = parse(body)?;
                let keys = self.list_keys().await?;
                let (page, next) = paginate(keys, req.limit, req.marker.as_deref(), |k| &k.key_id)?;
                let items = page
                    .iter()
                    .map(|k| json!({ "KeyId": k.key_id, "KeyArn": k.key_arn }))
                    .collect();
                Ok(Some(page_json("Keys", items, next)))
            }
            "ListResourceTags" => {
                let req: ListReq = parse(body)?;
                let tags = self.list_resource_tags(&required(req.key_id, "keyId")?).await?;
                let items = tags
                    .iter()
                    .map(|t| json!({ "TagKey": t.key, "TagValue": t.value }))
                    .collect();
                Ok(Some(page_json("Tags", items, None)))
            }
            "EnableKey" | "DisableKey" => {
                let req: KeyIdReq = parse(body)?;
                let key_id = required(req.key_id, "keyId")?;
                if operation == "EnableKey" {
                    self.enable_key(&key_id).await?;
                } else {
                    self.disable_key(&key_id).await?;
                }
                Ok(None)
            }
            "Encrypt" => {
                let req: EncryptReq = parse(body)?;
                check_algorithm(req.encryption_algorithm.as_deref())?;
                let key_id = required(req.key_id, "keyId")?;
                let plaintext = blob(req.plaintext, "plaintext")?;
                let out = self
                    .encrypt(&key_id, &plaintext, req.encryption_context.as_ref().unwrap_or(&empty))
                    .await?;
                Ok(Some(json!({
                    "CiphertextBlob": b64(&out.ciphertext_blob),
                    "KeyId": out.key_arn,
                    "EncryptionAlgorithm": SYMMETRIC_DEFAULT,
                })))
            }
            "Decrypt" => {
                let req: DecryptReq = parse(body)?;
                check_algorithm(req.encryption_algorithm.as_deref())?;
                no_recipient(&req.recipient)?;
                let ciphertext = blob(req.ciphertext_blob, "ciphertextBlob")?;
                let out = self
                    .decrypt(
                        &ciphertext,
                        req.encryption_context.as_ref().unwrap_or(&empty),
                        req.key_id.as_deref(),
                    )
                    .await?;
                Ok(Some(json!({
                    "KeyId": out.key_arn,
                    "Plaintext": b64(&out.plaintext),
                    "EncryptionAlgorithm": SYMMETRIC_DEFAULT,
                })))
            }
            "ReEncrypt" => {
                let req: ReEncryptReq = parse(body)?;
                check_algorithm(req.source_encryption_algorithm.as_deref())?;
                check_algorithm(req.destination_encryption_algorithm.as_deref())?;
                let ciphertext = blob(req.ciphertext_blob, "ciphertextBlob")?;
                let destination = required(req.destination_key_id, "destinationKeyId")?;
                let out = self
                    .re_encrypt(
                        &ciphertext,
                        req.source_encryption_context.as_ref().unwrap_or(&empty),
                        req.source_key_id.as_deref(),
                        &destination,
                        req.destination_encryption_context.as_ref().unwrap_or(&empty),
                    )
                    .await?;
                Ok(Some(json!({
                    "CiphertextBlob": b64(&out.ciphertext_blob),
                    "SourceKeyId": out.source_key_arn,
                    "KeyId": out.key_arn,
                    "SourceEncryptionAlgorithm": SYMMETRIC_DEFAULT,
                    "DestinationEncryptionAlgorithm": SYMMETRIC_DEFAULT,
                })))
            }
            "GenerateDataKey" => {
                let req: DataKeyReq = parse(body)?;
                no_recipient(&req.recipient)?;
                let spec = data_key_spec(&req)?;
                let key_id = required(req.key_id, "keyId")?;
                let out = self
                    .generate_data_key(&key_id, spec, req.encryption_context.as_ref().unwrap_or(&empty))
                    .await?;
                Ok(Some(json!({
                    "CiphertextBlob": b64(&out.ciphertext_blob),
                    "Plaintext": b64(&out.plaintext),
                    "KeyId": out.key_arn,
                })))
            }
            "GenerateDataKeyWithoutPlaintext" => {
                let req: DataKeyReq = parse(body)?;
                let spec = data_key_spec(&req)?;
                let key_id = required(req.key_id, "keyId")?;
                let out = self
                    .generate_data_key_without_plaintext(
                        &key_id,
                        spec,
                        req.encryption_context.as_ref().unwrap_or(&empty),
                    )
                    .await?;
                Ok(Some(
                    json!({ "CiphertextBlob": b64(&out.ciphertext_blob), "KeyId": out.key_arn }),
                ))
            }
            "GenerateRandom" => {
                let req: RandomReq = parse(body)?;
                let n = required(req.number_of_bytes, "numberOfBytes")?;
                let bytes = self.generate_random(usize::try_from(n).unwrap_or(0))?;
                Ok(Some(json!({ "Plaintext": b64(&bytes) })))
            }
            "CreateAlias" | "UpdateAlias" => {
                let req: AliasReq = parse(body)?;
                let name = required(req.alias_name, "aliasName")?;
                let target = required(req.target_key_id, "targetKeyId")?;
                if operation == "CreateAlias" {
                    self.create_alias(&name, &target).await?;
                } else {
                    self.update_alias(&name, &target).await?;
                }
                Ok(None)
            }
            "DeleteAlias" => {
                let req: AliasReq = parse(body)?;
                self.delete_alias(&required(req.alias_name, "aliasName")?).await?;
                Ok(None)
            }
            "ListAliases" => {
                let req: ListReq = parse(body)?;
                let aliases = self.list_aliases(req.key_id.as_deref()).await?;
                let (page, next) = paginate(aliases, req.limit, req.marker.as_deref(), |a| &a.name)?;
                Ok(Some(page_json("Aliases", page.iter().map(alias_json).collect(), next)))
            }
            other => Err(KmsError::UnknownOperation(format!(
                "Operation {other} is not supported by Cognate's built-in KMS"
            ))),
        }
    }
}
