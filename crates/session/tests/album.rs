//! Album files: what parses, and every mistake named by line and field.

use std::path::Path;

use mixmaster_session::{LoadedAlbum, LoudnessMode, SongSource};

const HEAD: &str = "[album]\ntitle = \"T\"\nartist = \"A\"\n";

fn load(body: &str) -> Result<LoadedAlbum, String> {
    LoadedAlbum::from_toml_str(&format!("{HEAD}{body}"), Path::new("album.toml"))
        .map_err(|e| e.to_string())
}

fn err(body: &str) -> String {
    load(body).expect_err("should be refused")
}

#[test]
fn the_example_album_parses_with_its_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-album/album.toml");
    let a = LoadedAlbum::load(&path).unwrap().album;
    assert_eq!(a.songs.len(), 4);
    assert_eq!(a.loudness.mode(), LoudnessMode::Album);
    assert_eq!(a.deliveries(), (true, true));
    assert!(matches!(
        a.songs[0].source(),
        SongSource::Generate("demo-song-fast")
    ));
    // Crossfade into song 2: no gap; song 3 has its own pregap; song 4
    // follows a segue.
    assert_eq!(a.gap_before(1), 0.0);
    assert_eq!(a.gap_before(2), 2.5);
    assert_eq!(a.gap_before(3), 0.0);
    assert_eq!(a.streaming_formats(), ["flac", "wav"]);
}

#[test]
fn default_gap_is_two_seconds() {
    let a = load(
        "[[song]]\ntitle = \"1\"\nfile = \"a.wav\"\n[[song]]\ntitle = \"2\"\nfile = \"b.wav\"\n",
    )
    .unwrap()
    .album;
    assert_eq!(a.gap_before(0), 0.0);
    assert_eq!(a.gap_before(1), 2.0);
}

#[test]
fn mistakes_name_line_and_field() {
    let song = "[[song]]\ntitle = \"S\"\n";
    let cases: &[(&str, &str, &str)] = &[
        (song, "song[0]", "has no audio"),
        (
            &format!("{song}file = \"a.wav\"\nmix = \"b.wav\"\n"),
            "song[0].mix",
            "names 2 sources",
        ),
        (
            &format!("{song}file = \"a.wav\"\ncrossfade_s = 2\n"),
            "song[0].crossfade_s",
            "no next song",
        ),
        (
            &format!("{song}file = \"a.wav\"\ngap_before_s = 1\n"),
            "song[0].gap_before_s",
            "first song has no gap",
        ),
        (
            &format!(
                "{song}file = \"a.wav\"\ncrossfade_s = 2\nsegue = true\n{song}file = \"b.wav\"\n"
            ),
            "song[0].segue",
            "not both",
        ),
        (
            &format!(
                "{song}file = \"a.wav\"\nsegue = true\n{song}file = \"b.wav\"\ngap_before_s = 1\n"
            ),
            "song[1].gap_before_s",
            "no gap before it",
        ),
        (
            &format!(
                "{song}file = \"a.wav\"\nisrc = \"GBXYZ2600001\"\n{song}file = \"b.wav\"\nisrc = \"GB-XYZ-26-00001\"\n"
            ),
            "song[1].isrc",
            "already song 1's",
        ),
        (
            &format!("{song}file = \"a.wav\"\nisrc = \"GB-XYZ-26-0001\"\n"),
            "song[0].isrc",
            "not CC-XXX-YY-NNNNN",
        ),
        (
            &format!("{song}file = \"a.wav\"\nlevel_db = 30\n"),
            "song[0].level_db",
            "out of range",
        ),
        (
            &format!("{song}file = \"a.wav\"\nseconds = 3\n"),
            "song[0].seconds",
            "only a generated programme",
        ),
        (
            &format!("{song}file = \"a.wav\"\nmastering = {{ inserts = [] }}\n"),
            "song[0].mastering",
            "not mastered again",
        ),
        (
            &format!("[loudness]\nmode = \"albm\"\n{song}file = \"a.wav\"\n"),
            "loudness.mode",
            "expected \"album\"",
        ),
        (
            &format!("[mastering]\ntarget = \"spotify\"\n{song}file = \"a.wav\"\n"),
            "mastering",
            "set in [loudness]",
        ),
        (
            &format!("[streaming]\nbits = \"32f\"\n{song}file = \"a.wav\"\n"),
            "streaming.bits",
            "expected \"16\" or \"24\"",
        ),
        (
            "[[song]]\ntitle = \"Say \\\"hi\\\"\"\nfile = \"a.wav\"\n",
            "song[0].title",
            "cannot quote",
        ),
        (
            &format!("{song}file = \"a.wav\"\nfade_ot_s = 2\n"),
            "song[0]",
            "did you mean `fade_out_s`?",
        ),
    ];
    for (body, field, message) in cases {
        let e = err(body);
        assert!(
            e.starts_with("album.toml:") && e.contains(field) && e.contains(message),
            "{body}\n→ {e}"
        );
    }
    // The line is the field's line.
    let e = err(&format!("{song}file = \"a.wav\"\nisrc = \"nope\"\n"));
    assert!(e.starts_with("album.toml:7:"), "{e}");
}

#[test]
fn catalog_check_digit_and_text_limits() {
    let e = LoadedAlbum::from_toml_str(
        "[album]\ntitle = \"T\"\nartist = \"A\"\ncatalog = \"036000291453\"\n[[song]]\ntitle = \"S\"\nfile = \"a.wav\"\n",
        Path::new("album.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("album.catalog") && e.contains("check digit"),
        "{e}"
    );
    let long = "x".repeat(81);
    let e = LoadedAlbum::from_toml_str(
        &format!("[album]\ntitle = \"{long}\"\nartist = \"A\"\n[[song]]\ntitle = \"S\"\nfile = \"a.wav\"\n"),
        Path::new("album.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("at most 80"), "{e}");
    assert!(load("").unwrap_err().contains("no songs"));
}
