//! WAV header variants built byte by byte in the test, decoded by our
//! reader: what DAWs, sox, broadcast tools and pipes write.

mod common;

use common::TempDir;
use mixmaster_io::{IoError, SampleFormat, read_all};

/// Format tag of a tiny WAV builder.
#[derive(Clone, Copy)]
enum Tag {
    Pcm,
    Float,
    /// WAVE_FORMAT_EXTENSIBLE with the PCM (1) or float (3) sub-format and
    /// the given valid bits.
    Extensible {
        sub: u16,
        valid_bits: u16,
    },
}

struct WavSpec {
    tag: Tag,
    channels: u16,
    rate: u32,
    bits: u16,
    rf64: bool,
    /// Extra chunks before `data`: (id, payload).
    extra_chunks: Vec<([u8; 4], Vec<u8>)>,
    /// Write 0xFFFFFFFF as the data size (streamed WAV).
    unknown_data_size: bool,
}

impl WavSpec {
    fn new(tag: Tag, channels: u16, bits: u16) -> Self {
        WavSpec {
            tag,
            channels,
            rate: 44_100,
            bits,
            rf64: false,
            extra_chunks: Vec::new(),
            unknown_data_size: false,
        }
    }
}

fn chunk(out: &mut Vec<u8>, id: &[u8; 4], payload: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        out.push(0);
    }
}

/// Builds a complete file around interleaved sample bytes.
fn build(spec: &WavSpec, data: &[u8]) -> Vec<u8> {
    let block_align = spec.channels * spec.bits / 8;
    let mut fmt = Vec::new();
    let tag = match spec.tag {
        Tag::Pcm => 1u16,
        Tag::Float => 3,
        Tag::Extensible { .. } => 0xFFFE,
    };
    fmt.extend_from_slice(&tag.to_le_bytes());
    fmt.extend_from_slice(&spec.channels.to_le_bytes());
    fmt.extend_from_slice(&spec.rate.to_le_bytes());
    fmt.extend_from_slice(&(spec.rate * u32::from(block_align)).to_le_bytes());
    fmt.extend_from_slice(&block_align.to_le_bytes());
    fmt.extend_from_slice(&spec.bits.to_le_bytes());
    if let Tag::Extensible { sub, valid_bits } = spec.tag {
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&valid_bits.to_le_bytes());
        fmt.extend_from_slice(&0u32.to_le_bytes()); // no channel mask
        fmt.extend_from_slice(&sub.to_le_bytes());
        fmt.extend_from_slice(&[
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    } else if let Tag::Float = spec.tag {
        fmt.extend_from_slice(&0u16.to_le_bytes()); // cbSize: an 18-byte fmt chunk
    }
    let mut body = Vec::new();
    body.extend_from_slice(b"WAVE");
    let ds64_at = body.len();
    if spec.rf64 {
        chunk(&mut body, b"ds64", &[0u8; 28]);
    }
    chunk(&mut body, b"fmt ", &fmt);
    for (id, payload) in &spec.extra_chunks {
        chunk(&mut body, id, payload);
    }
    body.extend_from_slice(b"data");
    let size_field = if spec.rf64 || spec.unknown_data_size {
        u32::MAX
    } else {
        data.len() as u32
    };
    body.extend_from_slice(&size_field.to_le_bytes());
    body.extend_from_slice(data);
    if data.len() % 2 == 1 {
        body.push(0);
    }
    let mut out = Vec::new();
    if spec.rf64 {
        // Fill ds64: riff size, data size, sample count, table length.
        let frames = (data.len() / usize::from(block_align)) as u64;
        let p = ds64_at + 8;
        let riff_size = body.len() as u64;
        body[p..p + 8].copy_from_slice(&riff_size.to_le_bytes());
        body[p + 8..p + 16].copy_from_slice(&(data.len() as u64).to_le_bytes());
        body[p + 16..p + 24].copy_from_slice(&frames.to_le_bytes());
        out.extend_from_slice(b"RF64");
        out.extend_from_slice(&u32::MAX.to_le_bytes());
    } else {
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(&body);
    out
}

fn decode(bytes: &[u8], name: &str) -> (mixmaster_io::SourceInfo, Vec<Vec<f64>>) {
    let dir = TempDir::new("variants");
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let (info, buf) = read_all(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    (info, buf.into_planar())
}

#[test]
fn unsigned_8_bit() {
    let data = [0u8, 128, 255, 1, 64, 192];
    let (info, ch) = decode(&build(&WavSpec::new(Tag::Pcm, 2, 8), &data), "u8.wav");
    assert_eq!(info.sample_format, SampleFormat::Int { bits: 8 });
    assert_eq!(info.frames, Some(3));
    assert_eq!(ch[0], vec![-1.0, 127.0 / 128.0, -0.5]);
    assert_eq!(ch[1], vec![0.0, -127.0 / 128.0, 0.5]);
}

#[test]
fn signed_32_bit_integer() {
    let values = [i32::MIN, i32::MAX, 0, -1, 123_456_789];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let (info, ch) = decode(&build(&WavSpec::new(Tag::Pcm, 1, 32), &data), "s32.wav");
    assert_eq!(info.sample_format, SampleFormat::Int { bits: 32 });
    let expected: Vec<f64> = values
        .iter()
        .map(|&v| f64::from(v) / 2_147_483_648.0)
        .collect();
    assert_eq!(ch[0], expected);
    // integer → f64 → integer is exact
    let back: Vec<i32> = ch[0].iter().map(|x| (x * 2_147_483_648.0) as i32).collect();
    assert_eq!(back, values);
}

#[test]
fn float_64_bit() {
    let values = [0.1f64, -1.5, 1e-300, 0.0, 0.999_999_999_999];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let (info, ch) = decode(&build(&WavSpec::new(Tag::Float, 1, 64), &data), "f64.wav");
    assert_eq!(info.sample_format, SampleFormat::Float { bits: 64 });
    assert_eq!(ch[0], values);
}

#[test]
fn float_32_bit_plain_tag() {
    let values = [0.25f32, -0.75, 2.0];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let (info, ch) = decode(&build(&WavSpec::new(Tag::Float, 1, 32), &data), "f32.wav");
    assert_eq!(info.sample_format, SampleFormat::Float { bits: 32 });
    assert_eq!(ch[0], vec![0.25, -0.75, 2.0]);
}

fn s24(values: &[i32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|v| v.to_le_bytes()[..3].to_vec())
        .collect()
}

#[test]
fn extensible_24_bit() {
    let values = [-8_388_608, 8_388_607, 1, -1, 4_000_000, 0];
    let spec = WavSpec::new(
        Tag::Extensible {
            sub: 1,
            valid_bits: 24,
        },
        2,
        24,
    );
    let (info, ch) = decode(&build(&spec, &s24(&values)), "ext24.wav");
    assert_eq!(info.container, "WAV");
    assert_eq!(info.codec, "PCM");
    assert_eq!(info.sample_format, SampleFormat::Int { bits: 24 });
    let f = |v: i32| f64::from(v) / 8_388_608.0;
    assert_eq!(ch[0], vec![f(values[0]), f(values[2]), f(values[4])]);
    assert_eq!(ch[1], vec![f(values[1]), f(values[3]), f(values[5])]);
}

#[test]
fn extensible_20_valid_bits_in_24_bit_container() {
    // Left-justified: the low 4 bits are zero; the value scale is the container's.
    let values = [0x007F_FFF0, -0x0080_0000, 0x10];
    let spec = WavSpec::new(
        Tag::Extensible {
            sub: 1,
            valid_bits: 20,
        },
        1,
        24,
    );
    let (info, ch) = decode(&build(&spec, &s24(&values)), "ext20.wav");
    assert_eq!(info.sample_format, SampleFormat::Int { bits: 20 });
    assert_eq!(ch[0][1], -1.0);
    assert_eq!(ch[0][2], 16.0 / 8_388_608.0);
}

#[test]
fn extensible_float_32() {
    let values = [0.5f32, -0.125];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let spec = WavSpec::new(
        Tag::Extensible {
            sub: 3,
            valid_bits: 32,
        },
        2,
        32,
    );
    let (info, ch) = decode(&build(&spec, &data), "extf.wav");
    assert_eq!(info.sample_format, SampleFormat::Float { bits: 32 });
    assert_eq!((ch[0][0], ch[1][0]), (0.5, -0.125));
}

#[test]
fn rf64_with_ds64() {
    let values: Vec<i16> = (0..1001).map(|i| (i * 37 - 18_000) as i16).collect();
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut spec = WavSpec::new(Tag::Pcm, 1, 16);
    spec.rf64 = true;
    let (info, ch) = decode(&build(&spec, &data), "rf64.wav");
    assert_eq!(info.container, "RF64");
    assert_eq!(info.frames, Some(1001));
    let expected: Vec<f64> = values.iter().map(|&v| f64::from(v) / 32_768.0).collect();
    assert_eq!(ch[0], expected);
}

#[test]
fn many_channels() {
    // 32 channels: beyond symphonia's limits, common in DAW poly-WAV exports.
    let channels = 32u16;
    let frames = 10;
    let data: Vec<u8> = (0..frames)
        .flat_map(|f| (0..channels).flat_map(move |c| ((f * 100 + c as i32) as i16).to_le_bytes()))
        .collect();
    let (info, ch) = decode(
        &build(&WavSpec::new(Tag::Pcm, channels, 16), &data),
        "poly.wav",
    );
    assert_eq!(info.channels, 32);
    assert_eq!(ch[31][9], f64::from(931i16) / 32_768.0);
}

#[test]
fn odd_sized_chunks_before_data_and_a_pad_byte() {
    let mut spec = WavSpec::new(Tag::Pcm, 1, 8);
    spec.extra_chunks.push((*b"LIST", b"INFOabc".to_vec()));
    spec.extra_chunks.push((*b"bext", vec![0u8; 5]));
    let (info, ch) = decode(&build(&spec, &[128, 129, 130]), "odd.wav");
    assert_eq!(info.frames, Some(3));
    assert_eq!(ch[0], vec![0.0, 1.0 / 128.0, 2.0 / 128.0]);
}

#[test]
fn streamed_wav_with_unknown_data_size_reads_to_the_end() {
    let mut spec = WavSpec::new(Tag::Pcm, 1, 16);
    spec.unknown_data_size = true;
    let data: Vec<u8> = [1i16, 2, 3, 4]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let (info, ch) = decode(&build(&spec, &data), "pipe.wav");
    assert_eq!(info.frames, Some(4));
    assert_eq!(ch[0].len(), 4);
}

#[test]
fn truncated_data_chunk_is_reported_with_both_counts() {
    let data = vec![0u8; 2 * 2 * 48_000];
    let bytes = build(&WavSpec::new(Tag::Pcm, 2, 16), &data);
    let cut = &bytes[..bytes.len() - 4 * 35_655];
    let dir = TempDir::new("cut");
    let path = dir.join("cut.wav");
    std::fs::write(&path, cut).unwrap();
    let err = read_all(&path).unwrap_err();
    assert!(
        matches!(
            err,
            IoError::Truncated {
                expected_frames: 48_000,
                actual_frames: 12_345,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: truncated: header promises 48000 frames, file ends after 12345",
            path.display()
        )
    );
}

#[test]
fn adpcm_wav_goes_to_symphonia() {
    // IMA ADPCM, mono, 505 frames per 256-byte block: not ours, symphonia's.
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&0x11u16.to_le_bytes());
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&8000u32.to_le_bytes());
    fmt.extend_from_slice(&4055u32.to_le_bytes());
    fmt.extend_from_slice(&256u16.to_le_bytes());
    fmt.extend_from_slice(&4u16.to_le_bytes());
    fmt.extend_from_slice(&2u16.to_le_bytes());
    fmt.extend_from_slice(&505u16.to_le_bytes());
    let mut body = b"WAVE".to_vec();
    chunk(&mut body, b"fmt ", &fmt);
    chunk(&mut body, b"data", &[0u8; 256]);
    let mut bytes = b"RIFF".to_vec();
    bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&body);
    let (info, ch) = decode(&bytes, "adpcm.wav");
    assert_eq!(info.container, "WAV");
    assert_eq!(info.sample_format, SampleFormat::Lossy);
    assert_eq!(ch[0].len(), 505);
}
