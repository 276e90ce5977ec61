//! Errors that say where: file, line, column and field, plus a hint.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::field_path::FieldPath;

use thiserror::Error;

/// Where in a session file a problem is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1 (characters, not bytes).
    pub column: usize,
}

/// A mistake in a session file, or a file that cannot be read.
#[derive(Debug, Clone, PartialEq, Error)]
pub struct SessionError {
    /// The session file.
    pub file: PathBuf,
    /// Line and column, when known.
    pub location: Option<Location>,
    /// The field, as a path (`track[2].inserts[0].compressor.ratio`), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it (the nearest valid name, the valid range), when known.
    pub hint: Option<String>,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(loc) = &self.location {
            write!(f, ":{}:{}", loc.line, loc.column)?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// Line and column (from 1) of a byte offset in `text`.
pub fn location_of(text: &str, offset: usize) -> Location {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Location {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// A TOML parse error as a [`SessionError`] naming the file, line, column
/// and field, with a hint for a misspelt name.
pub fn toml_error(text: &str, path: &Path, e: &toml::de::Error) -> SessionError {
    let message = e.message().trim().to_string();
    SessionError {
        file: path.to_path_buf(),
        location: e.span().map(|s| location_of(text, s.start)),
        field: e
            .span()
            .and_then(|s| FieldPath::at_offset(text, s.start))
            .map(|p| p.to_string()),
        hint: hint_for_serde_message(&message),
        message,
    }
}

/// An error about `field` of `file`; with the file's TOML `text`, the line
/// and column of the field.
pub fn error_at(
    file: &Path,
    text: Option<&str>,
    field: &FieldPath,
    message: String,
    hint: Option<String>,
) -> SessionError {
    SessionError {
        file: file.to_path_buf(),
        location: text.and_then(|t| field.span_in(t).map(|s| location_of(t, s.start))),
        field: Some(field.to_string()),
        message,
        hint,
    }
}

/// `relative` resolved against the folder of `file` (an absolute path as
/// it is).
pub fn resolve_beside(file: &Path, relative: &str) -> PathBuf {
    let p = Path::new(relative);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        file.parent().unwrap_or(Path::new("")).join(p)
    }
}

/// Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The valid name nearest to `given`, if it is plausibly a typo of it.
pub fn nearest<'a>(given: &str, valid: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let given_lower = given.to_lowercase();
    valid
        .into_iter()
        .map(|v| (edit_distance(&given_lower, &v.to_lowercase()), v))
        .filter(|(d, v)| *d <= (v.len().max(given.len()) / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

/// A hint for serde's messages that list what was expected:
/// "unknown field `gian_db`, expected one of `gain_db`, `pan`" → "did you
/// mean `gain_db`?".
pub fn hint_for_serde_message(message: &str) -> Option<String> {
    let (given, rest) = [
        "unknown field `",
        "unknown variant `",
        "unknown processor `",
    ]
    .iter()
    .find_map(|marker| message.find(marker).map(|i| &message[i + marker.len()..]))?
    .split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    nearest(given, expected.iter().copied()).map(|n| format!("did you mean `{n}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let t = "a = 1\nbé = 2\n";
        assert_eq!(location_of(t, 0), Location { line: 1, column: 1 });
        assert_eq!(location_of(t, 6), Location { line: 2, column: 1 });
        assert_eq!(location_of(t, 10), Location { line: 2, column: 4 });
    }

    #[test]
    fn nearest_names() {
        assert_eq!(
            nearest("gian_db", ["gain_db", "pan", "width"]),
            Some("gain_db")
        );
        assert_eq!(
            nearest("threshold", ["threshold_db", "ratio"]),
            Some("threshold_db")
        );
        assert_eq!(nearest("zzzzzz", ["gain_db", "pan"]), None);
        let h = hint_for_serde_message("unknown field `gian_db`, expected one of `gain_db`, `pan`");
        assert_eq!(h.as_deref(), Some("did you mean `gain_db`?"));
    }
}
