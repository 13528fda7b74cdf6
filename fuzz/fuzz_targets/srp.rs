//! SRP inputs a client controls: `SRP_A`, the `PASSWORD_VERIFIER` answer (secret block,
//! timestamp, signature) and a device's `PasswordVerifier`/`Salt`. No input may panic, and a
//! fuzzed claim must never verify.
#![no_main]
use cognate_crypto::srp;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Fixed {
    verifier: srp::Verifier,
    challenge: srp::ServerChallenge,
}

fn fixed() -> &'static Fixed {
    static F: OnceLock<Fixed> = OnceLock::new();
    F.get_or_init(|| {
        let verifier = srp::make_verifier("EXAMPLE1", "alice", "Passw0rd!", &[5u8; 16]);
        let challenge = srp::server_challenge(&verifier, &[9u8; 32]).expect("challenge");
        Fixed { verifier, challenge }
    })
}

/// A well-formed `SRP_A` and claim (a wrong signature), and a device verifier config.
fn seeds() -> Vec<(String, Vec<u8>)> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let a = srp::to_hex(&srp::client_public_a(&[4u8; 32]).expect("A"));
    let block = b64.encode([1u8; 64]);
    let device = srp::make_verifier("us-east-1_EXAMPLE1", "device-key", "device-password", &[6u8; 16]);
    vec![
        (
            "claim".into(),
            format!("{a}\n{block}\nThu Jan 1 00:00:00 UTC 2026\n{}", b64.encode([2u8; 32])).into_bytes(),
        ),
        (
            "a-upper-odd".into(),
            format!("0{}\n\n\n", a.to_uppercase()).into_bytes(),
        ),
        (
            "device".into(),
            format!(
                "1\n{}\nMon Feb 29 23:59:59 UTC 2028\n{}",
                b64.encode(&device.salt),
                b64.encode(&device.verifier)
            )
            .into_bytes(),
        ),
    ]
}

fuzz_target!(init: { cognate_fuzz::seeds::write_if_asked("srp", seeds); }, |data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Fields separated by newlines: SRP_A, secret block, timestamp, signature.
    let mut fields = text.split('\n');
    let a_hex = fields.next().unwrap_or_default();
    let block = fields.next().unwrap_or_default();
    let timestamp = fields.next().unwrap_or_default();
    let signature = fields.next().unwrap_or_default();

    let _ = srp::from_hex(a_hex);
    let _ = srp::decode_secret_block(block);
    let _ = srp::parse_timestamp(timestamp);
    // A device's DeviceSecretVerifierConfig (Salt, PasswordVerifier) and the challenge built
    // from it.
    if let Ok(v) = srp::Verifier::from_device_config(block, signature) {
        let _ = srp::server_challenge(&v, &[9u8; 32]);
    }
    if let Ok(a) = srp::parse_srp_a(a_hex) {
        let f = fixed();
        let ok = srp::verify_password_claim(
            "EXAMPLE1",
            "alice",
            &f.verifier,
            &a,
            &f.challenge,
            block,
            timestamp,
            signature,
        );
        if let Ok(true) = ok {
            panic!("a fuzzed PASSWORD_VERIFIER answer verified");
        }
    }
});
