//! Timeline positions and lengths as users write them: seconds (`12.5`),
//! clock time (`"1:02.500"`, `"1:02:03.25"`), or musical time (`"5|1"`,
//! `"5|2.5"` = bar 5, beat 2.5) at the session tempo and time signature.
//! Bars and beats count from 1, so `"1|1"` is 0 s.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time (or a length) on the timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Position {
    /// Seconds from the start.
    Seconds(f64),
    /// Bar and beat, both counted from 1; the beat may be fractional.
    Bars {
        /// Bar number, from 1.
        bar: u32,
        /// Beat within the bar, from 1.
        beat: f64,
    },
}

/// Tempo and metre needed to turn bars into seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tempo {
    /// Quarter notes per minute.
    pub bpm: f64,
    /// Beats per bar (the time signature's numerator).
    pub beats_per_bar: u32,
    /// Note value of one beat (the denominator: 4 = quarter, 8 = eighth).
    pub beat_unit: u32,
}

impl Tempo {
    /// Seconds of one beat: a quarter note lasts 60/bpm; a beat of 1/8 half that.
    pub fn beat_s(&self) -> f64 {
        60.0 / self.bpm * 4.0 / f64::from(self.beat_unit)
    }
}

impl Position {
    /// Seconds from the start of the timeline.
    pub fn seconds(&self, tempo: &Tempo) -> f64 {
        match *self {
            Self::Seconds(s) => s,
            Self::Bars { bar, beat } => {
                let beats = f64::from(bar - 1) * f64::from(tempo.beats_per_bar) + (beat - 1.0);
                beats * tempo.beat_s()
            }
        }
    }

    /// Parses `12.5`, `"1:02.5"`, `"1:02:03"`, `"5|1"` or `"5|2.5"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if let Some((bar, beat)) = t.split_once('|') {
            let bar: u32 = bar
                .trim()
                .parse()
                .ok()
                .filter(|b| *b >= 1)
                .ok_or_else(|| format!("'{text}': the bar must be a whole number from 1"))?;
            let beat: f64 = beat
                .trim()
                .parse()
                .ok()
                .filter(|b: &f64| b.is_finite() && *b >= 1.0)
                .ok_or_else(|| format!("'{text}': the beat must be a number from 1"))?;
            return Ok(Self::Bars { bar, beat });
        }
        let parts: Vec<&str> = t.split(':').collect();
        if parts.len() > 3 {
            return Err(format!(
                "'{text}': expected seconds, m:ss.mmm, h:mm:ss.mmm or bar|beat"
            ));
        }
        let mut seconds = 0.0;
        for (i, p) in parts.iter().enumerate() {
            let v: f64 = p.trim().parse().map_err(|_| {
                format!("'{text}': expected seconds, m:ss.mmm, h:mm:ss.mmm or bar|beat")
            })?;
            let last = i == parts.len() - 1;
            if !v.is_finite() || v < 0.0 || (!last && v.fract() != 0.0) || (i > 0 && v >= 60.0) {
                return Err(format!("'{text}': not a valid time"));
            }
            seconds = seconds * 60.0 + v;
        }
        Ok(Self::Seconds(seconds))
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Seconds(s) => {
                let total_ms = (s * 1000.0).round() as u64;
                let (m, ms) = (total_ms / 60_000, total_ms % 60_000);
                write!(f, "{m}:{:02}.{:03}", ms / 1000, ms % 1000)
            }
            Self::Bars { bar, beat } => write!(f, "{bar}|{beat}"),
        }
    }
}

impl Serialize for Position {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Seconds(v) => s.serialize_f64(*v),
            Self::Bars { .. } => s.serialize_str(&self.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom("expected a time: seconds, \"m:ss.mmm\" or \"bar|beat\"")
        })? {
            Raw::Number(v) if v.is_finite() && v >= 0.0 => Ok(Self::Seconds(v)),
            Raw::Number(v) => Err(serde::de::Error::custom(format!(
                "{v} is not a valid time: expected seconds ≥ 0"
            ))),
            Raw::Text(t) => Self::parse(&t).map_err(serde::de::Error::custom),
        }
    }
}

impl JsonSchema for Position {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Position".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Seconds (number), \"m:ss.mmm\", \"h:mm:ss.mmm\", or \"bar|beat\" at the session tempo (bars and beats count from 1).",
            "oneOf": [
                { "type": "number", "minimum": 0 },
                { "type": "string", "pattern": "^\\s*(\\d+(\\.\\d*)?|(\\d+:){1,2}\\d+(\\.\\d*)?|\\d+\\|\\d+(\\.\\d*)?)\\s*$" }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Tempo = Tempo {
        bpm: 120.0,
        beats_per_bar: 4,
        beat_unit: 4,
    };

    #[test]
    fn parses_every_form() {
        assert_eq!(Position::parse("12.5"), Ok(Position::Seconds(12.5)));
        assert_eq!(Position::parse("1:02.5").unwrap().seconds(&T), 62.5);
        assert_eq!(Position::parse("1:00:01").unwrap().seconds(&T), 3601.0);
        assert_eq!(Position::parse("1|1").unwrap().seconds(&T), 0.0);
        // Bar 5 at 120 bpm in 4/4: four bars of 2 s.
        assert_eq!(Position::parse("5|1").unwrap().seconds(&T), 8.0);
        assert_eq!(Position::parse("2|2.5").unwrap().seconds(&T), 2.75);
        let six_eight = Tempo {
            bpm: 120.0,
            beats_per_bar: 6,
            beat_unit: 8,
        };
        // An eighth note lasts 0.25 s at 120 quarter notes per minute.
        assert_eq!(Position::parse("2|1").unwrap().seconds(&six_eight), 1.5);
    }

    #[test]
    fn rejects_nonsense_with_the_text() {
        for bad in [
            "", "abc", "0|1", "1|0", "1:75", "1.5:00", "-3", "1:2:3:4", "x|1",
        ] {
            let err = Position::parse(bad).unwrap_err();
            assert!(err.contains(bad.trim()), "{bad}: {err}");
        }
    }

    #[test]
    fn displays_clock_time() {
        assert_eq!(Position::Seconds(62.5).to_string(), "1:02.500");
        assert_eq!(Position::Bars { bar: 3, beat: 2.0 }.to_string(), "3|2");
    }
}
