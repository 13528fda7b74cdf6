//! Cognito SRP server (`cognate_crypto::srp`) against an independent client: the
//! `aws-cognito-srp` crate (num-bigint, RustCrypto), which speaks to real Amazon Cognito.
//!
//! The oracle picks its own random `a` and stamps the claim with the current time, so every run
//! exercises fresh values of `A`, `u` and `S` (both branches of the `padHex` sign-byte rule).

// Test code: a failed unwrap is the test's report, and clients sign with the real time.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::time::Instant;

use aws_cognito_srp::{SrpClient, UntrackedDevice, User};
use cognate_crypto::srp::{
    self, ServerChallenge, SrpError, Verifier, encode_secret_block, format_timestamp, make_verifier, parse_srp_a,
    parse_timestamp, pool_name, server_challenge, verify_password_claim,
};

const POOL_ID: &str = "us-east-1_Xq7Pb9LmN";

/// splitmix64: deterministic test randomness (the crate itself never reads an RNG).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
    fn b_secret(&mut self) -> [u8; 32] {
        self.bytes(32).try_into().unwrap()
    }
    fn string(&mut self, len: usize) -> String {
        const EXTRA: [char; 8] = ['é', 'ß', '中', '🙂', ' ', '"', '\\', ':'];
        (0..len)
            .map(|_| match self.below(10) {
                0 => EXTRA[self.below(EXTRA.len() as u64) as usize],
                _ => char::from(b'!' + self.below(94) as u8),
            })
            .collect()
    }
}

struct Exchange {
    pool: &'static str,
    user_id: String,
    verifier: Verifier,
    srp_a: srp::SrpA,
    challenge: ServerChallenge,
    block: String,
    timestamp: String,
    signature: String,
}

/// Runs InitiateAuth → PASSWORD_VERIFIER → client claim with the oracle; `client_password` may
/// differ from the password the verifier was made with.
fn exchange(rng: &mut Rng, user_id: &str, password: &str, client_password: &str, salt: &[u8]) -> Exchange {
    let pool = pool_name(POOL_ID).unwrap();
    let verifier = make_verifier(pool, user_id, password, salt);
    let client = SrpClient::new(User::new(POOL_ID, user_id, client_password), "client", None);
    let auth = client.get_auth_parameters();
    let srp_a = parse_srp_a(&auth.a).expect("oracle A is valid");
    let challenge = server_challenge(&verifier, &rng.b_secret()).unwrap();
    let block_len = 32 + rng.below(700) as usize;
    let block = encode_secret_block(&rng.bytes(block_len));
    let claim = client
        .verify(&block, user_id, &verifier.salt_hex(), &challenge.srp_b_hex())
        .expect("oracle accepts the challenge");
    assert_eq!(claim.password_claim_secret_block, block);
    Exchange {
        pool,
        user_id: user_id.to_owned(),
        verifier,
        srp_a,
        challenge,
        block,
        timestamp: claim.timestamp,
        signature: claim.password_claim_signature,
    }
}

impl Exchange {
    fn verify_with(&self, user_id: &str, block: &str, timestamp: &str) -> Result<bool, SrpError> {
        verify_password_claim(
            self.pool,
            user_id,
            &self.verifier,
            &self.srp_a,
            &self.challenge,
            block,
            timestamp,
            &self.signature,
        )
    }
    fn verify(&self) -> Result<bool, SrpError> {
        self.verify_with(&self.user_id, &self.block, &self.timestamp)
    }
}

#[test]
fn oracle_full_exchange_accepts_correct_password() {
    let mut rng = Rng(1);
    let salt = rng.bytes(16);
    let ex = exchange(&mut rng, "alice", "Passw0rd!", "Passw0rd!", &salt);
    assert_eq!(ex.verify(), Ok(true));

    // The oracle's real-time TIMESTAMP parses and re-formats to the same string.
    let t = parse_timestamp(&ex.timestamp).expect("oracle timestamp parses");
    assert_eq!(format_timestamp(t), ex.timestamp);
}

#[test]
fn oracle_rejections() {
    let mut rng = Rng(2);
    let salt = rng.bytes(16);

    // Wrong password on the client side.
    let ex = exchange(&mut rng, "alice", "right password", "wrong password", &salt);
    assert_eq!(ex.verify(), Ok(false));

    let ex = exchange(&mut rng, "alice", "right password", "right password", &salt);
    assert_eq!(ex.verify(), Ok(true));
    // Tampered secret block (one bit flipped).
    let mut block = base64_decode(&ex.block);
    block[3] ^= 0x01;
    let tampered = encode_secret_block(&block);
    assert_eq!(ex.verify_with(&ex.user_id, &tampered, &ex.timestamp), Ok(false));
    // A different timestamp (one second later).
    let later = format_timestamp(parse_timestamp(&ex.timestamp).unwrap() + 1);
    assert_eq!(ex.verify_with(&ex.user_id, &ex.block, &later), Ok(false));
    // A different username.
    assert_eq!(ex.verify_with("alice2", &ex.block, &ex.timestamp), Ok(false));
    // A different pool name.
    assert_eq!(
        verify_password_claim(
            "OtherPool",
            &ex.user_id,
            &ex.verifier,
            &ex.srp_a,
            &ex.challenge,
            &ex.block,
            &ex.timestamp,
            &ex.signature,
        ),
        Ok(false)
    );
    // A verifier for another password.
    let other = make_verifier(ex.pool, &ex.user_id, "other", &ex.verifier.salt);
    assert_eq!(
        verify_password_claim(
            ex.pool,
            &ex.user_id,
            &other,
            &ex.srp_a,
            &ex.challenge,
            &ex.block,
            &ex.timestamp,
            &ex.signature,
        ),
        Ok(false)
    );
    // A = 0 and A = N (and A = 2N) are refused before any exponentiation.
    assert_eq!(parse_srp_a("0").unwrap_err(), SrpError::IllegalA);
    assert_eq!(parse_srp_a(srp::N_HEX).unwrap_err(), SrpError::IllegalA);
    assert_eq!(
        parse_srp_a(&format!("1{}", "0".repeat(768))).unwrap_err(),
        SrpError::IllegalA
    );
}

#[test]
fn oracle_property_random_users_passwords_salts() {
    let mut rng = Rng(0x0C06_EA7E);
    for i in 0..24 {
        let user_id = match i % 3 {
            0 => format!(
                "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                rng.next_u64() as u32,
                rng.below(0x10000),
                rng.below(0x1000),
                rng.below(0x1000),
                rng.below(1 << 48)
            ),
            1 => format!("user{}@example.com", rng.below(1_000_000)),
            _ => {
                let len = 1 + rng.below(40) as usize;
                rng.string(len)
            }
        };
        let pw_len = 1 + rng.below(64) as usize;
        let password = rng.string(pw_len);
        // Salts of varied length, sometimes with leading zero bytes or the top bit set.
        let salt_len = 1 + rng.below(32) as usize;
        let mut salt = rng.bytes(salt_len);
        match i % 4 {
            0 => salt[0] = 0,
            1 => salt[0] |= 0x80,
            2 => salt[0] &= 0x7f,
            _ => {}
        }
        let ex = exchange(&mut rng, &user_id, &password, &password, &salt);
        assert_eq!(ex.verify(), Ok(true), "iteration {i}: user {user_id:?}");
        if i % 6 == 0 {
            let wrong = exchange(&mut rng, &user_id, &password, &format!("{password}x"), &salt);
            assert_eq!(wrong.verify(), Ok(false), "iteration {i}");
        }
    }
}

#[test]
fn oracle_device_verifier_matches_make_verifier() {
    // For devices, the client makes the verifier (ConfirmDevice) with
    // x = H(salt | H(deviceGroupKey | deviceKey | ":" | password)) — the same formula as users,
    // so this checks make_verifier's x and v against the client's own computation.
    let mut rng = Rng(3);
    let group_key = "-Xq7Pb9LmN";
    let device_key = "us-east-1_0c2b7b1e-6f4a-4f5e-9d8a-2b1c3d4e5f60";
    let untracked = SrpClient::new(UntrackedDevice::new(POOL_ID, group_key, device_key), "client", None);
    let cfg = untracked.get_password_verifier();
    let from_client = Verifier::from_device_config(&cfg.salt, &cfg.verifier).unwrap();
    let ours = make_verifier(group_key, device_key, &cfg.password, &from_client.salt);
    assert_eq!(ours, from_client);

    // DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER with the tracked device.
    let tracked = SrpClient::new(untracked.take_credentials().into_tracked(&cfg.password), "client", None);
    let srp_a = parse_srp_a(&tracked.get_auth_parameters().a).unwrap();
    let challenge = server_challenge(&from_client, &rng.b_secret()).unwrap();
    let block = encode_secret_block(&rng.bytes(48));
    let claim = tracked
        .verify(&block, &from_client.salt_hex(), &challenge.srp_b_hex())
        .unwrap();
    let ok = verify_password_claim(
        group_key,
        device_key,
        &from_client,
        &srp_a,
        &challenge,
        &block,
        &claim.timestamp,
        &claim.password_claim_signature,
    );
    assert_eq!(ok, Ok(true));
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// Micro-benchmark (no assertions on time). Run with
/// `cargo test -p cognate-crypto --release --test srp_oracle -- --ignored --nocapture`.
#[test]
#[ignore = "timing report, run explicitly"]
fn bench_srp_timings() {
    use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams, FixedMontyForm, FixedMontyParams};
    use crypto_bigint::{BoxedUint, Odd, U256, U3072};

    fn time<T>(label: &str, iters: u32, mut f: impl FnMut() -> T) {
        let _ = f();
        let start = Instant::now();
        for _ in 0..iters {
            std::hint::black_box(f());
        }
        let per = start.elapsed() / iters;
        println!("{label:<48} {:>9.3} ms", per.as_secs_f64() * 1e3);
    }

    let mut rng = Rng(4);
    let pool = pool_name(POOL_ID).unwrap();
    let salt = rng.bytes(16);
    let verifier = make_verifier(pool, "alice", "pw", &salt);
    let b = rng.b_secret();
    let challenge = server_challenge(&verifier, &b).unwrap();
    let a_secret = rng.bytes(128);
    let a_hex = srp::to_hex(&srp::client_public_a(&a_secret).unwrap());
    let srp_a = parse_srp_a(&a_hex).unwrap();
    let block = encode_secret_block(&rng.bytes(64));
    let ts = format_timestamp(1_800_000_000);
    let sig = srp::client_signature(
        pool,
        "alice",
        "pw",
        &verifier.salt,
        &a_secret,
        &challenge.srp_b,
        &block,
        &ts,
    )
    .unwrap();

    let iters = 50;
    time("make_verifier (1 modexp, 256-bit x)", iters, || {
        make_verifier(pool, "alice", "pw", &salt)
    });
    time("server_challenge (1 modexp, 256-bit b)", iters, || {
        server_challenge(&verifier, &b).unwrap()
    });
    time("parse_srp_a", iters, || parse_srp_a(&a_hex).unwrap());
    time("verify_password_claim (2 modexps)", iters, || {
        assert!(verify_password_claim(pool, "alice", &verifier, &srp_a, &challenge, &block, &ts, &sig).unwrap());
    });

    // Raw 3072-bit modexp, 256-bit exponent: BoxedMontyForm (what srp uses) vs fixed U3072.
    let n = U3072::from_be_hex(srp::N_HEX);
    let exp_bytes = rng.bytes(32);
    let boxed_params =
        BoxedMontyParams::new_vartime(Odd::new(BoxedUint::from_be_slice(&n.to_be_bytes(), 3072).unwrap()).unwrap());
    let boxed_base = BoxedMontyForm::new(BoxedUint::from_be_slice(&[2], 3072).unwrap(), &boxed_params);
    let boxed_exp = BoxedUint::from_be_slice(&exp_bytes, 256).unwrap();
    time("BoxedMontyForm::pow 256-bit exponent", iters, || {
        boxed_base.pow(&boxed_exp)
    });
    let fixed_params = FixedMontyParams::new_vartime(Odd::new(n).unwrap());
    let fixed_base = FixedMontyForm::new(&U3072::from_u8(2), &fixed_params);
    let fixed_exp = U256::from_be_slice(&exp_bytes);
    time("FixedMontyForm<U3072>::pow 256-bit exponent", iters, || {
        fixed_base.pow(&fixed_exp)
    });
}
