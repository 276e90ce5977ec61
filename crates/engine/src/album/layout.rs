//! Where every song sits on the album's timeline and where each track
//! starts: pure arithmetic on frame counts, the same for a CD image and for
//! streaming files.
//!
//! A song either follows a gap of silence (its *pregap*: the CD's INDEX 00
//! to INDEX 01), or the previous song runs into it with no silence (a
//! *segue*) or overlaps it (a *crossfade*). Each track starts where its song
//! starts (INDEX 01); a pregap belongs to the end of the previous track (the
//! convention `shntool split` uses), so the track files played back to back
//! are the album, sample for sample.
//!
//! **CD frames.** On a CD every index sits on a frame boundary (588
//! samples, 1/75 s). With `cd_frames`, each song that follows a gap starts
//! exactly on a boundary: the silence before it is padded to whole frames
//! (the end of the previous song is extended with under 588 samples of
//! silence, and the gap is rounded to whole frames). A segue or crossfade is
//! continuous audio, so nothing moves: the index goes to the frame boundary
//! nearest the song's first sample (at most 294 samples, 6.7 ms, away).
//! The album ends with silence to a whole frame.

use mixmaster_session::Curve;

/// Samples per CD frame (1/75 s at 44.1 kHz).
pub const CD_FRAME: u64 = 588;

/// One song as the layout needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct SongTiming {
    /// Length in frames (samples per channel).
    pub frames: u64,
    /// Silence before it, in frames (ignored after a segue or crossfade).
    pub gap_before: u64,
    /// Overlap with the next song, in frames (0: none).
    pub crossfade: u64,
    /// Runs straight into the next song (no gap).
    pub segue: bool,
    /// Fade in at the start, in frames.
    pub fade_in: u64,
    /// Fade out at the end, in frames.
    pub fade_out: u64,
    /// Shape of the fades.
    pub fade_curve: Curve,
    /// Shape of the crossfade into the next song.
    pub crossfade_curve: Curve,
}

/// A song placed on the timeline, with its gain envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// First frame on the album timeline.
    pub start: u64,
    /// Length in frames.
    pub frames: u64,
    /// Fade in: length in frames and shape (a crossfade from the previous
    /// song, or the song's own fade in).
    pub fade_in: (u64, Curve),
    /// The song's own fade in when a crossfade also shapes its start.
    pub own_fade_in: (u64, Curve),
    /// Fade out: a crossfade into the next song.
    pub fade_out: (u64, Curve),
    /// The song's own fade out.
    pub own_fade_out: (u64, Curve),
}

impl Placement {
    /// One past the last frame on the timeline.
    pub fn end(&self) -> u64 {
        self.start + self.frames
    }

    /// Gain of the song's frame `i` (0-based within the song).
    pub fn gain_at(&self, i: u64) -> f64 {
        let mut g = 1.0;
        for (len, curve) in [self.fade_in, self.own_fade_in] {
            if len > 0 && i < len {
                g *= crate::curves::fade_in(curve, (i as f64 + 0.5) / len as f64);
            }
        }
        for (len, curve) in [self.fade_out, self.own_fade_out] {
            if len > 0 && i + len >= self.frames {
                let into = i + len - self.frames;
                g *= crate::curves::fade_out(curve, (into as f64 + 0.5) / len as f64);
            }
        }
        g
    }
}

/// Where a track starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackMarks {
    /// Start of the pregap (INDEX 00), when there is silence before the song.
    pub index00: Option<u64>,
    /// Start of the track (INDEX 01).
    pub index01: u64,
}

/// The whole timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The songs, in order.
    pub placements: Vec<Placement>,
    /// The tracks, in order.
    pub marks: Vec<TrackMarks>,
    /// Album length in frames.
    pub total: u64,
}

impl Layout {
    /// Frames of track `i` in its own file: INDEX 01 to the next track's
    /// INDEX 01 (or the end).
    pub fn track_range(&self, i: usize) -> (u64, u64) {
        let start = self.marks[i].index01;
        let end = self.marks.get(i + 1).map_or(self.total, |m| m.index01);
        (start, end)
    }

    /// The track's own audio, without the next track's pregap: INDEX 01 to
    /// the next INDEX 00 (or INDEX 01, or the end). Red Book's 4-second
    /// minimum applies to this.
    pub fn track_programme(&self, i: usize) -> u64 {
        let start = self.marks[i].index01;
        let end = self
            .marks
            .get(i + 1)
            .map_or(self.total, |m| m.index00.unwrap_or(m.index01));
        end - start
    }
}

/// A layout problem, naming the song (0-based) it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutError {
    /// The song.
    pub song: usize,
    /// What is wrong.
    pub message: String,
}

/// Lays the songs out. `cd_frames` aligns the tracks to CD frames (see the
/// module docs).
pub fn lay_out(songs: &[SongTiming], cd_frames: bool) -> Result<Layout, LayoutError> {
    let mut placements: Vec<Placement> = Vec::with_capacity(songs.len());
    let mut marks: Vec<TrackMarks> = Vec::with_capacity(songs.len());
    let align_up = |x: u64| {
        if cd_frames {
            x.div_ceil(CD_FRAME) * CD_FRAME
        } else {
            x
        }
    };
    let align_nearest = |x: u64| {
        if cd_frames {
            (x + CD_FRAME / 2) / CD_FRAME * CD_FRAME
        } else {
            x
        }
    };
    for (i, s) in songs.iter().enumerate() {
        if s.frames == 0 {
            return Err(LayoutError {
                song: i,
                message: "the song is empty (no audio after trimming)".into(),
            });
        }
        let prev = i.checked_sub(1).map(|p| (&songs[p], &placements[p]));
        let overlap_in = prev.map_or(0, |(ps, _)| ps.crossfade);
        let (start, mark) = match prev {
            None => (
                0,
                TrackMarks {
                    index00: None,
                    index01: 0,
                },
            ),
            Some((ps, pp)) if ps.crossfade > 0 => {
                let overlap = ps.crossfade;
                if overlap > pp.frames || overlap > s.frames {
                    return Err(LayoutError {
                        song: i - 1,
                        message: format!(
                            "the crossfade ({overlap} frames) is longer than {} song",
                            if overlap > pp.frames {
                                "this"
                            } else {
                                "the next"
                            }
                        ),
                    });
                }
                let start = pp.end() - overlap;
                if start < pp.start + pp.fade_in.0 {
                    return Err(LayoutError {
                        song: i - 1,
                        message: "the crossfades into and out of this song overlap: the song is \
                                  shorter than the two crossfades together"
                            .into(),
                    });
                }
                (
                    start,
                    TrackMarks {
                        index00: None,
                        index01: align_nearest(start),
                    },
                )
            }
            Some((ps, pp)) if ps.segue => {
                let start = pp.end();
                (
                    start,
                    TrackMarks {
                        index00: None,
                        index01: align_nearest(start),
                    },
                )
            }
            Some((_, pp)) => {
                let pregap_start = align_up(pp.end());
                let gap = if cd_frames {
                    (s.gap_before + CD_FRAME / 2) / CD_FRAME * CD_FRAME
                } else {
                    s.gap_before
                };
                let start = pregap_start + gap;
                (
                    start,
                    TrackMarks {
                        index00: (gap > 0).then_some(pregap_start),
                        index01: start,
                    },
                )
            }
        };
        if let Some(last) = marks.last()
            && mark.index01 <= last.index01
        {
            return Err(LayoutError {
                song: i,
                message: "the song starts where the previous track starts (a crossfade as long \
                          as the previous song)"
                    .into(),
            });
        }
        let crossfade_curve_in = prev.map_or(Curve::EqualPower, |(ps, _)| ps.crossfade_curve);
        placements.push(Placement {
            start,
            frames: s.frames,
            fade_in: (overlap_in, crossfade_curve_in),
            own_fade_in: (s.fade_in.min(s.frames), s.fade_curve),
            fade_out: (s.crossfade, s.crossfade_curve),
            own_fade_out: (s.fade_out.min(s.frames), s.fade_curve),
        });
        marks.push(mark);
    }
    let end = placements.last().map_or(0, Placement::end);
    Ok(Layout {
        placements,
        marks,
        total: align_up(end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song(frames: u64) -> SongTiming {
        SongTiming {
            frames,
            gap_before: 0,
            crossfade: 0,
            segue: false,
            fade_in: 0,
            fade_out: 0,
            fade_curve: Curve::SCurve,
            crossfade_curve: Curve::EqualPower,
        }
    }

    #[test]
    fn gaps_are_whole_frames_and_songs_start_on_them() {
        let mut a = song(100_001);
        a.segue = false;
        let mut b = song(50_000);
        b.gap_before = 88_200; // 2 s
        let mut c = song(70_000);
        c.gap_before = 1000; // rounds to 2 frames
        let l = lay_out(&[a, b, c], true).unwrap();
        for m in &l.marks {
            assert_eq!(m.index01 % CD_FRAME, 0);
            assert_eq!(m.index00.unwrap_or(0) % CD_FRAME, 0);
        }
        // Songs after gaps start exactly on their INDEX 01.
        assert_eq!(l.placements[1].start, l.marks[1].index01);
        assert_eq!(l.placements[2].start, l.marks[2].index01);
        // The pregap starts after the previous song, under a frame later.
        let pre = l.marks[1].index00.unwrap();
        assert!(pre >= 100_001 && pre - 100_001 < CD_FRAME);
        assert_eq!(l.marks[1].index01 - pre, 88_200);
        assert_eq!(
            l.marks[2].index01 - l.marks[2].index00.unwrap(),
            2 * CD_FRAME
        );
        assert_eq!(l.total % CD_FRAME, 0);
        assert!(l.total >= l.placements[2].end() && l.total - l.placements[2].end() < CD_FRAME);
    }

    #[test]
    fn segues_and_crossfades_keep_the_audio_and_move_only_the_index() {
        let mut a = song(100_000);
        a.crossfade = 44_100;
        let mut b = song(90_000);
        b.segue = true;
        let c = song(60_000);
        let l = lay_out(&[a, b, c], true).unwrap();
        assert_eq!(l.placements[1].start, 100_000 - 44_100);
        assert_eq!(l.placements[2].start, l.placements[1].end());
        for (p, m) in l.placements.iter().zip(&l.marks) {
            assert_eq!(m.index01 % CD_FRAME, 0);
            assert!(m.index01.abs_diff(p.start) <= CD_FRAME / 2);
            assert_eq!(m.index00, None);
        }
        // Without CD frames the tracks start exactly at their songs.
        let s = lay_out(
            &[
                SongTiming {
                    crossfade: 44_100,
                    ..song(100_000)
                },
                SongTiming {
                    segue: true,
                    ..song(90_000)
                },
                song(60_000),
            ],
            false,
        )
        .unwrap();
        for (p, m) in s.placements.iter().zip(&s.marks) {
            assert_eq!(m.index01, p.start);
        }
        assert_eq!(s.total, s.placements[2].end());
    }

    #[test]
    fn crossfade_gains_sum_to_constant_power() {
        let mut a = song(10_000);
        a.crossfade = 1000;
        let b = song(10_000);
        let l = lay_out(&[a, b], false).unwrap();
        let (pa, pb) = (&l.placements[0], &l.placements[1]);
        for t in pb.start..pa.end() {
            let ga = pa.gain_at(t - pa.start);
            let gb = pb.gain_at(t - pb.start);
            assert!((ga * ga + gb * gb - 1.0).abs() < 1e-12);
        }
        assert_eq!(pa.gain_at(0), 1.0);
        assert_eq!(pb.gain_at(9_999), 1.0);
    }

    #[test]
    fn impossible_crossfades_name_the_song() {
        let mut a = song(1000);
        a.crossfade = 2000;
        let e = lay_out(&[a, song(5000)], false).unwrap_err();
        assert_eq!(e.song, 0);
        let mut a = song(5000);
        a.crossfade = 3000;
        let mut b = song(5000);
        b.crossfade = 3000;
        let e = lay_out(&[a, b, song(5000)], false).unwrap_err();
        assert_eq!(e.song, 1);
    }
}
