//! Exits the VM finishes inside the architecture vCPU's own run loop
//! ([`ExitFastPath`]).
//!
//! A device access normally goes from the arch vCPU back through
//! [`AxVCpu::run`](crate::AxVCpu::run) to the VM, which performs it, does
//! its interrupt work (reads the list registers back, samples the timer
//! lines, fills the list registers again) and enters the guest again.
//! Most accesses change nothing the interrupt work looks at. The VM hands
//! the vCPU an [`ExitFastPath`]; the vCPU offers it each such exit while
//! the guest's interrupt state is still live in the hardware, and enters
//! the guest again at once when the VM says nothing else is due.

use crate::{AccessWidth, AxVCpuExitReason, GuestPhysAddr};

/// What the VM did with an exit offered to [`ExitFastPath::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastExit {
    /// Nothing: the vCPU returns the exit to its caller as usual. Also
    /// the answer for an access nothing takes: the caller then makes the
    /// guest take its fault, as for any exit it handles.
    Slow,
    /// The exit is done. For an MMIO or system-register read, `value` is
    /// what the device answered, of which only the low bytes of the
    /// access width count (the vCPU masks and extends it and writes it to
    /// the destination register as the instruction says); otherwise 0. `resume`: the guest may run again
    /// at once; otherwise the VM has interrupt work first, and the vCPU
    /// returns [`AxVCpuExitReason::Nothing`] to its caller.
    Done {
        /// The value read.
        value: u64,
        /// Whether the guest may run again without the caller.
        resume: bool,
    },
}

/// The VM's side of the fast path: called by the arch vCPU, inside
/// [`AxArchVCpu::run_with`](crate::AxArchVCpu::run_with), on the physical
/// CPU the vCPU is bound to, with the guest's interrupt state live.
pub trait ExitFastPath {
    /// Finishes `exit` (an [`MmioRead`](AxVCpuExitReason::MmioRead),
    /// [`MmioWrite`](AxVCpuExitReason::MmioWrite),
    /// [`SysRegRead`](AxVCpuExitReason::SysRegRead),
    /// [`SysRegWrite`](AxVCpuExitReason::SysRegWrite) or
    /// [`SendIPI`](AxVCpuExitReason::SendIPI); the vCPU offers no other
    /// kind) if the VM can do so without the guest's interrupt state, or
    /// leaves it ([`FastExit::Slow`]) without doing anything.
    fn finish(&self, exit: &AxVCpuExitReason) -> FastExit;

    /// Finishes the MMIO access of `width` bytes at `addr` (`data`: the
    /// value of a write, already masked to `width`; `None` for a read) as
    /// [`finish`](Self::finish) would finish its
    /// [`MmioRead`](AxVCpuExitReason::MmioRead) or
    /// [`MmioWrite`](AxVCpuExitReason::MmioWrite) exit. The common exit
    /// gets its own entry so that the vCPU builds no exit to offer, and
    /// the VM takes none apart: the vCPU builds the exit only when the
    /// answer is [`FastExit::Slow`].
    fn mmio(&self, addr: GuestPhysAddr, width: AccessWidth, data: Option<u64>) -> FastExit;
}

/// The fast path of a VM that finishes nothing in the vCPU's loop.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFastPath;

impl ExitFastPath for NoFastPath {
    fn finish(&self, _exit: &AxVCpuExitReason) -> FastExit {
        FastExit::Slow
    }

    fn mmio(&self, _addr: GuestPhysAddr, _width: AccessWidth, _data: Option<u64>) -> FastExit {
        FastExit::Slow
    }
}
