//! The interface an architecture's vCPU implements ([`AxArchVCpu`]).

use axerrno::AxResult;

use crate::{AxVCpuExitReason, GuestPhysAddr, HostPhysAddr};

/// The identifier of a VM.
pub type VMId = usize;

/// The identifier of a vCPU inside its VM (0 is the bootstrap processor).
pub type VCpuId = usize;

/// What an architecture's vCPU (`arm_vcpu::Aarch64VCpu`, `x86_vcpu::VmxVcpu`)
/// provides to the architecture-independent [`AxVCpu`](crate::AxVCpu).
///
/// [`AxVCpu`](crate::AxVCpu) calls these methods only in the states its
/// lifecycle table allows, so an implementation may rely on that order:
/// `new`, then `set_entry`, `set_ept_root` and `setup` once each and in that
/// order, then any number of `bind` / `run`* / `unbind` rounds on the
/// physical CPU the vCPU is bound to. An implementation reports every
/// failure as an error; it never panics on guest input.
pub trait AxArchVCpu: Sized {
    /// Architecture-specific configuration given to [`AxArchVCpu::new`]
    /// (for example MPIDR and the device-tree address on aarch64).
    type CreateConfig;

    /// Architecture-specific configuration given to [`AxArchVCpu::setup`]
    /// (for example whether interrupts and the timer are passed through).
    type SetupConfig;

    /// Creates the vCPU `vcpu_id` of VM `vm_id` and allocates what it needs.
    ///
    /// Fails when memory or an architectural resource is not available or
    /// when `config` is invalid.
    fn new(vm_id: VMId, vcpu_id: VCpuId, config: Self::CreateConfig) -> AxResult<Self>;

    /// Sets the guest physical address the vCPU starts executing at.
    ///
    /// Called once by [`AxVCpu::setup`](crate::AxVCpu::setup) before
    /// [`AxArchVCpu::setup`]; the host may call it again (through
    /// [`AxVCpu::set_entry`](crate::AxVCpu::set_entry)) before the vCPU first
    /// runs, for example when a secondary vCPU is started by the guest.
    fn set_entry(&mut self, entry: GuestPhysAddr) -> AxResult;

    /// Sets the root of the stage-2 / EPT / NPT page table (a host physical
    /// address) that translates this vCPU's guest physical addresses.
    fn set_ept_root(&mut self, ept_root: HostPhysAddr) -> AxResult;

    /// Finishes the architecture-specific initialisation, after
    /// [`AxArchVCpu::set_entry`] and [`AxArchVCpu::set_ept_root`].
    fn setup(&mut self, config: Self::SetupConfig) -> AxResult;

    /// Enters the guest and runs it until the next exit, which it returns.
    ///
    /// An exit the implementation cannot decode is returned as
    /// [`AxVCpuExitReason::Unsupported`] with its raw syndrome; an `Err`
    /// means the vCPU itself is broken (for example a failed VM entry that
    /// cannot be reported as [`AxVCpuExitReason::FailEntry`]).
    fn run(&mut self) -> AxResult<AxVCpuExitReason>;

    /// As [`AxArchVCpu::run`], but the device and system-register
    /// accesses and sent IPIs the guest makes are first offered to `fast`
    /// ([`ExitFastPath`](crate::ExitFastPath)); those it finishes do not
    /// end the run unless it says so. The default offers nothing.
    fn run_with<F: crate::ExitFastPath>(&mut self, fast: &F) -> AxResult<AxVCpuExitReason> {
        let _ = fast;
        self.run()
    }

    /// Loads the vCPU onto the current physical CPU (for example `vmptrld`
    /// on VMX, or restoring the EL1 system registers on aarch64).
    fn bind(&mut self) -> AxResult;

    /// Saves the vCPU's state and releases the current physical CPU (for
    /// example `vmclear` on VMX), so that it can be bound elsewhere.
    fn unbind(&mut self) -> AxResult;

    /// Sets general-purpose register `reg` (the architecture's numbering:
    /// `x0`..`x30` on aarch64, the `GeneralRegisters` index on x86) to `val`.
    /// An index that does not name a register is ignored.
    fn set_gpr(&mut self, reg: usize, val: usize);

    /// Injects interrupt `vector` into the guest, or queues it until the
    /// guest can take it. Must be called on the physical CPU the vCPU is
    /// bound to when the architecture needs that (VMX does).
    fn inject_interrupt(&mut self, vector: usize) -> AxResult;

    /// Sets the value a hypercall returns to the guest (`x0` on aarch64,
    /// `rax` on x86).
    fn set_return_value(&mut self, val: usize);

    /// Makes the guest take a fault for the instruction of the last exit,
    /// instead of completing it: the host found nothing to emulate (an MMIO
    /// access with no device behind it, a system register nobody models).
    /// The guest then sees what hardware would give it (on aarch64 a
    /// synchronous external abort or an undefined instruction at its EL1
    /// vector). `Err(BadState)` when the guest cannot take the fault (it
    /// has no vector table, or faulted inside it): the VM must be stopped.
    /// The default, for architectures that have no such path yet, is
    /// `Err(Unsupported)`.
    fn inject_fault_for_last_exit(&mut self, fault: LastExitFault) -> AxResult {
        let _ = fault;
        Err(axerrno::AxError::Unsupported)
    }

    /// The software list registers of the vCPU's virtual interrupt
    /// interface ([`ListRegs`](crate::ListRegs)), which the VM's virtual
    /// interrupt controller fills before [`AxArchVCpu::run`] and reads after
    /// it. `None` (the default) when the architecture has none.
    fn list_regs(&mut self) -> Option<&mut crate::ListRegs> {
        None
    }

    /// The interrupt lines the vCPU's own hardware drives (its timers), with
    /// their current levels; the vCPU must be bound to the calling CPU. The
    /// default has none.
    fn local_irq_lines(&self) -> [Option<crate::LocalIrqLine>; crate::LOCAL_TIMERS] {
        [None; crate::LOCAL_TIMERS]
    }

    /// For a vCPU that is not bound to a CPU (its timers are saved, not
    /// running): the physical counter value at which each of its enabled,
    /// unmasked timers fires, so that the host can wake up then if the vCPU
    /// waits for it. All `None` (the default) when none is armed.
    fn saved_timer_deadlines(&self) -> crate::TimerDeadlines {
        [None; crate::LOCAL_TIMERS]
    }

    /// Whether the guest's wait-for-interrupt instruction exits (`true`,
    /// the state of a new vCPU: the host learns that the vCPU waits and
    /// may run another on its CPU) or waits on the physical CPU itself
    /// (`false`: the host has nothing else to run there; any interrupt
    /// the host takes still ends the guest run, and the wait with it). It
    /// takes effect from the next [`AxArchVCpu::run`]. The default
    /// ignores it: the instruction always exits.
    fn set_wfi_exits(&mut self, exits: bool) {
        let _ = exits;
    }
}

/// The fault [`AxArchVCpu::inject_fault_for_last_exit`] makes the guest take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastExitFault {
    /// The memory access of the last exit failed (an external abort).
    Access,
    /// The trapped instruction of the last exit is undefined.
    Undefined,
}
