//! Atomic output files: nothing appears at the target path until the whole
//! file is written and synced, and an input is never overwritten.
//!
//! [`AtomicFile::create`] opens a fresh temporary file next to the target
//! (`.NAME.PID.N.tmp`, same folder so the final rename cannot cross file
//! systems). [`AtomicFile::commit`] syncs it to disk (`fsync`), renames it
//! over the target and syncs the folder. Dropping an `AtomicFile` without
//! committing — an error, a panic unwinding, an abandoned writer — removes
//! the temporary file, so a failed render leaves neither a partial output nor
//! a stray temporary file, and an existing target stays as it was.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::IoError;

/// Distinguishes temporary files of one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary file that becomes the target on [`AtomicFile::commit`] and
/// disappears otherwise.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Checks that `target` is none of `inputs`, then creates the temporary
    /// file in the target's folder and returns it, open for writing.
    ///
    /// Two paths are "the same file" when they canonicalise to the same path
    /// (so `./a.wav`, `dir/../a.wav` and a symbolic link to `a.wav` are all
    /// `a.wav`), or, on Unix, when they are the same inode (hard links).
    ///
    /// # Errors
    /// [`IoError::WouldOverwriteInput`]; [`IoError::Write`] when the target is
    /// a folder, its folder does not exist, or the temporary file cannot be
    /// created.
    pub fn create(target: &Path, inputs: &[&Path]) -> Result<(AtomicFile, File), IoError> {
        let write_err = |e: std::io::Error| IoError::write(target, e);
        if target.is_dir() {
            return Err(write_err(std::io::Error::new(
                ErrorKind::IsADirectory,
                "is a directory",
            )));
        }
        for input in inputs {
            if same_file(target, input) {
                return Err(IoError::WouldOverwriteInput {
                    path: target.to_path_buf(),
                    input: input.to_path_buf(),
                });
            }
        }
        let name = target.file_name().ok_or_else(|| {
            write_err(std::io::Error::new(
                ErrorKind::InvalidInput,
                "the output path has no file name",
            ))
        })?;
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(write_err(std::io::Error::new(
                ErrorKind::NotFound,
                format!("folder {} does not exist", dir.display()),
            )));
        }
        let pid = std::process::id();
        loop {
            let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut temp_name = std::ffi::OsString::from(".");
            temp_name.push(name);
            temp_name.push(format!(".{pid}.{n}.tmp"));
            let temp = dir.join(temp_name);
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&temp)
            {
                Ok(file) => {
                    return Ok((
                        AtomicFile {
                            target: target.to_path_buf(),
                            temp,
                            committed: false,
                        },
                        file,
                    ));
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(write_err(e)),
            }
        }
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary file being written.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Syncs `file` (the handle returned by [`AtomicFile::create`], with all
    /// data written) to disk, closes it, and renames the temporary file over
    /// the target.
    ///
    /// # Errors
    /// [`IoError::Write`]; the temporary file is removed and the target is
    /// left as it was.
    pub fn commit(mut self, file: File) -> Result<(), IoError> {
        file.sync_all()
            .map_err(|e| IoError::write(&self.target, e))?;
        drop(file);
        std::fs::rename(&self.temp, &self.target).map_err(|e| IoError::write(&self.target, e))?;
        self.committed = true;
        // Make the rename itself durable. Best effort: not every platform
        // lets a folder be opened and synced.
        if let Some(dir) = self.target.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// True when writing `target` would replace the file `input` (see
/// [`AtomicFile::create`] for what counts as the same file).
pub fn same_file(target: &Path, input: &Path) -> bool {
    let Ok(input_canon) = input.canonicalize() else {
        // An input that does not exist cannot be overwritten.
        return false;
    };
    if let Some(target_canon) = canonical_target(target)
        && target_canon == input_canon
    {
        return true;
    }
    same_inode(target, input)
}

/// The canonical form of a path that may not exist yet: its folder
/// canonicalised, plus its file name.
fn canonical_target(target: &Path) -> Option<PathBuf> {
    if let Ok(p) = target.canonicalize() {
        return Some(p);
    }
    let name = target.file_name()?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(dir.canonicalize().ok()?.join(name))
}

#[cfg(unix)]
fn same_inode(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(ma), Ok(mb)) => ma.dev() == mb.dev() && ma.ino() == mb.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_inode(_a: &Path, _b: &Path) -> bool {
    false
}
