//! Server-rendered HTML: escaping, the page frame, and form pieces. Every value that reaches a
//! page goes through [`esc`]; the pieces here are the only places markup is written.
//! Class names are Cognito's classic hosted UI ones (`…-customizable`), so CSS set with
//! SetUICustomization styles these pages as it styles Cognito's.

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const BASE_CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#16191f;background:#f2f3f3}
.background-customizable{min-height:100vh;display:flex;align-items:flex-start;justify-content:center;padding:48px 16px}
.modal-content{width:100%;max-width:400px;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,28,36,.3);overflow:hidden}
.banner-customizable{background:#232f3e;padding:20px 24px;text-align:center;color:#fff;font-weight:600;font-size:17px}
.logo-customizable{max-width:100%;max-height:80px}
.modal-body{padding:24px}
h1{font-size:20px;margin:0 0 16px}
.textDescription-customizable{font-size:14px;color:#545b64;margin:0 0 16px;line-height:1.45}
.label-customizable{display:block;font-size:14px;font-weight:600;margin:14px 0 6px}
.inputField-customizable{width:100%;padding:9px 10px;font-size:15px;border:1px solid #aab7b8;border-radius:4px}
.inputField-customizable:focus{outline:2px solid #0073bb;border-color:#0073bb}
.submitButton-customizable{width:100%;margin-top:20px;padding:10px;font-size:15px;font-weight:600;color:#fff;background:#0073bb;border:0;border-radius:4px;cursor:pointer}
.submitButton-customizable:hover{background:#005a94}
.secondaryButton{width:100%;margin-top:10px;padding:8px;font-size:14px;color:#0073bb;background:#fff;border:1px solid #0073bb;border-radius:4px;cursor:pointer}
.errorMessage-customizable{background:#fdf3f1;border:1px solid #d13212;color:#b0210e;border-radius:4px;padding:10px 12px;font-size:14px;margin:0 0 12px}
.infoMessage{background:#f1faff;border:1px solid #0073bb;color:#0b4f7c;border-radius:4px;padding:10px 12px;font-size:14px;margin:0 0 12px}
.redirect-customizable{color:#0073bb;text-decoration:none}
.redirect-customizable:hover{text-decoration:underline}
.idpButton-customizable{display:block;margin:0 0 10px;padding:10px;text-align:center;font-size:15px;font-weight:600;color:#16191f;background:#fff;border:1px solid #aab7b8;border-radius:4px;text-decoration:none}
.idpButton-customizable:hover{background:#f2f3f3}
.links{margin-top:18px;font-size:14px;display:flex;justify-content:space-between;flex-wrap:wrap;gap:8px}
.legalText-customizable{font-size:12px;color:#687078;text-align:center;padding:0 24px 18px}
.choice{display:flex;align-items:center;gap:8px;margin:10px 0;font-size:15px}
.qr{display:flex;justify-content:center;margin:12px 0}
.qr svg{width:200px;height:200px}
.secret{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;word-break:break-all;background:#f2f3f3;padding:8px;border-radius:4px}
"#;

/// How a page looks: the pool's UI customization (CSS and logo), if any.
#[derive(Debug, Clone, Default)]
pub struct Look {
    /// The banner's text when there is no logo (the pool's name).
    pub title: Option<String>,
    pub css: Option<String>,
    /// A `data:` URL of the logo.
    pub logo: Option<String>,
}

/// A whole page: the frame around `body` (already escaped markup).
pub fn page(title: &str, look: &Look, body: &str) -> String {
    let banner = match &look.logo {
        Some(src) => format!(r#"<img class="logo-customizable" src="{}" alt="Logo">"#, esc(src)),
        None => esc(look.title.as_deref().unwrap_or("Sign in")),
    };
    // Customer CSS is placed in a style element: `</` is neutralised so it cannot close it.
    let custom = look
        .css
        .as_deref()
        .map(|c| format!("<style>{}</style>", c.replace("</", "<\\/")))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title}</title><link rel="icon" href="data:,"><style>{BASE_CSS}</style>{custom}</head>
<body><div class="background-customizable"><div class="modal-content">
<div class="banner-customizable">{banner}</div>
<div class="modal-body">{body}</div>
<div class="legalText-customizable">Served by Cognate</div>
</div></div></body></html>"#,
        title = esc(title),
    )
}

pub fn heading(text: &str) -> String {
    format!("<h1>{}</h1>", esc(text))
}

pub fn description(text: &str) -> String {
    format!(r#"<p class="textDescription-customizable">{}</p>"#, esc(text))
}

pub fn error(text: Option<&str>) -> String {
    text.map(|t| {
        format!(
            r#"<p class="errorMessage-customizable" role="alert" id="errorMessage">{}</p>"#,
            esc(t)
        )
    })
    .unwrap_or_default()
}

pub fn info(text: Option<&str>) -> String {
    text.map(|t| format!(r#"<p class="infoMessage" role="status">{}</p>"#, esc(t)))
        .unwrap_or_default()
}

/// A labelled input. `kind` is the input type; `value` pre-fills it.
pub fn field(name: &str, label: &str, kind: &str, value: Option<&str>, extra: &str) -> String {
    let id = format!("f_{}", name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    let value = value.map(|v| format!(r#" value="{}""#, esc(v))).unwrap_or_default();
    format!(
        r#"<label class="label-customizable" for="{id}">{label}</label><input id="{id}" class="inputField-customizable" name="{name}" type="{kind}"{value} {extra}>"#,
        label = esc(label),
        name = esc(name),
        kind = esc(kind),
    )
}

pub fn hidden(name: &str, value: &str) -> String {
    format!(r#"<input type="hidden" name="{}" value="{}">"#, esc(name), esc(value))
}

/// A POST form to `action` (a relative URL with the authorize parameters), carrying the CSRF
/// token, with a submit button named `submit_name`.
pub fn form(action: &str, csrf: &str, inner: &str, submit_name: &str, submit_label: &str) -> String {
    format!(
        r#"<form method="post" action="{action}" novalidate>{csrf}{inner}<input class="submitButton-customizable" type="submit" name="{name}" value="{label}"></form>"#,
        action = esc(action),
        csrf = hidden("_csrf", csrf),
        name = esc(submit_name),
        label = esc(submit_label),
    )
}

pub fn link(href: &str, text: &str) -> String {
    format!(
        r#"<a class="redirect-customizable" href="{}">{}</a>"#,
        esc(href),
        esc(text)
    )
}

/// A second submit button of the same form, posting it to another action (`formaction`), so
/// it sends what the user typed in the form's fields.
pub fn secondary_submit(action: &str, name: &str, label: &str) -> String {
    format!(
        r#"<input class="secondaryButton" type="submit" formaction="{}" name="{}" value="{}">"#,
        esc(action),
        esc(name),
        esc(label)
    )
}

pub fn links(items: &[String]) -> String {
    format!(r#"<div class="links">{}</div>"#, items.join(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_both_quotes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn custom_css_cannot_close_its_style_element() {
        let look = Look {
            css: Some(".a{}</style><script>alert(1)</script>".into()),
            ..Look::default()
        };
        let html = page("t", &look, "");
        assert!(!html.contains("</style><script>"));
    }
}
