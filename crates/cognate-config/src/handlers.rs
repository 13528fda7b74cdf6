//! Whether each function's handler file exists. Serverless only finds out at deploy time (and
//! Lambda at the first invocation); Cognate warns at `validate` and at start, so a `handlr:` typo
//! does not surface as "Function not found" at the first sign-up.
use std::path::Path;

use serde_json::Value;

use crate::model::Project;

impl Project {
    /// One message per locally run function whose handler file is not in the service folder.
    /// Functions that `custom.cognate` sends to a remote Lambda endpoint are not checked.
    pub fn missing_handler_files(&self) -> Vec<String> {
        let custom = self.custom.get("cognate").unwrap_or(&Value::Null);
        let remote_by_default = custom.get("lambdaEndpoint").is_some_and(Value::is_string);
        self.functions
            .iter()
            .filter(|f| {
                let own = custom.get("functions").and_then(|fs| fs.get(&f.key));
                !remote_by_default && !own.and_then(|r| r.get("endpoint")).is_some_and(Value::is_string)
            })
            .filter_map(|f| {
                let handler = f.handler.as_deref()?;
                let runtime = f.runtime.as_deref().unwrap_or("nodejs");
                let expected = missing_handler_file(&self.service_dir, runtime, handler)?;
                Some(format!(
                    "function \"{}\": handler \"{handler}\" needs {expected} in {}, which does not exist",
                    f.key,
                    self.service_dir.display()
                ))
            })
            .collect()
    }
}

/// What the runtime would load for `handler` and cannot find, as a phrase; `None` when it
/// exists or the runtime is not one Cognate runs.
fn missing_handler_file(dir: &Path, runtime: &str, handler: &str) -> Option<String> {
    let exists = |p: &str| dir.join(p).exists();
    if runtime.starts_with("nodejs") {
        // Lambda's Node runtime: "path/to/file.export" loads path/to/file.{js,mjs,cjs} or a folder.
        let (folder, rest) = handler.rsplit_once('/').map_or(("", handler), |(d, r)| (d, r));
        let file = rest.split('.').next().unwrap_or(rest);
        let base = if folder.is_empty() {
            file.to_owned()
        } else {
            format!("{folder}/{file}")
        };
        let candidates = [format!("{base}.js"), format!("{base}.mjs"), format!("{base}.cjs")];
        if exists(&base) || candidates.iter().any(|c| exists(c)) {
            return None;
        }
        Some(format!("{}, {} or {}", candidates[0], candidates[1], candidates[2]))
    } else if runtime.starts_with("python") {
        // "pkg/module.function" or "pkg.module.function": the module is a .py file or a package.
        let module = handler.rsplit_once('.').map_or(handler, |(m, _)| m).replace('.', "/");
        let file = format!("{module}.py");
        if exists(&file) || exists(&module) {
            return None;
        }
        Some(file)
    } else if runtime.starts_with("provided") {
        if exists("bootstrap") || (!handler.is_empty() && dir.join(handler).is_file()) {
            return None;
        }
        Some("an executable named bootstrap".to_owned())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::missing_handler_file;

    #[test]
    fn handler_files_are_found_the_way_each_runtime_loads_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("src/py")).unwrap();
        std::fs::write(d.join("handler.mjs"), "").unwrap();
        std::fs::write(d.join("src/auth.cjs"), "").unwrap();
        std::fs::write(d.join("src/py/tokens.py"), "").unwrap();
        std::fs::write(d.join("bootstrap"), "").unwrap();

        assert_eq!(missing_handler_file(d, "nodejs20.x", "handler.preSignUp"), None);
        assert_eq!(missing_handler_file(d, "nodejs20.x", "src/auth.handler"), None);
        assert_eq!(
            missing_handler_file(d, "nodejs20.x", "handlr.preSignUp").as_deref(),
            Some("handlr.js, handlr.mjs or handlr.cjs")
        );
        assert_eq!(missing_handler_file(d, "python3.12", "src/py/tokens.handler"), None);
        assert_eq!(missing_handler_file(d, "python3.12", "src.py.tokens.handler"), None);
        assert_eq!(
            missing_handler_file(d, "python3.12", "tokens.handler").as_deref(),
            Some("tokens.py")
        );
        assert_eq!(missing_handler_file(d, "provided.al2023", "ignored"), None);
        assert_eq!(missing_handler_file(d, "java21", "com.example.Handler"), None);
    }
}
