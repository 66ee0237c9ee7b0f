//! The set-up error type: configuration, rules documents and their sources.
//!
//! Every message names the input that was wrong (the environment variable and its value, or the
//! place in the rules document), so an operator can fix it without reading our code. The request
//! path never produces these: it fails open (or closed, when configured) and logs instead.

use std::fmt;

/// An error from setting the agent up: a bad environment variable, builder value or rules document.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

#[derive(Debug)]
enum ErrorKind {
    /// An environment variable (or the builder setting that mirrors it) has a value we cannot use.
    Config {
        variable: String,
        value: String,
        reason: String,
    },
    /// A rules document is invalid; `place` is a path such as `playbooks[0].trigger.threshold`.
    Rules {
        place: String,
        reason: String,
        /// The file the document came from, when it came from one.
        file: Option<String>,
        /// The line of the document's text the place is on, when known.
        line: Option<usize>,
    },
    /// A file could not be read.
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl Error {
    /// A configuration value that cannot be used.
    pub(crate) fn config(
        variable: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error {
            kind: ErrorKind::Config {
                variable: variable.into(),
                value: value.into(),
                reason: reason.into(),
            },
        }
    }

    /// A rules document that is invalid at `place` (empty for the document as a whole).
    pub(crate) fn rules(place: impl Into<String>, reason: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Rules {
                place: place.into(),
                reason: reason.into(),
                file: None,
                line: None,
            },
        }
    }

    /// Says which line of the document's text the error is on.
    pub(crate) fn at_line(mut self, at: Option<usize>) -> Self {
        if let ErrorKind::Rules { line, .. } = &mut self.kind {
            *line = at;
        }
        self
    }

    /// Names the file a rules document came from in the message.
    pub(crate) fn in_file(mut self, path: &std::path::Path) -> Self {
        if let ErrorKind::Rules { file, .. } = &mut self.kind {
            *file = Some(path.display().to_string());
        }
        self
    }

    /// A file that could not be read.
    pub(crate) fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        Error {
            kind: ErrorKind::Io {
                path: path.into(),
                source,
            },
        }
    }

    /// The environment variable (or builder setting) at fault, when the error is about one.
    pub fn variable(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::Config { variable, .. } => Some(variable),
            _ => None,
        }
    }

    /// The place in the rules document at fault (e.g. `playbooks[0].trigger.threshold`), when the
    /// error is about a rules document.
    pub fn place(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::Rules { place, .. } => Some(place),
            _ => None,
        }
    }

    /// The line (1-based) of the rules document's text the error is on, when known: where a
    /// JSON syntax error is, where an unknown field is written, or where the value at
    /// [`Error::place`] starts. Not part of the message (a JSON syntax error's message carries
    /// its own line and column); `sqreen-rules check` prints it.
    pub fn line(&self) -> Option<usize> {
        match &self.kind {
            ErrorKind::Rules { line, .. } => *line,
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Config {
                variable,
                value,
                reason,
            } => write!(f, "invalid {variable}={value:?}: {reason}"),
            ErrorKind::Rules {
                place,
                reason,
                file,
                ..
            } => {
                f.write_str("invalid rules document")?;
                if let Some(file) = file {
                    write!(f, " {file}")?;
                }
                if place.is_empty() {
                    write!(f, ": {reason}")
                } else {
                    write!(f, ": {place}: {reason}")
                }
            }
            ErrorKind::Io { path, source } => write!(f, "cannot read {path}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `Result` with the crate's set-up [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_error_names_variable_and_value() {
        let e = Error::config("SQREEN_MAX_ACTORS", "lots", "expected a positive integer");
        assert_eq!(e.variable(), Some("SQREEN_MAX_ACTORS"));
        assert_eq!(
            e.to_string(),
            "invalid SQREEN_MAX_ACTORS=\"lots\": expected a positive integer"
        );
    }

    #[test]
    fn rules_error_names_place() {
        let e = Error::rules("playbooks[0].trigger.threshold", "must be at least 1");
        assert_eq!(e.place(), Some("playbooks[0].trigger.threshold"));
        assert!(e
            .to_string()
            .ends_with("playbooks[0].trigger.threshold: must be at least 1"));
    }
}
