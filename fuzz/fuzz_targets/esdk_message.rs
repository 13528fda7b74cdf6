//! AWS Encryption SDK messages (a custom sender's `request.code`), parsed and decrypted by
//! `decrypt_message` with a KMS whose keys are the same on every run, so the seeds (made by
//! `encrypt_message`) decrypt and mutations of them reach every check. No input may panic.
#![no_main]
use cognate_kms::{EncryptionContext, Kms, MasterKey, MemoryKeyStore, decrypt_message, encrypt_message};
use libfuzzer_sys::fuzz_target;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

const KEY_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn counter_rng() -> impl Fn(&mut [u8]) + Send + Sync {
    let n = AtomicU64::new(1);
    move |dest: &mut [u8]| {
        for b in dest.iter_mut() {
            *b = (n.fetch_add(0x9E37_79B9, Ordering::Relaxed) >> 7) as u8;
        }
    }
}

fn kms() -> &'static Kms {
    static KMS: OnceLock<Kms> = OnceLock::new();
    KMS.get_or_init(|| {
        let kms = Kms::new(
            MasterKey::new([3u8; 32]),
            Arc::new(MemoryKeyStore::new()),
            "us-east-1",
            "123456789012",
            Arc::new(counter_rng()),
        );
        cognate_fuzz::runtime()
            .block_on(kms.ensure_key_for_arn(KEY_ARN))
            .expect("creating the key");
        kms
    })
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let rng = counter_rng();
    let mut out = Vec::new();
    for (name, plaintext, ctx) in [
        (
            "code",
            b"123456".as_slice(),
            vec![("userpool-id", "us-east-1_EXAMPLE1")],
        ),
        ("empty", b"".as_slice(), vec![]),
        ("long", &[b'x'; 5000][..], vec![("a", "b"), ("c", "d")]),
    ] {
        let context: EncryptionContext = ctx.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        let msg = cognate_fuzz::runtime()
            .block_on(encrypt_message(kms(), KEY_ARN, context, plaintext, &rng))
            .expect("encrypting a seed");
        assert!(cognate_fuzz::runtime().block_on(decrypt_message(kms(), &msg)).is_ok());
        out.push((name.to_owned(), msg));
    }
    out
}

fuzz_target!(init: { cognate_fuzz::seeds::write_if_asked("esdk_message", seeds); kms(); }, |data: &[u8]| {
    let _ = cognate_fuzz::runtime().block_on(decrypt_message(kms(), data));
});
