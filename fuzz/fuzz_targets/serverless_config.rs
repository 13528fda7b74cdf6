//! serverless.yml loading: YAML (with CloudFormation short-form tags), Serverless variables,
//! the schema check, the project model and packaging (`cognate_config::load`), plus
//! CloudFormation intrinsics (`cognate_config::eval`) over the parsed document. No input may
//! panic.
#![no_main]
use cognate_config::{EvalContext, LoadOptions, eval, parse_yaml};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A folder of this process's own, with a second file for `${file(./other.yml):key}`.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cognate-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the fuzz folder");
        std::fs::write(
            dir.join("other.yml"),
            "name: other\nlist: [1, 2]\nnested: {a: {b: c}}\n",
        )
        .expect("writing other.yml");
        dir
    })
}

fn options() -> LoadOptions {
    LoadOptions::default()
        .with_stage("dev")
        .with_env_map(BTreeMap::from([("HOME".to_owned(), "/home/fuzz".to_owned())]))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(doc) = parse_yaml(text) {
        let ctx = EvalContext::new("us-east-1", "123456789012");
        let resources = doc.pointer("/resources").cloned().unwrap_or_default();
        let ctx = ctx.with_template(&resources);
        let _ = eval(&doc, &ctx);
    }
    // `${file(...)}` reads files: keep the fuzzer away from devices that never end.
    if text.contains("/dev") || text.contains("/proc") || text.contains("/sys") {
        return;
    }
    let path = dir().join("serverless.yml");
    std::fs::write(&path, text).expect("writing serverless.yml");
    let _ = cognate_config::load(&path, &options());
});
