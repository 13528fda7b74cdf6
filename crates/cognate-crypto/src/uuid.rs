//! Version-4 UUID text, the one home for the `8-4-4-4-12` layout (user `sub`s, token `jti`s,
//! KMS key ids). The caller supplies the random bytes so its injected randomness is used.

/// Formats 16 random bytes as a version-4 (RFC 9562, variant 10) UUID in lower-case hex.
#[must_use]
pub fn format_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = crate::hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn sets_version_and_variant() {
        assert_eq!(super::format_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(super::format_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }
}
