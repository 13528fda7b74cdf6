//! HTTPS: the server's rustls configuration, from PEM files (`--tls-cert`, `--tls-key`) or from
//! the development certificate authority of `--tls-dev`, which is made once, kept in a folder
//! (`ca.pem` is what users trust) and signs a server certificate for this machine's names that
//! is renewed before it expires.
use anyhow::{Context, anyhow};
use cognate_core::rng::Random;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where the server's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// A certificate chain (the server's certificate first) and its private key, PEM files.
    Files { cert: PathBuf, key: PathBuf },
    /// A development certificate authority kept in `dir`, made on first use. `None`: `DATA/tls`
    /// with [`crate::Storage::Data`], else `$XDG_DATA_HOME/cognate/tls` (or
    /// `~/.local/share/cognate/tls`).
    Development { dir: Option<PathBuf> },
}

/// The certificate file users trust, in a development CA's folder.
pub const DEV_CA_FILE: &str = "ca.pem";
const DEV_CA_KEY: &str = "ca-key.pem";
const DEV_CERT: &str = "localhost.pem";
const DEV_KEY: &str = "localhost-key.pem";
/// The CA outlives many server certificates; it is made once because users import it.
const CA_DAYS: i64 = 3650;
/// Within the 825 days Apple's platforms accept for certificates of user-installed CAs.
const CERT_DAYS: i64 = 397;
/// A server certificate with less left than this is replaced at start.
const RENEW_DAYS: i64 = 30;
const DAY: i64 = 86_400;

/// The names every development certificate is for.
pub(crate) const DEV_NAMES: &[&str] = &["localhost", "*.localhost", "127.0.0.1", "::1"];

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The server configuration of a certificate chain and key in PEM files; errors name the file.
pub(crate) fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let cert_pem = std::fs::read(cert).with_context(|| format!("reading the TLS certificate {}", cert.display()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("the TLS certificate {} is not PEM: {e}", cert.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "the TLS certificate {} holds no `-----BEGIN CERTIFICATE-----` block",
        cert.display()
    );
    let key_pem = std::fs::read(key).with_context(|| format!("reading the TLS key {}", key.display()))?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        anyhow!(
            "the TLS key {} holds no PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
            key.display()
        )
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => anyhow!(
                "the TLS key {} does not belong to the certificate {}",
                key.display(),
                cert.display()
            ),
            e => anyhow!(
                "the TLS certificate {} and key {} cannot be used: {e}",
                cert.display(),
                key.display()
            ),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The development CA's folder when none is given: `DATA/tls` beside a data folder, else the
/// user's data folder (`$XDG_DATA_HOME`, or `~/.local/share`), `cognate/tls`.
pub(crate) fn default_dev_dir(data: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(data) = data {
        return Ok(data.join("tls"));
    }
    let xdg = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = match xdg {
        Some(p) => p,
        None => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".local/share"))
            .context("--tls-dev keeps its CA in $XDG_DATA_HOME or ~/.local/share, and neither HOME nor XDG_DATA_HOME is set: use --data")?,
    };
    Ok(base.join("cognate").join("tls"))
}

/// A development CA ready to serve: its server configuration and the CA file users trust.
pub(crate) struct DevCertificate {
    pub config: Arc<rustls::ServerConfig>,
    pub ca_file: PathBuf,
}

/// Makes (first start) or reuses the development CA in `dir`, and the server certificate it
/// signs for [`DEV_NAMES`] and `extra_names`; the latter is (re)issued when it is missing, is
/// not for every name, was signed by another CA, or expires within [`RENEW_DAYS`] of `now`
/// (seconds since the epoch).
pub(crate) fn development(
    dir: &Path,
    extra_names: &[String],
    now: i64,
    random: &dyn Random,
) -> anyhow::Result<DevCertificate> {
    private_dir(dir)?;
    let ca_path = dir.join(DEV_CA_FILE);
    let ca_key_path = dir.join(DEV_CA_KEY);
    let (ca_pem, ca_key) = match (read_optional(&ca_path)?, read_optional(&ca_key_path)?) {
        (Some(cert), Some(key)) => {
            let key = KeyPair::from_pem(&key).map_err(|e| anyhow!("{}: {e}", ca_key_path.display()))?;
            (cert, key)
        }
        (None, None) => {
            let key = KeyPair::generate().context("generating the development CA's key")?;
            let mut params = ca_params();
            set_validity(&mut params, now, CA_DAYS);
            params.serial_number = Some(serial(random));
            let cert = params.self_signed(&key).context("signing the development CA")?;
            write_file(&ca_key_path, key.serialize_pem().as_bytes(), true)?;
            write_file(&ca_path, cert.pem().as_bytes(), false)?;
            tracing::info!(ca = %ca_path.display(), "made a development certificate authority");
            (cert.pem(), key)
        }
        (Some(_), None) | (None, Some(_)) => anyhow::bail!(
            "{} must hold both {DEV_CA_FILE} and {DEV_CA_KEY}: remove the folder to make a new development CA \
             (and trust the new {DEV_CA_FILE})",
            dir.display()
        ),
    };
    let ca_der = CertificateDer::from_pem_slice(ca_pem.as_bytes())
        .map_err(|e| anyhow!("{} is not a PEM certificate: {e}", ca_path.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(ca_der)
        .map_err(|e| anyhow!("{} cannot be a trust anchor: {e}", ca_path.display()))?;
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .context("a verifier for the development CA")?;
    let mut names: Vec<String> = DEV_NAMES.iter().map(|n| (*n).to_owned()).collect();
    for n in extra_names {
        let n = n
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if !n.is_empty() && !names.contains(&n) && ServerName::try_from(n.as_str()).is_ok() {
            names.push(n);
        }
    }
    let cert_path = dir.join(DEV_CERT);
    let key_path = dir.join(DEV_KEY);
    let renew_at = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(now + RENEW_DAYS * DAY).unwrap_or(0)));
    if !serves_names(&verifier, &cert_path, &names, renew_at) {
        let key = KeyPair::generate().context("generating the development server key")?;
        let mut params = CertificateParams::new(names.clone()).context("the development certificate's names")?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Cognate development");
        dn.push(DnType::CommonName, "localhost");
        params.distinguished_name = dn;
        set_validity(&mut params, now, CERT_DAYS);
        params.serial_number = Some(serial(random));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let issuer = Issuer::new(ca_params(), &ca_key);
        let cert = params
            .signed_by(&key, &issuer)
            .context("signing the development certificate")?;
        write_file(&key_path, key.serialize_pem().as_bytes(), true)?;
        write_file(&cert_path, cert.pem().as_bytes(), false)?;
        anyhow::ensure!(
            serves_names(&verifier, &cert_path, &names, renew_at),
            "the development CA in {} cannot sign a usable certificate ({DEV_CA_KEY} does not belong to \
             {DEV_CA_FILE}, or the CA expires within {RENEW_DAYS} days): remove the folder to make a new one \
             (and trust the new {DEV_CA_FILE})",
            dir.display()
        );
        tracing::info!(cert = %cert_path.display(), names = ?names, "issued a development server certificate");
    }
    Ok(DevCertificate {
        config: server_config(&cert_path, &key_path)?,
        ca_file: ca_path,
    })
}

/// The development CA's name, usages and key identifier method: what a certificate it signs
/// names as its issuer (the same every start, so a CA read back from its files signs alike).
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Cognate development");
    dn.push(DnType::CommonName, "Cognate Development CA");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// Whether the certificate in `path` chains to the CA and is valid for every name at `at`.
fn serves_names(verifier: &rustls::client::WebPkiServerVerifier, path: &Path, names: &[String], at: UnixTime) -> bool {
    let Ok(pem) = std::fs::read(path) else { return false };
    let Ok(chain) = CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>() else {
        return false;
    };
    let Some((leaf, intermediates)) = chain.split_first() else {
        return false;
    };
    // Wildcards are not checked: webpki (like many browsers) refuses second-level ones such as
    // `*.localhost`, which some clients (curl, Node) accept.
    names.iter().filter(|n| !n.starts_with('*')).all(|name| {
        let verified = ServerName::try_from(name.as_str())
            .map_err(|e| e.to_string())
            .and_then(|sn| {
                verifier
                    .verify_server_cert(leaf, intermediates, &sn, &[], at)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = &verified {
            tracing::debug!(cert = %path.display(), name, error = %e, "the development certificate does not serve this name");
        }
        verified.is_ok()
    })
}

/// Valid from the day before `now` (seconds since the epoch; a client's clock may be behind)
/// for `days` days, whole days in UTC.
fn set_validity(params: &mut CertificateParams, now: i64, days: i64) {
    let date = |secs: i64| {
        let (y, m, d) = cognate_crypto::calendar::civil_from_days(secs.div_euclid(DAY));
        rcgen::date_time_ymd(
            i32::try_from(y).unwrap_or(1970),
            u8::try_from(m).unwrap_or(1),
            u8::try_from(d).unwrap_or(1),
        )
    };
    params.not_before = date(now - DAY);
    params.not_after = date(now + days * DAY);
}

/// A positive 16-byte serial number.
fn serial(random: &dyn Random) -> SerialNumber {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes);
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::from_slice(&bytes)
}

fn read_optional(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Creates `dir` (and missing parents) readable by its owner only.
fn private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Writes `path` whole or not at all (a temporary file renamed over it); `private`: mode 0600.
fn write_file(path: &Path, data: &[u8], private: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("pem.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cognate_core::rng::OsRandom;

    const NOW: i64 = 1_780_000_000; // 2026-05-28

    fn read(dir: &Path, name: &str) -> Vec<u8> {
        std::fs::read(dir.join(name)).unwrap()
    }

    #[test]
    fn the_ca_is_made_once_and_the_server_certificate_renewed_near_its_expiry() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tls");
        let first = development(&dir, &[], NOW, &OsRandom).unwrap();
        assert_eq!(first.ca_file, dir.join(DEV_CA_FILE));
        let (ca, leaf, key) = (read(&dir, DEV_CA_FILE), read(&dir, DEV_CERT), read(&dir, DEV_KEY));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for name in [DEV_CA_KEY, DEV_KEY] {
                let mode = std::fs::metadata(dir.join(name)).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{name}");
            }
        }

        // A month later: same CA, same server certificate.
        development(&dir, &[], NOW + 30 * DAY, &OsRandom).unwrap();
        assert_eq!(read(&dir, DEV_CA_FILE), ca);
        assert_eq!(read(&dir, DEV_CERT), leaf);

        // Within RENEW_DAYS of the server certificate's end: a new one, from the same CA.
        let late = NOW + (CERT_DAYS - RENEW_DAYS + 2) * DAY;
        development(&dir, &[], late, &OsRandom).unwrap();
        assert_eq!(read(&dir, DEV_CA_FILE), ca);
        assert_ne!(read(&dir, DEV_CERT), leaf);
        assert_ne!(read(&dir, DEV_KEY), key);
        let renewed = read(&dir, DEV_CERT);

        // A new name (an --allowed-host) gets a certificate that names it too.
        development(&dir, &["cognate".to_owned(), "[::1]".to_owned()], late, &OsRandom).unwrap();
        assert_ne!(read(&dir, DEV_CERT), renewed);
        assert_eq!(read(&dir, DEV_CA_FILE), ca);
    }

    #[test]
    fn a_ca_without_its_key_or_a_mismatched_key_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tls");
        development(&dir, &[], NOW, &OsRandom).unwrap();
        std::fs::remove_file(dir.join(DEV_CA_KEY)).unwrap();
        let err = development(&dir, &[], NOW, &OsRandom).err().unwrap().to_string();
        assert!(err.contains("must hold both ca.pem and ca-key.pem"), "{err}");

        // Another key in ca-key.pem cannot sign for ca.pem: the start stops with what to do.
        std::fs::write(dir.join(DEV_CA_KEY), KeyPair::generate().unwrap().serialize_pem()).unwrap();
        std::fs::remove_file(dir.join(DEV_CERT)).unwrap();
        let err = development(&dir, &[], NOW, &OsRandom).err().unwrap().to_string();
        assert!(err.contains("cannot sign a usable certificate"), "{err}");
    }
}
