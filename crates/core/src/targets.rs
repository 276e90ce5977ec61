//! Delivery targets: the one table of `TARGETS.md` (ids users type with
//! `--target`), with each platform's normalisation policy so that
//! `meter --target` can preview the gain a platform will apply.
//!
//! Keep this table in step with `TARGETS.md`; every number there carries its
//! source and confidence.

use crate::error::CoreError;

/// What a platform does with the level of a file it receives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NormalizationPolicy {
    /// Turns loud files down and quiet files up to the target.
    UpAndDown,
    /// Turns loud files down and raises quiet files only as far as their
    /// true peak stays `headroom_db` below 0 dBTP (Spotify: 1 dB).
    UpLimitedByPeak {
        /// Headroom kept below 0 dBTP when raising, in dB.
        headroom_db: f64,
    },
    /// Turns loud files down, never raises quiet ones.
    DownOnly,
    /// Broadcast: the programme itself must meet the target.
    MustMeet,
    /// Unweighted RMS window (ACX audiobooks): no playback normalisation;
    /// the file must lie in `[min, max]` dBFS RMS.
    RmsWindow {
        /// Lowest accepted RMS in dBFS.
        min_dbfs: f64,
        /// Highest accepted RMS in dBFS.
        max_dbfs: f64,
    },
    /// No normalisation by the platform or player.
    None,
}

/// A delivery target: loudness, true-peak ceiling, and what the platform
/// does with the level.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The id users type (`spotify`).
    pub id: &'static str,
    /// Human-readable name.
    pub name: &'static str,
    /// Integrated loudness target in LUFS (for `acx`, the RMS aim in dBFS);
    /// `None` when the platform publishes none.
    pub integrated_lufs: Option<f64>,
    /// True-peak ceiling in dBTP. For `acx` (sample peak ≤ −3 dBFS) it is
    /// −3.5 dBTP: a true peak is never below the sample peak, and the half
    /// dB leaves room for the overs an MP3 encoder adds.
    pub ceiling_dbtp: f64,
    /// Stricter ceiling advised when the master ends up louder than the
    /// target (Spotify: −2 dBTP above −14 LUFS).
    pub loud_master_ceiling_dbtp: Option<f64>,
    /// The platform's normalisation policy.
    pub policy: NormalizationPolicy,
    /// Delivery sample rate, `None` to keep the master's rate.
    pub sample_rate_hz: Option<u32>,
    /// Delivery word length, `None` to keep the master's.
    pub bits_per_sample: Option<u16>,
    /// How a mono file is measured for this target (see TARGETS.md).
    pub mono_as_dual_mono: bool,
    /// Source and confidence, as in TARGETS.md.
    pub source: &'static str,
}

/// Every preset, in the order of TARGETS.md.
pub const TARGETS: &[Target] = &[
    Target {
        id: "spotify",
        name: "Spotify",
        integrated_lufs: Some(-14.0),
        ceiling_dbtp: -1.0,
        loud_master_ceiling_dbtp: Some(-2.0),
        policy: NormalizationPolicy::UpLimitedByPeak { headroom_db: 1.0 },
        sample_rate_hz: None,
        bits_per_sample: None,
        mono_as_dual_mono: false,
        source: "Spotify for Artists, Loudness normalization (A); -2 dBTP advice (B)",
    },
    Target {
        id: "apple-music",
        name: "Apple Music (Sound Check)",
        integrated_lufs: Some(-16.0),
        ceiling_dbtp: -1.0,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::UpAndDown,
        sample_rate_hz: None,
        bits_per_sample: None,
        mono_as_dual_mono: false,
        source: "community measurements (C); Apple Digital Masters (A, for clipping)",
    },
    Target {
        id: "youtube",
        name: "YouTube",
        integrated_lufs: Some(-14.0),
        ceiling_dbtp: -1.0,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::DownOnly,
        sample_rate_hz: None,
        bits_per_sample: None,
        mono_as_dual_mono: false,
        source: "community measurements (C)",
    },
    Target {
        id: "amazon-music",
        name: "Amazon Music",
        integrated_lufs: Some(-14.0),
        ceiling_dbtp: -2.0,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::DownOnly,
        sample_rate_hz: None,
        bits_per_sample: None,
        mono_as_dual_mono: false,
        source: "secondary (C)",
    },
    Target {
        id: "tidal",
        name: "TIDAL",
        integrated_lufs: Some(-14.0),
        ceiling_dbtp: -1.0,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::DownOnly,
        sample_rate_hz: None,
        bits_per_sample: None,
        mono_as_dual_mono: false,
        source: "statement quoted by a meter vendor, 2016 (B)",
    },
    Target {
        id: "deezer",
        name: "Deezer",
        integrated_lufs: Some(-15.0),
        ceiling_dbtp: -1.0,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::DownOnly,
        sample_rate_hz: None,
        bits_per_sample: None,
        mono_as_dual_mono: false,
        source: "secondary (C)",
    },
    Target {
        id: "soundcloud",
        name: "SoundCloud",
        integrated_lufs: None,
        ceiling_dbtp: -1.0,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::None,
        sample_rate_hz: None,
        bits_per_sample: None,
        mono_as_dual_mono: false,
        source: "secondary (C)",
    },
    Target {
        id: "ebu-r128",
        name: "EBU R 128 broadcast",
        integrated_lufs: Some(-23.0),
        ceiling_dbtp: -1.0,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::MustMeet,
        sample_rate_hz: None,
        bits_per_sample: None,
        mono_as_dual_mono: false,
        source: "EBU R 128 (A)",
    },
    Target {
        id: "atsc-a85",
        name: "ATSC A/85 (US television)",
        integrated_lufs: Some(-24.0),
        ceiling_dbtp: -2.0,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::MustMeet,
        sample_rate_hz: None,
        bits_per_sample: None,
        mono_as_dual_mono: false,
        source: "ATSC A/85:2013 as quoted (B)",
    },
    Target {
        id: "aes-streaming",
        name: "AES TD1008 streaming",
        integrated_lufs: Some(-16.0),
        ceiling_dbtp: -1.0,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::UpAndDown,
        sample_rate_hz: None,
        bits_per_sample: None,
        mono_as_dual_mono: false,
        source: "AES TD1008 summaries (B)",
    },
    Target {
        id: "podcast",
        name: "Podcast (Apple Podcasts)",
        integrated_lufs: Some(-16.0),
        ceiling_dbtp: -1.0,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::MustMeet,
        sample_rate_hz: None,
        bits_per_sample: None,
        // -16 LUFS stereo equals -19 LUFS for a mono file measured as one
        // channel: measuring mono as dual-mono makes one target serve both.
        mono_as_dual_mono: true,
        source: "Apple Podcasts audio requirements (A)",
    },
    Target {
        id: "acx",
        name: "ACX audiobooks",
        integrated_lufs: Some(-20.0),
        ceiling_dbtp: -3.5,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::RmsWindow {
            min_dbfs: -23.0,
            max_dbfs: -18.0,
        },
        sample_rate_hz: Some(44_100),
        bits_per_sample: None,
        mono_as_dual_mono: false,
        source: "ACX submission requirements (A/B)",
    },
    Target {
        id: "cd",
        name: "CD (Red Book)",
        integrated_lufs: None,
        ceiling_dbtp: -0.3,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::None,
        sample_rate_hz: Some(44_100),
        bits_per_sample: Some(16),
        mono_as_dual_mono: false,
        source: "practice (C)",
    },
    Target {
        id: "none",
        name: "No loudness change",
        integrated_lufs: None,
        ceiling_dbtp: 0.0,
        loud_master_ceiling_dbtp: None,
        policy: NormalizationPolicy::None,
        sample_rate_hz: None,
        bits_per_sample: None,
        mono_as_dual_mono: false,
        source: "",
    },
];

/// What a platform would do to a file's level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaybackGain {
    /// Gain the platform applies in dB (0 when it leaves the file alone).
    pub gain_db: f64,
    /// Loudness the listener hears, in LUFS (or RMS dBFS for `acx`).
    pub resulting_level: f64,
    /// True when the platform wanted to raise more but the peak stopped it.
    pub limited_by_peak: bool,
}

impl Target {
    /// Looks a target up by id.
    pub fn by_id(id: &str) -> Result<&'static Target, CoreError> {
        TARGETS
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| CoreError::UnknownId {
                kind: "target",
                id: id.to_string(),
                valid: TARGETS.iter().map(|t| t.id).collect::<Vec<_>>().join(", "),
            })
    }

    /// The gain this platform applies on playback to a file with the given
    /// integrated loudness (LUFS), true peak (dBTP) and RMS (dBFS, used only
    /// by RMS targets). `None` when the loudness is undefined (silence).
    pub fn playback_gain(
        &self,
        integrated_lufs: f64,
        true_peak_dbtp: f64,
        rms_dbfs: f64,
    ) -> Option<PlaybackGain> {
        let level = match self.policy {
            NormalizationPolicy::RmsWindow { .. } => rms_dbfs,
            _ => integrated_lufs,
        };
        if !level.is_finite() {
            return None;
        }
        let to_target = self.integrated_lufs.map_or(0.0, |t| t - level);
        let (gain_db, limited_by_peak) = match self.policy {
            NormalizationPolicy::UpAndDown | NormalizationPolicy::MustMeet => (to_target, false),
            NormalizationPolicy::DownOnly => (to_target.min(0.0), false),
            NormalizationPolicy::UpLimitedByPeak { headroom_db } => {
                if to_target <= 0.0 {
                    (to_target, false)
                } else {
                    let allowed = (-headroom_db - true_peak_dbtp).max(0.0);
                    (to_target.min(allowed), allowed < to_target)
                }
            }
            NormalizationPolicy::RmsWindow { .. } | NormalizationPolicy::None => (0.0, false),
        };
        Some(PlaybackGain {
            gain_db,
            resulting_level: level + gain_db,
            limited_by_peak,
        })
    }

    /// Ceiling to master to, given the master's final integrated loudness:
    /// the stricter one when the platform advises it for loud masters.
    pub fn ceiling_for(&self, integrated_lufs: f64) -> f64 {
        match (self.loud_master_ceiling_dbtp, self.integrated_lufs) {
            (Some(strict), Some(target)) if integrated_lufs > target => strict,
            _ => self.ceiling_dbtp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gain(id: &str, i: f64, tp: f64) -> f64 {
        Target::by_id(id)
            .unwrap()
            .playback_gain(i, tp, -20.0)
            .unwrap()
            .gain_db
    }

    #[test]
    fn spotify_raises_only_as_far_as_peak_allows() {
        // TARGETS.md: -20 LUFS with TP -5 dBTP is raised to -16 LUFS.
        assert_eq!(gain("spotify", -20.0, -5.0), 4.0);
        assert_eq!(gain("spotify", -8.0, -0.1), -6.0);
        assert_eq!(gain("spotify", -16.0, -10.0), 2.0);
        assert_eq!(gain("spotify", -16.0, 0.5), 0.0);
    }

    #[test]
    fn down_only_platforms_never_raise() {
        assert_eq!(gain("youtube", -20.0, -10.0), 0.0);
        assert_eq!(gain("youtube", -9.0, -0.3), -5.0);
        assert_eq!(gain("tidal", -18.0, -3.0), 0.0);
        assert_eq!(gain("deezer", -10.0, -3.0), -5.0);
    }

    #[test]
    fn two_way_and_none() {
        assert_eq!(gain("apple-music", -20.0, -1.0), 4.0);
        assert_eq!(gain("ebu-r128", -20.0, -1.0), -3.0);
        assert_eq!(gain("cd", -20.0, -1.0), 0.0);
        let silent = Target::by_id("spotify").unwrap().playback_gain(
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        assert!(silent.is_none());
    }

    #[test]
    fn ids_are_unique_and_lookup_is_helpful() {
        for (i, a) in TARGETS.iter().enumerate() {
            assert!(TARGETS[i + 1..].iter().all(|b| b.id != a.id));
        }
        let err = Target::by_id("spotfy").unwrap_err().to_string();
        assert!(err.contains("spotify") && err.contains("spotfy"), "{err}");
        assert_eq!(Target::by_id("Spotify").unwrap().id, "spotify");
    }

    #[test]
    fn spotify_advises_stricter_ceiling_for_loud_masters() {
        let t = Target::by_id("spotify").unwrap();
        assert_eq!(t.ceiling_for(-9.0), -2.0);
        assert_eq!(t.ceiling_for(-14.0), -1.0);
    }
}
