//! Atomic output: no partial files, no stray temporary files, inputs are
//! never overwritten, an existing target changes only on finish.

mod common;

use common::{TempDir, random_int_signal};
use mixmaster_io::atomic::AtomicFile;
use mixmaster_io::{AudioWriter, Encoding, FileFormat, IoError, WriteSpec, read_all};
use std::path::Path;

fn spec(format: FileFormat) -> WriteSpec {
    WriteSpec {
        sample_rate_hz: 44_100,
        channels: 2,
        format,
        encoding: Encoding::Pcm16,
    }
}

fn write_file(path: &Path, seed: u64, inputs: &[&Path]) {
    let mut w = AudioWriter::create(path, spec(FileFormat::Wav), inputs).unwrap();
    w.write(&random_int_signal(2, 1000, 16, seed)).unwrap();
    w.finish().unwrap();
}

#[test]
fn abandoned_writer_leaves_nothing() {
    let dir = TempDir::new("abandon");
    for format in [FileFormat::Wav, FileFormat::Flac] {
        let path = dir.join("out.any");
        let mut w = AudioWriter::create(&path, spec(format), &[]).unwrap();
        w.write(&random_int_signal(2, 10_000, 16, 1)).unwrap();
        // While writing, only the hidden temporary file exists.
        let entries = dir.entries();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert!(
            entries[0].starts_with(".out.any.") && entries[0].ends_with(".tmp"),
            "{entries:?}"
        );
        drop(w);
        assert!(dir.entries().is_empty(), "{:?}", dir.entries());
    }
}

#[test]
fn error_while_writing_leaves_nothing_and_keeps_the_old_target() {
    let dir = TempDir::new("errwrite");
    let path = dir.join("master.wav");
    write_file(&path, 1, &[]);
    let before = std::fs::read(&path).unwrap();
    let mut w = AudioWriter::create(&path, spec(FileFormat::Wav), &[]).unwrap();
    w.write(&random_int_signal(2, 500, 16, 2)).unwrap();
    assert!(w.write(&[vec![f64::NAN], vec![0.0]]).is_err());
    drop(w);
    assert_eq!(dir.entries(), vec!["master.wav".to_string()]);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn existing_target_is_replaced_only_on_finish() {
    let dir = TempDir::new("replace");
    let path = dir.join("mix.wav");
    write_file(&path, 1, &[]);
    let before = std::fs::read(&path).unwrap();
    let new_signal = random_int_signal(2, 777, 16, 2);
    let mut w = AudioWriter::create(&path, spec(FileFormat::Wav), &[]).unwrap();
    w.write(&new_signal).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "target untouched before finish"
    );
    let summary = w.finish().unwrap();
    assert_eq!(summary.path, path);
    assert_eq!(summary.frames, 777);
    let (_, decoded) = read_all(&path).unwrap();
    assert_eq!(decoded.planar(), new_signal.as_slice());
    assert_eq!(dir.entries(), vec!["mix.wav".to_string()]);
}

#[test]
fn refuses_to_overwrite_an_input_by_the_same_path() {
    let dir = TempDir::new("same");
    let input = dir.join("take.wav");
    write_file(&input, 1, &[]);
    let before = std::fs::read(&input).unwrap();
    let err = AudioWriter::create(&input, spec(FileFormat::Wav), &[&input]).unwrap_err();
    assert!(matches!(err, IoError::WouldOverwriteInput { .. }), "{err}");
    assert!(
        err.to_string().contains("refusing to overwrite input"),
        "{err}"
    );
    assert_eq!(std::fs::read(&input).unwrap(), before);
    assert_eq!(dir.entries(), vec!["take.wav".to_string()]);
}

#[test]
fn refuses_to_overwrite_an_input_by_another_spelling() {
    let dir = TempDir::new("spelling");
    std::fs::create_dir(dir.join("sub")).unwrap();
    let input = dir.join("take.wav");
    write_file(&input, 1, &[]);
    // dir/sub/../take.wav and dir/./take.wav are the input.
    for other in [
        dir.path().join("sub/../take.wav"),
        dir.path().join("./take.wav"),
    ] {
        let err = AudioWriter::create(&other, spec(FileFormat::Wav), &[&input]).unwrap_err();
        assert!(matches!(err, IoError::WouldOverwriteInput { .. }), "{err}");
    }
    // A relative path from the current directory to the same file.
    let cwd = std::env::current_dir().unwrap();
    if let Ok(rel) = input.strip_prefix(&cwd) {
        let err = AudioWriter::create(rel, spec(FileFormat::Wav), &[&input]).unwrap_err();
        assert!(matches!(err, IoError::WouldOverwriteInput { .. }), "{err}");
    } else {
        // The temp dir is elsewhere: spell it relative with enough "..".
        let depth = cwd.components().count() - 1;
        let mut rel = std::path::PathBuf::new();
        for _ in 0..depth {
            rel.push("..");
        }
        rel.push(input.strip_prefix("/").unwrap());
        let err = AudioWriter::create(&rel, spec(FileFormat::Wav), &[&input]).unwrap_err();
        assert!(matches!(err, IoError::WouldOverwriteInput { .. }), "{err}");
    }
}

#[cfg(unix)]
#[test]
fn refuses_to_overwrite_an_input_through_links() {
    let dir = TempDir::new("links");
    let input = dir.join("take.wav");
    write_file(&input, 1, &[]);
    let symlink = dir.join("alias.wav");
    std::os::unix::fs::symlink(&input, &symlink).unwrap();
    let hardlink = dir.join("hard.wav");
    std::fs::hard_link(&input, &hardlink).unwrap();
    for target in [&symlink, &hardlink] {
        let err = AudioWriter::create(target, spec(FileFormat::Wav), &[&input]).unwrap_err();
        assert!(
            matches!(err, IoError::WouldOverwriteInput { .. }),
            "{}: {err}",
            target.display()
        );
    }
    // And the other way round: the input given through the link.
    let err = AudioWriter::create(&input, spec(FileFormat::Wav), &[&symlink]).unwrap_err();
    assert!(matches!(err, IoError::WouldOverwriteInput { .. }), "{err}");
    // A different file next to it is fine.
    write_file(&dir.join("other.wav"), 2, &[&input, &symlink]);
}

#[test]
fn output_folder_must_exist_and_target_must_not_be_a_folder() {
    let dir = TempDir::new("folders");
    let err =
        AudioWriter::create(&dir.join("missing/x.wav"), spec(FileFormat::Wav), &[]).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    let err = AudioWriter::create(dir.path(), spec(FileFormat::Wav), &[]).unwrap_err();
    assert!(err.to_string().contains("is a directory"), "{err}");
}

#[test]
fn atomic_file_directly() {
    use std::io::Write;
    let dir = TempDir::new("direct");
    let target = dir.join("notes.txt");
    let (guard, mut file) = AtomicFile::create(&target, &[]).unwrap();
    assert!(guard.temp_path().exists());
    file.write_all(b"hello").unwrap();
    guard.commit(file).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"hello");
    assert_eq!(dir.entries(), vec!["notes.txt".to_string()]);
}
