//! Option validation, block errors and serialization.

use mixmaster_core::CoreError;
use mixmaster_meter::{LoudnessBlocks, Meter, MeterError, MeterOptions};

fn err(o: MeterOptions) -> MeterError {
    Meter::new(o).expect_err("invalid options must be rejected")
}

#[test]
fn options_are_validated() {
    let base = MeterOptions::new(48_000, 2);
    for rate in [0, 7_999, 768_001] {
        let e = err(MeterOptions::new(rate, 2));
        assert!(matches!(
            e,
            MeterError::Core(CoreError::OutOfRange {
                name: "sample_rate_hz",
                ..
            })
        ));
        assert!(e.to_string().contains("8000 ..= 768000"), "{e}");
    }
    for channels in [0, 65] {
        let e = err(MeterOptions::new(48_000, channels));
        assert!(matches!(
            e,
            MeterError::Core(CoreError::OutOfRange {
                name: "channels",
                ..
            })
        ));
    }
    for os in [0, 1, 2, 3, 5, 32] {
        let mut o = base.clone();
        o.true_peak_oversampling = os;
        assert_eq!(err(o), MeterError::Oversampling { got: os });
    }
    let mut o = base.clone();
    o.channel_weights = Some(vec![1.0]);
    assert_eq!(
        err(o),
        MeterError::WeightCount {
            got: 1,
            expected: 2
        }
    );
    for bad in [-1.0, f64::INFINITY] {
        let mut o = base.clone();
        o.channel_weights = Some(vec![1.0, bad]);
        assert_eq!(
            err(o),
            MeterError::InvalidWeight {
                index: 1,
                value: bad
            }
        );
    }
    let mut o = base.clone();
    o.channel_weights = Some(vec![f64::NAN, 1.0]);
    assert!(matches!(err(o), MeterError::InvalidWeight { index: 0, .. }));
    for size in [100, 128, 3000, 1 << 21] {
        let mut o = base.clone();
        o.spectrum_fft_size = Some(size);
        assert_eq!(err(o), MeterError::FftSize { got: size });
    }
    for (rate, channels) in [(8_000, 1), (768_000, 2), (44_100, 64)] {
        let mut m = Meter::new(MeterOptions::new(rate, channels)).expect("valid");
        let block = vec![vec![0.25; 1000]; channels];
        m.process(&block).expect("block");
        assert_eq!(m.report().channels, channels);
    }
    assert_eq!(MeterOptions::default(), MeterOptions::new(48_000, 2));
}

#[test]
fn bad_blocks_are_rejected_whole() {
    let mut m = Meter::new(MeterOptions::new(48_000, 2)).expect("meter");
    let a = vec![0.5; 100];
    let e = m.process(&[&a[..]]).expect_err("one channel of two");
    assert_eq!(
        e,
        MeterError::Core(CoreError::ChannelCount {
            got: 1,
            expected: 2
        })
    );
    let e = m.process(&[&a[..], &a[..99]]).expect_err("ragged");
    assert!(matches!(
        e,
        MeterError::Core(CoreError::RaggedChannels { channel: 1, .. })
    ));
    assert!(m.process_interleaved(&a[..99]).is_err());
    assert_eq!(m.frames(), 0);
    m.process(&[&a[..], &a[..]]).expect("good block");
    m.process::<&[f64]>(&[&[], &[]]).expect("empty block");
    assert_eq!(m.frames(), 100);
    assert!(e.to_string().contains("channel 1"));
}

#[test]
fn reports_and_blocks_serialize() {
    let mut m = Meter::new(MeterOptions::new(48_000, 2)).expect("meter");
    let tone: Vec<f64> = (0..96_000).map(|i| 0.1 * (i as f64 * 0.05).sin()).collect();
    m.process(&[&tone, &tone]).expect("block");
    let r = m.report();
    let v: serde_json::Value = serde_json::to_value(&r).expect("json");
    assert!(v["integrated_lufs"].is_number());
    assert!(
        v["short_term_max_lufs"].is_null(),
        "−inf is null: {}",
        v["short_term_max_lufs"]
    );
    assert!(v["lra_lu"].is_null());
    assert_eq!(v["series"]["interval_s"], 0.1);
    assert_eq!(
        v["series"]["momentary_lufs"].as_array().map(Vec::len),
        Some(20)
    );
    assert!(v["spectrum"].is_null());
    let blocks: &LoudnessBlocks = m.loudness_blocks();
    let b = serde_json::to_value(blocks).expect("json");
    assert_eq!(b["gating_energies"].as_array().map(Vec::len), Some(17));
    assert_eq!(b["tail"].as_array().map(Vec::len), Some(200));
}
