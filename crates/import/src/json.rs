//! A small cursor over parsed JSON that remembers its path, so that every shape error names the
//! file and the exact entry (`$["LINK"].mainnet.decimals`) and says how to fix it. Shared by the
//! JSON-based sources.

use std::path::Path;

use serde_json::{Map, Value};

use crate::{Error, Result};

/// Parses JSON text; a syntax error is located by line and column.
pub(crate) fn parse(file: &Path, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        let message = full
            .rfind(" at line ")
            .and_then(|i| full.get(..i))
            .unwrap_or(&full);
        Error::Syntax {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: format!("not valid JSON: {message}"),
            help:
                "the file is damaged or truncated: fetch it again from its source (see SOURCE.md)"
                    .to_owned(),
        }
    })
}

/// A JSON value and where it is.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    file: &'a Path,
    parent: Option<&'a Seg<'a>>,
    value: &'a Value,
}

/// One step of a path, linked to its parent, so that paths are only built for error messages.
pub(crate) struct Seg<'a> {
    parent: Option<&'a Seg<'a>>,
    key: &'a str,
    index: Option<usize>,
}

fn is_ident(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn render(seg: Option<&Seg<'_>>) -> String {
    let mut keys = Vec::new();
    let mut s = seg;
    while let Some(x) = s {
        keys.push((x.key, x.index));
        s = x.parent;
    }
    let mut out = String::from("$");
    for (k, i) in keys.into_iter().rev() {
        if let Some(i) = i {
            out.push_str(&format!("[{i}]"));
        } else if is_ident(k) {
            out.push('.');
            out.push_str(k);
        } else {
            out.push_str(&format!("[{}]", Value::String(k.to_owned())));
        }
    }
    out
}

/// The JSON type name of a value, for messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> At<'a> {
    /// The root of a document.
    pub(crate) fn root(file: &'a Path, value: &'a Value) -> Self {
        Self {
            file,
            parent: None,
            value,
        }
    }

    /// The path of this value, e.g. `$["$PAAL"].mainnet`.
    pub(crate) fn path(&self) -> String {
        render(self.parent)
    }

    /// An [`Error::Invalid`] at this value.
    pub(crate) fn error(&self, message: impl Into<String>, help: impl Into<String>) -> Error {
        Error::Invalid {
            file: self.file.to_owned(),
            at: self.path(),
            message: message.into(),
            help: help.into(),
        }
    }

    fn expected(&self, what: &str, help: &str) -> Error {
        self.error(
            format!("expected {what}, found {}", type_name(self.value)),
            help,
        )
    }

    /// The entries of an object, in key order.
    pub(crate) fn object(&self, help: &str) -> Result<&'a Map<String, Value>> {
        self.value
            .as_object()
            .ok_or_else(|| self.expected("an object", help))
    }

    /// Runs `f` on `value`, found under this value at `key` (an object's) or `index` (an
    /// array's), with its path.
    fn child<R>(
        &self,
        key: &str,
        index: Option<usize>,
        value: &Value,
        f: impl FnOnce(At<'_>) -> R,
    ) -> R {
        let seg = Seg {
            parent: self.parent,
            key,
            index,
        };
        f(At {
            file: self.file,
            parent: Some(&seg),
            value,
        })
    }

    /// Walks an object's entries, giving each value with its path.
    pub(crate) fn each<F>(&self, help: &str, mut f: F) -> Result<()>
    where
        F: FnMut(&str, At<'_>) -> Result<()>,
    {
        for (k, v) in self.object(help)? {
            self.child(k, None, v, |at| f(k, at))?;
        }
        Ok(())
    }

    /// The raw value.
    pub(crate) fn value(&self) -> &'a Value {
        self.value
    }

    /// Walks an array's items, giving each with its path (`…[3]`).
    pub(crate) fn items<F>(&self, help: &str, mut f: F) -> Result<()>
    where
        F: FnMut(usize, At<'_>) -> Result<()>,
    {
        let items = self
            .value
            .as_array()
            .ok_or_else(|| self.expected("an array", help))?;
        for (i, v) in items.iter().enumerate() {
            self.child("", Some(i), v, |at| f(i, at))?;
        }
        Ok(())
    }

    /// A non-negative integer that fits in `u32`.
    pub(crate) fn u32(&self, help: &str) -> Result<u32> {
        let x = self.u64(help)?;
        u32::try_from(x).map_err(|_| self.error(format!("{x} is too large here"), help))
    }

    /// Runs `f` on the field `key` if it is present and not null.
    pub(crate) fn opt<T, F>(&self, key: &str, f: F) -> Result<Option<T>>
    where
        F: FnOnce(At<'_>) -> Result<T>,
    {
        match self.value.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.child(key, None, v, f).map(Some),
        }
    }

    /// Runs `f` on the field `key`, which must be present.
    pub(crate) fn req<T, F>(&self, key: &str, help: &str, f: F) -> Result<T>
    where
        F: FnOnce(At<'_>) -> Result<T>,
    {
        if !self.value.is_object() {
            return Err(self.expected("an object", help));
        }
        self.opt(key, f)?
            .ok_or_else(|| self.error(format!("missing field `{key}`"), help))
    }

    /// A string.
    pub(crate) fn str(&self, help: &str) -> Result<&'a str> {
        self.value
            .as_str()
            .ok_or_else(|| self.expected("a string", help))
    }

    /// A boolean.
    pub(crate) fn bool(&self, help: &str) -> Result<bool> {
        self.value
            .as_bool()
            .ok_or_else(|| self.expected("true or false", help))
    }

    /// A non-negative integer, written as a JSON number or as a string of digits (as on-chain
    /// amounts are, to survive JavaScript). Returned as `f64`: these are risk figures, and the
    /// directory's amounts exceed `u64`.
    pub(crate) fn amount(&self, help: &str) -> Result<f64> {
        let digits = match self.value {
            Value::String(s) => s.as_str(),
            Value::Number(n) if n.is_u64() => {
                return n
                    .as_u64()
                    .map(|x| x as f64)
                    .ok_or_else(|| self.expected("an integer", help));
            }
            _ => return Err(self.expected("a non-negative integer (a string of digits)", help)),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.error(
                format!("expected a non-negative integer, found {:?}", digits),
                help,
            ));
        }
        digits
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| self.error(format!("the amount {digits} is too large"), help))
    }

    /// A non-negative integer that fits in `u64`, as a number or a string of digits.
    pub(crate) fn u64(&self, help: &str) -> Result<u64> {
        match self.value {
            Value::Number(n) => n.as_u64().ok_or_else(|| {
                self.error(format!("expected a non-negative integer, found {n}"), help)
            }),
            Value::String(s) => s
                .parse::<u64>()
                .ok()
                .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    self.error(
                        format!("expected a non-negative integer below 2^64, found {s:?}"),
                        help,
                    )
                }),
            _ => Err(self.expected("a non-negative integer", help)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_keys_that_are_not_identifiers() {
        let v: Value = serde_json::json!({"$PAAL": {"mainnet": {"decimals": "x"}}});
        let file = Path::new("tokens.json");
        let mut msg = String::new();
        At::root(file, &v)
            .each("", |_, t| {
                t.each("", |_, c| {
                    let e = c
                        .req("decimals", "", |d| d.u64("give decimals"))
                        .expect_err("a string is not a number");
                    msg = e.to_string();
                    Ok(())
                })
            })
            .expect("walks");
        assert_eq!(
            msg,
            "tokens.json: at $[\"$PAAL\"].mainnet.decimals: expected a non-negative integer below 2^64, found \"x\"\n  help: give decimals"
        );
    }

    #[test]
    fn amounts_accept_digit_strings_beyond_u64_and_reject_the_rest() {
        let file = Path::new("f.json");
        for (v, ok) in [
            (
                serde_json::json!("55000000000000002097152"),
                Some(55_000_000_000_000_002_097_152.0),
            ),
            (serde_json::json!(12), Some(12.0)),
            (serde_json::json!("-1"), None),
            (serde_json::json!("1e5"), None),
            (serde_json::json!(""), None),
            (serde_json::json!(1.5), None),
            (serde_json::json!(null), None),
        ] {
            assert_eq!(At::root(file, &v).amount("h").ok(), ok, "{v}");
        }
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let e = parse(Path::new("lanes.json"), "{\n  \"a\": [1,\n}").expect_err("bad json");
        let Error::Syntax { line, column, .. } = e else {
            panic!("{e}")
        };
        assert_eq!((line, column), (3, 1));
    }

    #[test]
    fn missing_field_names_the_field_and_its_parent() {
        let v = serde_json::json!({"mainnet": {}});
        let file = Path::new("chains.json");
        let e = At::root(file, &v)
            .each("", |_, c| {
                c.req("chainSelector", "add it", |s| s.u64("")).map(drop)
            })
            .expect_err("missing");
        assert_eq!(
            e.to_string(),
            "chains.json: at $.mainnet: missing field `chainSelector`\n  help: add it"
        );
    }
}
