//! Server side of Amazon Cognito's SRP (`USER_SRP_AUTH` / `PASSWORD_VERIFIER`, and the
//! `DEVICE_SRP_AUTH` / `DEVICE_PASSWORD_VERIFIER` variant, which uses the same math).
//!
//! Cognito uses SRP-6a over the RFC 5054 3072-bit group (`N` = RFC 3526 group 15, `g = 2`),
//! SHA-256 for `H`, and then proves knowledge of the session key with an HMAC rather than
//! SRP's `M1`/`M2`. Everything below matches what the clients compute (amazon-cognito-identity-js,
//! Amplify, pycognito, the AWS mobile SDKs, the `aws-cognito-srp` crate) byte for byte:
//!
//! | value | definition |
//! |---|---|
//! | `PAD(n)` | Cognito's `padHex`: the minimal big-endian bytes of the integer `n`, with one `0x00` prepended when the top bit is set (two's-complement "positive"); `PAD(0) = [0x00]` |
//! | `k` | `H(PAD(N) ‖ PAD(g))` = `H(0x00 ‖ N ‖ 0x02)` |
//! | `x` | `H(PAD(salt) ‖ H(poolName ‖ userIdForSrp ‖ ":" ‖ password))` |
//! | `v` | `g^x mod N` (the verifier the store keeps) |
//! | `B` | `(k·v + g^b) mod N`, `b` = 256 fresh random bits from the caller |
//! | `u` | `H(PAD(A) ‖ PAD(B))`, must be non-zero |
//! | `S` | `(A · v^u)^b mod N` |
//! | `K` | `HKDF-SHA256(salt = PAD(u), ikm = PAD(S), info = "Caldera Derived Key")`, 16 bytes |
//! | signature | `Base64(HMAC-SHA256(K, poolName ‖ userIdForSrp ‖ secretBlock ‖ TIMESTAMP))` |
//!
//! `poolName` is the part of the user pool id after the underscore (see [`pool_name`]); for
//! devices, `poolName` is the device group key and `userIdForSrp` the device key.
//!
//! The crate does no IO and reads no clock or global RNG: the caller passes the salt, the
//! random `b` and the current time. All arithmetic involving secrets (`x`, `v`, `b`, `S`) uses
//! crypto-bigint's constant-time Montgomery exponentiation.
//!
//! # Flow
//! 1. Sign-up / password change: [`make_verifier`] with 16+ random salt bytes; store the
//!    [`Verifier`] (sealed at rest).
//! 2. `InitiateAuth(USER_SRP_AUTH)`: [`parse_srp_a`] on `SRP_A` (rejects `A mod N == 0`), then
//!    [`server_challenge`] with 32 random bytes; answer `SALT` = [`Verifier::salt_hex`],
//!    `SRP_B` = [`ServerChallenge::srp_b_hex`], `SECRET_BLOCK` (see [`encode_secret_block`]) and
//!    `USER_ID_FOR_SRP`. Keep `b` (and `A`) in the session.
//! 3. `RespondToAuthChallenge(PASSWORD_VERIFIER)`: check the `TIMESTAMP` freshness with
//!    [`parse_timestamp`], then [`verify_password_claim`].

use std::fmt;
use std::sync::LazyLock;

use aws_lc_rs::{digest, hkdf, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use zeroize::Zeroizing;

use crate::calendar;

/// The RFC 5054 / RFC 3526 3072-bit safe prime `N` (big-endian hex).
pub const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

/// The generator `g`.
pub const G: u8 = 2;

/// The HKDF `info` Cognito uses to derive the 16-byte password-claim key.
pub const DERIVED_KEY_INFO: &[u8] = b"Caldera Derived Key";

/// Size in bytes of `N` (and of every group element in fixed-width form).
pub const N_BYTES: usize = 384;

/// Length in bytes of the server's secret exponent `b` (256 bits).
pub const B_SECRET_LEN: usize = 32;

/// Length of the derived key `K` in bytes.
const DERIVED_KEY_LEN: usize = 16;

const N_BITS: u32 = 3072;
const EXP_BITS: u32 = 256;

/// Errors from the SRP functions. None of them carries secret material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrpError {
    /// A hex string (`SRP_A`, a stored value) is empty or has a non-hex character.
    InvalidHex,
    /// `SRP_A` is `0 mod N` (or not below `N`): the SRP-6a safety check. Cognito rejects it.
    IllegalA,
    /// A stored verifier or `B` is not in `[1, N)`, or the stored `b` has the wrong length.
    InvalidState,
    /// The secret exponent `b` from the caller is zero.
    ZeroSecret,
    /// The scrambling parameter `u = H(PAD(A) ‖ PAD(B))` is zero (negligible probability).
    ZeroU,
    /// `PASSWORD_CLAIM_SECRET_BLOCK` is not valid standard Base64.
    InvalidSecretBlock,
}

impl fmt::Display for SrpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            SrpError::InvalidHex => "invalid hex value",
            SrpError::IllegalA => "SRP_A is zero modulo N or out of range",
            SrpError::InvalidState => "invalid stored SRP value",
            SrpError::ZeroSecret => "SRP secret exponent is zero",
            SrpError::ZeroU => "SRP scrambling parameter u is zero",
            SrpError::InvalidSecretBlock => "invalid secret block",
        };
        f.write_str(msg)
    }
}

impl std::error::Error for SrpError {}

/// The fixed group: Montgomery parameters for `N`, plus `g` and `k` in Montgomery form.
struct Group {
    n: BoxedUint,
    params: BoxedMontyParams,
    g: BoxedMontyForm,
    k: BoxedMontyForm,
}

static GROUP: LazyLock<Group> = LazyLock::new(|| {
    let n_bytes = from_hex(N_HEX).expect("N_HEX is valid hex");
    let n = uint_from_be(&n_bytes).expect("N fits in 3072 bits");
    let params = BoxedMontyParams::new_vartime(Odd::new(n.clone()).expect("N is odd"));
    let g = BoxedMontyForm::new(uint_from_be(&[G]).expect("small"), &params);
    let k_hash = sha256(&[&pad(&n_bytes), &pad(&[G])]);
    let k = BoxedMontyForm::new(uint_from_be(&k_hash).expect("256-bit"), &params);
    Group { n, params, g, k }
});

// ---------------------------------------------------------------------------------------------
// Encoding helpers
// ---------------------------------------------------------------------------------------------

/// Lowercase hex of `bytes`, exactly as given (two digits per byte, leading zero bytes kept).
///
/// The values this module hands out ([`Verifier::salt`], [`ServerChallenge::srp_b`]) are already
/// in the canonical form clients expect, so `to_hex` of them is what goes on the wire as `SALT`
/// and `SRP_B`.
#[must_use]
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Decodes a hex string the way Cognito clients produce them: upper or lower case, and an odd
/// number of digits means an implicit leading `0` (Java/JS `BigInteger.toString(16)` drops it).
///
/// # Errors
/// [`SrpError::InvalidHex`] if the string is empty or contains a non-hex character.
pub fn from_hex(hex: &str) -> Result<Vec<u8>, SrpError> {
    fn nibble(c: u8) -> Result<u8, SrpError> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(SrpError::InvalidHex),
        }
    }
    let digits = hex.as_bytes();
    if digits.is_empty() {
        return Err(SrpError::InvalidHex);
    }
    let mut out = Vec::with_capacity(digits.len().div_ceil(2));
    let rest = if digits.len() % 2 == 1 {
        out.push(nibble(digits[0])?);
        &digits[1..]
    } else {
        digits
    };
    for pair in rest.chunks_exact(2) {
        out.push((nibble(pair[0])? << 4) | nibble(pair[1])?);
    }
    Ok(out)
}

/// Cognito's `padHex` on bytes: interprets `bytes` as a big-endian unsigned integer and returns
/// its minimal encoding, with a `0x00` prepended when the top bit is set. Zero encodes as `[0]`.
#[must_use]
pub fn pad(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let trimmed = &bytes[start..];
    match trimmed.first() {
        None => vec![0],
        Some(&first) if first & 0x80 != 0 => {
            let mut out = Vec::with_capacity(trimmed.len() + 1);
            out.push(0);
            out.extend_from_slice(trimmed);
            out
        }
        Some(_) => trimmed.to_vec(),
    }
}

/// Minimal big-endian magnitude (no leading zero bytes; zero encodes as `[0]`).
fn minimal(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    if start == bytes.len() {
        vec![0]
    } else {
        bytes[start..].to_vec()
    }
}

/// The pool name used in the SRP hashes: the part of the user pool id after the underscore
/// (`us-east-1_AbCdEf123` → `AbCdEf123`). Like the clients, takes the second `_`-separated
/// field. `None` if there is no underscore.
#[must_use]
pub fn pool_name(user_pool_id: &str) -> Option<&str> {
    user_pool_id.split('_').nth(1)
}

/// Encodes an opaque `SECRET_BLOCK` (standard Base64 with padding, as Cognito and all clients
/// use). What goes inside (e.g. a sealed session reference plus random bytes) is the caller's
/// choice; clients only Base64-decode it and feed the bytes into the signature.
#[must_use]
pub fn encode_secret_block(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Decodes a `SECRET_BLOCK` / `PASSWORD_CLAIM_SECRET_BLOCK`.
///
/// # Errors
/// [`SrpError::InvalidSecretBlock`] if it is not valid standard Base64.
pub fn decode_secret_block(b64: &str) -> Result<Vec<u8>, SrpError> {
    BASE64.decode(b64).map_err(|_| SrpError::InvalidSecretBlock)
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Big-endian bytes (any length, leading zeros allowed) → 3072-bit `BoxedUint`.
fn uint_from_be(bytes: &[u8]) -> Option<BoxedUint> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    BoxedUint::from_be_slice(&bytes[start..], N_BITS).ok()
}

/// 256-bit exponent from 32 big-endian bytes.
fn exponent_from_be(bytes: &[u8; 32]) -> BoxedUint {
    BoxedUint::from_be_slice(bytes, EXP_BITS).expect("32 bytes fit in 256 bits")
}

/// Fixed-width (384-byte) big-endian encoding.
fn uint_to_be(n: &BoxedUint) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(n.to_be_bytes().into_vec())
}

/// Parses a group element that must lie in `[1, N)`.
fn element_from_be(bytes: &[u8]) -> Result<BoxedUint, SrpError> {
    let group = &*GROUP;
    let n = uint_from_be(bytes).ok_or(SrpError::InvalidState)?;
    if bool::from(n.is_zero()) || n >= group.n {
        return Err(SrpError::InvalidState);
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Verifier
// ---------------------------------------------------------------------------------------------

/// What the store keeps per user (or per device): the SRP salt and verifier `v = g^x mod N`.
///
/// A verifier is a fast password hash (one 256-bit exponentiation per guess), so the caller
/// must seal it at rest.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    /// Salt bytes; `SALT` on the wire is [`to_hex`] of these (see [`Verifier::salt_hex`]).
    pub salt: Vec<u8>,
    /// `v` as 384 big-endian bytes (any big-endian encoding of a value in `[1, N)` is accepted).
    pub verifier: Vec<u8>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("salt", &to_hex(&self.salt))
            .field("verifier", &"<redacted>")
            .finish()
    }
}

impl Verifier {
    /// `SALT` as sent in the `PASSWORD_VERIFIER` challenge.
    #[must_use]
    pub fn salt_hex(&self) -> String {
        to_hex(&self.salt)
    }

    /// Builds a verifier from a device's `DeviceSecretVerifierConfig` (`ConfirmDevice`), whose
    /// `Salt` and `PasswordVerifier` are Base64. The salt is kept byte for byte (the client hashed
    /// exactly these bytes), the verifier must be in `[1, N)`.
    ///
    /// # Errors
    /// [`SrpError::InvalidState`] for bad Base64, an empty salt or a verifier outside `[1, N)`.
    pub fn from_device_config(salt_b64: &str, verifier_b64: &str) -> Result<Self, SrpError> {
        let salt = BASE64.decode(salt_b64).map_err(|_| SrpError::InvalidState)?;
        let v = BASE64.decode(verifier_b64).map_err(|_| SrpError::InvalidState)?;
        if salt.is_empty() {
            return Err(SrpError::InvalidState);
        }
        let v = element_from_be(&v)?;
        Ok(Verifier {
            salt,
            verifier: uint_to_be(&v).to_vec(),
        })
    }
}

/// Computes `x = H(PAD(salt) ‖ H(pool_name ‖ user_id_for_srp ‖ ":" ‖ password))` and
/// `v = g^x mod N`.
///
/// `salt` should be 16 or more random bytes from the caller. It is normalised to the integer
/// form every client reconstructs from the `SALT` hex (leading zero bytes dropped), and that
/// normalised salt is what [`Verifier::salt`] holds, so JS/Java clients (which parse `SALT` as a
/// `BigInteger` and re-pad it) and byte-oriented clients (which hex-decode it) hash the same
/// bytes.
///
/// `user_id_for_srp` is the value the server will send as `USER_ID_FOR_SRP` (Cognito sends the
/// user's `username`, i.e. the immutable user name — a UUID when sign-in aliases are used).
/// For devices pass the device group key as `pool_name` and the device key as the user id.
#[must_use]
pub fn make_verifier(pool_name: &str, user_id_for_srp: &str, password: &str, salt: &[u8]) -> Verifier {
    let group = &*GROUP;
    let salt = minimal(salt);
    let identity = Zeroizing::new(sha256(&[
        pool_name.as_bytes(),
        user_id_for_srp.as_bytes(),
        b":",
        password.as_bytes(),
    ]));
    let x_bytes = Zeroizing::new(sha256(&[&pad(&salt), identity.as_slice()]));
    let x = Zeroizing::new(exponent_from_be(&x_bytes));
    let v = Zeroizing::new(group.g.pow(&x).retrieve());
    Verifier {
        salt,
        verifier: uint_to_be(&v).to_vec(),
    }
}

// ---------------------------------------------------------------------------------------------
// Server challenge
// ---------------------------------------------------------------------------------------------

/// The client's public value `A`, validated (`0 < A < N`).
#[derive(Clone, PartialEq, Eq)]
pub struct SrpA {
    a: BoxedUint,
}

impl fmt::Debug for SrpA {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SrpA").field(&self.to_hex()).finish()
    }
}

impl SrpA {
    /// Minimal big-endian bytes of `A`.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        minimal(&self.a.to_be_bytes())
    }

    /// Canonical lowercase hex of `A` (minimal, even length), for storing `A` in a session.
    #[must_use]
    pub fn to_hex(&self) -> String {
        to_hex(&self.to_bytes())
    }
}

/// Parses and validates `SRP_A` from `InitiateAuth`.
///
/// Accepts what clients send: lowercase or uppercase hex, odd length (JS `toString(16)`),
/// leading zeros. Rejects non-hex input, and — the SRP-6a safety check — `A ≡ 0 (mod N)`.
/// Honest clients always send `0 < A < N`, so any `A ≥ N` (including `N`, `2N`, …) is
/// rejected as well.
///
/// # Errors
/// [`SrpError::InvalidHex`] for bad hex; [`SrpError::IllegalA`] for `A mod N == 0` or `A ≥ N`.
pub fn parse_srp_a(hex: &str) -> Result<SrpA, SrpError> {
    let group = &*GROUP;
    // Bound the work before decoding: 3072 bits is 768 digits; allow leading zeros up to a
    // generous limit.
    if hex.len() > 2 * N_BYTES + 64 {
        return Err(SrpError::IllegalA);
    }
    let bytes = from_hex(hex)?;
    let a = uint_from_be(&bytes).ok_or(SrpError::IllegalA)?;
    if bool::from(a.is_zero()) || a >= group.n {
        return Err(SrpError::IllegalA);
    }
    Ok(SrpA { a })
}

/// The server's half of the exchange: the secret `b` (keep it in the session until
/// `RespondToAuthChallenge`, sealed, and zeroize after) and the public `B`.
#[derive(Clone)]
pub struct ServerChallenge {
    /// The secret exponent `b` (32 big-endian bytes).
    pub b_secret: Zeroizing<Vec<u8>>,
    /// `B` as minimal big-endian bytes; `SRP_B` on the wire is [`to_hex`] of these.
    pub srp_b: Vec<u8>,
}

impl fmt::Debug for ServerChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerChallenge")
            .field("b_secret", &"<redacted>")
            .field("srp_b", &to_hex(&self.srp_b))
            .finish()
    }
}

impl ServerChallenge {
    /// `SRP_B` as sent in the `PASSWORD_VERIFIER` challenge: lowercase hex of the minimal
    /// big-endian magnitude, even length.
    #[must_use]
    pub fn srp_b_hex(&self) -> String {
        to_hex(&self.srp_b)
    }
}

/// Computes `B = (k·v + g^b) mod N` for a stored verifier, with `b` = the 32 random bytes
/// `b_random` from the caller's CSPRNG (one constant-time 256-bit exponentiation).
///
/// Deterministic in `(verifier, b_random)`: a session layer that keeps only `b` can rebuild
/// the same [`ServerChallenge`] later by calling this again (at the cost of one more
/// exponentiation), or keep both fields.
///
/// # Errors
/// [`SrpError::InvalidState`] if the stored verifier is not in `[1, N)`;
/// [`SrpError::ZeroSecret`] if `b_random` is all zeros (a broken RNG; retry with fresh bytes).
pub fn server_challenge(verifier: &Verifier, b_random: &[u8; B_SECRET_LEN]) -> Result<ServerChallenge, SrpError> {
    let group = &*GROUP;
    let v = Zeroizing::new(element_from_be(&verifier.verifier)?);
    let b = Zeroizing::new(exponent_from_be(b_random));
    if bool::from(b.is_zero()) {
        return Err(SrpError::ZeroSecret);
    }
    let v_m = Zeroizing::new(BoxedMontyForm::new((*v).clone(), &group.params));
    let g_b = Zeroizing::new(group.g.pow(&b));
    let big_b = group.k.mul(&v_m).add(&g_b).retrieve();
    if bool::from(big_b.is_zero()) {
        // B ≡ 0 would make clients abort; only possible for a negligible set of b.
        return Err(SrpError::ZeroSecret);
    }
    Ok(ServerChallenge {
        b_secret: Zeroizing::new(b_random.to_vec()),
        srp_b: minimal(&big_b.to_be_bytes()),
    })
}

// ---------------------------------------------------------------------------------------------
// Password claim verification
// ---------------------------------------------------------------------------------------------

/// The HKDF output length type for aws-lc-rs.
struct KeyLen(usize);

impl hkdf::KeyType for KeyLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// Derives the 16-byte key `K` that signs the password claim (errors when `u == 0`).
fn password_authentication_key(
    verifier: &Verifier,
    srp_a: &SrpA,
    challenge: &ServerChallenge,
) -> Result<Zeroizing<[u8; DERIVED_KEY_LEN]>, SrpError> {
    let group = &*GROUP;
    let v = Zeroizing::new(element_from_be(&verifier.verifier)?);
    let big_b = element_from_be(&challenge.srp_b)?;
    let b_bytes: Zeroizing<[u8; B_SECRET_LEN]> = Zeroizing::new(
        challenge
            .b_secret
            .as_slice()
            .try_into()
            .map_err(|_| SrpError::InvalidState)?,
    );
    let b = Zeroizing::new(exponent_from_be(&b_bytes));
    if bool::from(b.is_zero()) {
        return Err(SrpError::ZeroSecret);
    }

    // u = H(PAD(A) | PAD(B)); both are public.
    let u_hash = sha256(&[&pad(&srp_a.a.to_be_bytes()), &pad(&big_b.to_be_bytes())]);
    if u_hash.iter().all(|&x| x == 0) {
        return Err(SrpError::ZeroU);
    }
    let u = exponent_from_be(&u_hash);

    // S = (A · v^u)^b mod N.
    let a_m = BoxedMontyForm::new(srp_a.a.clone(), &group.params);
    let v_m = Zeroizing::new(BoxedMontyForm::new((*v).clone(), &group.params));
    let base = Zeroizing::new(a_m.mul(&v_m.pow(&u)));
    let s = Zeroizing::new(base.pow(&b).retrieve());
    let s_padded = Zeroizing::new(pad(&uint_to_be(&s)));

    // K = HKDF-SHA256(salt = PAD(u), ikm = PAD(S), info = "Caldera Derived Key")[..16].
    let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, &pad(&u_hash));
    let prk = salt.extract(&s_padded);
    let info = [DERIVED_KEY_INFO];
    let okm = prk
        .expand(&info, KeyLen(DERIVED_KEY_LEN))
        .expect("16 bytes is a valid HKDF-SHA256 output length");
    let mut key = Zeroizing::new([0u8; DERIVED_KEY_LEN]);
    okm.fill(key.as_mut_slice())
        .expect("output buffer has the requested length");
    Ok(key)
}

/// Checks `PASSWORD_CLAIM_SIGNATURE` from `RespondToAuthChallenge(PASSWORD_VERIFIER)`.
///
/// * `pool_name`, `user_id_for_srp`: the values the server used in the challenge (not taken
///   from the client's response).
/// * `verifier`: the user's stored verifier; `srp_a`: the `A` from `InitiateAuth`;
///   `challenge`: the `b`/`B` issued then.
/// * `secret_block_b64`: `PASSWORD_CLAIM_SECRET_BLOCK` as received (the caller must also check
///   it is the block it issued for this session); `timestamp`: `TIMESTAMP` exactly as received
///   (the signature covers its bytes; check freshness with [`parse_timestamp`]);
///   `signature_b64`: `PASSWORD_CLAIM_SIGNATURE`.
///
/// Returns `Ok(true)` if the signature matches (compared in constant time), `Ok(false)` if it
/// does not or is not valid Base64 — i.e. wrong password, wrong user, tampered inputs.
///
/// Costs two constant-time 256-bit exponentiations.
///
/// # Errors
/// [`SrpError::InvalidSecretBlock`] if the secret block is not Base64;
/// [`SrpError::InvalidState`] if the stored verifier, `B` or `b` is malformed;
/// [`SrpError::ZeroU`] if `u == 0`.
#[allow(clippy::too_many_arguments)]
pub fn verify_password_claim(
    pool_name: &str,
    user_id_for_srp: &str,
    verifier: &Verifier,
    srp_a: &SrpA,
    challenge: &ServerChallenge,
    secret_block_b64: &str,
    timestamp: &str,
    signature_b64: &str,
) -> Result<bool, SrpError> {
    let secret_block = decode_secret_block(secret_block_b64)?;
    let key = password_authentication_key(verifier, srp_a, challenge)?;
    let Ok(signature) = BASE64.decode(signature_b64) else {
        return Ok(false);
    };
    let mut msg = Vec::with_capacity(pool_name.len() + user_id_for_srp.len() + secret_block.len() + timestamp.len());
    msg.extend_from_slice(pool_name.as_bytes());
    msg.extend_from_slice(user_id_for_srp.as_bytes());
    msg.extend_from_slice(&secret_block);
    msg.extend_from_slice(timestamp.as_bytes());
    let hmac_key = hmac::Key::new(hmac::HMAC_SHA256, key.as_slice());
    // `hmac::verify` compares the tag in constant time.
    Ok(hmac::verify(&hmac_key, &msg, &signature).is_ok())
}

/// Computes the signature a client would send — the client side of the last step. Given the
/// client's secret `a` this is what `PASSWORD_CLAIM_SIGNATURE` must be; the server never needs
/// it, but tests and tools (e.g. an SRP-speaking CLI) do.
///
/// Implements the client formula `S = (B − k·g^x)^(a + u·x) mod N` independently of the
/// server formula, which makes it a useful cross-check. Not constant-time-hardened for the
/// client's secrets beyond what crypto-bigint gives; meant for tests and tools.
///
/// # Errors
/// As [`verify_password_claim`], plus [`SrpError::InvalidState`] if `B` is not in `[1, N)`.
#[allow(clippy::too_many_arguments)]
pub fn client_signature(
    pool_name: &str,
    user_id_for_srp: &str,
    password: &str,
    salt: &[u8],
    a_secret: &[u8],
    srp_b: &[u8],
    secret_block_b64: &str,
    timestamp: &str,
) -> Result<String, SrpError> {
    let group = &*GROUP;
    let secret_block = decode_secret_block(secret_block_b64)?;
    let a = uint_from_be(a_secret).ok_or(SrpError::InvalidState)?;
    let big_a = group.g.pow(&a).retrieve();
    let big_b = element_from_be(srp_b)?;
    let u_hash = sha256(&[&pad(&big_a.to_be_bytes()), &pad(&big_b.to_be_bytes())]);
    if u_hash.iter().all(|&x| x == 0) {
        return Err(SrpError::ZeroU);
    }
    let identity = sha256(&[
        pool_name.as_bytes(),
        user_id_for_srp.as_bytes(),
        b":",
        password.as_bytes(),
    ]);
    let x_hash = sha256(&[&pad(salt), &identity]);
    let x = exponent_from_be(&x_hash);
    let u = exponent_from_be(&u_hash);
    // base = B − k·g^x; S = base^(a + u·x) = base^a · (base^u)^x.
    let b_m = BoxedMontyForm::new(big_b, &group.params);
    let base = b_m.sub(&group.k.mul(&group.g.pow(&x)));
    let s = base.pow(&a).mul(&base.pow(&u).pow(&x)).retrieve();
    let s_padded = pad(&s.to_be_bytes());
    let salt_u = hkdf::Salt::new(hkdf::HKDF_SHA256, &pad(&u_hash));
    let prk = salt_u.extract(&s_padded);
    let info = [DERIVED_KEY_INFO];
    let okm = prk.expand(&info, KeyLen(DERIVED_KEY_LEN)).expect("valid length");
    let mut key = [0u8; DERIVED_KEY_LEN];
    okm.fill(&mut key).expect("valid length");
    let mut msg = Vec::new();
    msg.extend_from_slice(pool_name.as_bytes());
    msg.extend_from_slice(user_id_for_srp.as_bytes());
    msg.extend_from_slice(&secret_block);
    msg.extend_from_slice(timestamp.as_bytes());
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &msg);
    Ok(BASE64.encode(tag.as_ref()))
}

/// The client's public value `A = g^a mod N` (minimal big-endian bytes) for a client secret
/// `a` (big-endian, at most 384 bytes). The client-side counterpart of [`client_signature`],
/// for tests and tools.
///
/// # Errors
/// [`SrpError::InvalidState`] if `a_secret` is longer than 384 significant bytes.
pub fn client_public_a(a_secret: &[u8]) -> Result<Vec<u8>, SrpError> {
    let a = Zeroizing::new(uint_from_be(a_secret).ok_or(SrpError::InvalidState)?);
    Ok(minimal(&GROUP.g.pow(&a).retrieve().to_be_bytes()))
}

// ---------------------------------------------------------------------------------------------
// TIMESTAMP
// ---------------------------------------------------------------------------------------------

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const SECS_PER_DAY: u64 = 86_400;
/// Largest supported instant: 9999-12-31 23:59:59 UTC.
const MAX_EPOCH_SECS: u64 = 253_402_300_799;

/// Days since 1970-01-01; callers only pass dates from 1970 on.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let days = calendar::days_from_civil(year as i64, month as i64, day as i64);
    u64::try_from(days).unwrap_or(0)
}

/// `(year, month 1..=12, day 1..=31)` for a day count since 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let (y, m, d) = calendar::civil_from_days(days as i64);
    (y as u64, m as u64, d as u64)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        _ => 28,
    }
}

/// Formats a Unix time as Cognito's `TIMESTAMP`: `ddd MMM d HH:mm:ss UTC yyyy`, English names,
/// day of month not zero-padded, e.g. `Tue Nov 3 05:04:01 UTC 2026` (what Java's
/// `EEE MMM d HH:mm:ss z yyyy` in UTC and the JS/Python clients produce).
///
/// Instants after year 9999 are clamped to 9999-12-31 23:59:59.
#[must_use]
pub fn format_timestamp(epoch_secs: u64) -> String {
    let t = epoch_secs.min(MAX_EPOCH_SECS);
    let days = t / SECS_PER_DAY;
    let secs = t % SECS_PER_DAY;
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[((days + 4) % 7) as usize];
    format!(
        "{weekday} {} {day} {:02}:{:02}:{:02} UTC {year}",
        MONTHS[(month - 1) as usize],
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Parses a `TIMESTAMP` back to Unix seconds so the server can reject stale or future claims.
///
/// Accepts the canonical form from [`format_timestamp`] and the small variations clients are
/// known to produce: a zero-padded day (`Tue Nov 03 …`), runs of spaces (C `asctime`-style
/// space-padded day), and 1-digit hour/minute/second fields. The weekday must be a valid
/// English abbreviation but is not cross-checked against the date (the signature covers the
/// string byte for byte anyway). Month and weekday names are case-sensitive, as are `UTC`.
/// Returns `None` for anything else, including dates before 1970 or after 9999.
#[must_use]
pub fn parse_timestamp(timestamp: &str) -> Option<u64> {
    fn number(field: &str, max_len: usize) -> Option<u64> {
        if field.is_empty() || field.len() > max_len || !field.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        field.parse().ok()
    }
    let mut fields = timestamp.split(' ').filter(|f| !f.is_empty());
    let weekday = fields.next()?;
    let month = fields.next()?;
    let day = fields.next()?;
    let time = fields.next()?;
    let zone = fields.next()?;
    let year = fields.next()?;
    if fields.next().is_some() || zone != "UTC" || !WEEKDAYS.contains(&weekday) {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    if year.len() != 4 {
        return None;
    }
    let year = number(year, 4)?;
    if year < 1970 {
        return None;
    }
    let day = number(day, 2)?;
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let mut hms = time.split(':');
    let hour = number(hms.next()?, 2)?;
    let minute = number(hms.next()?, 2)?;
    let second = number(hms.next()?, 2)?;
    if hms.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * SECS_PER_DAY + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known-answer vectors computed by an independent Python model of the
    /// amazon-cognito-identity-js `AuthenticationHelper` (padHex semantics, client-side
    /// `S = (B - k·g^x)^(a + u·x)`), with fixed `a`, `b` and timestamp.
    struct Kat {
        pool_id: &'static str,
        user: &'static str,
        password: &'static str,
        salt_hex: &'static str,
        b_hex: &'static str,
        a_hex: &'static str,
        block: &'static [u8],
        timestamp: &'static str,
        v_hex: &'static str,
        srp_b_hex: &'static str,
        srp_a_hex: &'static str,
        signature: &'static str,
    }

    fn kat1() -> Kat {
        Kat {
            pool_id: "us-east-1_Abc123XyZ",
            user: "alice",
            password: "Correct horse 9!",
            salt_hex: "d3a1f00dcafe0123456789abcdef0042",
            b_hex: "1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f",
            a_hex: "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5",
            block: &[
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
                54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
            ],
            timestamp: "Tue Nov 3 05:04:01 UTC 2026",
            v_hex: concat!(
                "c322ea04f91767b407cfa6ad0aef78d5e689074fda9cbbc672877f8874bb67b86dcffd0264ace9da8f62c5fc05f7636e",
                "023fda1c6e284a09a0bb92e8769fc4f1bc0ba21ce4eef6105d86964d0cc9ab86c149dfdf9c82352ccd321d3e1bb24594",
                "85fd6f5c23bab8d2c6c06afbac3dc928b4c25067908fb621018ea04fbd3e28b690c707f82ad47d1b0595a17e4dac2a8f",
                "43c0fd6b97e5088063c4475ef1fda67a28ec71e2c3bc6391236a3dde9824b26bb8ea6ee814ff20cfe00cbf55120797d4",
                "d044e7715f187c70e976eb61522cb429ab8986071bfa27c3d895ffb5d7018fffcb32647ab6ac250b509e62316dec4b01",
                "37a657818d2dd6d9d00ddfb53f150a135c355ce86b36e5c76812fc55b0a29bb3198fafd07bc1bc3de746ba1a561401b8",
                "46a8630e1b053d361173e974595ccbf4ccd4988cea378085af515de237b27f8e2f406a37914a4c01130fdfc357843fa9",
                "54cc9b9bbd8b0eb63e1d37dc6c35dbe956b91dc47a9d67b1b9b33b4b7f0d34aed5756726d659948f6965db70c81d77fb",
            ),
            srp_b_hex: concat!(
                "92f4b8b309b99c5acf5c31cdeb5c632596e2c8fb67c6c59f2014da023b7377c08baa406976f4d9a21b14b7863175e84d",
                "2ac7fd56bca99c95d4998a3da1140bcf9d4ea61d5c6558d41bce24050870f3d145951b0aa9e654ca497a152f2d1ddfd8",
                "416c48af0f6ef5c0e7f9aafbba9b97221c822afd451b9f0c48ba822c9d3bc7f329e5b7ebe99700934d66c9e78337b83f",
                "f1effb2dfb58f28e587014a50d464e5d3eaad82af9880d5cecddb733e0261e2ca3db8556f9566382cb444ecc4e45bb05",
                "25664c267683bbdefada002b53f58ab3b0f036085f53aa7fa1529ed53ad9105b1cdac234c5aefccc1ce4765bd3147780",
                "ba8fba790dc96df178f4cd907ee6830e1ee4e3bd282f0827ec7119e0b94901eb65d77b03bdbc652b4101f6fb1cbe38ec",
                "2337b3f524beb7e491d0646dc29d0e0fa4229d19e7f19b52ba81cc5ee158587bbc8c636a9d7091e34b144265cca88625",
                "624ebc6c8c620ba1b7412ed710e701af998490a68e05b8104be7a404f9611fb7f8d5a66fd93285d73f7d32aed7f6ca30",
            ),
            srp_a_hex: concat!(
                "9ee17a7fb57730cbafb84004d48fc20adf56de0d6798b4d41b21e582b8e74c744b94fd1d2c190f2e4f2630d6db7a81ff",
                "b1260392b3b50a4a12f8fa8f793b945639afdc53a6b399a8071376e90cdf452f78edf94e156fcf7cc5c886e99bf37ef5",
                "7024f36a4fb6f0f78c89d84b39f2fd649ef98ce710950c2ff0d0cb0750af1b1f3401e2b8b6d74bf8d4fe8157d75390a4",
                "20596160b761aa3519517436ccd94b05c79fb091f70890da01397b7aaafba2cb3251c154aa68ae621a7530252e898a49",
                "17058ef1ed4050a8349800623cbfc8b0739841be5de465ed36369751ffed82a7c65282accfcd6913b917756a55d26306",
                "35edba8c1a3bcd57fb5eb98ad3b61ef5ced0063e2dc7c471884c7b1889f88a0ecf8cffc5270038ca8332f5e0c1c36597",
                "8f7fe9c0516047364bed1e86a9cb8531eae0f1be33693f30fabbebb1bd50fbf2853cb5898502531f258cc94819ad8eca",
                "2cfabe995e627b79a484a727c5adfdff44a7373d383ac8fea0afd79c81048554281441655235eab4f1203e3c50d20b88",
            ),
            signature: "LgMjUku9VRE3PQVozvp2QIQS719j3FdpWsLLmows+Vk=",
        }
    }

    fn kat2() -> Kat {
        Kat {
            pool_id: "eu-west-1_Q",
            user: "7f3b2c1e-0000-4000-8000-000000000001",
            password: "pässwörd",
            salt_hex: "7f00ff",
            b_hex: "0000000000000000000000000000000000000000000000000000000000000005",
            a_hex: "0102030405",
            block: b"block",
            timestamp: "Sun Jan 1 00:00:00 UTC 2023",
            v_hex: concat!(
                "f27ac49e3a0931683d29cac62268144198bfc7d1cf358f4a67586fc1e9f7efbb08b134278aa2df0d9a7607f1e7746bb7",
                "55941396450c5d0300f4238a2c5906643d6898f22acfa6849e463fd860bf2952c150a0aa4c3ed0183282a138fb428a17",
                "e09684ce542f85dff1df30ad9a2df393a3a027389fdbad7a132cdae474fb6064504773949550607a48ce1e675e1bf4b4",
                "75e2d851e21a43624519346f1c0fb2fea05da5dcbb7920be736ba559181682bcd7973a836916b3087a7a24c00791c098",
                "27ed40623dd7628f6c420feb4bd0539c447fd4efeea576de4ce71d971116f463170cc55af9b3006b778704d286cdf264",
                "0e76761d6ee56cd12a977d7fe8a29aad5bffd8ce49a132b50cd0b9fd6c49e27c831c385138da067e5baa4801184da8c6",
                "19b6ff69980e88ccb336d2044be99705d062f242342a900e75749d2dbe37f549c8963036b9bd9529d66e881a2558d166",
                "5f17af35e31362d5cddffa1a71467c6fd48a76dea01c44136885efa7e189da00cc797b080091024802ab1d01a744e00b",
            ),
            srp_b_hex: concat!(
                "33952b38b430ca1b69e0a7c5b577650c9f37450d7e5392fe77babdb22101483612fea2fbe702ac8ab3cd6c3220525c19",
                "42067d9eeb162077a7fd75c39c67189797b20e48e237db43ba6fe728caf09c92d12f7814465fe2fd4dde85f999035d7a",
                "87489edfb7b60ed348a98e196a54392875201bf7860870e5bc9ab1ab2749f400fb605b1a8ce9cbba31815ac043abcb1b",
                "ce2a07aa99aac3f744c17f29a455cb1da3e4410abc55e76d177752b2e2be8f69f45b7c7fd9ebd822f68f6b5b0ccac2b2",
                "f098b62f81fd441bbfa12b8d325f2238130aaed80fe8d1ad1b4a7454314c22dec9d47f3ebffdd773c17410a1bd33eaca",
                "8e426f5b5927a5897e84823540cc82f2c566325f8af9e83ec4a1f66f27dd1fc6b470ed70f2b8b8499e19add8edae8f62",
                "c83170123655639fc2775225d871c06b2db95a668b9000469cbbee470ad5e230bce3ae6c602857fde79962fe3ba2cbc9",
                "a94c63aafcdcbc094ea6dc07a34c1079562178ef4eac5bccde806c3bba83953380ea3478ab0b7b2580fbd2f6d209d700",
            ),
            srp_a_hex: concat!(
                "d9c8420224983891fd1c7fa1ba3ba3c49d7a58f26519f54a58f2266c10a9d6ac42faca8f31f8acb46caf0dfad18cae0a",
                "bf6e631d504e4748a1caa50655b1e0965f28b16f39988594947d3473c5ff06d96a4e13e1d7d923289b11c3e3a214a654",
                "586ff7aa5ced965b65fbb4d4b3bdb1999b6e851e111500daba92147389b9b8520b3d1789e510fa8d44fb02a2f38ce92b",
                "5f46df55629eade2abb2d2efa5c2702aaa608d857ba0204353fba8c1ace28bd384c95fd82862cfe2d9bedffd378e54cd",
                "ef83a6023354c9c9953fd63144bdf44079a4d8f8103d08e1f461824cccc96b7a18948baf64a993b633e96faf6b8ba14c",
                "517dd1e8b36491be5b34606e89d3f22a9bcf89903f16090f0a74077a836134ca20302bdb5b57b1a8953b60908336254a",
                "0b46ede6a2551ebdeb954fb86f6fa6c0aadb2b7830fa94716f1c951d62e5da42c0ce994fd607eaeab598361be1aa63dc",
                "642826998c066103bd5d53724a5c16699c5fddeaf098ed726b4ca3ab2a3b4997f15e367455bc1d834d8700d7d3e65e42",
            ),
            signature: "xoPYUTbojHGy0JDU3Fxk7y7m3BDiGgBacYn6cBaZDW0=",
        }
    }

    fn b32(hex: &str) -> [u8; 32] {
        from_hex(hex).unwrap().try_into().unwrap()
    }

    fn check_kat(kat: &Kat) {
        let pool = pool_name(kat.pool_id).unwrap();
        let verifier = make_verifier(pool, kat.user, kat.password, &from_hex(kat.salt_hex).unwrap());
        assert_eq!(verifier.salt_hex(), kat.salt_hex);
        assert_eq!(to_hex(&minimal(&verifier.verifier)), kat.v_hex);
        let challenge = server_challenge(&verifier, &b32(kat.b_hex)).unwrap();
        assert_eq!(challenge.srp_b_hex(), kat.srp_b_hex);
        let a_secret = from_hex(kat.a_hex).unwrap();
        let srp_a_bytes = client_public_a(&a_secret).unwrap();
        assert_eq!(to_hex(&srp_a_bytes), kat.srp_a_hex);
        let srp_a = parse_srp_a(kat.srp_a_hex).unwrap();
        let block = encode_secret_block(kat.block);
        let ok = verify_password_claim(
            pool,
            kat.user,
            &verifier,
            &srp_a,
            &challenge,
            &block,
            kat.timestamp,
            kat.signature,
        );
        assert_eq!(ok, Ok(true));
        let sig = client_signature(
            pool,
            kat.user,
            kat.password,
            &verifier.salt,
            &a_secret,
            &challenge.srp_b,
            &block,
            kat.timestamp,
        )
        .unwrap();
        assert_eq!(sig, kat.signature);
    }

    #[test]
    fn known_answer_vector_1() {
        check_kat(&kat1());
    }

    #[test]
    fn known_answer_vector_2() {
        check_kat(&kat2());
    }

    #[test]
    fn k_matches_cognito() {
        // H(0x00 | N | 0x02), the constant every Cognito client computes.
        let n = from_hex(N_HEX).unwrap();
        let k = sha256(&[&pad(&n), &pad(&[G])]);
        assert_eq!(
            to_hex(&k),
            "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
        );
        assert_eq!(n.len(), N_BYTES);
    }

    #[test]
    fn pad_follows_pad_hex() {
        assert_eq!(pad(&[]), vec![0]);
        assert_eq!(pad(&[0, 0]), vec![0]);
        assert_eq!(pad(&[0x7f]), vec![0x7f]);
        assert_eq!(pad(&[0x80]), vec![0, 0x80]);
        assert_eq!(pad(&[0, 0, 0x80, 1]), vec![0, 0x80, 1]);
        assert_eq!(pad(&[0, 0x12, 0x34]), vec![0x12, 0x34]);
    }

    #[test]
    fn hex_codec() {
        assert_eq!(from_hex("0").unwrap(), vec![0]);
        assert_eq!(from_hex("abc").unwrap(), vec![0x0a, 0xbc]);
        assert_eq!(from_hex("ABCD").unwrap(), vec![0xab, 0xcd]);
        assert_eq!(from_hex(""), Err(SrpError::InvalidHex));
        assert_eq!(from_hex("0g"), Err(SrpError::InvalidHex));
        assert_eq!(from_hex("+1"), Err(SrpError::InvalidHex));
        assert_eq!(to_hex(&[0, 0x0a, 0xff]), "000aff");
        assert_eq!(pool_name("us-east-1_AbC"), Some("AbC"));
        assert_eq!(pool_name("nounderscore"), None);
    }

    #[test]
    fn salt_is_normalised_like_clients_parse_it() {
        // JS parses SALT as a BigInteger, so leading zero bytes vanish; make_verifier must hash
        // (and hand out) the same bytes.
        let a = make_verifier("P", "u", "pw", &[0, 0, 0x7f, 0, 0xff]);
        let b = make_verifier("P", "u", "pw", &[0x7f, 0, 0xff]);
        assert_eq!(a, b);
        assert_eq!(a.salt_hex(), "7f00ff");
        let hi = make_verifier("P", "u", "pw", &[0, 0x80]);
        assert_eq!(hi.salt, vec![0x80]);
        assert_eq!(make_verifier("P", "u", "pw", &[0, 0]).salt, vec![0]);
    }

    #[test]
    fn rejections() {
        let kat = kat1();
        let pool = pool_name(kat.pool_id).unwrap();
        let verifier = make_verifier(pool, kat.user, kat.password, &from_hex(kat.salt_hex).unwrap());
        let challenge = server_challenge(&verifier, &b32(kat.b_hex)).unwrap();
        let srp_a = parse_srp_a(kat.srp_a_hex).unwrap();
        let block = encode_secret_block(kat.block);
        let check = |user: &str, v: &Verifier, block: &str, ts: &str, sig: &str| {
            verify_password_claim(pool, user, v, &srp_a, &challenge, block, ts, sig)
        };
        assert_eq!(
            check(kat.user, &verifier, &block, kat.timestamp, kat.signature),
            Ok(true)
        );
        let wrong_pw = make_verifier(pool, kat.user, "wrong", &verifier.salt);
        assert_eq!(
            check(kat.user, &wrong_pw, &block, kat.timestamp, kat.signature),
            Ok(false)
        );
        assert_eq!(check("bob", &verifier, &block, kat.timestamp, kat.signature), Ok(false));
        let other_block = encode_secret_block(b"other");
        assert_eq!(
            check(kat.user, &verifier, &other_block, kat.timestamp, kat.signature),
            Ok(false)
        );
        assert_eq!(
            check(
                kat.user,
                &verifier,
                &block,
                "Tue Nov 3 05:04:02 UTC 2026",
                kat.signature
            ),
            Ok(false)
        );
        assert_eq!(
            check(kat.user, &verifier, &block, kat.timestamp, "not base64!"),
            Ok(false)
        );
        assert_eq!(check(kat.user, &verifier, &block, kat.timestamp, ""), Ok(false));
        assert_eq!(
            check(kat.user, &verifier, "***", kat.timestamp, kat.signature),
            Err(SrpError::InvalidSecretBlock)
        );
        // A different b (another challenge) does not verify the same signature.
        let other = server_challenge(&verifier, &[9; 32]).unwrap();
        assert_eq!(
            verify_password_claim(
                pool,
                kat.user,
                &verifier,
                &srp_a,
                &other,
                &block,
                kat.timestamp,
                kat.signature
            ),
            Ok(false)
        );
    }

    #[test]
    fn parse_srp_a_validation() {
        let n = from_hex(N_HEX).unwrap();
        assert_eq!(parse_srp_a("0"), Err(SrpError::IllegalA));
        assert_eq!(parse_srp_a("0000"), Err(SrpError::IllegalA));
        assert_eq!(parse_srp_a(N_HEX), Err(SrpError::IllegalA));
        assert_eq!(parse_srp_a(&to_hex(&n).to_lowercase()), Err(SrpError::IllegalA));
        let mut n_plus_1 = n.clone();
        *n_plus_1.last_mut().unwrap() = 0;
        // N ends in ...ff; N with last byte 00 is below N and fine; 2N is out of range.
        assert!(parse_srp_a(&to_hex(&n_plus_1)).is_ok());
        let mut two_n = vec![1];
        two_n.extend_from_slice(&[0; N_BYTES]);
        assert_eq!(parse_srp_a(&to_hex(&two_n)), Err(SrpError::IllegalA));
        assert_eq!(parse_srp_a(""), Err(SrpError::InvalidHex));
        assert_eq!(parse_srp_a("12z4"), Err(SrpError::InvalidHex));
        assert_eq!(parse_srp_a(&"1".repeat(5000)), Err(SrpError::IllegalA));
        // Odd length, upper case and leading zeros all denote the same A.
        let a1 = parse_srp_a("abc").unwrap();
        assert_eq!(parse_srp_a("0ABC").unwrap(), a1);
        assert_eq!(parse_srp_a("000000abc").unwrap(), a1);
        assert_eq!(a1.to_hex(), "0abc");
        assert_eq!(parse_srp_a("1").unwrap().to_bytes(), vec![1]);
    }

    #[test]
    fn server_challenge_validation() {
        let v = make_verifier("P", "u", "pw", &[1; 16]);
        assert_eq!(server_challenge(&v, &[0; 32]).unwrap_err(), SrpError::ZeroSecret);
        let bad = Verifier {
            salt: vec![1],
            verifier: vec![0; 10],
        };
        assert_eq!(server_challenge(&bad, &[1; 32]).unwrap_err(), SrpError::InvalidState);
        let bad = Verifier {
            salt: vec![1],
            verifier: from_hex(N_HEX).unwrap(),
        };
        assert_eq!(server_challenge(&bad, &[1; 32]).unwrap_err(), SrpError::InvalidState);
        // Debug output never shows secrets.
        let c = server_challenge(&v, &[1; 32]).unwrap();
        assert!(!format!("{c:?}").contains("0101010101"));
        assert!(format!("{v:?}").contains("redacted"));
    }

    #[test]
    fn device_config_round_trip() {
        let v = make_verifier("group", "device", "devpw", &[0xaa; 16]);
        let cfg = Verifier::from_device_config(&encode_secret_block(&v.salt), &encode_secret_block(&pad(&v.verifier)))
            .unwrap();
        assert_eq!(cfg, v);
        assert!(Verifier::from_device_config("", "AA==").is_err());
        assert!(Verifier::from_device_config("AA==", "AA==").is_err());
    }

    #[test]
    fn timestamp_format_and_parse() {
        let cases = [
            (0u64, "Thu Jan 1 00:00:00 UTC 1970"),
            (1_793_682_241, "Tue Nov 3 05:04:01 UTC 2026"),
            (1_709_251_199, "Thu Feb 29 23:59:59 UTC 2024"),
            (951_868_800, "Wed Mar 1 00:00:00 UTC 2000"),
            (1_672_531_200, "Sun Jan 1 00:00:00 UTC 2023"),
            (1_739_212_212, "Mon Feb 10 18:30:12 UTC 2025"),
            (253_402_300_799, "Fri Dec 31 23:59:59 UTC 9999"),
        ];
        for (t, s) in cases {
            assert_eq!(format_timestamp(t), s);
            assert_eq!(parse_timestamp(s), Some(t), "{s}");
        }
        assert_eq!(format_timestamp(u64::MAX), "Fri Dec 31 23:59:59 UTC 9999");
        // Round trip across the range.
        let mut t = 0u64;
        while t < 253_402_300_799 {
            assert_eq!(parse_timestamp(&format_timestamp(t)), Some(t));
            t += 7_777_777;
        }
        // Tolerated variants.
        assert_eq!(parse_timestamp("Tue Nov 03 05:04:01 UTC 2026"), Some(1_793_682_241));
        assert_eq!(parse_timestamp("Tue Nov  3 05:04:01 UTC 2026"), Some(1_793_682_241));
        assert_eq!(parse_timestamp("Tue Nov 3 5:4:1 UTC 2026"), Some(1_793_682_241));
        // Rejected.
        for bad in [
            "",
            "Tue Nov 3 05:04:01 GMT 2026",
            "Tue Nov 3 05:04:01 UTC",
            "Tue Nov 3 05:04:01 UTC 2026 x",
            "Xyz Nov 3 05:04:01 UTC 2026",
            "Tue Foo 3 05:04:01 UTC 2026",
            "Tue nov 3 05:04:01 UTC 2026",
            "Wed Feb 29 00:00:00 UTC 2023",
            "Tue Nov 31 05:04:01 UTC 2026",
            "Tue Nov 0 05:04:01 UTC 2026",
            "Tue Nov 3 24:00:00 UTC 2026",
            "Tue Nov 3 05:60:01 UTC 2026",
            "Tue Nov 3 05:04:60 UTC 2026",
            "Tue Nov 3 05:04 UTC 2026",
            "Tue Nov 3 05:04:01:00 UTC 2026",
            "Tue Nov 3 05:04:+1 UTC 2026",
            "Wed Dec 31 23:59:59 UTC 1969",
            "Tue Nov 3 05:04:01 UTC 20260",
            "Tue Nov 3 05:04:01 UTC 226",
            "2026-11-03T05:04:01Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
