//! Located diagnostics: every problem in a user's file names the file, the line and column, the
//! entity, what is wrong and how to fix it.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A source file kept in memory so that byte spans can be turned into lines and columns.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as the user gave it.
    pub path: PathBuf,
    /// The whole text of the file.
    pub text: Arc<str>,
    /// Byte offset of the start of every line.
    line_starts: Arc<[usize]>,
}

impl SourceFile {
    /// Wraps a file's text.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect::<Vec<_>>()
            .into();
        Self {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// One-based line and column (in characters) of a byte offset; offsets past the end map to
    /// the end of the file.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// A diagnostic located at `span` in this file.
    pub fn diagnostic(
        &self,
        span: Option<Range<usize>>,
        entity: Option<&str>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Diagnostic {
        let (line, column) = span.map_or((0, 0), |s| self.line_col(s.start));
        Diagnostic {
            file: self.path.clone(),
            line,
            column,
            entity: entity.map(str::to_owned),
            message: message.into(),
            help: help.into(),
        }
    }
}

/// One problem in an input file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// The file the problem is in.
    pub file: PathBuf,
    /// One-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// One-based column; 0 when the problem concerns the whole file.
    pub column: usize,
    /// The id of the entity the problem belongs to, where there is one.
    pub entity: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: String,
}

impl Diagnostic {
    /// A problem with a whole file (it cannot be read, or is not where it should be).
    pub fn file(path: &Path, message: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            file: path.to_owned(),
            line: 0,
            column: 0,
            entity: None,
            message: message.into(),
            help: help.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        write!(f, ": ")?;
        if let Some(entity) = &self.entity {
            write!(f, "`{entity}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if !self.help.is_empty() {
            write!(f, "\n  help: {}", self.help)?;
        }
        Ok(())
    }
}

/// Every problem found in one load, in file and line order.
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one problem.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// True when no problem was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The problems.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// Sorts by file, line and column, for a stable report.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message))
        });
    }

    /// The same problems, sorted.
    pub fn sorted(mut self) -> Self {
        self.sort();
        self
    }

    /// `Ok(value)` when there is no problem, else all of them.
    pub fn into_result<T>(mut self, value: T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value)
        } else {
            self.sort();
            Err(self)
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "error: {d}")?;
        }
        let n = self.0.len();
        write!(f, "{n} problem{} found", if n == 1 { "" } else { "s" })
    }
}

/// The known name closest to `word`, if it is close enough to be a likely typo (for "did you
/// mean" help).
pub fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The first line of a (possibly multi-line) parser message.
pub fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s).trim()
}

/// Advice for a serde error message about a table written as `table` (e.g. `[[asset]]`), by the
/// message's shape: a likely spelling for an unknown field, the field to add, the type to give.
pub fn serde_help(table: &str, message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or("");
        let expected: Vec<&str> = rest
            .split("expected ")
            .nth(1)
            .map(|s| {
                s.split(['`', ',', ' '])
                    .filter(|w| !w.is_empty() && *w != "one" && *w != "of" && *w != "or")
                    .collect()
            })
            .unwrap_or_default();
        return match closest(field, &expected) {
            Some(near) => format!("did you mean `{near}`? otherwise remove `{field}`"),
            None => format!("remove `{field}`: `{table}` has no such field"),
        };
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        return format!("add `{field} = …` to this `{table}`");
    }
    if message.starts_with("unknown variant") {
        return "use one of the values listed".to_owned();
    }
    if message.starts_with("invalid type") {
        return "give the value the type the message expects (numbers unquoted, text in quotes, lists in [ ])".to_owned();
    }
    if message.starts_with("invalid value") {
        return "give a value in range (counts and times are whole numbers, never negative)"
            .to_owned();
    }
    "fix the value as the message says".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_is_one_based_and_counts_characters() {
        let f = SourceFile::new("a.toml", "ab\ncdé\nx");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(5), (2, 3));
        assert_eq!(f.line_col(8), (3, 1));
        assert_eq!(f.line_col(999), (3, 2));
    }

    #[test]
    fn display_names_file_line_entity_and_help() {
        let f = SourceFile::new("eco.toml", "[[asset]]\nid = \"USR\"\n");
        let d = f.diagnostic(Some(10..12), Some("USR"), "bad", "fix it");
        assert_eq!(d.to_string(), "eco.toml:2:1: `USR`: bad\n  help: fix it");
    }
}
