//! The engine's error type.

use std::path::PathBuf;

use mixmaster_io::IoError;
use mixmaster_session::SessionError;
use thiserror::Error;

/// Errors of building or rendering a session.
#[derive(Debug, Error)]
pub enum EngineError {
    /// A mistake in the session file, with file, line, column and field.
    #[error("{0}")]
    Session(#[from] SessionError),
    /// A source, IR or output file could not be read or written.
    #[error("{0}")]
    Io(#[from] IoError),
    /// A problem with one track's audio (named by track and file).
    #[error("track '{track}': {path}: {message}")]
    Source {
        /// The track.
        track: String,
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Anything else about the render.
    #[error("{0}")]
    Render(String),
    /// A problem with the stems folder or the session file of an import
    /// (`mixmaster init`), named by its path.
    #[error("{}: {message}", .path.display())]
    Import {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file given for reference matching (`--reference`) that cannot be
    /// analysed (not mono or stereo), named by its path.
    #[error("{}: {message}", .path.display())]
    Analysis {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}
