//! Turns an insert of the session into a prepared processor.

use mixmaster_core::{CoreError, Processor};
use mixmaster_session::{ProcessorSpec, Tempo};

/// What the factory needs to know about the render.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Session rate.
    pub sample_rate_hz: u32,
    /// Largest block.
    pub max_block_frames: usize,
    /// Channels of the strip.
    pub channels: usize,
    /// Tempo, for synced delays.
    pub tempo: Tempo,
}

/// Why a processor could not be built: a parameter (by its session field
/// name, relative to the processor) and the message.
#[derive(Debug)]
pub struct BuildError {
    /// The field, e.g. `ratio`; `None` for the processor as a whole.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl From<CoreError> for BuildError {
    fn from(e: CoreError) -> Self {
        let field = match &e {
            CoreError::OutOfRange { name, .. } => Some((*name).to_string()),
            _ => None,
        };
        Self {
            field,
            message: e.to_string(),
        }
    }
}

/// Builds and prepares the processor of one insert. `ir` loads an
/// impulse response (already resampled to the session rate).
pub fn build(spec: &ProcessorSpec, ctx: &Context) -> Result<Box<dyn Processor>, BuildError> {
    let _ = ctx;
    Err(BuildError {
        field: None,
        message: format!("the {spec:?} processor is not available in this build"),
    })
}
