//! A load from an address with nothing mapped: the hypervisor must inject a
//! synchronous external abort, which the exception handler skips.

use super::Report;
use crate::exception;
use crate::mmio::{self, Load};
use crate::platform::UNMAPPED_ADDR;

/// Loads from [`UNMAPPED_ADDR`] and checks that exactly one expected abort
/// was taken and execution went on.
pub fn run(report: &mut Report) {
    exception::expect_abort(UNMAPPED_ADDR);
    // SAFETY: nothing of this program is at UNMAPPED_ADDR; the load aborts
    // and the handler, armed above, resumes after it.
    let value = unsafe { mmio::load(UNMAPPED_ADDR, Load::U64) };
    let record = exception::take_record();
    report.check(
        record.count == 1,
        format_args!("unmapped access"),
        format_args!(
            "{} aborts taken (ESR={:#x} FAR={:#x}), load gave {:#x}",
            record.count, record.esr, record.far, value
        ),
    );
}
