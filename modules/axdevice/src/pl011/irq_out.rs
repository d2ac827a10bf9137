//! [`IrqOutput`]: the UART's interrupt line, driven into an [`IrqSink`].

use alloc::sync::Arc;
use core::fmt;

use crate::IrqSink;

/// The interrupt output of the UART: where it goes, and the level last
/// reported there, so that only changes are reported.
pub(super) struct IrqOutput {
    sink: Option<Arc<dyn IrqSink>>,
    level: bool,
}

impl IrqOutput {
    /// An output connected to nothing, low.
    pub(super) const fn new() -> Self {
        Self {
            sink: None,
            level: false,
        }
    }

    /// Connects the output to `sink` (replacing an earlier one) and reports
    /// the current `level` of interrupt `intid` there.
    pub(super) fn connect(&mut self, sink: Arc<dyn IrqSink>, intid: Option<u32>, level: bool) {
        if let Some(intid) = intid {
            sink.set_level(intid, level);
        }
        self.sink = Some(sink);
        self.level = level;
    }

    /// Drives the output of interrupt `intid` to `level`; the sink hears of
    /// it only when the level changes. Nothing happens without a sink or an
    /// interrupt number.
    pub(super) fn drive(&mut self, intid: Option<u32>, level: bool) {
        if level == self.level {
            return;
        }
        if let (Some(sink), Some(intid)) = (&self.sink, intid) {
            self.level = level;
            sink.set_level(intid, level);
        }
    }
}

impl fmt::Debug for IrqOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IrqOutput")
            .field("connected", &self.sink.is_some())
            .field("level", &self.level)
            .finish()
    }
}
