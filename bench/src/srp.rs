//! The client side of Cognito's SRP (RFC 5054 3072-bit group, g = 2), for the USER_SRP_AUTH
//! workload. Written against the formulas (num-bigint, variable time: fine for a load
//! generator) so that the harness spends little CPU: `A` is made once per client, and
//! `k·g^x` once per user and salt. Constants and Cognito's `padHex` come from cognate-crypto.
use anyhow::{Context, bail};
use aws_lc_rs::{digest, hkdf, hmac};
use base64::Engine;
use cognate_crypto::srp::{DERIVED_KEY_INFO, G, N_HEX, decode_secret_block, from_hex, pad};
use num_bigint::BigUint;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

struct Group {
    n: BigUint,
    g: BigUint,
    k: BigUint,
}

static GROUP: LazyLock<Group> = LazyLock::new(|| {
    let n_bytes = from_hex(N_HEX).unwrap_or_default();
    let k = sha256(&[&pad(&n_bytes), &pad(&[G])]);
    Group {
        n: BigUint::from_bytes_be(&n_bytes),
        g: BigUint::from(G),
        k: BigUint::from_bytes_be(&k),
    }
});

/// k·g^x mod N per (user id for SRP, salt): x depends only on them and the password.
static KGX: LazyLock<Mutex<HashMap<(String, String), BigUint>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// A client's secret `a` and public `A = g^a mod N`.
pub struct ClientSecret {
    a: BigUint,
    a_bytes: Vec<u8>,
    pub a_hex: String,
}

impl ClientSecret {
    pub fn new(random: &[u8; 32]) -> Self {
        let a = BigUint::from_bytes_be(random);
        let big_a = GROUP.g.modpow(&a, &GROUP.n);
        let a_bytes = big_a.to_bytes_be();
        ClientSecret {
            a,
            a_hex: cognate_crypto::srp::to_hex(&a_bytes),
            a_bytes,
        }
    }
}

struct KeyLen16;

impl hkdf::KeyType for KeyLen16 {
    fn len(&self) -> usize {
        16
    }
}

/// `PASSWORD_CLAIM_SIGNATURE` for a PASSWORD_VERIFIER challenge.
#[allow(clippy::too_many_arguments)]
pub fn password_claim(
    secret: &ClientSecret,
    pool_name: &str,
    user_id: &str,
    password: &str,
    salt_hex: &str,
    srp_b_hex: &str,
    secret_block: &str,
    timestamp: &str,
) -> anyhow::Result<String> {
    let group = &*GROUP;
    let b_bytes = from_hex(srp_b_hex).map_err(|e| anyhow::anyhow!("SRP_B: {e:?}"))?;
    let big_b = BigUint::from_bytes_be(&b_bytes);
    if (&big_b % &group.n) == BigUint::ZERO {
        bail!("SRP_B is 0 mod N");
    }
    let u_hash = sha256(&[&pad(&secret.a_bytes), &pad(&b_bytes)]);
    let u = BigUint::from_bytes_be(&u_hash);
    let salt = from_hex(salt_hex).map_err(|e| anyhow::anyhow!("SALT: {e:?}"))?;
    let identity = sha256(&[pool_name.as_bytes(), user_id.as_bytes(), b":", password.as_bytes()]);
    let x = BigUint::from_bytes_be(&sha256(&[&pad(&salt), &identity]));
    let key = (user_id.to_owned(), salt_hex.to_owned());
    let cached = KGX.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
    let kgx = match cached {
        Some(v) => v,
        None => {
            let v = (&group.k * group.g.modpow(&x, &group.n)) % &group.n;
            KGX.lock().unwrap_or_else(|e| e.into_inner()).insert(key, v.clone());
            v
        }
    };
    // S = (B − k·g^x)^(a + u·x) mod N
    let base = ((&big_b % &group.n) + &group.n - kgx) % &group.n;
    let s = base.modpow(&(&secret.a + &u * &x), &group.n);
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &pad(&u_hash)).extract(&pad(&s.to_bytes_be()));
    let info = [DERIVED_KEY_INFO];
    let okm = prk
        .expand(&info, KeyLen16)
        .map_err(|_| anyhow::anyhow!("HKDF expand"))?;
    let mut hkdf_key = [0u8; 16];
    okm.fill(&mut hkdf_key).map_err(|_| anyhow::anyhow!("HKDF fill"))?;
    let block = decode_secret_block(secret_block).map_err(|e| anyhow::anyhow!("SECRET_BLOCK: {e:?}"))?;
    let mut msg = Vec::with_capacity(pool_name.len() + user_id.len() + block.len() + timestamp.len());
    msg.extend_from_slice(pool_name.as_bytes());
    msg.extend_from_slice(user_id.as_bytes());
    msg.extend_from_slice(&block);
    msg.extend_from_slice(timestamp.as_bytes());
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &hkdf_key), &msg);
    Ok(base64::engine::general_purpose::STANDARD.encode(tag.as_ref()))
}

pub fn require(v: Option<&str>, what: &str) -> anyhow::Result<String> {
    v.map(str::to_owned)
        .with_context(|| format!("no {what} in the challenge"))
}

/// The same proof through cognate-crypto's own (slow, constant-time) client function: a
/// cross-check that this module computes what the server expects.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_cognate_crypto() {
        let a = [7u8; 32];
        let secret = ClientSecret::new(&a);
        let salt = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
        let b = cognate_crypto::srp::to_hex(&GROUP.g.modpow(&BigUint::from(123_456_789u64), &GROUP.n).to_bytes_be());
        let block = cognate_crypto::srp::encode_secret_block(b"opaque");
        let ours = password_claim(
            &secret,
            "Pool",
            "user-1",
            "Passw0rd!",
            salt,
            &b,
            &block,
            "Tue Nov 3 05:04:01 UTC 2026",
        )
        .unwrap();
        let theirs = cognate_crypto::srp::client_signature(
            "Pool",
            "user-1",
            "Passw0rd!",
            &from_hex(salt).unwrap(),
            &a,
            &from_hex(&b).unwrap(),
            &block,
            "Tue Nov 3 05:04:01 UTC 2026",
        )
        .unwrap();
        assert_eq!(ours, theirs);
    }
}
