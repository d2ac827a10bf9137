//! Memory isolation between VMs: a marker derived from the VM id, written
//! once to a fixed RAM address and watched for about 200 ms, and a second
//! marker rewritten and read back every millisecond meanwhile. Over the
//! same wait, FP/SIMD state: a pattern derived from the VM id, kept in
//! `V31` and read back after every poll interval.
//!
//! Every VM running this guest has the same guest-physical layout, so the
//! markers sit at the same guest addresses in each. Were two VMs that run
//! the check at the same time backed by the same host memory, each would
//! see the other's writes: the VM that wrote its first marker earlier finds
//! the other's first marker there, and both find the other's second marker
//! in place of the one they last wrote. Likewise, were two vCPUs that share
//! a physical CPU switched without saving and restoring their FP/SIMD
//! registers, one would find the other's pattern (or whatever the host
//! left) in `V31`.
//!
//! Two lines: `isolation` for the markers, then `fp/simd register`.

use super::Report;
use crate::mmio::{self, Load, Width};
use crate::platform::{ISOLATION_MARKER_ADDR, ISOLATION_SECOND_MARKER_ADDR};
use crate::timer;
use crate::{fpsimd, hvc};

/// The high bits of both markers; the VM id is in the low 32 bits.
const MARKER_TAG: u64 = 0x15A7_0000_0000_0000;
/// Where the second marker holds its write count (bits \[47:32\]).
const WRITE_COUNT_SHIFT: u32 = 32;
/// The high bits of the FP/SIMD pattern's low half; the VM id is in the
/// low 32 bits.
const FP_PATTERN_TAG: u64 = 0xF95D_0000_0000_0000;
/// How many times the markers and `V31` are checked, one poll interval
/// apart.
const POLLS: u64 = 200;
/// Counter time between polls, in milliseconds: about 200 ms in all.
const POLL_INTERVAL_MS: u64 = 1;

// The write count must stay below the tag.
const _: () = assert!(POLLS < 1 << (48 - WRITE_COUNT_SHIFT));

/// The first marker of VM `vm_id` (at most 32 bits).
fn marker(vm_id: u64) -> u64 {
    MARKER_TAG | vm_id
}

/// What the second marker of VM `vm_id` holds after its `count`th write
/// (the first is 1, so it never equals [`marker`]).
fn second_marker(vm_id: u64, count: u64) -> u64 {
    MARKER_TAG | (count << WRITE_COUNT_SHIFT) | vm_id
}

/// The `V31` pattern of VM `vm_id` (at most 32 bits): the tagged id in the
/// low half, its complement in the high half, so that both halves differ
/// between VMs and from zero.
fn fp_pattern(vm_id: u64) -> u128 {
    let low = FP_PATTERN_TAG | vm_id;
    u128::from(!low) << 64 | u128::from(low)
}

/// Which marker did not hold what this VM wrote.
enum Changed {
    /// The first marker now reads `seen`.
    First { seen: u64 },
    /// The second marker reads `seen` instead of `wrote`.
    Second { seen: u64, wrote: u64 },
}

/// Reads the marker word at `addr`.
fn read(addr: usize) -> u64 {
    // SAFETY: `addr` is one of the aligned marker words in guest RAM, which
    // no Rust object occupies (see `platform`).
    unsafe { mmio::load(addr, Load::U64) }
}

/// Writes the marker word at `addr`.
fn write(addr: usize, value: u64) {
    // SAFETY: as in `read`; nothing else in this program uses the word.
    unsafe { mmio::store(addr, Width::W64, value) }
}

/// What the wait found.
struct Watched {
    /// The markers kept, or the first change.
    markers: Result<(), Changed>,
    /// `V31` kept its pattern, or the first other value it read.
    fp: Result<(), u128>,
}

/// One poll of the markers: the first kept, the second kept since the last
/// poll, then rewritten (its `poll + 1`th write) and read back at once.
fn poll_markers(vm_id: u64, poll: u64, second: &mut u64) -> Result<(), Changed> {
    let seen = read(ISOLATION_MARKER_ADDR);
    if seen != marker(vm_id) {
        return Err(Changed::First { seen });
    }
    let seen = read(ISOLATION_SECOND_MARKER_ADDR);
    if seen != *second {
        return Err(Changed::Second { seen, wrote: *second });
    }
    *second = second_marker(vm_id, poll + 1);
    write(ISOLATION_SECOND_MARKER_ADDR, *second);
    let seen = read(ISOLATION_SECOND_MARKER_ADDR);
    if seen != *second {
        return Err(Changed::Second { seen, wrote: *second });
    }
    Ok(())
}

/// Writes the markers and the `V31` pattern and polls them; each stops
/// being polled at its first change, the wait at the end or once both
/// changed.
fn watch(vm_id: u64) -> Watched {
    let mut second = second_marker(vm_id, 1);
    write(ISOLATION_MARKER_ADDR, marker(vm_id));
    write(ISOLATION_SECOND_MARKER_ADDR, second);
    let pattern = fp_pattern(vm_id);
    fpsimd::write_v31(pattern);
    let mut watched = Watched {
        markers: Ok(()),
        fp: Ok(()),
    };
    let interval = (timer::ticks_per_second() * POLL_INTERVAL_MS / 1000).max(1);
    let start = timer::counter();
    for poll in 1..=POLLS {
        timer::spin_until(start.saturating_add(poll * interval));
        if watched.fp.is_ok() {
            let seen = fpsimd::read_v31();
            if seen != pattern {
                watched.fp = Err(seen);
            }
        }
        if watched.markers.is_ok() {
            watched.markers = poll_markers(vm_id, poll, &mut second);
        }
        if watched.markers.is_err() && watched.fp.is_err() {
            break;
        }
    }
    watched
}

/// Runs the isolation check and the FP/SIMD check that shares its wait.
pub fn run(report: &mut Report) {
    let name = format_args!("isolation");
    let fp_name = format_args!("fp/simd register");
    let vm_id = hvc::vm_id();
    if vm_id == hvc::NOT_SUPPORTED {
        report.fail(name, format_args!("skipped: HC_VM_ID returned NOT_SUPPORTED"));
        report.fail(fp_name, format_args!("skipped: HC_VM_ID returned NOT_SUPPORTED"));
        return;
    }
    if vm_id > u64::from(u32::MAX) {
        report.fail(
            name,
            format_args!("skipped: VM id {:#x} does not fit the marker", vm_id),
        );
        report.fail(
            fp_name,
            format_args!("skipped: VM id {:#x} does not fit the pattern", vm_id),
        );
        return;
    }
    let watched = watch(vm_id);
    match watched.markers {
        Ok(()) => report.pass(format_args!("isolation (marker of VM {} kept)", vm_id)),
        Err(Changed::First { seen }) => report.fail(name, format_args!("marker changed to {:#x}", seen)),
        Err(Changed::Second { seen, wrote }) => report.fail(
            name,
            format_args!("second marker changed to {:#x} (wrote {:#x})", seen, wrote),
        ),
    }
    match watched.fp {
        Ok(()) => report.pass(format_args!("fp/simd register kept")),
        // All 32 hex digits of each value, so that the two halves show.
        Err(seen) => report.fail(
            fp_name,
            format_args!("changed to {:#034x} (wrote {:#034x})", seen, fp_pattern(vm_id)),
        ),
    }
}
