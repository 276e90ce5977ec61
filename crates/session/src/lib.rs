//! The session model of mixmaster: what a session file (TOML, or the same
//! model as JSON) says, checked so that every mistake is reported with the
//! file, line, column and field and a hint.
//!
//! ```
//! use mixmaster_session::LoadedSession;
//!
//! let text = r#"
//! [project]
//! sample_rate_hz = 48000
//! tempo_bpm = 104
//!
//! [[track]]
//! name = "Kick"
//! source = "stems/kick.wav"
//! gain_db = -3.0
//! "#;
//! let loaded = LoadedSession::from_toml_str(text, "song.toml".as_ref()).unwrap();
//! assert_eq!(loaded.session.tracks[0].name, "Kick");
//! assert!(loaded.resolve("stems/kick.wav").ends_with("stems/kick.wav"));
//! ```
//!
//! The format is documented in `docs/session-format.md`.
#![forbid(unsafe_code)]

pub mod album;
pub mod error;
pub mod field_path;
pub mod mastering;
pub mod model;
pub mod position;
mod validate;

use std::path::{Path, PathBuf};

pub use album::{AlbumFile, LoadedAlbum, LoudnessMode, SongSource, SongSpec};
pub use error::{Location, SessionError};
pub use field_path::FieldPath;
pub use mastering::{LimiterSpec, MasteringSpec};
pub use model::*;
pub use position::{Position, Tempo};

/// A session with its file: where it lives (sources are relative to it) and
/// its text (to point errors at lines).
#[derive(Debug, Clone)]
pub struct LoadedSession {
    /// The parsed, validated session.
    pub session: Session,
    /// The session file.
    pub path: PathBuf,
    text: String,
    is_toml: bool,
}

impl LoadedSession {
    /// Reads and validates a session file (`.json` as JSON, anything else as TOML).
    pub fn load(path: &Path) -> Result<Self, SessionError> {
        let text = std::fs::read_to_string(path).map_err(|e| SessionError {
            file: path.to_path_buf(),
            location: None,
            field: None,
            message: format!("cannot read the session file: {e}"),
            hint: None,
        })?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            Self::from_json_str(&text, path)
        } else {
            Self::from_toml_str(&text, path)
        }
    }

    /// Parses and validates TOML text; `path` names the file in errors and
    /// anchors relative source paths.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self, SessionError> {
        let session: Session =
            toml::from_str(text).map_err(|e| error::toml_error(text, path, &e))?;
        Self::validated(session, text, path, true)
    }

    /// Parses and validates JSON text (the same model as TOML).
    pub fn from_json_str(text: &str, path: &Path) -> Result<Self, SessionError> {
        let session: Session = serde_json::from_str(text).map_err(|e| {
            let full = e.to_string();
            let message = full
                .rsplit_once(" at line ")
                .map_or(full.as_str(), |(m, _)| m)
                .to_string();
            SessionError {
                file: path.to_path_buf(),
                location: Some(Location {
                    line: e.line(),
                    column: e.column(),
                }),
                field: None,
                hint: error::hint_for_serde_message(&message),
                message,
            }
        })?;
        Self::validated(session, text, path, false)
    }

    fn validated(
        session: Session,
        text: &str,
        path: &Path,
        is_toml: bool,
    ) -> Result<Self, SessionError> {
        let loaded = Self {
            session,
            path: path.to_path_buf(),
            text: text.to_string(),
            is_toml,
        };
        validate::check(&loaded.session)
            .map_err(|e| loaded.error_at(&e.field, e.message, e.hint))?;
        Ok(loaded)
    }

    /// A path from the session file resolved against the session's folder.
    pub fn resolve(&self, relative: &str) -> PathBuf {
        error::resolve_beside(&self.path, relative)
    }

    /// An error pointing at `field` (line and column where the file is TOML).
    pub fn error_at(
        &self,
        field: &FieldPath,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> SessionError {
        let text = self.is_toml.then_some(self.text.as_str());
        error::error_at(&self.path, text, field, message.into(), hint)
    }

    /// The session's tempo and metre, for bar positions.
    pub fn tempo(&self) -> Tempo {
        self.session.tempo()
    }
}

impl Session {
    /// The tempo and metre of `[project]`.
    pub fn tempo(&self) -> Tempo {
        Tempo {
            bpm: self.project.tempo_bpm,
            beats_per_bar: self.project.time_signature[0],
            beat_unit: self.project.time_signature[1],
        }
    }

    /// The session as TOML text.
    pub fn to_toml_string(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }
}

/// The JSON Schema of session files (for editors, tools and the web UI).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Session)).unwrap_or_default()
}

/// The JSON Schema of mastering chain files (`mixmaster master --chain`).
pub fn chain_json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(MasteringSpec)).unwrap_or_default()
}

/// The JSON Schema of album files (`mixmaster album`).
pub fn album_json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(AlbumFile)).unwrap_or_default()
}
