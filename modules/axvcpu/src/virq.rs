//! The vCPU's side of virtual interrupt delivery, as the architecture-
//! independent VM layer sees it: the list registers of a GICv3-style virtual
//! CPU interface ([`ListRegs`]) and the interrupt lines the vCPU's own
//! hardware drives, such as its timers ([`LocalIrqLine`]).
//!
//! The virtual interrupt controller model (`axdevice::vgic`) decides which
//! interrupts go into the list registers before each entry and folds their
//! state back after each exit; the arch vCPU copies [`ListRegs`] into the
//! hardware around the guest run. The values use the architectural
//! `ICH_LR<n>_EL2` layout (GICv3, ARM IHI 0069), which is plain data and
//! needs no hardware to build or read.

/// The most list registers a GICv3 CPU interface has (ICH_VTR_EL2.ListRegs
/// is 4 bits).
pub const MAX_LIST_REGS: usize = 16;

/// `ICH_LR<n>_EL2` fields (ARM IHI 0069, 12.4.6).
pub mod lr {
    /// vINTID, bits \[31:0\].
    pub const VINTID_MASK: u64 = 0xffff_ffff;
    /// pINTID, bits \[44:32\]: the physical INTID when HW is set. When HW is
    /// clear, bit 41 is EOI (a maintenance interrupt on deactivation).
    pub const PINTID_SHIFT: u32 = 32;
    /// pINTID width mask (after shifting).
    pub const PINTID_MASK: u64 = 0x1fff;
    /// EOI, bit 41 (HW = 0): signal a maintenance interrupt when the guest
    /// deactivates the interrupt.
    pub const EOI: u64 = 1 << 41;
    /// Priority, bits \[55:48\].
    pub const PRIORITY_SHIFT: u32 = 48;
    /// Group, bit 60: Group 1 when set.
    pub const GROUP1: u64 = 1 << 60;
    /// HW, bit 61: the virtual interrupt is tied to physical pINTID.
    pub const HW: u64 = 1 << 61;
    /// State, bits \[63:62\].
    pub const STATE_SHIFT: u32 = 62;
    /// State: pending.
    pub const STATE_PENDING: u64 = 0b01 << STATE_SHIFT;
    /// State: active.
    pub const STATE_ACTIVE: u64 = 0b10 << STATE_SHIFT;
    /// State mask (invalid when zero).
    pub const STATE_MASK: u64 = 0b11 << STATE_SHIFT;
}

/// The list registers of a vCPU's virtual CPU interface, in software.
///
/// Before each entry the VM layer fills `lr[..count]`; the arch vCPU writes
/// them to the hardware, runs the guest, and reads them back into `lr` after
/// the exit, so the VM layer sees what the guest did with each interrupt
/// (acknowledged it: active; ended it: invalid).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListRegs {
    /// How many list registers the hardware has (at most
    /// [`MAX_LIST_REGS`]); 0 when the vCPU has no virtual CPU interface.
    pub count: usize,
    /// The registers, in `ICH_LR<n>_EL2` format (see [`lr`]). Entries at and
    /// above `count` are ignored.
    pub lr: [u64; MAX_LIST_REGS],
    /// Ask for an exit when at most one list register holds a valid
    /// interrupt (ICH_HCR_EL2.UIE): set while interrupts wait for a free
    /// list register, so they are delivered as soon as room appears.
    pub underflow_exit: bool,
}

/// How many timers of its own a vCPU has (on aarch64 the EL1 virtual and
/// physical timers; on x86 the local APIC timer, and one unused).
pub const LOCAL_TIMERS: usize = 2;

/// The saved deadline of each of a vCPU's own timers, in the order of
/// [`AxArchVCpu::local_irq_lines`](crate::AxArchVCpu::local_irq_lines):
/// the physical counter value at which it fires, `None` for a timer that
/// is off or masked. Kept apart, not folded into the earliest: a timer
/// that fired long ago (and was dealt with) must not hide a later one.
pub type TimerDeadlines = [Option<u64>; LOCAL_TIMERS];

/// An interrupt line the vCPU's own hardware drives while the vCPU is bound
/// (on aarch64: the EL1 virtual timer, PPI 27, and the EL1 physical timer,
/// PPI 30), with its level as the guest programmed it. Its physical
/// interrupt on the CPU the vCPU is bound to has the same INTID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalIrqLine {
    /// The INTID the guest sees.
    pub intid: u32,
    /// Asserted: the timer is enabled, has expired and is not masked.
    pub level: bool,
}
