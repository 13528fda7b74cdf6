//! Unit tests of the KMS and the ESDK message format.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::*;

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";

fn kms_with(store: Arc<dyn KeyStore>, master: [u8; 32]) -> Kms {
    Kms::new(
        MasterKey::new(master),
        store,
        REGION,
        ACCOUNT,
        Arc::new(SystemRandomSource),
    )
}

fn kms() -> Kms {
    kms_with(Arc::new(MemoryKeyStore::new()), [7u8; 32])
}

fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Calls the wire API; an error comes back in the shape the server writes it in.
async fn call(kms: &Kms, op: &str, body: Value) -> (u16, Value) {
    match kms.handle(op, body.to_string().as_bytes()).await {
        Ok(resp) if resp.body.is_empty() => (200, Value::Null),
        Ok(resp) => (200, serde_json::from_slice(&resp.body).unwrap()),
        Err(e) => (
            e.status(),
            json!({ "__type": e.error_type(), "message": e.client_message() }),
        ),
    }
}

async fn new_key(kms: &Kms) -> KeyMetadata {
    kms.create_key(CreateKeyInput::default()).await.unwrap()
}

/// A deterministic random source (a counter through SHA-256), to show injection works.
/// Reproducible "randomness": SHA-256 of a counter.
struct CounterRng(AtomicU64);

impl Random for CounterRng {
    fn fill(&self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            let n = self.0.fetch_add(1, Ordering::Relaxed);
            let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &n.to_be_bytes());
            chunk.copy_from_slice(&d.as_ref()[..chunk.len()]);
        }
    }
}

fn counter_rng(seed: u64) -> CounterRng {
    CounterRng(AtomicU64::new(seed))
}

// ---------------------------------------------------------------- KMS

#[tokio::test]
async fn create_and_describe_by_every_kind_of_id() {
    let kms = kms();
    let meta = kms
        .create_key(CreateKeyInput {
            description: Some("pool key".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(meta.key_id.len(), 36);
    assert_eq!(meta.key_id.as_bytes()[14], b'4', "UUID v4: {}", meta.key_id);
    assert_eq!(meta.arn, format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{}", meta.key_id));
    assert_eq!(meta.state, KeyState::Enabled);
    kms.create_alias("alias/pool", &meta.key_id).await.unwrap();
    for id in [
        meta.key_id.clone(),
        meta.arn.clone(),
        "alias/pool".to_owned(),
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/pool"),
    ] {
        assert_eq!(kms.describe_key(&id).await.unwrap(), meta, "{id}");
    }
    let (status, v) = call(&kms, "DescribeKey", json!({ "KeyId": "alias/pool" })).await;
    assert_eq!(status, 200);
    let m = &v["KeyMetadata"];
    assert_eq!(m["KeyId"], meta.key_id.as_str());
    assert_eq!(m["Arn"], meta.arn.as_str());
    assert_eq!(m["AWSAccountId"], ACCOUNT);
    assert_eq!(m["Description"], "pool key");
    assert_eq!(m["KeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(m["KeyUsage"], "ENCRYPT_DECRYPT");
    assert_eq!(m["KeyState"], "Enabled");
    assert_eq!(m["Enabled"], true);
    assert!(m["CreationDate"].as_f64().unwrap() > 1.6e9);
}

#[tokio::test]
async fn create_key_over_json_with_tags_and_unsupported_specs() {
    let kms = kms();
    let (status, v) = call(
        &kms,
        "TrentService.CreateKey",
        json!({ "Description": "d", "KeySpec": "SYMMETRIC_DEFAULT", "Tags": [{ "TagKey": "team", "TagValue": "auth" }] }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let id = v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let (_, tags) = call(&kms, "ListResourceTags", json!({ "KeyId": id })).await;
    assert_eq!(tags["Tags"], json!([{ "TagKey": "team", "TagValue": "auth" }]));
    let (status, v) = call(&kms, "CreateKey", json!({ "KeySpec": "RSA_2048" })).await;
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("UnsupportedOperationException"))
    );
}

#[tokio::test]
async fn encrypt_decrypt_round_trip_with_and_without_key_id() {
    let kms = kms();
    let a = new_key(&kms).await;
    let b = new_key(&kms).await;
    let c = ctx(&[("purpose", "test")]);
    let out = kms.encrypt(&a.key_id, b"hello", &c).await.unwrap();
    assert_eq!(out.key_arn, a.arn);
    let plain = kms.decrypt(&out.ciphertext_blob, &c, None).await.unwrap();
    assert_eq!(plain.plaintext.expose(), b"hello");
    assert_eq!(plain.key_arn, a.arn);
    let plain = kms.decrypt(&out.ciphertext_blob, &c, Some(&a.arn)).await.unwrap();
    assert_eq!(plain.plaintext.expose(), b"hello");
    let err = kms
        .decrypt(&out.ciphertext_blob, &c, Some(&b.key_id))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "IncorrectKeyException");

    // Over JSON.
    let (status, v) = call(
        &kms,
        "Encrypt",
        json!({ "KeyId": a.arn, "Plaintext": STANDARD.encode(b"abc"), "EncryptionContext": { "k": "v" } }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["KeyId"], a.arn.as_str());
    assert_eq!(v["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
    let blob = v["CiphertextBlob"].as_str().unwrap().to_owned();
    let (status, v) = call(
        &kms,
        "Decrypt",
        json!({ "CiphertextBlob": blob, "EncryptionContext": { "k": "v" } }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["Plaintext"], STANDARD.encode(b"abc"));
    assert_eq!(v["KeyId"], a.arn.as_str());
}

#[tokio::test]
async fn data_key_is_bound_to_its_encryption_context() {
    let kms = kms();
    let key = new_key(&kms).await;
    let c = ctx(&[("userpool-id", "us-east-1_abc"), ("aws-crypto-public-key", "AAAA")]);
    let dk = kms.generate_data_key(&key.arn, DataKeySpec::Aes256, &c).await.unwrap();
    assert_eq!(dk.plaintext.len(), 32);
    let back = kms.decrypt(&dk.ciphertext_blob, &c, Some(&key.arn)).await.unwrap();
    assert_eq!(back.plaintext, dk.plaintext);
    for wrong in [
        ctx(&[]),
        ctx(&[("userpool-id", "us-east-1_abd"), ("aws-crypto-public-key", "AAAA")]),
        ctx(&[("userpool-id", "us-east-1_abc")]),
        ctx(&[
            ("userpool-id", "us-east-1_abc"),
            ("aws-crypto-public-key", "AAAA"),
            ("x", "y"),
        ]),
    ] {
        let err = kms.decrypt(&dk.ciphertext_blob, &wrong, None).await.unwrap_err();
        assert_eq!(err.error_type(), "InvalidCiphertextException", "{wrong:?}");
    }
    // Over JSON: same error shape.
    let (status, v) = call(
        &kms,
        "Decrypt",
        json!({ "CiphertextBlob": STANDARD.encode(&dk.ciphertext_blob), "EncryptionContext": { "userpool-id": "other" } }),
    )
    .await;
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("InvalidCiphertextException"))
    );
    assert!(v["message"].is_string());

    let small = kms
        .generate_data_key(&key.key_id, DataKeySpec::Aes128, &c)
        .await
        .unwrap();
    assert_eq!(small.plaintext.len(), 16);
    let odd = kms
        .generate_data_key(&key.key_id, DataKeySpec::Bytes(7), &c)
        .await
        .unwrap();
    assert_eq!(odd.plaintext.len(), 7);
    let without = kms
        .generate_data_key_without_plaintext(&key.key_id, DataKeySpec::Aes256, &c)
        .await
        .unwrap();
    assert_eq!(
        kms.decrypt(&without.ciphertext_blob, &c, None)
            .await
            .unwrap()
            .plaintext
            .len(),
        32
    );
}

#[tokio::test]
async fn tampered_ciphertext_blobs_are_rejected() {
    let kms = kms();
    let key = new_key(&kms).await;
    let out = kms.encrypt(&key.key_id, b"secret", &ctx(&[])).await.unwrap();
    for i in 0..out.ciphertext_blob.len() {
        let mut blob = out.ciphertext_blob.clone();
        blob[i] ^= 0x01;
        let err = kms.decrypt(&blob, &ctx(&[]), None).await.unwrap_err();
        assert!(
            matches!(err.error_type(), "InvalidCiphertextException" | "NotFoundException"),
            "byte {i}: {err:?}"
        );
    }
    let err = kms.decrypt(b"garbage", &ctx(&[]), None).await.unwrap_err();
    assert_eq!(err.error_type(), "InvalidCiphertextException");
}

#[tokio::test]
async fn generate_data_key_json_validation() {
    let kms = kms();
    let key = new_key(&kms).await;
    let (status, v) = call(
        &kms,
        "GenerateDataKey",
        json!({ "KeyId": key.key_id, "KeySpec": "AES_256" }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(STANDARD.decode(v["Plaintext"].as_str().unwrap()).unwrap().len(), 32);
    assert_eq!(v["KeyId"], key.arn.as_str());
    let (status, v) = call(
        &kms,
        "GenerateDataKey",
        json!({ "KeyId": key.key_id, "NumberOfBytes": 32 }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    for body in [
        json!({ "KeyId": key.key_id }),
        json!({ "KeyId": key.key_id, "KeySpec": "AES_256", "NumberOfBytes": 32 }),
        json!({ "KeyId": key.key_id, "KeySpec": "AES_512" }),
        json!({ "KeyId": key.key_id, "NumberOfBytes": 0 }),
        json!({ "KeyId": key.key_id, "NumberOfBytes": 1025 }),
        json!({ "KeySpec": "AES_256" }),
    ] {
        let (status, v) = call(&kms, "GenerateDataKey", body.clone()).await;
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some("ValidationException")),
            "{body}"
        );
    }
    let (status, v) = call(
        &kms,
        "GenerateDataKeyWithoutPlaintext",
        json!({ "KeyId": key.key_id, "KeySpec": "AES_128" }),
    )
    .await;
    assert_eq!(status, 200);
    assert!(v.get("Plaintext").is_none());
    let (status, v) = call(&kms, "GenerateRandom", json!({ "NumberOfBytes": 12 })).await;
    assert_eq!(status, 200);
    assert_eq!(STANDARD.decode(v["Plaintext"].as_str().unwrap()).unwrap().len(), 12);
}

#[tokio::test]
async fn not_found_and_protocol_errors() {
    let kms = kms();
    let missing = "11111111-2222-4333-8444-555555555555";
    let (status, v) = call(&kms, "DescribeKey", json!({ "KeyId": missing })).await;
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "NotFoundException");
    assert_eq!(
        v["message"],
        format!("Key 'arn:aws:kms:{REGION}:{ACCOUNT}:key/{missing}' does not exist")
    );
    let (_, v) = call(&kms, "DescribeKey", json!({ "KeyId": "alias/nope" })).await;
    assert_eq!(v["__type"], "NotFoundException");
    assert_eq!(
        v["message"],
        format!("Alias arn:aws:kms:{REGION}:{ACCOUNT}:alias/nope is not found.")
    );
    let (_, v) = call(&kms, "DescribeKey", json!({ "KeyId": "not a key" })).await;
    assert_eq!(v["__type"], "NotFoundException");
    let (_, v) = call(
        &kms,
        "DescribeKey",
        json!({ "KeyId": format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{missing}") }),
    )
    .await;
    assert_eq!(v["__type"], "NotFoundException");
    let (_, v) = call(&kms, "DescribeKey", json!({})).await;
    assert_eq!(v["__type"], "ValidationException");
    let (_, v) = call(&kms, "Encrypt", json!({ "KeyId": missing, "Plaintext": "AA==" })).await;
    assert_eq!(v["__type"], "NotFoundException");

    let e = kms.handle("DescribeKey", b"{not json").await.unwrap_err();
    assert_eq!((e.status(), e.error_type()), (400, "SerializationException"));
    let e = kms.handle("Sign", b"{}").await.unwrap_err();
    assert_eq!((e.status(), e.error_type()), (400, "UnknownOperationException"));
    assert_eq!(CONTENT_TYPE, "application/x-amz-json-1.1");
    assert!(kms.handle("ListKeys", b"").await.is_ok());
}

#[tokio::test]
async fn encrypt_limits() {
    let kms = kms();
    let key = new_key(&kms).await;
    assert_eq!(
        kms.encrypt(&key.key_id, &[], &ctx(&[])).await.unwrap_err().error_type(),
        "ValidationException"
    );
    assert_eq!(
        kms.encrypt(&key.key_id, &[0; 4097], &ctx(&[]))
            .await
            .unwrap_err()
            .error_type(),
        "ValidationException"
    );
    assert!(kms.encrypt(&key.key_id, &[0; 4096], &ctx(&[])).await.is_ok());
    let (_, v) = call(
        &kms,
        "Encrypt",
        json!({ "KeyId": key.key_id, "Plaintext": "AA==", "EncryptionAlgorithm": "RSAES_OAEP_SHA_256" }),
    )
    .await;
    assert_eq!(v["__type"], "InvalidKeyUsageException");
}

#[tokio::test]
async fn aliases_lifecycle() {
    let kms = kms();
    let a = new_key(&kms).await;
    let b = new_key(&kms).await;
    kms.create_alias("alias/one", &a.key_id).await.unwrap();
    kms.create_alias("alias/two", &a.arn).await.unwrap();
    let err = kms.create_alias("alias/one", &b.key_id).await.unwrap_err();
    assert_eq!(err.error_type(), "AlreadyExistsException");
    assert_eq!(
        err.to_string(),
        format!("An alias with the name arn:aws:kms:{REGION}:{ACCOUNT}:alias/one already exists")
    );
    for bad in ["one", "alias/", "alias/aws/x", "alias/sp ace"] {
        assert_eq!(
            kms.create_alias(bad, &a.key_id).await.unwrap_err().error_type(),
            "ValidationException",
            "{bad}"
        );
    }
    assert_eq!(
        kms.create_alias("alias/three", "alias/one")
            .await
            .unwrap_err()
            .error_type(),
        "ValidationException"
    );
    assert_eq!(
        kms.create_alias("alias/three", "11111111-2222-4333-8444-555555555555")
            .await
            .unwrap_err()
            .error_type(),
        "NotFoundException"
    );

    let (status, v) = call(&kms, "ListAliases", json!({})).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = v["Aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AliasName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alias/one", "alias/two"]);
    assert_eq!(
        v["Aliases"][0]["AliasArn"],
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/one")
    );
    assert_eq!(v["Aliases"][0]["TargetKeyId"], a.key_id.as_str());
    assert_eq!(v["Truncated"], false);

    // Encrypt through an alias; decrypt names the key.
    let out = kms.encrypt("alias/one", b"x", &ctx(&[])).await.unwrap();
    assert_eq!(out.key_arn, a.arn);

    let (status, _) = call(
        &kms,
        "UpdateAlias",
        json!({ "AliasName": "alias/one", "TargetKeyId": b.key_id }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(kms.describe_key("alias/one").await.unwrap().key_id, b.key_id);
    assert_eq!(kms.list_aliases(Some(&a.key_id)).await.unwrap().len(), 1);

    let resp = kms
        .handle(
            "DeleteAlias",
            json!({ "AliasName": "alias/one" }).to_string().as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(resp.body.len(), 0);
    let (_, v) = call(&kms, "DeleteAlias", json!({ "AliasName": "alias/one" })).await;
    assert_eq!(v["__type"], "NotFoundException");
    assert_eq!(
        kms.describe_key("alias/one").await.unwrap_err().error_type(),
        "NotFoundException"
    );
}

#[tokio::test]
async fn list_keys_paginates() {
    let kms = kms();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(new_key(&kms).await.key_id);
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut body = json!({ "Limit": 2 });
        if let Some(m) = &marker {
            body["Marker"] = json!(m);
        }
        let (status, v) = call(&kms, "ListKeys", body).await;
        assert_eq!(status, 200, "{v}");
        for k in v["Keys"].as_array().unwrap() {
            seen.push(k["KeyId"].as_str().unwrap().to_owned());
            assert_eq!(k["KeyArn"], kms.key_arn(k["KeyId"].as_str().unwrap()));
        }
        if v["Truncated"] == true {
            marker = Some(v["NextMarker"].as_str().unwrap().to_owned());
        } else {
            assert!(v.get("NextMarker").is_none());
            break;
        }
    }
    assert_eq!(seen, ids);
    let (_, v) = call(&kms, "ListKeys", json!({ "Limit": 0 })).await;
    assert_eq!(v["__type"], "ValidationException");
    let (_, v) = call(&kms, "ListKeys", json!({ "Marker": "!!" })).await;
    assert_eq!(v["__type"], "InvalidMarkerException");
}

#[tokio::test]
async fn disabled_keys_refuse_crypto() {
    let kms = kms();
    let key = new_key(&kms).await;
    let blob = kms.encrypt(&key.key_id, b"x", &ctx(&[])).await.unwrap().ciphertext_blob;
    let (status, _) = call(&kms, "DisableKey", json!({ "KeyId": key.key_id })).await;
    assert_eq!(status, 200);
    assert_eq!(kms.describe_key(&key.key_id).await.unwrap().state, KeyState::Disabled);
    assert_eq!(
        kms.encrypt(&key.key_id, b"x", &ctx(&[]))
            .await
            .unwrap_err()
            .error_type(),
        "DisabledException"
    );
    assert_eq!(
        kms.decrypt(&blob, &ctx(&[]), None).await.unwrap_err().error_type(),
        "DisabledException"
    );
    kms.enable_key(&key.arn).await.unwrap();
    assert!(kms.decrypt(&blob, &ctx(&[]), None).await.is_ok());
}

#[tokio::test]
async fn re_encrypt_moves_between_keys_and_contexts() {
    let kms = kms();
    let a = new_key(&kms).await;
    let b = new_key(&kms).await;
    let blob = kms
        .encrypt(&a.key_id, b"moving", &ctx(&[("from", "a")]))
        .await
        .unwrap()
        .ciphertext_blob;
    let (status, v) = call(
        &kms,
        "ReEncrypt",
        json!({
            "CiphertextBlob": STANDARD.encode(&blob),
            "SourceEncryptionContext": { "from": "a" },
            "DestinationKeyId": b.key_id,
            "DestinationEncryptionContext": { "to": "b" },
        }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["SourceKeyId"], a.arn.as_str());
    assert_eq!(v["KeyId"], b.arn.as_str());
    let moved = STANDARD.decode(v["CiphertextBlob"].as_str().unwrap()).unwrap();
    let back = kms
        .decrypt(&moved, &ctx(&[("to", "b")]), Some(&b.key_id))
        .await
        .unwrap();
    assert_eq!(back.plaintext.expose(), b"moving");
}

#[tokio::test]
async fn ensure_key_for_arn_creates_the_named_key_once() {
    let kms = kms();
    let arn = "arn:aws:kms:eu-west-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let meta = kms.ensure_key_for_arn(arn).await.unwrap();
    assert_eq!(meta.key_id, "1234abcd-12ab-34cd-56ef-1234567890ab");
    assert_eq!(meta.arn, arn);
    assert_eq!(meta.account, "210987654321");
    let again = kms.ensure_key_for_arn(arn).await.unwrap();
    assert_eq!(again, meta);
    assert_eq!(kms.list_keys().await.unwrap().len(), 1);
    // Usable by ARN, which is what handlers send.
    let dk = kms
        .generate_data_key(arn, DataKeySpec::Aes256, &ctx(&[]))
        .await
        .unwrap();
    assert_eq!(dk.key_arn, arn);
    assert_eq!(
        kms.decrypt(&dk.ciphertext_blob, &ctx(&[]), Some(arn))
            .await
            .unwrap()
            .key_arn,
        arn
    );
    // The same id under another ARN is a conflict.
    let other = "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    assert_eq!(
        kms.ensure_key_for_arn(other).await.unwrap_err().error_type(),
        "AlreadyExistsException"
    );
    // Alias ARNs in our account get a key behind them.
    let alias_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/cognito-sender");
    let via_alias = kms.ensure_key_for_arn(&alias_arn).await.unwrap();
    assert_eq!(kms.ensure_key_for_arn(&alias_arn).await.unwrap(), via_alias);
    assert_eq!(kms.describe_key("alias/cognito-sender").await.unwrap(), via_alias);
    let foreign_alias = "arn:aws:kms:eu-west-1:999999999999:alias/cognito-sender";
    assert_eq!(
        kms.ensure_key_for_arn(foreign_alias).await.unwrap_err().error_type(),
        "ValidationException"
    );
    assert_eq!(
        kms.ensure_key_for_arn("arn:aws:kms:us-east-1:1:key/bad id")
            .await
            .unwrap_err()
            .error_type(),
        "ValidationException"
    );
}

#[tokio::test]
async fn key_material_is_sealed_and_needs_the_master_key() {
    let store: Arc<dyn KeyStore> = Arc::new(MemoryKeyStore::new());
    let kms = kms_with(store.clone(), [1u8; 32]);
    let key = new_key(&kms).await;
    let blob = kms.encrypt(&key.key_id, b"x", &ctx(&[])).await.unwrap().ciphertext_blob;

    // Same store, same master key (a restart): still decrypts.
    let restarted = kms_with(store.clone(), [1u8; 32]);
    assert!(restarted.decrypt(&blob, &ctx(&[]), None).await.is_ok());

    // Another master key: an internal error whose message says nothing.
    let other = kms_with(store.clone(), [2u8; 32]);
    let e = other
        .handle(
            "Decrypt",
            json!({ "CiphertextBlob": STANDARD.encode(&blob) })
                .to_string()
                .as_bytes(),
        )
        .await
        .unwrap_err();
    assert_eq!((e.status(), e.error_type()), (500, "KMSInternalException"));
    assert!(!e.client_message().contains(&key.key_id));

    let stored = store.get_key(&key.key_id).await.unwrap().unwrap();
    assert_eq!(stored.sealed_material.len(), 1 + 12 + 32 + 16);
    let debug = format!("{stored:?}");
    assert!(debug.contains("<61 bytes>"), "{debug}");
}

#[tokio::test]
async fn secrets_stay_out_of_debug_output() {
    let kms = kms();
    let key = new_key(&kms).await;
    let dk = kms
        .generate_data_key(&key.key_id, DataKeySpec::Aes256, &ctx(&[]))
        .await
        .unwrap();
    let debug = format!("{dk:?} {kms:?} {:?}", MasterKey::new([9; 32]));
    assert!(debug.contains("redacted"));
    let bytes_list = format!("{:?}", dk.plaintext.expose());
    assert!(!debug.contains(&bytes_list[1..bytes_list.len() - 1]));
    assert!(!debug.contains("9, 9, 9"));
    let resp = kms
        .handle(
            "GenerateDataKey",
            json!({ "KeyId": key.key_id, "KeySpec": "AES_256" })
                .to_string()
                .as_bytes(),
        )
        .await
        .unwrap();
    assert!(format!("{resp:?}").contains("bytes>"));
}

#[tokio::test]
async fn injected_randomness_makes_keys_reproducible() {
    let make = || {
        Kms::new(
            MasterKey::new([3; 32]),
            Arc::new(MemoryKeyStore::new()),
            REGION,
            ACCOUNT,
            Arc::new(counter_rng(42)),
        )
    };
    let (k1, k2) = (make(), make());
    let (m1, m2) = (new_key(&k1).await, new_key(&k2).await);
    assert_eq!(m1.key_id, m2.key_id);
    let d1 = k1
        .generate_data_key(&m1.key_id, DataKeySpec::Aes256, &ctx(&[]))
        .await
        .unwrap();
    let d2 = k2
        .generate_data_key(&m2.key_id, DataKeySpec::Aes256, &ctx(&[]))
        .await
        .unwrap();
    assert_eq!(d1.plaintext, d2.plaintext);
    assert_eq!(d1.ciphertext_blob, d2.ciphertext_blob);
    // ... and so are ESDK messages, apart from the ECDSA signature (randomized by aws-lc).
    let rng = counter_rng(7);
    let c1 = STANDARD
        .decode(encrypt_code(&k1, &m1.arn, "us-east-1_x", b"1", &rng).await.unwrap())
        .unwrap();
    let rng = counter_rng(7);
    let c2 = STANDARD
        .decode(encrypt_code(&k2, &m2.arn, "us-east-1_x", b"1", &rng).await.unwrap())
        .unwrap();
    let signed_len = |m: &[u8]| {
        (90..=110)
            .find(|l| u16::from_be_bytes([m[m.len() - l - 2], m[m.len() - l - 1]]) as usize == *l)
            .map(|l| m.len() - l - 2)
            .unwrap()
    };
    assert_eq!(c1[..signed_len(&c1)], c2[..signed_len(&c2)]);
}

// ---------------------------------------------------------------- ESDK

async fn pool_key(kms: &Kms) -> String {
    kms.ensure_key_for_arn("arn:aws:kms:us-east-1:123456789012:key/a1b2c3d4-5678-90ab-cdef-111122223333")
        .await
        .unwrap()
        .arn
}

#[tokio::test]
async fn code_round_trip_and_header_shape() {
    let kms = kms();
    let arn = pool_key(&kms).await;
    let code = encrypt_code(&kms, &arn, "us-east-1_EXAMPLE", b"123456", &SystemRandomSource)
        .await
        .unwrap();
    let msg = STANDARD.decode(&code).unwrap();
    assert_eq!(&msg[..4], &[0x01, 0x80, 0x03, 0x78]);
    // Encryption context: 2 pairs, sorted: aws-crypto-public-key, userpool-id.
    let mut p = 20;
    let ctx_len = u16::from_be_bytes([msg[p], msg[p + 1]]) as usize;
    p += 2;
    assert_eq!(u16::from_be_bytes([msg[p], msg[p + 1]]), 2);
    let ctx_bytes = &msg[p..p + ctx_len];
    let text = String::from_utf8_lossy(ctx_bytes);
    let first = text.find("aws-crypto-public-key").unwrap();
    let second = text.find("userpool-id").unwrap();
    assert!(first < second);
    assert!(text.contains("us-east-1_EXAMPLE"));
    p += ctx_len;
    assert_eq!(u16::from_be_bytes([msg[p], msg[p + 1]]), 1, "one EDK");
    p += 2;
    let mut field = || {
        let len = u16::from_be_bytes([msg[p], msg[p + 1]]) as usize;
        let v = msg[p + 2..p + 2 + len].to_vec();
        p += 2 + len;
        v
    };
    assert_eq!(field(), b"aws-kms");
    assert_eq!(field(), arn.as_bytes());
    let _edk = field();
    assert_eq!(msg[p], 0x02, "framed");
    assert_eq!(&msg[p + 1..p + 5], &[0, 0, 0, 0]);
    assert_eq!(msg[p + 5], 12);
    assert_eq!(&msg[p + 6..p + 10], &4096u32.to_be_bytes());
    assert_eq!(&msg[p + 10..p + 22], &[0u8; 12], "header IV is zero");
    // Single final frame after the header tag.
    let body = p + 22 + 16;
    assert_eq!(&msg[body..body + 8], &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]);
    assert_eq!(&msg[body + 8..body + 20], &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(&msg[body + 20..body + 24], &6u32.to_be_bytes());

    let out = decrypt_code(&kms, &code).await.unwrap();
    assert_eq!(out.plaintext.expose(), b"123456");
    assert_eq!(out.key_arn, arn);
    assert_eq!(out.encryption_context["userpool-id"], "us-east-1_EXAMPLE");
    let pk = STANDARD
        .decode(&out.encryption_context["aws-crypto-public-key"])
        .unwrap();
    assert_eq!(pk.len(), 49);
    assert!(pk[0] == 0x02 || pk[0] == 0x03);
}

#[tokio::test]
async fn multi_frame_and_edge_lengths_round_trip() {
    let kms = kms();
    let arn = pool_key(&kms).await;
    for len in [0usize, 1, 4095, 4096, 4097, 8192, 10_000] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let code = encrypt_code(&kms, &arn, "us-east-1_p", &plaintext, &SystemRandomSource)
            .await
            .unwrap();
        let out = decrypt_code(&kms, &code).await.unwrap();
        assert_eq!(out.plaintext.expose(), plaintext.as_slice(), "length {len}");
    }
}

#[tokio::test]
async fn every_altered_byte_is_detected() {
    let kms = kms();
    let arn = pool_key(&kms).await;
    let code = encrypt_code(&kms, &arn, "us-east-1_EXAMPLE", b"654321", &SystemRandomSource)
        .await
        .unwrap();
    let msg = STANDARD.decode(&code).unwrap();
    for i in 0..msg.len() {
        let mut bad = msg.clone();
        bad[i] ^= 0x20;
        assert!(
            decrypt_message(&kms, &bad).await.is_err(),
            "flipping byte {i} went unnoticed"
        );
    }
    assert!(decrypt_message(&kms, &msg[..msg.len() - 1]).await.is_err());
    let mut longer = msg.clone();
    longer.push(0);
    assert!(decrypt_message(&kms, &longer).await.is_err());
}

#[tokio::test]
async fn wrong_context_or_key_is_rejected() {
    let kms = kms();
    let arn = pool_key(&kms).await;
    let code = encrypt_code(&kms, &arn, "us-east-1_AAAAAAAAA", b"111111", &SystemRandomSource)
        .await
        .unwrap();
    let mut msg = STANDARD.decode(&code).unwrap();
    // Swap the pool id for another of the same length: KMS refuses the data key.
    let pos = msg.windows(9).position(|w| w == b"AAAAAAAAA").unwrap();
    msg[pos..pos + 9].copy_from_slice(b"BBBBBBBBB");
    match decrypt_message(&kms, &msg).await {
        Err(EsdkError::NoDecryptableKey(Some(e))) => {
            assert_eq!(e.error_type(), "InvalidCiphertextException")
        }
        other => panic!("{other:?}"),
    }
    // Another KMS (other master key, no such key) cannot decrypt either.
    let other = kms_with(Arc::new(MemoryKeyStore::new()), [8u8; 32]);
    assert!(matches!(
        decrypt_code(&other, &code).await,
        Err(EsdkError::NoDecryptableKey(_))
    ));
    // A missing key is a KMS error, not a panic.
    let err = encrypt_code(
        &kms,
        "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000",
        "p",
        b"1",
        &SystemRandomSource,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, EsdkError::Kms(ref e) if e.error_type() == "NotFoundException"),
        "{err}"
    );
    let reserved = ctx(&[("aws-crypto-x", "y")]);
    assert!(matches!(
        encrypt_message(&kms, &arn, reserved, b"1", &SystemRandomSource).await,
        Err(EsdkError::InvalidInput(_))
    ));
}
