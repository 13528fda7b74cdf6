//! Password hashing with argon2id, stored as PHC strings so parameters can be raised later.
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;

/// argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub m_cost: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl HashParams {
    /// OWASP's first listed argon2id configuration: m=19 MiB, t=2, p=1.
    pub const OWASP: HashParams = HashParams {
        m_cost: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };
    /// OWASP's m=7 MiB, t=5, p=1 configuration: the same protection by OWASP's reckoning and
    /// the fastest of its list on this hardware (~15 ms against ~21 ms), so it is the default.
    pub const OWASP_7MIB: HashParams = HashParams {
        m_cost: 7 * 1024,
        t_cost: 5,
        p_cost: 1,
    };

    /// Parses `m=KIB,t=N,p=N` (the PHC parameter syntax).
    pub fn parse(s: &str) -> Result<Self, PasswordError> {
        let mut p = HashParams {
            m_cost: 0,
            t_cost: 0,
            p_cost: 0,
        };
        for kv in s.split(',') {
            let (k, v) = kv.trim().split_once('=').ok_or(PasswordError::Malformed)?;
            let v: u32 = v.parse().map_err(|_| PasswordError::Malformed)?;
            match k {
                "m" => p.m_cost = v,
                "t" => p.t_cost = v,
                "p" => p.p_cost = v,
                _ => return Err(PasswordError::Malformed),
            }
        }
        Params::new(p.m_cost, p.t_cost, p.p_cost, Some(HASH_LEN)).map_err(|e| PasswordError::Params(e.to_string()))?;
        Ok(p)
    }
}

impl std::fmt::Display for HashParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "argon2id m={},t={},p={}", self.m_cost, self.t_cost, self.p_cost)
    }
}

impl Default for HashParams {
    fn default() -> Self {
        Self::OWASP_7MIB
    }
}

const HASH_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
    #[error("malformed password hash")]
    Malformed,
}

fn argon(params: HashParams) -> Result<Argon2<'static>, PasswordError> {
    let p = Params::new(params.m_cost, params.t_cost, params.p_cost, Some(HASH_LEN))
        .map_err(|e| PasswordError::Params(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
}

/// Hashes `password` with a caller-supplied 16-byte salt; returns a PHC string.
pub fn hash_password(password: &str, salt: &[u8], params: HashParams) -> Result<String, PasswordError> {
    let mut out = [0u8; HASH_LEN];
    argon(params)?
        .hash_password_into(password.as_bytes(), salt, &mut out)
        .map_err(|e| PasswordError::Params(e.to_string()))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost,
        params.t_cost,
        params.p_cost,
        B64.encode(salt),
        B64.encode(out)
    ))
}

/// Verifies `password` against a PHC string made by [`hash_password`], in constant time.
pub fn verify_password(password: &str, phc: &str) -> Result<bool, PasswordError> {
    let parts: Vec<&str> = phc.split('$').collect();
    // ["", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash]
    if parts.len() != 6 || parts[1] != "argon2id" || parts[2] != "v=19" {
        return Err(PasswordError::Malformed);
    }
    let mut params = HashParams {
        m_cost: 0,
        t_cost: 0,
        p_cost: 0,
    };
    for kv in parts[3].split(',') {
        let (k, v) = kv.split_once('=').ok_or(PasswordError::Malformed)?;
        let v: u32 = v.parse().map_err(|_| PasswordError::Malformed)?;
        match k {
            "m" => params.m_cost = v,
            "t" => params.t_cost = v,
            "p" => params.p_cost = v,
            _ => return Err(PasswordError::Malformed),
        }
    }
    let salt = B64.decode(parts[4]).map_err(|_| PasswordError::Malformed)?;
    let expected = B64.decode(parts[5]).map_err(|_| PasswordError::Malformed)?;
    let mut out = vec![0u8; expected.len()];
    let p = Params::new(params.m_cost, params.t_cost, params.p_cost, Some(expected.len()))
        .map_err(|e| PasswordError::Params(e.to_string()))?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
        .hash_password_into(password.as_bytes(), &salt, &mut out)
        .map_err(|e| PasswordError::Params(e.to_string()))?;
    Ok(crate::ct_eq(&out, &expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: HashParams = HashParams {
        m_cost: 64,
        t_cost: 1,
        p_cost: 1,
    };

    #[test]
    fn round_trip_and_wrong_password() {
        let phc = hash_password("Passw0rd!", b"0123456789abcdef", FAST).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(verify_password("Passw0rd!", &phc).unwrap());
        assert!(!verify_password("Passw0rd?", &phc).unwrap());
    }

    #[test]
    fn parameters_parse() {
        assert_eq!(HashParams::parse("m=19456,t=2,p=1").unwrap(), HashParams::OWASP);
        assert!(
            HashParams::parse("m=1,t=1,p=1").is_err(),
            "below argon2's minimum memory"
        );
        assert!(HashParams::parse("x=1").is_err());
        assert_eq!(HashParams::default().to_string(), "argon2id m=7168,t=5,p=1");
    }

    #[test]
    fn malformed_hash_is_an_error() {
        assert!(verify_password("x", "$bcrypt$whatever").is_err());
        assert!(verify_password("x", "$argon2id$v=19$m=64,t=1,p=1$!!$!!").is_err());
    }
}
