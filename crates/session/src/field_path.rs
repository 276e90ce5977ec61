//! Paths to fields (`track[2].inserts[0].compressor.ratio`) and their place
//! in the TOML text, so every error can name the line and column.

use std::fmt;

use toml::de::{DeTable, DeValue};

/// One step of a path: a key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A table key.
    Key(String),
    /// An array index, from 0.
    Index(usize),
}

/// A path from the document root to a field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    /// The root.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path extended by a key.
    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Key(key.to_string()));
        p
    }

    /// This path extended by an index.
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Index(index));
        p
    }

    /// This path extended by a dotted list of keys (`"compressor.ratio"`).
    pub fn keys(&self, dotted: &str) -> Self {
        let mut p = self.clone();
        for k in dotted.split('.') {
            match k.parse::<usize>() {
                Ok(i) => p.0.push(Segment::Index(i)),
                Err(_) => p.0.push(Segment::Key(k.to_string())),
            }
        }
        p
    }

    /// Byte span of the deepest part of this path present in a TOML text
    /// (the value if it exists, else the nearest enclosing table).
    pub fn span_in(&self, text: &str) -> Option<std::ops::Range<usize>> {
        let root = DeTable::parse(text).ok()?;
        let mut span = root.span();
        let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
        let mut value: Option<&DeValue<'_>> = None;
        for seg in &self.0 {
            let next = match (seg, table, value) {
                (Segment::Key(k), Some(t), _) => t.get(k.as_str()),
                (Segment::Key(k), None, Some(DeValue::Table(t))) => t.get(k.as_str()),
                (Segment::Index(i), _, Some(DeValue::Array(a))) => a.get(*i),
                _ => None,
            };
            let Some(next) = next else { break };
            span = next.span();
            value = Some(next.get_ref());
            table = None;
        }
        Some(span)
    }
}

impl FieldPath {
    /// The path of the innermost field whose value holds byte `offset` of a
    /// TOML text: names the field of a parse error from its span.
    pub fn at_offset(text: &str, offset: usize) -> Option<Self> {
        // Table spans of `[[array]]` entries cover only their header, so
        // search every field and keep the deepest whose key or value holds
        // the offset.
        fn walk_value(
            v: &DeValue<'_>,
            offset: usize,
            path: &mut FieldPath,
            best: &mut Option<FieldPath>,
        ) {
            match v {
                DeValue::Table(t) => walk_table(t, offset, path, best),
                DeValue::Array(a) => {
                    for (i, item) in a.iter().enumerate() {
                        path.0.push(Segment::Index(i));
                        if item.span().contains(&offset)
                            && best.as_ref().is_none_or(|b| b.0.len() < path.0.len())
                        {
                            *best = Some(path.clone());
                        }
                        walk_value(item.get_ref(), offset, path, best);
                        path.0.pop();
                    }
                }
                _ => {}
            }
        }
        fn walk_table(
            t: &DeTable<'_>,
            offset: usize,
            path: &mut FieldPath,
            best: &mut Option<FieldPath>,
        ) {
            for (k, v) in t.iter() {
                path.0.push(Segment::Key(k.get_ref().to_string()));
                let here = k.span().contains(&offset) || v.span().contains(&offset);
                if here && best.as_ref().is_none_or(|b| b.0.len() < path.0.len()) {
                    *best = Some(path.clone());
                }
                walk_value(v.get_ref(), offset, path, best);
                path.0.pop();
            }
        }
        let root = DeTable::parse(text).ok()?;
        let mut best = None;
        walk_table(root.get_ref(), offset, &mut FieldPath::root(), &mut best);
        best
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_at_an_offset() {
        let text = "[project]\nname = \"x\"\n[[track]]\nname = \"a\"\npan = 2\n";
        let at = text.find("2\n").unwrap();
        assert_eq!(
            FieldPath::at_offset(text, at).unwrap().to_string(),
            "track[0].pan"
        );
    }

    #[test]
    fn finds_nested_values() {
        let text = "[project]\nname = \"x\"\n\n[[track]]\nname = \"a\"\n\n[[track]]\nname = \"b\"\ninserts = [ { id = \"c\", compressor = { ratio = 0.5 } } ]\n";
        let p = FieldPath::root()
            .key("track")
            .index(1)
            .key("inserts")
            .index(0)
            .keys("compressor.ratio");
        assert_eq!(p.to_string(), "track[1].inserts[0].compressor.ratio");
        let span = p.span_in(text).unwrap();
        assert_eq!(&text[span], "0.5");
        // A missing field falls back to its table.
        let p = FieldPath::root().key("track").index(0).key("gain_db");
        let span = p.span_in(text).unwrap();
        assert!(
            text[span.clone()].contains("name = \"a\"")
                || text[..span.start].ends_with("[[track]]\n")
                || &text[span.clone()] == "[[track]]",
            "{:?}",
            &text[span]
        );
    }
}
