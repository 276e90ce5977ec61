//! The report's plots as PNG files (`mixmaster report --png DIR`): each
//! plot's SVG, with its heading and the file's name above it, rasterised by
//! resvg with the system's fonts.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mixmaster_io::atomic::AtomicFile;
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{self, fontdb};

use crate::ReportError;
use crate::svg::Plot;

/// Sans-serif families we prefer for the labels, in order; any other font
/// on the system is used when none of these is installed.
const PREFERRED: [&str; 6] = [
    "DejaVu Sans",
    "Liberation Sans",
    "Noto Sans",
    "Arial",
    "Helvetica",
    "FreeSans",
];

/// Rasterises plots with the system's fonts.
#[derive(Debug)]
pub struct PngWriter {
    options: usvg::Options<'static>,
    /// Pixels per SVG unit (a plot is 960 units wide).
    scale: f32,
}

impl PngWriter {
    /// Loads the system's fonts. Fails when there is none: a plot without
    /// its axis labels would not say what it shows.
    pub fn new(scale: f32) -> Result<Self, ReportError> {
        let mut db = fontdb::Database::new();
        db.load_system_fonts();
        let family = PREFERRED
            .iter()
            .find(|want| {
                db.faces()
                    .any(|f| f.families.iter().any(|(name, _)| name == *want))
            })
            .map(|s| (*s).to_string())
            .or_else(|| {
                db.faces()
                    .find_map(|f| f.families.first().map(|(name, _)| name.clone()))
            })
            .ok_or_else(|| {
                ReportError(
                    "no font is installed to draw the plots' labels for --png \
                     (install one, e.g. the Debian package fonts-dejavu-core)"
                        .into(),
                )
            })?;
        db.set_sans_serif_family(family.clone());
        let options = usvg::Options {
            font_family: family,
            fontdb: Arc::new(db),
            ..usvg::Options::default()
        };
        Ok(Self { options, scale })
    }

    /// One plot as PNG bytes; `caption` (the file's name) goes above it.
    pub fn render(&self, plot: &Plot, caption: &str) -> Result<Vec<u8>, ReportError> {
        let svg = plot.to_standalone_svg(caption);
        let tree = usvg::Tree::from_str(&svg, &self.options)
            .map_err(|e| ReportError(format!("plot '{}': {e}", plot.id)))?;
        let size = tree.size();
        let (w, h) = (
            (size.width() * self.scale).ceil() as u32,
            (size.height() * self.scale).ceil() as u32,
        );
        let mut pixmap = Pixmap::new(w, h)
            .ok_or_else(|| ReportError(format!("plot '{}': empty image", plot.id)))?;
        resvg::render(
            &tree,
            Transform::from_scale(self.scale, self.scale),
            &mut pixmap.as_mut(),
        );
        pixmap
            .encode_png()
            .map_err(|e| ReportError(format!("plot '{}': {e}", plot.id)))
    }

    /// Writes every plot to `DIR/<id>.png` (creating DIR), each as an
    /// [`AtomicFile`]. Returns the files written.
    pub fn write_all(
        &self,
        plots: &[Plot],
        caption: &str,
        dir: &Path,
    ) -> Result<Vec<PathBuf>, ReportError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            ReportError(format!("{}: cannot create the folder: {e}", dir.display()))
        })?;
        // Render everything before writing anything.
        let images = plots
            .iter()
            .map(|p| Ok((dir.join(format!("{}.png", p.id)), self.render(p, caption)?)))
            .collect::<Result<Vec<_>, ReportError>>()?;
        let mut written = Vec::with_capacity(images.len());
        for (path, bytes) in images {
            let fail = |e: String| ReportError(format!("{}: cannot write: {e}", path.display()));
            let (out, mut f) = AtomicFile::create(&path, &[]).map_err(|e| fail(e.to_string()))?;
            f.write_all(&bytes).map_err(|e| fail(e.to_string()))?;
            out.commit(f).map_err(|e| fail(e.to_string()))?;
            written.push(path);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg::{Axis, Line};

    #[test]
    fn a_plot_rasterises_with_its_labels_drawn() {
        let plot = Plot {
            id: "t".into(),
            title: "Test".into(),
            x: Axis::linear("Time", "s", 0.0, 10.0),
            y: Axis::linear("Level", "dB", -60.0, 0.0),
            lines: vec![Line::new(
                "ramp",
                "#2a5d9f",
                (0..200)
                    .map(|i| (f64::from(i) / 20.0, -f64::from(i) * 0.3))
                    .collect(),
            )],
            regions: Vec::new(),
            rules: Vec::new(),
            marks: Vec::new(),
        };
        let writer = PngWriter::new(1.0).expect("a system font (fonts-dejavu-core)");
        let png = writer.render(&plot, "file.wav").unwrap();
        let pixmap = Pixmap::decode_png(&png).unwrap();
        assert_eq!((pixmap.width(), pixmap.height()), (960, 356));
        // Below the plot area (36 + 270 = 306 px down) there is only text:
        // the tick labels and the axis title. Inked pixels there mean the
        // font drew them.
        let dark = (310..356)
            .flat_map(|y| (0..960).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let p = pixmap.pixel(x, y).unwrap();
                u16::from(p.red()) + u16::from(p.green()) + u16::from(p.blue()) < 600
            })
            .count();
        assert!(dark > 150, "{dark} inked pixels under the plot");
        // The background is white, not transparent.
        let corner = pixmap.pixel(0, 0).unwrap();
        assert_eq!((corner.red(), corner.alpha()), (255, 255));
    }
}
