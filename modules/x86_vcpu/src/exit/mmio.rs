//! Emulating a decoded MMIO instruction across `run` calls, and what the
//! guest sees when the host finds nothing behind the access.
//!
//! - A load returns `MmioRead` naming the destination register (its
//!   [`RegTarget::number`]); the host's `set_gpr` writes it with the x86
//!   rule for its width.
//! - A store returns `MmioWrite` with the register's or immediate's value.
//! - A read-modify-write returns `MmioRead` into the vCPU's latch
//!   ([`RegTarget::MmioLatch`]) and keeps a [`PendingAlu`]; the next `run`
//!   computes the result and flags ([`complete_alu`]) and returns the
//!   `MmioWrite` before entering the guest (`cmp`/`test` write nothing).
//!
//! RIP advances past the instruction when the exit is reported; the vCPU
//! keeps the old RIP in case the host then asks for a fault
//! ([`fault_for_last_exit`]). On a PC an access to an address nothing
//! decodes reads all ones and drops writes; that is what `Access` gives
//! for a decoded instruction (and for `IN`). Only an access that could not
//! be completed that way takes an exception.

use axvcpu::{AccessWidth, AxVCpuExitReason, GuestPhysAddr, LastExitFault};

use crate::alu;
use crate::decode::{AluOp, Extension, MmioInstruction, MmioOp, Source};
use crate::event::Exception;
use crate::regs::{GeneralRegisters, Gpr, RegTarget};

/// A read-modify-write instruction waiting for the value it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingAlu {
    /// The address (for the write-back).
    pub addr: GuestPhysAddr,
    /// The access width.
    pub width: AccessWidth,
    /// The operation.
    pub op: AluOp,
    /// The second operand, read at the exit.
    pub operand: u64,
    /// The value the host read, once it gave it.
    pub value: Option<u64>,
}

/// What the last exit left to complete or fault (the vCPU keeps one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LastExit {
    /// Nothing that a fault could apply to.
    #[default]
    None,
    /// An MMIO load into `dst`.
    MmioLoad {
        /// The destination.
        dst: Gpr,
        /// The access width.
        width: AccessWidth,
        /// The extension into `dst`.
        ext: Extension,
    },
    /// An MMIO store.
    MmioStore,
    /// A read-modify-write in progress.
    MmioAlu(PendingAlu),
    /// `IN` of `width`.
    IoIn {
        /// The access width.
        width: AccessWidth,
    },
    /// An MSR access the host may refuse.
    Msr,
    /// Any other exit (a fault makes it #UD or #GP).
    Other,
}

/// The value a load leaves in its destination register (of `reg_width`),
/// from the `width`-byte value `raw` read: truncated, widened by `ext`,
/// truncated to the register.
pub fn load_value(raw: u64, width: AccessWidth, ext: Extension, reg_width: AccessWidth) -> u64 {
    width.load(raw, ext == Extension::Sign, reg_width)
}

/// Whether decoded instruction `insn` makes the access the hardware
/// reported: a write only from an instruction that writes, a read only
/// from one that reads (a guest that rewrote its code since the fault
/// would not match, and is then not emulated).
pub fn access_matches(insn: &MmioInstruction, access: axvcpu::AccessFlags) -> bool {
    let write = access.contains(axvcpu::AccessFlags::WRITE);
    (insn.writes_memory() || !write) && (insn.reads_memory() || write)
}

/// The value of `src` now (`rsp` is the guest's stack pointer).
fn source_value(src: Source, width: AccessWidth, regs: &GeneralRegisters, rsp: u64) -> u64 {
    match src {
        Source::Reg(r) => regs.read_gpr(r, rsp) & width.mask(),
        Source::Imm(v) => v & width.mask(),
    }
}

/// The exit for decoded instruction `insn` that faulted at `gpa`, and what
/// to remember about it.
pub fn mmio_step(
    insn: &MmioInstruction,
    gpa: GuestPhysAddr,
    regs: &GeneralRegisters,
    rsp: u64,
) -> (AxVCpuExitReason, LastExit) {
    let width = insn.width;
    match insn.op {
        MmioOp::Load { dst, ext } => (
            AxVCpuExitReason::MmioRead {
                addr: gpa,
                width,
                reg: RegTarget::Gpr(dst).number(),
                reg_width: dst.part.width(),
                signed_ext: ext == Extension::Sign,
            },
            LastExit::MmioLoad { dst, width, ext },
        ),
        MmioOp::Store { src } => (
            AxVCpuExitReason::MmioWrite {
                addr: gpa,
                width,
                data: source_value(src, width, regs, rsp),
            },
            LastExit::MmioStore,
        ),
        MmioOp::Alu { op, src } => (
            AxVCpuExitReason::MmioRead {
                addr: gpa,
                width,
                reg: RegTarget::MmioLatch.number(),
                reg_width: width,
                signed_ext: false,
            },
            LastExit::MmioAlu(PendingAlu {
                addr: gpa,
                width,
                op,
                operand: source_value(src, width, regs, rsp),
                value: None,
            }),
        ),
    }
}

/// Finishes `p` with the value read: RFLAGS after it, and the write-back
/// exit (`None` for `cmp`/`test`, or when `write_back` is false because
/// the read hit nothing). `None` for RFLAGS when the host never gave the
/// value (it stopped the instruction some other way).
pub fn complete_alu(p: &PendingAlu, rflags: u64, write_back: bool) -> Option<(u64, Option<AxVCpuExitReason>)> {
    let value = p.value?;
    let o = alu::compute(p.op, p.width, value, p.operand);
    let write = o.result.filter(|_| write_back).map(|data| AxVCpuExitReason::MmioWrite {
        addr: p.addr,
        width: p.width,
        data,
    });
    Some((o.apply(rflags), write))
}

/// What the vCPU does when the host asks for a fault for the last exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Write `value` to `dst` (a load from nothing reads all ones); RIP
    /// stays past the instruction.
    WriteReg {
        /// The destination.
        dst: Gpr,
        /// Its new value (before the width rule).
        value: u64,
    },
    /// Complete the pending read-modify-write with all ones, without
    /// writing back.
    AluFromNothing,
    /// Nothing: the write is dropped.
    Drop,
    /// Put RIP back on the instruction and make the guest take `e`.
    Inject(Exception),
}

/// What `fault` means for `last`.
pub fn fault_for_last_exit(last: &LastExit, fault: LastExitFault) -> FaultAction {
    match (last, fault) {
        (LastExit::MmioLoad { dst, width, ext }, LastExitFault::Access) => FaultAction::WriteReg {
            dst: *dst,
            value: load_value(u64::MAX, *width, *ext, dst.part.width()),
        },
        (LastExit::IoIn { width }, LastExitFault::Access) => FaultAction::WriteReg {
            dst: Gpr::accumulator(*width),
            value: width.mask(),
        },
        (LastExit::MmioStore, LastExitFault::Access) => FaultAction::Drop,
        (LastExit::MmioAlu(_), LastExitFault::Access) => FaultAction::AluFromNothing,
        // An MSR nobody models: #GP(0), as hardware does for an unknown MSR.
        (LastExit::Msr, _) => FaultAction::Inject(Exception::GP0),
        (_, LastExitFault::Undefined) => FaultAction::Inject(Exception::UD),
        (_, LastExitFault::Access) => FaultAction::Inject(Exception::GP0),
    }
}

/// A register write the vCPU performs for `set_gpr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegWrite {
    /// Write `value` to `gpr` with the x86 rule for its width.
    Gpr(Gpr, u64),
    /// Write `edx:eax` as `RDMSR` does.
    EdxEax(u64),
}

/// Where `set_gpr(reg, value)` goes, given the last exit: a write to do,
/// or `None` (the value went to the read-modify-write latch, or `reg`
/// names nothing). After an `IoRead` exit, register 0 means the
/// accumulator of the access width (the `IoRead` contract: "the host
/// writes the value into the accumulator"), so `in al, dx` keeps the rest
/// of `rax`.
pub fn route_set_gpr(last: &mut LastExit, reg: usize, value: u64) -> Option<RegWrite> {
    match RegTarget::from_number(reg)? {
        RegTarget::Gpr(g) => match *last {
            LastExit::IoIn { width } if g == Gpr::full(0) => {
                *last = LastExit::None;
                Some(RegWrite::Gpr(Gpr::accumulator(width), value))
            }
            _ => Some(RegWrite::Gpr(g, value)),
        },
        RegTarget::EdxEax => Some(RegWrite::EdxEax(value)),
        RegTarget::MmioLatch => {
            if let LastExit::MmioAlu(p) = last {
                p.value.get_or_insert(value & p.width.mask());
            }
            None
        }
    }
}
