//! Shared test helpers every processor's tests use (STYLE.md, "Tests").

use mixmaster_core::Processor;

/// Runs `input` (planar) through a freshly prepared processor in blocks of
/// `block_frames` and returns the output.
pub fn run_in_blocks<P: Processor>(
    processor: &mut P,
    sample_rate_hz: u32,
    input: &[Vec<f64>],
    block_frames: usize,
) -> Vec<Vec<f64>> {
    let channels = input.len();
    let frames = input.first().map_or(0, Vec::len);
    processor
        .prepare(sample_rate_hz, block_frames, channels)
        .expect("prepare failed");
    let mut out = input.to_vec();
    let mut start = 0;
    while start < frames {
        let end = (start + block_frames).min(frames);
        let mut block: Vec<&mut [f64]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
        processor.process(&mut block);
        start = end;
    }
    out
}

/// Asserts that the processor gives bit-identical output whether the signal
/// arrives in blocks of 1, 7, 64 or 4096 frames, and again after `reset()`.
pub fn assert_block_size_invariant<P: Processor>(
    mut make: impl FnMut() -> P,
    sample_rate_hz: u32,
    input: &[Vec<f64>],
) {
    let mut reference_processor = make();
    let reference = run_in_blocks(&mut reference_processor, sample_rate_hz, input, 4096);
    for block in [1, 7, 64] {
        let got = run_in_blocks(&mut make(), sample_rate_hz, input, block);
        assert!(
            got == reference,
            "output differs with blocks of {block} frames"
        );
    }
    reference_processor.reset();
    let mut again = input.to_vec();
    let mut block: Vec<&mut [f64]> = again.iter_mut().map(Vec::as_mut_slice).collect();
    // prepare() was called for 4096-frame blocks; feed in pieces of that size.
    let frames = input.first().map_or(0, Vec::len);
    let mut start = 0;
    while start < frames {
        let end = (start + 4096).min(frames);
        let mut piece: Vec<&mut [f64]> = block.iter_mut().map(|c| &mut c[start..end]).collect();
        reference_processor.process(&mut piece);
        start = end;
    }
    block.clear();
    assert!(again == reference, "output differs after reset()");
}
