//! Located diagnostics for guard configs: the same types as the ecosystem spec's (file, line,
//! column, entity, message and help), so the CLI renders both alike.

pub use ringfence_model::diag::{Diagnostic, Diagnostics, SourceFile};
