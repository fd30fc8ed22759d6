//! One error type for the library. Every variant says what was wrong and where
//! (the file, the tensor key, the record), so messages can go to users as they are.

use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file (or an in-memory input named like one) could not be read or is malformed.
    #[error("{source_name}: {message}")]
    Input {
        source_name: String,
        message: String,
    },
    /// A tensor the architecture needs is absent.
    #[error("{source_name}: missing tensor `{key}`")]
    MissingKey { source_name: String, key: String },
    /// A tensor is present with the wrong shape.
    #[error("{source_name}: tensor `{key}` has shape {found}, expected {expected}")]
    Shape {
        source_name: String,
        key: String,
        expected: ShapeText,
        found: ShapeText,
    },
    /// A sequence that cannot be encoded as a network window.
    #[error("sequence `{name}`: {message}")]
    Sequence { name: String, message: String },
    /// The GPU backend failed or cannot run this network (callers fall back
    /// to the CPU).
    #[error("GPU: {message}")]
    Gpu { message: String },
    /// Results could not be written (a full disk, a closed pipe).
    #[error("{target}: cannot write: {source}")]
    Write {
        target: String,
        #[source]
        source: std::io::Error,
    },
    /// Predictions asked with inconsistent inputs (a caller's mistake, not the user's data).
    #[error("predict: {0}")]
    Prediction(String),
    /// A failure inside the tensor engine (should not happen on valid models).
    #[error("inference failed: {0}")]
    Compute(#[from] candle_core::Error),
}

impl Error {
    pub fn input(source_name: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::Input {
            source_name: source_name.to_string(),
            message: message.to_string(),
        }
    }
}

/// A shape printed as `[320, 4, 8]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeText(pub Vec<usize>);

impl fmt::Display for ShapeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
