//! What a CD plant receives besides the image: the CUE sheet (FILE, TRACK,
//! INDEX 00 / 01, ISRC, CATALOG, CD-Text TITLE / PERFORMER / SONGWRITER)
//! and the PQ listing (every index with its start time, as text and CSV),
//! and the Red Book limits the layout must keep.
//!
//! Times are `mm:ss:ff` with 75 frames a second (588 samples at 44.1 kHz).
//! The CUE sheet counts from the start of the image file. The PQ listing
//! gives both the image time and the disc time, which adds the 2-second
//! pregap a CD has before track 1 (track 1's INDEX 01 is at 00:02:00 on the
//! disc).

use super::layout::CD_FRAME;

/// CD frames a second.
pub const FRAMES_PER_SECOND: u64 = 75;
/// Samples a second on a CD.
pub const CD_RATE: u64 = 44_100;
/// The pregap before track 1 on the disc (2 s), in CD frames.
pub const DISC_PREGAP_FRAMES: u64 = 2 * FRAMES_PER_SECOND;
/// Most tracks on a CD.
pub const MAX_TRACKS: usize = 99;
/// Shortest track (its own audio, without the next pregap), in seconds.
pub const MIN_TRACK_S: u64 = 4;
/// Longest programme on a CD: 79:57 (the last minutes of the 80-minute
/// disc hold the lead-out and the tolerance plants ask for).
pub const MAX_TOTAL_S: u64 = 79 * 60 + 57;

/// One track of the disc.
#[derive(Debug, Clone, PartialEq)]
pub struct CdTrack {
    /// CD-Text TITLE.
    pub title: String,
    /// CD-Text PERFORMER.
    pub performer: String,
    /// CD-Text SONGWRITER.
    pub songwriter: Option<String>,
    /// ISRC, 12 characters without hyphens.
    pub isrc: Option<String>,
    /// Pregap start in samples from the start of the image (a multiple of
    /// 588), when the track has one.
    pub index00: Option<u64>,
    /// Track start in samples (a multiple of 588).
    pub index01: u64,
}

/// The disc.
#[derive(Debug, Clone, PartialEq)]
pub struct CdDisc {
    /// CD-Text TITLE of the album.
    pub title: String,
    /// CD-Text PERFORMER of the album.
    pub performer: String,
    /// CD-Text SONGWRITER of the album.
    pub songwriter: Option<String>,
    /// CATALOG, 13 digits.
    pub catalog: Option<String>,
    /// GENRE and DATE for `REM` lines (read by most rippers and players).
    pub genre: Option<String>,
    /// See [`Self::genre`].
    pub date: Option<String>,
    /// The image's file name, as the CUE sheet's FILE names it.
    pub image_file: String,
    /// Image length in samples (a multiple of 588).
    pub total_samples: u64,
    /// The tracks.
    pub tracks: Vec<CdTrack>,
}

/// `mm:ss:ff` of a sample position that is a multiple of 588.
pub fn msf(samples: u64) -> String {
    msf_frames(samples / CD_FRAME)
}

/// `mm:ss:ff` of a count of CD frames.
pub fn msf_frames(frames: u64) -> String {
    let ff = frames % FRAMES_PER_SECOND;
    let s = frames / FRAMES_PER_SECOND;
    format!("{:02}:{:02}:{:02}", s / 60, s % 60, ff)
}

impl CdDisc {
    /// Checks the Red Book limits: at most 99 tracks, each at least 4 s
    /// (its own audio, INDEX 01 to the next pregap), at most 79:57 in all,
    /// every index on a frame boundary. The message names the track.
    pub fn check_red_book(&self) -> Result<(), String> {
        if self.tracks.is_empty() {
            return Err("a CD needs at least one track".into());
        }
        if self.tracks.len() > MAX_TRACKS {
            return Err(format!(
                "{} tracks: a CD holds at most {MAX_TRACKS}",
                self.tracks.len()
            ));
        }
        if self.total_samples > MAX_TOTAL_S * CD_RATE {
            return Err(format!(
                "the album is {} long: a CD holds at most {} (79:57)",
                msf(self.total_samples),
                msf(MAX_TOTAL_S * CD_RATE)
            ));
        }
        for (i, t) in self.tracks.iter().enumerate() {
            for (name, at) in [("INDEX 00", t.index00), ("INDEX 01", Some(t.index01))] {
                if let Some(at) = at
                    && at % CD_FRAME != 0
                {
                    return Err(format!(
                        "track {} '{}': {name} at sample {at} is not on a CD frame boundary \
                         (a multiple of {CD_FRAME})",
                        i + 1,
                        t.title
                    ));
                }
            }
            let end = self
                .tracks
                .get(i + 1)
                .map_or(self.total_samples, |n| n.index00.unwrap_or(n.index01));
            let len = end.saturating_sub(t.index01);
            if len < MIN_TRACK_S * CD_RATE {
                return Err(format!(
                    "track {} '{}' is {:.2} s long: Red Book tracks are at least {MIN_TRACK_S} s \
                     (streaming delivery accepts it; deliver it without --cd, or lengthen it)",
                    i + 1,
                    t.title,
                    len as f64 / CD_RATE as f64
                ));
            }
        }
        Ok(())
    }

    /// Checks that the CD-Text fits its character set, ISO 8859-1 (Latin-1).
    pub fn check_cd_text(&self) -> Result<(), String> {
        let mut texts = vec![
            ("the album title".to_string(), &self.title),
            ("the album artist".to_string(), &self.performer),
        ];
        if let Some(w) = &self.songwriter {
            texts.push(("the album songwriter".to_string(), w));
        }
        for (i, t) in self.tracks.iter().enumerate() {
            texts.push((format!("track {} title", i + 1), &t.title));
            texts.push((format!("track {} performer", i + 1), &t.performer));
            if let Some(w) = &t.songwriter {
                texts.push((format!("track {} songwriter", i + 1), w));
            }
        }
        for (what, text) in texts {
            if let Some(c) = text.chars().find(|&c| u32::from(c) > 0xFF) {
                return Err(format!(
                    "{what} '{text}' has '{c}', which CD-Text (ISO 8859-1) cannot hold; spell it \
                     with Latin-1 characters for the CD (streaming tags keep any text)"
                ));
            }
        }
        Ok(())
    }

    /// The CUE sheet (CRLF line ends, as plant software expects).
    pub fn cue_sheet(&self) -> String {
        let mut out = Vec::<String>::new();
        if let Some(g) = &self.genre {
            out.push(format!("REM GENRE \"{g}\""));
        }
        if let Some(d) = &self.date {
            out.push(format!("REM DATE {d}"));
        }
        out.push(format!(
            "REM COMMENT \"mixmaster {}\"",
            env!("CARGO_PKG_VERSION")
        ));
        if let Some(c) = &self.catalog {
            out.push(format!("CATALOG {c}"));
        }
        out.push(format!("PERFORMER \"{}\"", self.performer));
        out.push(format!("TITLE \"{}\"", self.title));
        if let Some(w) = &self.songwriter {
            out.push(format!("SONGWRITER \"{w}\""));
        }
        out.push(format!("FILE \"{}\" WAVE", self.image_file));
        for (i, t) in self.tracks.iter().enumerate() {
            out.push(format!("  TRACK {:02} AUDIO", i + 1));
            out.push(format!("    TITLE \"{}\"", t.title));
            out.push(format!("    PERFORMER \"{}\"", t.performer));
            if let Some(w) = &t.songwriter {
                out.push(format!("    SONGWRITER \"{w}\""));
            }
            if let Some(isrc) = &t.isrc {
                out.push(format!("    ISRC {isrc}"));
            }
            if let Some(p) = t.index00 {
                out.push(format!("    INDEX 00 {}", msf(p)));
            }
            out.push(format!("    INDEX 01 {}", msf(t.index01)));
        }
        let mut text = out.join("\r\n");
        text.push_str("\r\n");
        text
    }

    /// Rows of the PQ listing: (track, index, image start, disc start,
    /// length to the next index, ISRC, title). Track 1 has its disc pregap
    /// as INDEX 00 at 00:00:00; the lead-out is track "AA".
    fn pq_rows(&self) -> Vec<[String; 7]> {
        let mut points: Vec<(String, String, Option<u64>, u64, String, String)> = Vec::new();
        for (i, t) in self.tracks.iter().enumerate() {
            let n = format!("{:02}", i + 1);
            let isrc = t.isrc.clone().unwrap_or_default();
            match (i, t.index00) {
                (_, Some(p)) => points.push((
                    n.clone(),
                    "00".into(),
                    Some(p / CD_FRAME),
                    p / CD_FRAME + DISC_PREGAP_FRAMES,
                    isrc.clone(),
                    t.title.clone(),
                )),
                (0, None) => {
                    points.push((
                        n.clone(),
                        "00".into(),
                        None,
                        0,
                        isrc.clone(),
                        t.title.clone(),
                    ));
                }
                _ => {}
            }
            points.push((
                n,
                "01".into(),
                Some(t.index01 / CD_FRAME),
                t.index01 / CD_FRAME + DISC_PREGAP_FRAMES,
                isrc,
                t.title.clone(),
            ));
        }
        let lead_out = self.total_samples / CD_FRAME;
        let mut rows = Vec::with_capacity(points.len() + 1);
        for (k, p) in points.iter().enumerate() {
            let next = points
                .get(k + 1)
                .map_or(lead_out + DISC_PREGAP_FRAMES, |q| q.3);
            rows.push([
                p.0.clone(),
                p.1.clone(),
                p.2.map_or_else(|| "-".into(), msf_frames),
                msf_frames(p.3),
                msf_frames(next - p.3),
                p.4.clone(),
                p.5.clone(),
            ]);
        }
        rows.push([
            "AA".into(),
            "01".into(),
            msf_frames(lead_out),
            msf_frames(lead_out + DISC_PREGAP_FRAMES),
            String::new(),
            String::new(),
            "lead-out".into(),
        ]);
        rows
    }

    /// The PQ listing as a text table for the plant.
    pub fn pq_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "PQ listing — {} — {}\n",
            self.performer, self.title
        ));
        out.push_str(&format!(
            "Catalog (UPC/EAN): {}\n",
            self.catalog.as_deref().unwrap_or("none")
        ));
        out.push_str(&format!(
            "Image: {} ({} frames, {}); disc times add the 2-second pregap before track 1\n\n",
            self.image_file,
            self.total_samples / CD_FRAME,
            msf(self.total_samples)
        ));
        let header = ["Track", "Index", "Image", "Disc", "Length", "ISRC", "Title"];
        let rows = self.pq_rows();
        let widths: Vec<usize> = (0..7)
            .map(|c| {
                rows.iter()
                    .map(|r| r[c].chars().count())
                    .chain([header[c].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut l = String::new();
            for (c, cell) in cells.iter().enumerate() {
                if c > 0 {
                    l.push_str("  ");
                }
                if c == 6 {
                    l.push_str(cell);
                } else {
                    l.push_str(&format!("{cell:<w$}", w = widths[c]));
                }
            }
            l.trim_end().to_string() + "\n"
        };
        out.push_str(&line(&header.map(String::from)));
        for r in &rows {
            out.push_str(&line(r));
        }
        out
    }

    /// The PQ listing as CSV (RFC 4180: fields with commas or quotes are
    /// quoted).
    pub fn pq_csv(&self) -> String {
        let field = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let mut out = String::from("track,index,image_start,disc_start,length,isrc,title\r\n");
        for r in self.pq_rows() {
            let cells: Vec<String> = r.iter().map(|c| field(c)).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc() -> CdDisc {
        CdDisc {
            title: "Album".into(),
            performer: "Artist".into(),
            songwriter: None,
            catalog: Some("0036000291452".into()),
            genre: None,
            date: Some("2026".into()),
            image_file: "album.wav".into(),
            total_samples: 588 * 75 * 30,
            tracks: vec![
                CdTrack {
                    title: "One".into(),
                    performer: "Artist".into(),
                    songwriter: Some("Writer".into()),
                    isrc: Some("GBXYZ2600001".into()),
                    index00: None,
                    index01: 0,
                },
                CdTrack {
                    title: "Two, too".into(),
                    performer: "Artist".into(),
                    songwriter: None,
                    isrc: None,
                    index00: Some(588 * 75 * 10),
                    index01: 588 * (75 * 12 + 3),
                },
            ],
        }
    }

    #[test]
    fn msf_counts_75_frames_a_second() {
        assert_eq!(msf(0), "00:00:00");
        assert_eq!(msf(588), "00:00:01");
        assert_eq!(msf(588 * 75), "00:01:00");
        assert_eq!(msf(588 * (75 * 61 + 74)), "01:01:74");
    }

    #[test]
    fn cue_sheet_lists_indexes_isrc_and_cd_text() {
        let cue = disc().cue_sheet();
        assert!(cue.contains("CATALOG 0036000291452\r\n"));
        assert!(cue.contains("FILE \"album.wav\" WAVE\r\n"));
        assert!(cue.contains("  TRACK 01 AUDIO\r\n    TITLE \"One\""));
        assert!(cue.contains(
            "    SONGWRITER \"Writer\"\r\n    ISRC GBXYZ2600001\r\n    INDEX 01 00:00:00"
        ));
        assert!(cue.contains("    INDEX 00 00:10:00\r\n    INDEX 01 00:12:03\r\n"));
    }

    #[test]
    fn pq_listing_gives_image_and_disc_times() {
        let d = disc();
        let csv = d.pq_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[1], "01,00,-,00:00:00,00:02:00,GBXYZ2600001,One");
        assert_eq!(
            lines[2],
            "01,01,00:00:00,00:02:00,00:10:00,GBXYZ2600001,One"
        );
        assert_eq!(lines[3], "02,00,00:10:00,00:12:00,00:02:03,,\"Two, too\"");
        assert_eq!(lines[4], "02,01,00:12:03,00:14:03,00:17:72,,\"Two, too\"");
        assert_eq!(lines[5], "AA,01,00:30:00,00:32:00,,,lead-out");
        assert!(d.pq_text().contains("Catalog (UPC/EAN): 0036000291452"));
    }

    #[test]
    fn cd_text_is_latin_1() {
        let mut d = disc();
        d.tracks[1].title = "Café Noir".into();
        assert_eq!(d.check_cd_text(), Ok(()));
        d.tracks[1].title = "Straße – Nacht".into();
        let e = d.check_cd_text().unwrap_err();
        assert!(e.contains("track 2 title") && e.contains('–'), "{e}");
    }

    #[test]
    fn red_book_limits() {
        let mut d = disc();
        assert_eq!(d.check_red_book(), Ok(()));
        // Track 1's own audio ends at track 2's pregap: 10 s. Make it 3 s.
        d.tracks[1].index00 = Some(588 * 75 * 3);
        let e = d.check_red_book().unwrap_err();
        assert!(e.contains("track 1 'One' is 3.00 s"), "{e}");
        let mut d = disc();
        d.tracks[1].index01 += 1;
        assert!(d.check_red_book().unwrap_err().contains("frame boundary"));
        let mut d = disc();
        d.total_samples = (MAX_TOTAL_S + 1) * CD_RATE;
        assert!(d.check_red_book().unwrap_err().contains("79:57"));
        let mut d = disc();
        d.tracks = (0..100)
            .map(|i| CdTrack {
                index01: i * 588 * 75 * 5,
                ..d.tracks[0].clone()
            })
            .collect();
        d.total_samples = 100 * 588 * 75 * 5;
        assert!(d.check_red_book().unwrap_err().contains("at most 99"));
    }
}
