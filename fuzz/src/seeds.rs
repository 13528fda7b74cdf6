//! Seed inputs that need the harness to make them (valid signatures, ciphertexts, ids). A target
//! writes its seeds and exits when `COGNATE_FUZZ_WRITE_SEEDS` names a folder (scripts/fuzz
//! `--seeds`); otherwise [`write_if_asked`] does nothing.
use std::path::PathBuf;

/// Writes `seeds()` into `$COGNATE_FUZZ_WRITE_SEEDS/<target>/` and exits, when asked to.
pub fn write_if_asked(target: &str, seeds: impl FnOnce() -> Vec<(String, Vec<u8>)>) {
    let Some(root) = std::env::var_os("COGNATE_FUZZ_WRITE_SEEDS") else {
        return;
    };
    let dir = PathBuf::from(root).join(target);
    std::fs::create_dir_all(&dir).expect("creating the corpus folder");
    for (name, bytes) in seeds() {
        std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("writing a seed");
    }
    eprintln!("wrote seeds to {}", dir.display());
    std::process::exit(0);
}
