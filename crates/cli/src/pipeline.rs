//! Decoding on its own thread, feeding blocks to a consumer on the calling
//! thread: on two cores, decoding and metering overlap.
//!
//! Buffers circulate between the two threads (a full queue and a free
//! queue), so after the first few blocks nothing is allocated and memory
//! stays a few blocks deep whatever the file's length.

use std::sync::mpsc;
use std::thread;

use anyhow::{Context, Result};
use mixmaster_core::AudioBuffer;
use mixmaster_io::{AudioReader, IoError};

/// Frames per block handed from the decoder to the consumer.
pub const BLOCK_FRAMES: usize = 16_384;
/// Blocks in flight between the threads.
const QUEUE_DEPTH: usize = 4;

/// Streams every block `reader` decodes to `consume`, decoding on a second
/// thread.
pub fn stream(
    mut reader: AudioReader,
    mut consume: impl FnMut(&AudioBuffer) -> Result<()>,
) -> Result<()> {
    let info = reader.info().clone();

    let (full_tx, full_rx) = mpsc::sync_channel::<Result<AudioBuffer, IoError>>(QUEUE_DEPTH);
    let (free_tx, free_rx) = mpsc::channel::<AudioBuffer>();
    for _ in 0..QUEUE_DEPTH + 1 {
        free_tx
            .send(AudioBuffer::new(info.channels, BLOCK_FRAMES))
            .context("internal: buffer queue closed")?;
    }

    thread::scope(|scope| -> Result<()> {
        scope.spawn(move || {
            while let Ok(mut buf) = free_rx.recv() {
                match reader.read(&mut buf, BLOCK_FRAMES) {
                    Ok(0) => break,
                    Ok(_) => {
                        if full_tx.send(Ok(buf)).is_err() {
                            break;
                        }
                    }
                    Err(err) => {
                        let _ = full_tx.send(Err(err));
                        break;
                    }
                }
            }
        });
        // Owned here, so both queues close when this closure returns, early
        // or not: the decoder then stops at its next send or receive.
        let free_tx = free_tx;
        for block in full_rx {
            let block = block?;
            consume(&block)?;
            // The decoder may have finished; a closed free queue is fine.
            let _ = free_tx.send(block);
        }
        Ok(())
    })
}
