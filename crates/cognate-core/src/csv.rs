//! Reading CSV (RFC 4180): fields separated by commas, optionally quoted with `"` (a quote
//! inside a quoted field doubled), records ended by CRLF or LF. Enough for user import files.

/// The records of `text`; `Err` names the record (1-based) where a quoted field never ends.
pub fn records(text: &str) -> Result<Vec<Vec<String>>, usize> {
    let mut out = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    let mut quoted = false;
    let mut field_started = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if !field_started => {
                quoted = true;
                field_started = true;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                field_started = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                field_started = false;
                out.push(std::mem::take(&mut record));
            }
            _ => {
                field.push(c);
                field_started = true;
            }
        }
    }
    if quoted {
        return Err(out.len() + 1);
    }
    if field_started || !field.is_empty() || !record.is_empty() {
        record.push(field);
        out.push(record);
    }
    // Blank lines are not records.
    out.retain(|r| !(r.len() == 1 && r[0].is_empty()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::records;

    #[test]
    fn reads_quoted_fields_and_both_line_ends() {
        let text = "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\n\nlast,\"multi\nline\",z";
        assert_eq!(
            records(text).unwrap(),
            vec![
                vec!["a", "b", "c"],
                vec!["x, y", "say \"hi\"", ""],
                vec!["last", "multi\nline", "z"],
            ]
        );
    }

    #[test]
    fn an_unclosed_quote_names_its_record() {
        assert_eq!(records("a,b\n\"open,c\n"), Err(2));
    }
}
