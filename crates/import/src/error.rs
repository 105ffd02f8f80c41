//! The crate's error type: every variant names the file, where in it, what is wrong and the fix.

use std::path::PathBuf;

/// A problem with an importer's input. Its `Display` is a complete message for a user:
/// `file[:line:column | at JSON path]: what is wrong` and a `help:` line saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory cannot be read.
    #[error("{}: cannot read it: {source}\n  help: {help}", file.display())]
    Read {
        /// The path.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
        /// What to do.
        help: String,
    },
    /// A file is not valid JSON or TOML text.
    #[error("{}:{line}:{column}: {message}\n  help: {help}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// One-based line (0 when unknown).
        line: usize,
        /// One-based column (0 when unknown).
        column: usize,
        /// What the parser says.
        message: String,
        /// What to do.
        help: String,
    },
    /// A value is missing, of the wrong type or out of range.
    #[error("{}: at {at}: {message}\n  help: {help}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Where in it: a JSON path such as `$["LINK"].mainnet.decimals`, or a TOML key.
        at: String,
        /// What is wrong.
        message: String,
        /// What to do.
        help: String,
    },
    /// The mapped spec does not validate: two inputs conflict (for example an id used twice).
    #[error(
        "the imported spec is not valid:\n{0}\n  help: the directory holds entries that conflict once mapped; fix or remove them"
    )]
    Spec(#[from] ringfence_model::Diagnostics),
    /// The spec could not be written as TOML.
    #[error("cannot write the spec as TOML: {0}")]
    Toml(#[from] toml::ser::Error),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The file the problem is in, if it concerns one.
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            Self::Read { file, .. } | Self::Syntax { file, .. } | Self::Invalid { file, .. } => {
                Some(file)
            }
            Self::Spec(_) | Self::Toml(_) => None,
        }
    }
}
