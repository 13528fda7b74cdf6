//! TOTP (RFC 6238) as Cognito's software-token MFA uses it.
//!
//! * Secrets are 160 bits (20 random bytes from the caller), handed out by
//!   `AssociateSoftwareToken` as `SecretCode`: RFC 4648 base32, upper case, no padding — the
//!   form authenticator apps, pyotp and `otpauth://` URIs accept.
//! * HMAC-SHA1, 6 digits, 30-second steps from the Unix epoch (T0 = 0).
//! * [`verify`] accepts the current step and `window_steps` steps either side; Cognito-style
//!   verification uses [`DEFAULT_WINDOW`] = 1, i.e. codes from 30 s before to 30 s after the
//!   current step are accepted (a code is valid for up to 90 s in total). It returns the step
//!   that matched so the caller can store it and refuse a code for the same or an earlier step
//!   (replay protection, RFC 6238 §5.2).
//!
//! No clock is read here: callers pass the current Unix time.

use std::fmt;

use aws_lc_rs::hmac;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Number of digits in a Cognito TOTP code.
pub const DIGITS: u32 = 6;
/// Length of a time step in seconds.
pub const STEP_SECS: u64 = 30;
/// Steps of clock skew accepted on either side of the current step by default.
pub const DEFAULT_WINDOW: u64 = 1;
/// Secret length in bytes (160 bits, RFC 4226's recommendation and what authenticators expect).
pub const SECRET_LEN: usize = 20;

const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Errors from the TOTP functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpError {
    /// The secret is not valid base32 (or decodes to nothing).
    InvalidSecret,
}

impl fmt::Display for TotpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TotpError::InvalidSecret => f.write_str("invalid TOTP secret"),
        }
    }
}

impl std::error::Error for TotpError {}

/// RFC 4648 base32 (upper case) without `=` padding.
#[must_use]
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32_ALPHABET[((buffer >> bits) & 31) as usize]));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(BASE32_ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes RFC 4648 base32 leniently, as authenticator apps do: case-insensitive, ignores
/// spaces, hyphens and trailing `=` padding.
///
/// # Errors
/// [`TotpError::InvalidSecret`] for any other character, a `=` followed by data, or an empty
/// result.
pub fn base32_decode(text: &str) -> Result<Zeroizing<Vec<u8>>, TotpError> {
    let mut out = Zeroizing::new(Vec::with_capacity(text.len() * 5 / 8));
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    let mut padding = false;
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            b' ' | b'-' => continue,
            b'=' => {
                padding = true;
                continue;
            }
            _ => return Err(TotpError::InvalidSecret),
        };
        if padding {
            return Err(TotpError::InvalidSecret);
        }
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
        buffer &= (1 << bits) - 1;
    }
    if out.is_empty() {
        return Err(TotpError::InvalidSecret);
    }
    Ok(out)
}

/// Encodes 20 random bytes as a `SecretCode` (32 base32 characters, no padding).
#[must_use]
pub fn generate_secret(random20: &[u8; SECRET_LEN]) -> String {
    base32_encode(random20)
}

/// RFC 4226 HOTP value for `counter`, truncated to `digits` decimal digits (1..=9).
fn hotp(key: &hmac::Key, counter: u64, digits: u32) -> u32 {
    let tag = hmac::sign(key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([mac[offset], mac[offset + 1], mac[offset + 2], mac[offset + 3]]) & 0x7fff_ffff;
    binary % 10u32.pow(digits)
}

fn format_code(value: u32, digits: u32) -> String {
    format!("{value:0width$}", width = digits as usize)
}

fn key_from_secret(secret_b32: &str) -> Result<hmac::Key, TotpError> {
    let secret = base32_decode(secret_b32)?;
    Ok(hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &secret))
}

/// The time step containing `epoch_secs`.
#[must_use]
pub fn step_at(epoch_secs: u64) -> u64 {
    epoch_secs / STEP_SECS
}

/// The 6-digit code for `epoch_secs`.
///
/// # Errors
/// [`TotpError::InvalidSecret`] if the secret is not base32.
pub fn code_at(secret_b32: &str, epoch_secs: u64) -> Result<String, TotpError> {
    code_at_with_digits(secret_b32, epoch_secs, DIGITS)
}

/// The code for `epoch_secs` with a given number of digits (1..=9; RFC 6238's test vectors
/// use 8).
///
/// # Errors
/// [`TotpError::InvalidSecret`] if the secret is not base32.
///
/// # Panics
/// If `digits` is not in `1..=9`.
pub fn code_at_with_digits(secret_b32: &str, epoch_secs: u64, digits: u32) -> Result<String, TotpError> {
    assert!((1..=9).contains(&digits), "digits must be 1..=9");
    let key = key_from_secret(secret_b32)?;
    Ok(format_code(hotp(&key, step_at(epoch_secs), digits), digits))
}

/// Verifies a 6-digit code at `epoch_secs`, accepting the current step and up to
/// `window_steps` steps before and after it (use [`DEFAULT_WINDOW`]).
///
/// Returns the matched time step, or `None` if the code is wrong, not exactly 6 ASCII digits,
/// or the secret is invalid. The caller should persist the returned step and reject a later
/// verification whose step is `<=` the stored one, so that a code cannot be used twice.
///
/// Every candidate step is computed and compared in constant time; when (improbably) more
/// than one step matches, the one closest to the current step wins, earlier first.
#[must_use]
pub fn verify(secret_b32: &str, code: &str, epoch_secs: u64, window_steps: u64) -> Option<u64> {
    verify_with_digits(secret_b32, code, epoch_secs, window_steps, DIGITS)
}

fn verify_with_digits(secret_b32: &str, code: &str, epoch_secs: u64, window_steps: u64, digits: u32) -> Option<u64> {
    if code.len() != digits as usize || !code.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let key = key_from_secret(secret_b32).ok()?;
    let current = step_at(epoch_secs);
    // Candidates ordered by distance from the current step, earlier before later.
    let mut candidates = vec![current];
    for d in 1..=window_steps {
        if let Some(earlier) = current.checked_sub(d) {
            candidates.push(earlier);
        }
        if let Some(later) = current.checked_add(d) {
            candidates.push(later);
        }
    }
    let mut matched: Option<u64> = None;
    for step in candidates {
        let expected = format_code(hotp(&key, step, digits), digits);
        let equal: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        if equal && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

/// Percent-encodes for an `otpauth://` label or query value (RFC 3986 unreserved kept).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The Key URI (`otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30`)
/// that authenticator apps scan as a QR code.
#[must_use]
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let issuer_enc = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer_enc}:{}?secret={}&issuer={issuer_enc}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent_encode(account),
        percent_encode(secret_b32),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_sha1_vectors() {
        let secret = base32_encode(RFC_SECRET);
        assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let vectors = [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (t, expected) in vectors {
            assert_eq!(code_at_with_digits(&secret, t, 8).unwrap(), expected, "T={t}");
            assert_eq!(verify_with_digits(&secret, expected, t, 0, 8), Some(t / 30));
        }
    }

    #[test]
    fn rfc4226_hotp_vectors() {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, RFC_SECRET);
        let expected = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871, 520_489,
        ];
        for (counter, value) in expected.iter().enumerate() {
            assert_eq!(hotp(&key, counter as u64, 6), *value);
        }
    }

    #[test]
    fn six_digit_codes_are_zero_padded_truncations() {
        let secret = base32_encode(RFC_SECRET);
        // The 8-digit RFC value 07081804 truncated to 6 digits is 081804.
        assert_eq!(code_at(&secret, 1_111_111_109).unwrap(), "081804");
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
    }

    #[test]
    fn base32_round_trip() {
        for len in 0..=40usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + len * 11) as u8).collect();
            let text = base32_encode(&bytes);
            assert!(!text.contains('='));
            if len == 0 {
                assert!(base32_decode(&text).is_err());
            } else {
                assert_eq!(base32_decode(&text).unwrap().as_slice(), bytes.as_slice());
                assert_eq!(
                    base32_decode(&text.to_lowercase()).unwrap().as_slice(),
                    bytes.as_slice()
                );
            }
        }
        // RFC 4648 §10 vectors.
        for (plain, enc) in [
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), enc);
            assert_eq!(base32_decode(enc).unwrap().as_slice(), plain.as_bytes());
        }
        assert_eq!(base32_decode("MZXW6YQ=").unwrap().as_slice(), b"foob");
        assert_eq!(base32_decode("mzxw 6yq").unwrap().as_slice(), b"foob");
        assert!(base32_decode("MZXW1").is_err());
        assert!(base32_decode("MZ=XW").is_err());
    }

    #[test]
    fn generated_secret_is_32_chars() {
        let s = generate_secret(&[0xA5; 20]);
        assert_eq!(s.len(), 32);
        assert!(s.bytes().all(|c| BASE32_ALPHABET.contains(&c)));
        assert_eq!(base32_decode(&s).unwrap().as_slice(), &[0xA5; 20]);
    }

    #[test]
    fn verify_window_and_step() {
        let secret = generate_secret(&[7; 20]);
        let now = 1_700_000_015; // step 56_666_667
        let step = step_at(now);
        let code_now = code_at(&secret, now).unwrap();
        let code_prev = code_at(&secret, now - 30).unwrap();
        let code_next = code_at(&secret, now + 30).unwrap();
        let code_old = code_at(&secret, now - 60).unwrap();
        assert_eq!(verify(&secret, &code_now, now, DEFAULT_WINDOW), Some(step));
        assert_eq!(verify(&secret, &code_prev, now, DEFAULT_WINDOW), Some(step - 1));
        assert_eq!(verify(&secret, &code_next, now, DEFAULT_WINDOW), Some(step + 1));
        if code_old != code_now && code_old != code_prev && code_old != code_next {
            assert_eq!(verify(&secret, &code_old, now, DEFAULT_WINDOW), None);
            assert_eq!(verify(&secret, &code_old, now, 2), Some(step - 2));
        }
        assert_eq!(verify(&secret, &code_prev, now, 0), None);
        // Malformed codes.
        assert_eq!(verify(&secret, "12345", now, 1), None);
        assert_eq!(verify(&secret, "1234567", now, 1), None);
        assert_eq!(verify(&secret, "12a456", now, 1), None);
        assert_eq!(verify(&secret, &format!(" {code_now}"), now, 1), None);
        assert_eq!(verify("not base32!", &code_now, now, 1), None);
        // Window at the epoch does not underflow.
        let c0 = code_at(&secret, 0).unwrap();
        assert_eq!(verify(&secret, &c0, 0, 1), Some(0));
    }

    #[test]
    fn otpauth_uri_format() {
        let uri = otpauth_uri("My Pool", "alice@example.com", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            uri,
            "otpauth://totp/My%20Pool:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=My%20Pool&algorithm=SHA1&digits=6&period=30"
        );
    }
}
