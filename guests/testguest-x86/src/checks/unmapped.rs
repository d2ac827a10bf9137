//! `unmapped access reads all ones`: nothing is at [`UNMAPPED_BASE`] (4 GiB,
//! above the RAM): reads of every width return all ones, and a write there
//! is dropped: it does not reach the RAM at the same address with the top
//! bits cut off (a marker in this program's `.bss`) and does not make the
//! address read back what was written.
//!
//! Bare QEMU reads unassigned memory as zeros, not ones (QEMU 7.2 TCG, at
//! every address tried): there, zeros are accepted as what the machine
//! reads, the write must still be dropped, and the line is a SKIP that
//! says so (a FAIL if the write is not dropped).

use core::ptr;
use core::sync::atomic::{AtomicU64, Ordering};

use super::Report;
use crate::host::Host;
use crate::mmio::{self, Load, Width};
use crate::platform::UNMAPPED_BASE;

/// The marker the write must leave alone.
static MARKER: AtomicU64 = AtomicU64::new(0);
/// What the marker holds.
const MARKER_VALUE: u64 = 0x4d41_524b_4552_2121;
/// What is written above the RAM.
const WRITTEN: u64 = 0x0123_4567_89ab_cdef;

/// What reads of nothing return: all ones, or (bare QEMU) zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Floating {
    /// Every bit set, as on a PC and under the hypervisor.
    Ones,
    /// Every bit clear, as on QEMU.
    Zeros,
}

impl Floating {
    /// What a read of `width` returns.
    fn value(self, width: Width) -> u64 {
        match self {
            Floating::Ones => width.mask(),
            Floating::Zeros => 0,
        }
    }
}

/// Reads `addr` at every width; returns the first width and value that is
/// not what `floating` says.
fn read_all_widths(addr: usize, floating: Floating) -> Option<(Width, u64)> {
    Width::ALL.into_iter().find_map(|width| {
        // SAFETY: `addr` (8-byte aligned) is identity-mapped by the boot page
        // tables and has nothing behind it: no Rust object is there, and a
        // read has no effect.
        let got = unsafe { mmio::load(addr, Load::unsigned(width)) };
        (got != floating.value(width)).then_some((width, got))
    })
}

/// Runs the check.
pub fn run(report: &mut Report, host: Host) {
    let name = format_args!("unmapped access reads all ones");
    MARKER.store(MARKER_VALUE, Ordering::SeqCst);
    let marker_addr = ptr::addr_of!(MARKER) as usize;
    // The RAM address below 4 GiB is the probe's with bit 32 cut off.
    let probe = UNMAPPED_BASE + marker_addr;

    let mut floating = Floating::Ones;
    if let Some((width, got)) = read_all_widths(probe, floating) {
        if host.bare_reason().is_some() && got == 0 {
            floating = Floating::Zeros;
        } else {
            report.fail(name, format_args!("{}-bit read at {:#x} got {:#x}", width.bits(), probe, got));
            return;
        }
    }
    // SAFETY: as above; the write goes to an address with nothing behind
    // it, which the check is about.
    unsafe { mmio::store(probe, Width::W64, WRITTEN) };
    let marker = MARKER.load(Ordering::SeqCst);
    if marker != MARKER_VALUE {
        report.fail(
            name,
            format_args!("a write at {:#x} changed RAM at {:#x} to {:#x}", probe, marker_addr, marker),
        );
        return;
    }
    match (read_all_widths(probe, floating), host.bare_reason()) {
        (Some((width, got)), _) => report.fail(
            name,
            format_args!("after a write, {}-bit read at {:#x} got {:#x}", width.bits(), probe, got),
        ),
        (None, Some(why)) if floating == Floating::Zeros => report.skip(
            name,
            format_args!("no hypervisor: {}; QEMU reads nothing as zeros, the write was dropped", why),
        ),
        (None, _) => report.pass(name),
    }
}
