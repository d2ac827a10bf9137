//! A small GICv3 driver: the distributor at [`GICD_BASE`], this vCPU's
//! redistributor, and the CPU interface through the `ICC_*` system
//! registers.
//!
//! The VM's GIC has a single security state (`GICD_CTLR.DS` = 1) with
//! affinity routing (`ARE` = 1); everything here is Group 1. vCPU `n`'s
//! redistributor is the `n`th one (see [`GICR_BASE`]). Every wait on the
//! GIC is bounded by counter time; an expired one is an error, never a hang.
//!
//! Device registers are reached with [`mmio`] (one 32-bit access each, the
//! 64-bit `GICR_TYPER` excepted); the MMU is off, so they are
//! Device-nGnRnE.

use core::arch::asm;
use core::fmt;

use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::{LocalRegisterCopy, register_bitfields};

use crate::mmio::{self, Load, Width};
use crate::platform::{GICD_BASE, GICR_BASE, GICR_STRIDE, NUM_VCPUS};
use crate::shared::SharedWord;
use crate::{cpu, exception, timer};

/// Distributor register offsets.
mod gicd {
    /// Control.
    pub const CTLR: usize = 0x0000;
    /// Interrupt controller type.
    pub const TYPER: usize = 0x0004;
    /// Implementer identification.
    pub const IIDR: usize = 0x0008;
    /// Interrupt group registers, one bit per INTID.
    pub const IGROUPR: usize = 0x0080;
    /// Set-enable registers, one bit per INTID.
    pub const ISENABLER: usize = 0x0100;
    /// Clear-enable registers, one bit per INTID.
    pub const ICENABLER: usize = 0x0180;
    /// Set-pending registers, one bit per INTID.
    pub const ISPENDR: usize = 0x0200;
    /// Set-active registers, one bit per INTID.
    pub const ISACTIVER: usize = 0x0300;
    /// Priority registers, one byte per INTID.
    pub const IPRIORITYR: usize = 0x0400;
    /// Routing registers, 64 bits per INTID (from INTID 0; those of the
    /// SGIs and PPIs are reserved).
    pub const IROUTER: usize = 0x6000;
    /// Peripheral ID 2 (the architecture revision).
    pub const PIDR2: usize = 0xFFE8;
}

/// Redistributor register offsets from its `RD_base`.
mod gicr {
    /// Control (`RD_base`).
    pub const CTLR: usize = 0x0000;
    /// Redistributor type, 64 bits (`RD_base`).
    pub const TYPER: usize = 0x0008;
    /// Power management (`RD_base`).
    pub const WAKER: usize = 0x0014;
    /// The `SGI_base` frame, one 64 KiB frame above `RD_base`.
    const SGI_BASE: usize = 0x1_0000;
    /// Interrupt group of SGIs and PPIs.
    pub const IGROUPR0: usize = SGI_BASE + 0x0080;
    /// Set-enable of SGIs and PPIs.
    pub const ISENABLER0: usize = SGI_BASE + 0x0100;
    /// Clear-enable of SGIs and PPIs.
    pub const ICENABLER0: usize = SGI_BASE + 0x0180;
    /// Set-pending of SGIs and PPIs.
    pub const ISPENDR0: usize = SGI_BASE + 0x0200;
    /// Clear-pending of SGIs and PPIs.
    pub const ICPENDR0: usize = SGI_BASE + 0x0280;
    /// Priorities of SGIs and PPIs, one byte each.
    pub const IPRIORITYR: usize = SGI_BASE + 0x0400;
    /// Trigger mode of PPIs (INTIDs 16..31), two bits each, bit 1 of a
    /// pair set for edge-triggered.
    pub const ICFGR1: usize = SGI_BASE + 0x0C04;
}

register_bitfields! {u32,
    /// `GICD_CTLR` with a single security state.
    pub GICD_CTLR [
        /// Group 1 interrupts are forwarded.
        EnableGrp1 OFFSET(1) NUMBITS(1) [],
        /// Affinity routing is enabled.
        ARE OFFSET(4) NUMBITS(1) [],
        /// Security is disabled: a single security state.
        DS OFFSET(6) NUMBITS(1) [],
        /// Register write pending: a change to `CTLR` or a clear-enable is
        /// not in effect yet.
        RWP OFFSET(31) NUMBITS(1) []
    ],
    /// `GICD_TYPER`.
    pub GICD_TYPER [
        /// The distributor handles `32 * (ITLinesNumber + 1)` INTIDs.
        ITLinesNumber OFFSET(0) NUMBITS(5) []
    ],
    /// `GICD_PIDR2`.
    pub GICD_PIDR2 [
        /// The GIC architecture revision: 3 for GICv3.
        ArchRev OFFSET(4) NUMBITS(4) []
    ],
    /// `GICR_CTLR`.
    GICR_CTLR [
        /// Register write pending: a clear-enable is not in effect yet.
        RWP OFFSET(3) NUMBITS(1) []
    ],
    /// `GICR_WAKER`.
    GICR_WAKER [
        /// The vCPU's interface is asleep; cleared to wake it.
        ProcessorSleep OFFSET(1) NUMBITS(1) [],
        /// The redistributor is quiescent; clears once it is awake.
        ChildrenAsleep OFFSET(2) NUMBITS(1) []
    ]
}

register_bitfields! {u64,
    /// `GICR_TYPER`.
    pub GICR_TYPER [
        /// This is the last redistributor of the VM.
        Last OFFSET(4) NUMBITS(1) [],
        /// The processor number, here the vCPU index.
        Processor_Number OFFSET(8) NUMBITS(16) [],
        /// `MPIDR_EL1.Aff0` of the vCPU it serves.
        Aff0 OFFSET(32) NUMBITS(8) [],
        /// `Aff1`..`Aff3` of the vCPU it serves.
        Aff321 OFFSET(40) NUMBITS(24) []
    ],
    /// `ICC_SRE_EL1`.
    ICC_SRE_EL1 [
        /// The system register interface is in use.
        SRE OFFSET(0) NUMBITS(1) []
    ],
    /// `ICC_CTLR_EL1`.
    ICC_CTLR_EL1 [
        /// 0: a write of `ICC_EOIR1_EL1` both drops the priority and
        /// deactivates the interrupt.
        EOImode OFFSET(1) NUMBITS(1) []
    ],
    /// `ICC_IGRPEN1_EL1`.
    ICC_IGRPEN1_EL1 [
        /// Group 1 interrupts are signalled to this vCPU.
        Enable OFFSET(0) NUMBITS(1) []
    ],
    /// `ICC_IAR1_EL1` / `ICC_EOIR1_EL1`.
    ICC_IAR1_EL1 [
        /// The acknowledged (or ended) INTID.
        INTID OFFSET(0) NUMBITS(24) []
    ],
    /// `ICC_SGI1R_EL1`.
    ICC_SGI1R_EL1 [
        /// One bit per target `Aff0` (0..15) in the cluster named below.
        TargetList OFFSET(0) NUMBITS(16) [],
        /// The targets' `Aff1`.
        Aff1 OFFSET(16) NUMBITS(8) [],
        /// The SGI to send.
        INTID OFFSET(24) NUMBITS(4) [],
        /// The targets' `Aff2`.
        Aff2 OFFSET(32) NUMBITS(8) [],
        /// 1: every PE but this one, ignoring the target list.
        IRM OFFSET(40) NUMBITS(1) [],
        /// The targets' `Aff3`.
        Aff3 OFFSET(48) NUMBITS(8) []
    ]
}

/// Defines a system register with `mrs`/`msr` accessors, by encoding (the
/// assembler need not know the `ICC_*` names).
macro_rules! sysreg {
    ($(#[$doc:meta])* $name:ident, $fields:ty, $encoding:literal, read) => {
        $(#[$doc])*
        struct $name;
        impl Readable for $name {
            type T = u64;
            type R = $fields;
            fn get(&self) -> u64 {
                let value;
                // SAFETY: reading this GIC CPU interface register has no
                // side effect beyond what the register defines (IAR's
                // acknowledge, which the caller asked for).
                unsafe { asm!(concat!("mrs {v}, ", $encoding), v = out(reg) value, options(nostack)) };
                value
            }
        }
    };
    ($(#[$doc:meta])* $name:ident, $fields:ty, $encoding:literal, write) => {
        $(#[$doc])*
        struct $name;
        impl Writeable for $name {
            type T = u64;
            type R = $fields;
            fn set(&self, value: u64) {
                // SAFETY: writing this GIC CPU interface register affects
                // only interrupt delivery, which the caller manages; no
                // memory is touched.
                unsafe { asm!(concat!("msr ", $encoding, ", {v}"), v = in(reg) value, options(nostack)) };
            }
        }
    };
    ($(#[$doc:meta])* $name:ident, $fields:ty, $encoding:literal, read_write) => {
        sysreg!($(#[$doc])* $name, $fields, $encoding, read);
        impl Writeable for $name {
            type T = u64;
            type R = $fields;
            fn set(&self, value: u64) {
                // SAFETY: as for the write-only registers above.
                unsafe { asm!(concat!("msr ", $encoding, ", {v}"), v = in(reg) value, options(nostack)) };
            }
        }
    };
}

sysreg!(
    /// `ICC_SRE_EL1`.
    IccSre, ICC_SRE_EL1::Register, "S3_0_C12_C12_5", read_write
);
sysreg!(
    /// `ICC_CTLR_EL1`.
    IccCtlr, ICC_CTLR_EL1::Register, "S3_0_C12_C12_4", read_write
);
sysreg!(
    /// `ICC_PMR_EL1`: the priority mask.
    IccPmr, (), "S3_0_C4_C6_0", write
);
sysreg!(
    /// `ICC_BPR1_EL1`: the Group 1 binary point.
    IccBpr1, (), "S3_0_C12_C12_3", write
);
sysreg!(
    /// `ICC_IGRPEN1_EL1`.
    IccIgrpen1, ICC_IGRPEN1_EL1::Register, "S3_0_C12_C12_7", write
);
sysreg!(
    /// `ICC_IAR1_EL1`: reading it acknowledges the highest priority pending
    /// Group 1 interrupt.
    IccIar1, ICC_IAR1_EL1::Register, "S3_0_C12_C12_0", read
);
sysreg!(
    /// `ICC_EOIR1_EL1`.
    IccEoir1, ICC_IAR1_EL1::Register, "S3_0_C12_C12_1", write
);
sysreg!(
    /// `ICC_SGI1R_EL1`.
    IccSgi1r, ICC_SGI1R_EL1::Register, "S3_0_C12_C11_5", write
);

/// The first INTID that is not an SGI or PPI (the first SPI).
pub const FIRST_SPI: u32 = 32;
/// `ICC_IAR1_EL1` INTIDs 1020..1023 are special: nothing to handle.
const FIRST_SPECIAL_INTID: u32 = 1020;
/// The priority every interrupt gets (the middle of the range, which
/// every implemented number of priority bits can hold).
const DEFAULT_PRIORITY: u8 = 0xa0;
/// `ICC_PMR_EL1` that lets every priority through.
const PMR_ALLOW_ALL: u64 = 0xff;
/// `GICD_IROUTER.Aff0`, bits \[7:0\].
const AFF0_MASK: u64 = 0xff;
/// Every bit of a 32-INTID register.
const ALL_INTIDS: u32 = u32::MAX;
/// How long the GIC may take to finish a register write or to wake a
/// redistributor.
const WAIT_MS: u64 = 100;

/// Set once the distributor is set up.
static DISTRIBUTOR_READY: SharedWord = SharedWord::new(0);
/// Set per vCPU once its redistributor and CPU interface are set up.
static CPU_READY: [SharedWord; NUM_VCPUS] = [const { SharedWord::new(0) }; NUM_VCPUS];

/// What went wrong while setting the GIC up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicError {
    /// `GICD_CTLR.RWP` stayed set.
    DistributorBusy,
    /// `GICR_CTLR.RWP` of this vCPU stayed set.
    RedistributorBusy,
    /// `GICR_WAKER.ChildrenAsleep` of this vCPU stayed set.
    StillAsleep,
    /// `ICC_SRE_EL1.SRE` reads 0 after writing 1.
    NoSystemRegisters,
    /// `GICD_CTLR.EnableGrp1` reads 0 after writing 1.
    Group1NotEnabled,
}

impl GicError {
    /// Every error, so that one can cross between vCPUs as an index.
    pub const ALL: [GicError; 5] = [
        GicError::DistributorBusy,
        GicError::RedistributorBusy,
        GicError::StillAsleep,
        GicError::NoSystemRegisters,
        GicError::Group1NotEnabled,
    ];
}

impl fmt::Display for GicError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            GicError::DistributorBusy => "GICD_CTLR.RWP still set after 100 ms",
            GicError::RedistributorBusy => "GICR_CTLR.RWP still set after 100 ms",
            GicError::StillAsleep => "GICR_WAKER.ChildrenAsleep still set after 100 ms",
            GicError::NoSystemRegisters => "ICC_SRE_EL1.SRE reads 0 after writing 1",
            GicError::Group1NotEnabled => "GICD_CTLR.EnableGrp1 reads 0 after writing 1",
        })
    }
}

/// Reads `GICD_IIDR` (the register kvm-unit-tests' `mmio_read_vgic`
/// reads: an access the hypervisor's interrupt controller model answers).
pub fn read_iidr() -> u32 {
    gicd_read(gicd::IIDR)
}

/// Reads the 32-bit distributor register at `offset`.
fn gicd_read(offset: usize) -> u32 {
    // SAFETY: `offset` is one of the aligned 32-bit registers named in
    // `gicd` (or an aligned index into one of its arrays) of the
    // distributor frame.
    unsafe { mmio::load(GICD_BASE + offset, Load::U32) as u32 }
}

/// Writes the 32-bit distributor register at `offset`.
fn gicd_write(offset: usize, value: u32) {
    // SAFETY: as in `gicd_read`; the callers write only what this driver
    // means to configure.
    unsafe { mmio::store(GICD_BASE + offset, Width::W32, u64::from(value)) }
}

/// Writes the 64-bit distributor register at `offset`.
fn gicd_write64(offset: usize, value: u64) {
    // SAFETY: `offset` is an aligned 64-bit register of the distributor
    // frame (an `IROUTER`); the callers write only what this driver means
    // to configure.
    unsafe { mmio::store(GICD_BASE + offset, Width::W64, value) }
}

/// `RD_base` of the redistributor of vCPU `index`.
fn rd_base(index: usize) -> usize {
    GICR_BASE + index * GICR_STRIDE
}

/// `RD_base` of this vCPU's redistributor.
fn this_rd_base() -> usize {
    rd_base(cpu::index() as usize)
}

/// Reads the 32-bit register at `offset` of this vCPU's redistributor.
fn gicr_read(offset: usize) -> u32 {
    // SAFETY: `offset` is one of the aligned 32-bit registers named in
    // `gicr` of this vCPU's redistributor, which the VM has (vCPUs beyond
    // NUM_VCPUS park at boot).
    unsafe { mmio::load(this_rd_base() + offset, Load::U32) as u32 }
}

/// Writes the 32-bit register at `offset` of this vCPU's redistributor.
fn gicr_write(offset: usize, value: u32) {
    // SAFETY: as in `gicr_read`.
    unsafe { mmio::store(this_rd_base() + offset, Width::W32, u64::from(value)) }
}

/// Loads `load` at `addr` with the exception handler armed for an abort
/// there: `None` if the access aborted (nothing emulated at `addr`).
///
/// # Safety
///
/// `addr` must be aligned for `load` and, if anything is there, a device
/// register that may be read with that width.
unsafe fn probe(addr: usize, load: Load) -> Option<u64> {
    exception::expect_abort(addr);
    // SAFETY: the caller vouches for the address; an abort is skipped by
    // the handler, armed above.
    let value = unsafe { mmio::load(addr, load) };
    (exception::take_record().count == 0).then_some(value)
}

/// `GICD_PIDR2`, or `None` when the read aborts (no distributor).
pub fn probe_pidr2() -> Option<LocalRegisterCopy<u32, GICD_PIDR2::Register>> {
    // SAFETY: GICD_PIDR2 is an aligned 32-bit register of the distributor
    // frame, if there is one.
    let value = unsafe { probe(GICD_BASE + gicd::PIDR2, Load::U32) }?;
    Some(LocalRegisterCopy::new(value as u32))
}

/// `GICR_TYPER` of the redistributor of vCPU `index`, or `None` when the
/// read aborts (no redistributor there).
pub fn probe_redistributor(index: usize) -> Option<LocalRegisterCopy<u64, GICR_TYPER::Register>> {
    // SAFETY: GICR_TYPER is an aligned 64-bit register of the RD_base frame
    // of a redistributor, if there is one at that index.
    let value = unsafe { probe(rd_base(index) + gicr::TYPER, Load::U64) }?;
    Some(LocalRegisterCopy::new(value))
}

/// `GICD_TYPER`.
pub fn distributor_type() -> LocalRegisterCopy<u32, GICD_TYPER::Register> {
    LocalRegisterCopy::new(gicd_read(gicd::TYPER))
}

/// `GICD_CTLR`.
pub fn distributor_control() -> LocalRegisterCopy<u32, GICD_CTLR::Register> {
    LocalRegisterCopy::new(gicd_read(gicd::CTLR))
}

/// Waits (bounded) for `GICD_CTLR.RWP` to clear.
fn wait_distributor() -> Result<(), GicError> {
    let done = timer::wait_ms(WAIT_MS, || !distributor_control().is_set(GICD_CTLR::RWP));
    if done { Ok(()) } else { Err(GicError::DistributorBusy) }
}

/// Waits (bounded) for this vCPU's `GICR_CTLR.RWP` to clear.
fn wait_redistributor() -> Result<(), GicError> {
    let done = timer::wait_ms(WAIT_MS, || {
        !LocalRegisterCopy::<u32, GICR_CTLR::Register>::new(gicr_read(gicr::CTLR)).is_set(GICR_CTLR::RWP)
    });
    if done { Ok(()) } else { Err(GicError::RedistributorBusy) }
}

/// A priority register word giving its four INTIDs [`DEFAULT_PRIORITY`].
fn default_priorities() -> u32 {
    u32::from_ne_bytes([DEFAULT_PRIORITY; 4])
}

/// Sets the distributor up, once, from the boot vCPU: disabled while
/// every SPI is made Group 1, disabled and given the default priority,
/// then Group 1 enabled.
pub fn init_distributor() -> Result<(), GicError> {
    let mut ctlr = distributor_control();
    ctlr.modify(GICD_CTLR::EnableGrp1::CLEAR);
    gicd_write(gicd::CTLR, ctlr.get());
    wait_distributor()?;
    let spi_words = distributor_type().read(GICD_TYPER::ITLinesNumber) as usize;
    for word in 1..=spi_words {
        gicd_write(gicd::ICENABLER + 4 * word, ALL_INTIDS);
        gicd_write(gicd::IGROUPR + 4 * word, ALL_INTIDS);
        for quad in 0..8 {
            gicd_write(gicd::IPRIORITYR + 32 * word + 4 * quad, default_priorities());
        }
    }
    wait_distributor()?;
    let mut ctlr = distributor_control();
    ctlr.modify(GICD_CTLR::EnableGrp1::SET);
    gicd_write(gicd::CTLR, ctlr.get());
    wait_distributor()?;
    if !distributor_control().is_set(GICD_CTLR::EnableGrp1) {
        return Err(GicError::Group1NotEnabled);
    }
    DISTRIBUTOR_READY.store(1);
    Ok(())
}

/// Sets up this vCPU's redistributor (woken, every SGI and PPI Group 1,
/// disabled, default priority) and its CPU interface (system registers,
/// every priority let through, Group 1 signalled). IRQs stay masked at
/// `PSTATE`.
pub fn init_this_cpu() -> Result<(), GicError> {
    let mut waker = LocalRegisterCopy::<u32, GICR_WAKER::Register>::new(gicr_read(gicr::WAKER));
    waker.modify(GICR_WAKER::ProcessorSleep::CLEAR);
    gicr_write(gicr::WAKER, waker.get());
    let awake = timer::wait_ms(WAIT_MS, || {
        !LocalRegisterCopy::<u32, GICR_WAKER::Register>::new(gicr_read(gicr::WAKER)).is_set(GICR_WAKER::ChildrenAsleep)
    });
    if !awake {
        return Err(GicError::StillAsleep);
    }
    gicr_write(gicr::ICENABLER0, ALL_INTIDS);
    wait_redistributor()?;
    gicr_write(gicr::IGROUPR0, ALL_INTIDS);
    for quad in 0..8 {
        gicr_write(gicr::IPRIORITYR + 4 * quad, default_priorities());
    }

    IccSre.modify(ICC_SRE_EL1::SRE::SET);
    isb();
    if !IccSre.is_set(ICC_SRE_EL1::SRE) {
        return Err(GicError::NoSystemRegisters);
    }
    IccPmr.set(PMR_ALLOW_ALL);
    IccBpr1.set(0);
    IccCtlr.modify(ICC_CTLR_EL1::EOImode::CLEAR);
    IccIgrpen1.write(ICC_IGRPEN1_EL1::Enable::SET);
    isb();
    if let Some(ready) = CPU_READY.get(cpu::index() as usize) {
        ready.store(1);
    }
    Ok(())
}

/// Whether the distributor and this vCPU's redistributor and CPU interface
/// have been set up.
pub fn ready() -> bool {
    DISTRIBUTOR_READY.load() != 0 && CPU_READY.get(cpu::index() as usize).is_some_and(|r| r.load() != 0)
}

/// The register (byte offset of its 32-bit word) and bit of `intid` in a
/// one-bit-per-INTID array.
fn bit_of(intid: u32) -> (usize, u32) {
    (4 * (intid / 32) as usize, 1 << (intid % 32))
}

/// Enables `intid`: at this vCPU's redistributor for an SGI or PPI, at the
/// distributor for an SPI.
pub fn enable(intid: u32) {
    let (word, bit) = bit_of(intid);
    if intid < FIRST_SPI {
        gicr_write(gicr::ISENABLER0, bit);
    } else {
        gicd_write(gicd::ISENABLER + word, bit);
    }
}

/// Disables `intid` (as [`enable`] picks the register) and waits for the
/// disable to be in effect.
pub fn disable(intid: u32) -> Result<(), GicError> {
    let (word, bit) = bit_of(intid);
    if intid < FIRST_SPI {
        gicr_write(gicr::ICENABLER0, bit);
        wait_redistributor()
    } else {
        gicd_write(gicd::ICENABLER + word, bit);
        wait_distributor()
    }
}

/// Makes the PPI `intid` (16..31) edge-triggered or level-sensitive at
/// this vCPU's redistributor (`GICR_ICFGR1`). Disables it meanwhile, as
/// the trigger mode of an enabled interrupt must not change, and leaves it
/// disabled; see [`enable`]. Nothing for another INTID.
pub fn set_ppi_edge(intid: u32, edge: bool) -> Result<(), GicError> {
    if !(16..FIRST_SPI).contains(&intid) {
        return Ok(());
    }
    disable(intid)?;
    /// The edge bit of a PPI's two-bit field.
    const EDGE_BIT: u32 = 0b10;
    let bit = EDGE_BIT << (2 * (intid - 16));
    let old = gicr_read(gicr::ICFGR1);
    gicr_write(gicr::ICFGR1, if edge { old | bit } else { old & !bit });
    wait_redistributor()
}

/// Whether the PPI `intid` (16..31) is edge-triggered at this vCPU's
/// redistributor (`GICR_ICFGR1`); false for another INTID.
pub fn ppi_is_edge(intid: u32) -> bool {
    (16..FIRST_SPI).contains(&intid) && gicr_read(gicr::ICFGR1) & (0b10 << (2 * (intid - 16))) != 0
}

/// Makes the SPI `intid` Group 1 with the default priority and routes it
/// to the vCPU with MPIDR affinity `Aff0` = `target`, `Aff1..3` = 0
/// (`GICD_IROUTER`, `Interrupt_Routing_Mode` 0). It stays disabled or
/// enabled as it was; see [`enable`]. Nothing for an SGI or PPI.
pub fn route_spi(intid: u32, target: u64) {
    if intid < FIRST_SPI {
        return;
    }
    let (word, bit) = bit_of(intid);
    gicd_write(gicd::IGROUPR + word, gicd_read(gicd::IGROUPR + word) | bit);
    // One priority byte per INTID, written as its aligned 32-bit word.
    let byte = intid as usize;
    let word_offset = gicd::IPRIORITYR + (byte & !3);
    let mut priorities = gicd_read(word_offset).to_le_bytes();
    priorities[byte & 3] = DEFAULT_PRIORITY;
    gicd_write(word_offset, u32::from_le_bytes(priorities));
    gicd_write64(gicd::IROUTER + 8 * intid as usize, target & AFF0_MASK);
}

/// What the distributor shows of an SPI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpiState {
    /// `GICD_ISENABLER`: enabled.
    pub enabled: bool,
    /// `GICD_ISPENDR`: pending.
    pub pending: bool,
    /// `GICD_ISACTIVER`: active.
    pub active: bool,
}

impl fmt::Display for SpiState {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "enabled {}, pending {}, active {}",
            u8::from(self.enabled),
            u8::from(self.pending),
            u8::from(self.active)
        )
    }
}

/// The distributor's enable, pending and active bits of the SPI `intid`.
pub fn spi_state(intid: u32) -> SpiState {
    let (word, bit) = bit_of(intid);
    SpiState {
        enabled: gicd_read(gicd::ISENABLER + word) & bit != 0,
        pending: gicd_read(gicd::ISPENDR + word) & bit != 0,
        active: gicd_read(gicd::ISACTIVER + word) & bit != 0,
    }
}

/// Whether the SGI or PPI `intid` is pending at this vCPU's redistributor
/// (`GICR_ISPENDR0`).
pub fn is_pending(intid: u32) -> bool {
    intid < FIRST_SPI && gicr_read(gicr::ISPENDR0) & bit_of(intid).1 != 0
}

/// Clears the pending state of the SGI or PPI `intid` at this vCPU's
/// redistributor (`GICR_ICPENDR0`); nothing for an SPI.
pub fn clear_pending(intid: u32) {
    if intid < FIRST_SPI {
        gicr_write(gicr::ICPENDR0, bit_of(intid).1);
    }
}

/// Sends SGI `intid` (below 16) to the vCPU with MPIDR affinity
/// `Aff0` = `target` (below 16), `Aff1..3` = 0. Earlier memory writes are
/// visible to the target before the SGI.
pub fn send_sgi(intid: u32, target: u64) {
    // SAFETY: a barrier only.
    unsafe { asm!("dsb sy", options(nostack, preserves_flags)) };
    IccSgi1r.write(
        ICC_SGI1R_EL1::INTID.val(u64::from(intid))
            + ICC_SGI1R_EL1::TargetList.val(1 << target)
            + ICC_SGI1R_EL1::Aff1.val(0)
            + ICC_SGI1R_EL1::Aff2.val(0)
            + ICC_SGI1R_EL1::Aff3.val(0)
            + ICC_SGI1R_EL1::IRM::CLEAR,
    );
    isb();
}

/// Acknowledges the highest priority pending interrupt (`ICC_IAR1_EL1`):
/// its INTID, or `None` for a special INTID (1020..1023, nothing pending).
pub fn acknowledge() -> Option<u32> {
    let intid = IccIar1.read(ICC_IAR1_EL1::INTID) as u32;
    (intid < FIRST_SPECIAL_INTID).then_some(intid)
}

/// Ends (drops the priority of and deactivates) `intid`
/// (`ICC_EOIR1_EL1`).
pub fn end_of_interrupt(intid: u32) {
    IccEoir1.write(ICC_IAR1_EL1::INTID.val(u64::from(intid)));
    isb();
}

/// An instruction synchronization barrier, so that a system register write
/// is in effect for what follows.
fn isb() {
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}
