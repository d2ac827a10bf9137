//! `gic bad input`: the virtual GIC reads zero at, and ignores writes to,
//! what it does not implement, ignores accesses of the wrong width, and
//! goes on working.
//!
//! On vCPU 0, with plain one-register accesses ([`gicframe`]; an abort is
//! a failure, not a crash):
//!
//! 1. all ones written to reserved distributor offsets ([`GICD_RESERVED`];
//!    the first write is the first access the hypervisor logs as
//!    unhandled, which the QEMU test matches), each then reading 0;
//! 2. the same for the `ISENABLER`, `IPRIORITYR` and `ICFGR` words and the
//!    `IROUTER` of INTIDs beyond the implemented ones
//!    (`32 * (GICD_TYPER.ITLinesNumber + 1)`), the first beyond and the
//!    last of each array;
//! 3. 2- and 8-byte writes of 0 (and reads) at `GICD_CTLR`: `GICD_CTLR`
//!    and `GICD_TYPER` read as before; a 2-byte write of all ones to the
//!    `ISENABLER` word of the RTC's SPI: it reads as before;
//! 4. all ones to reserved offsets of this vCPU's redistributor
//!    ([`GICR_RESERVED`]: `RD_base` and `SGI_base`), each then reading 0,
//!    and a 2-byte write of all ones to `GICR_WAKER`, which reads as
//!    before;
//! 5. an SGI to this vCPU is still taken within [`SGI_WAIT_MS`].
//!
//! A state the check finds changed is restored. The `FAIL` line names the
//! first problem and how many there were.

use core::fmt;

use super::Report;
use super::gic::Unusable;
use crate::gic::{GICD_TYPER, GicError};
use crate::gicframe::{self, AccessError, Frame};
use crate::mmio::{Load, Width};
use crate::platform::RTC_INTID;
use crate::shared::SharedWord;
use crate::{gic, irq, timer};

/// What is written where nothing is implemented: every bit of the width.
const JUNK: u64 = u64::MAX;
/// Reserved distributor offsets. The first comes first in the check.
const GICD_RESERVED: [usize; 3] = [0x0020, 0x0014, 0xF100];
/// Reserved offsets of a redistributor: in `RD_base` (`0x0050`, `0x0800`),
/// in `SGI_base` (`0x1_0000`; `0x1_0104` and `0x1_0C08`, the
/// `ISENABLER` and `ICFGR` words of the extended PPIs, which it does not
/// have).
const GICR_RESERVED: [usize; 5] = [0x0050, 0x0800, 0x1_0000, 0x1_0104, 0x1_0C08];
/// `GICD_CTLR`.
const GICD_CTLR: usize = 0x0000;
/// `GICD_TYPER`.
const GICD_TYPER_OFFSET: usize = 0x0004;
/// `GICD_ISENABLER<n>`, one bit per INTID, 32 words.
const GICD_ISENABLER: usize = 0x0100;
/// `GICD_IPRIORITYR<n>`, one byte per INTID.
const GICD_IPRIORITYR: usize = 0x0400;
/// `GICD_ICFGR<n>`, two bits per INTID, 64 words.
const GICD_ICFGR: usize = 0x0C00;
/// `GICD_IROUTER<n>`, 64 bits per INTID.
const GICD_IROUTER: usize = 0x6000;
/// `GICR_WAKER` (`RD_base`).
const GICR_WAKER: usize = 0x0014;
/// INTIDs a GICv3 can have without the extended range: 1020 (1020..1023
/// are special), in registers sized for 1024.
const INTID_SPACE: usize = 1024;
/// The first special INTID: no `IROUTER` from here.
const FIRST_SPECIAL_INTID: usize = 1020;
/// INTIDs per `ISENABLER` word.
const INTIDS_PER_WORD: usize = 32;
/// INTIDs per `ICFGR` word.
const INTIDS_PER_CFG_WORD: usize = 16;
/// The SGI sent to this vCPU at the end.
const SELF_SGI: u32 = 7;
/// This vCPU (vCPU 0), the SGI's target.
const PRIMARY_VCPU: u64 = 0;
/// How long the SGI may take, in milliseconds.
const SGI_WAIT_MS: u64 = 100;

/// Set by the SGI's handler.
static SGI_TAKEN: SharedWord = SharedWord::new(0);

/// Something the GIC did wrong.
#[derive(Clone, Copy)]
enum Problem {
    /// An access did not complete.
    Access {
        frame: Frame,
        offset: usize,
        width: Width,
        store: bool,
        error: AccessError,
    },
    /// Unimplemented or reserved, yet it reads non-zero after a write of
    /// all ones.
    NotZero { frame: Frame, offset: usize, got: u64 },
    /// A wrong-width write changed a register.
    Changed {
        what: &'static str,
        width: Width,
        before: u64,
        after: u64,
    },
    /// The SGI to this vCPU did not come.
    NoSgi,
    /// Disabling the SGI again failed.
    Disable(GicError),
}

/// A frame's name in a `FAIL` line.
fn frame_name(frame: Frame) -> &'static str {
    match frame {
        Frame::Distributor => "GICD",
        Frame::Redistributor => "GICR",
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match *self {
            Problem::Access {
                frame,
                offset,
                width,
                store,
                error,
            } => write!(
                f,
                "{}-byte {} at {}+{:#x}: {:?}",
                width.bytes(),
                if store { "write" } else { "read" },
                frame_name(frame),
                offset,
                error
            ),
            Problem::NotZero { frame, offset, got } => write!(
                f,
                "{}+{:#x} reads {:#x} after a write of all ones, want 0",
                frame_name(frame),
                offset,
                got
            ),
            Problem::Changed {
                what,
                width,
                before,
                after,
            } => write!(
                f,
                "a {}-byte write changed {} from {:#x} to {:#x}",
                width.bytes(),
                what,
                before,
                after
            ),
            Problem::NoSgi => write!(f, "SGI {} to this vCPU not taken within {} ms", SELF_SGI, SGI_WAIT_MS),
            Problem::Disable(e) => write!(f, "disabling SGI {}: {}", SELF_SGI, e),
        }
    }
}

/// The problems found so far: how many, and the first.
#[derive(Default)]
struct Findings {
    count: u32,
    first: Option<Problem>,
}

impl Findings {
    fn note(&mut self, problem: Problem) {
        self.count += 1;
        self.first.get_or_insert(problem);
    }

    /// A load; `None` (and a problem noted) when it did not complete.
    fn load(&mut self, frame: Frame, offset: usize, width: Width) -> Option<u64> {
        gicframe::load(frame, offset, Load::unsigned(width))
            .map_err(|error| {
                self.note(Problem::Access {
                    frame,
                    offset,
                    width,
                    store: false,
                    error,
                })
            })
            .ok()
    }

    /// A store of the low `width` bytes of `value`; whether it completed.
    fn store(&mut self, frame: Frame, offset: usize, width: Width, value: u64) -> bool {
        gicframe::store(frame, offset, width, value & width.mask())
            .map_err(|error| {
                self.note(Problem::Access {
                    frame,
                    offset,
                    width,
                    store: true,
                    error,
                })
            })
            .is_ok()
    }

    /// Writes all ones of `width` at `offset`, then wants it to read 0.
    fn junk_reads_zero(&mut self, frame: Frame, offset: usize, width: Width) {
        if !self.store(frame, offset, width, JUNK) {
            return;
        }
        match self.load(frame, offset, width) {
            Some(0) | None => {}
            Some(got) => self.note(Problem::NotZero { frame, offset, got }),
        }
    }

    /// Writes `value` with the wrong `width` at `offset` (and reads it with
    /// that width, value unchecked); the 32-bit register there must read
    /// as before. Returns its value before and after.
    fn wrong_width(
        &mut self,
        frame: Frame,
        offset: usize,
        what: &'static str,
        width: Width,
        value: u64,
    ) -> Option<(u64, u64)> {
        let before = self.load(frame, offset, Width::W32)?;
        self.store(frame, offset, width, value);
        self.load(frame, offset, width);
        let after = self.load(frame, offset, Width::W32)?;
        if after != before {
            self.note(Problem::Changed {
                what,
                width,
                before,
                after,
            });
        }
        Some((before, after))
    }
}

/// Steps 1 and 2: reserved distributor offsets and registers of INTIDs
/// beyond the implemented ones.
fn distributor_junk(findings: &mut Findings) {
    for offset in GICD_RESERVED {
        findings.junk_reads_zero(Frame::Distributor, offset, Width::W32);
    }
    let lines = gic::distributor_type().read(GICD_TYPER::ITLinesNumber) as usize;
    let implemented = INTIDS_PER_WORD * (lines + 1);
    if implemented < INTID_SPACE {
        let words = [
            GICD_ISENABLER + 4 * (implemented / INTIDS_PER_WORD),
            GICD_ISENABLER + 4 * (INTID_SPACE / INTIDS_PER_WORD - 1),
            GICD_IPRIORITYR + implemented,
            GICD_IPRIORITYR + INTID_SPACE - 4,
            GICD_ICFGR + 4 * (implemented / INTIDS_PER_CFG_WORD),
            GICD_ICFGR + 4 * (INTID_SPACE / INTIDS_PER_CFG_WORD - 1),
        ];
        for offset in words {
            findings.junk_reads_zero(Frame::Distributor, offset, Width::W32);
        }
    }
    if implemented < FIRST_SPECIAL_INTID {
        findings.junk_reads_zero(Frame::Distributor, GICD_IROUTER + 8 * implemented, Width::W64);
    }
}

/// Step 3: wrong widths at `GICD_CTLR` and at an `ISENABLER` word;
/// restores what changed.
fn distributor_widths(findings: &mut Findings) {
    let typer_before = findings.load(Frame::Distributor, GICD_TYPER_OFFSET, Width::W32);
    let mut ctlr = None;
    for width in [Width::W16, Width::W64] {
        if let Some(values) = findings.wrong_width(Frame::Distributor, GICD_CTLR, "GICD_CTLR", width, 0) {
            ctlr.get_or_insert(values.0);
        }
    }
    if let Some(before) = ctlr
        && findings.load(Frame::Distributor, GICD_CTLR, Width::W32) != Some(before)
    {
        findings.store(Frame::Distributor, GICD_CTLR, Width::W32, before);
    }
    let typer_after = findings.load(Frame::Distributor, GICD_TYPER_OFFSET, Width::W32);
    if let (Some(before), Some(after)) = (typer_before, typer_after)
        && before != after
    {
        findings.note(Problem::Changed {
            what: "GICD_TYPER",
            width: Width::W64,
            before,
            after,
        });
    }
    let isenabler = GICD_ISENABLER + 4 * (RTC_INTID as usize / INTIDS_PER_WORD);
    let enables = findings.wrong_width(Frame::Distributor, isenabler, "a GICD_ISENABLER word", Width::W16, JUNK);
    if let Some((before, after)) = enables
        && after & !before != 0
    {
        // Disable what the write enabled (GICD_ICENABLER is 0x80 up).
        findings.store(Frame::Distributor, isenabler + 0x80, Width::W32, after & !before);
    }
}

/// Step 4: reserved redistributor offsets and a wrong width at
/// `GICR_WAKER`.
fn redistributor_junk(findings: &mut Findings) {
    for offset in GICR_RESERVED {
        findings.junk_reads_zero(Frame::Redistributor, offset, Width::W32);
    }
    let waker = findings.wrong_width(Frame::Redistributor, GICR_WAKER, "GICR_WAKER", Width::W16, JUNK);
    if let Some((before, after)) = waker
        && before != after
    {
        findings.store(Frame::Redistributor, GICR_WAKER, Width::W32, before);
    }
}

/// The SGI's handler.
fn on_sgi(_intid: u32) {
    SGI_TAKEN.store(1);
}

/// Step 5: an SGI to this vCPU is still taken.
fn still_works(findings: &mut Findings) {
    SGI_TAKEN.store(0);
    irq::set_handler(SELF_SGI, Some(on_sgi));
    gic::enable(SELF_SGI);
    irq::unmask();
    gic::send_sgi(SELF_SGI, PRIMARY_VCPU);
    let taken = timer::wait_ms(SGI_WAIT_MS, || SGI_TAKEN.load() != 0);
    irq::mask();
    let disabled = gic::disable(SELF_SGI);
    gic::clear_pending(SELF_SGI);
    irq::set_handler(SELF_SGI, None);
    if !taken {
        findings.note(Problem::NoSgi);
    }
    if let Err(e) = disabled {
        findings.note(Problem::Disable(e));
    }
}

/// Runs `gic bad input`; fails as skipped when the GIC is `Err`.
pub fn run(report: &mut Report, gic: Result<(), Unusable>) {
    let name = format_args!("gic bad input");
    if let Err(why) = gic {
        report.fail(name, format_args!("skipped: {}", why));
        return;
    }
    let mut findings = Findings::default();
    distributor_junk(&mut findings);
    distributor_widths(&mut findings);
    redistributor_junk(&mut findings);
    still_works(&mut findings);
    match findings.first {
        None => report.pass(name),
        Some(first) => report.fail(
            name,
            format_args!("{} problem(s), the first: {}", findings.count, first),
        ),
    }
}
