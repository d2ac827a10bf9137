//! The architecture-independent vCPU ([`AxVCpu`]) and its lifecycle.
//!
//! # States and transitions
//!
//! | from      | call                       | to      | arch calls                             | also needs                              |
//! |-----------|----------------------------|---------|----------------------------------------|-----------------------------------------|
//! | —         | [`AxVCpu::new`]            | Created | `new`                                  | ids fit the per-CPU slot                |
//! | Created   | [`AxVCpu::setup`]          | Free    | `set_entry`, `set_ept_root`, `setup`   |                                         |
//! | Free      | [`AxVCpu::bind`]           | Ready   | `bind`                                 | no vCPU bound to this physical CPU      |
//! | Ready     | [`AxVCpu::run`]            | Running, then Ready | `run`                      | this vCPU is bound to this physical CPU |
//! | Ready     | [`AxVCpu::unbind`]         | Free    | `unbind`                               | this vCPU is bound to this physical CPU |
//! | Ready     | [`AxVCpu::block`]          | Blocked | —                                      |                                         |
//! | Blocked   | [`AxVCpu::unblock`]        | Ready   | —                                      |                                         |
//!
//! "Bound" states are Ready, Running and Blocked: the vCPU is loaded on a
//! physical CPU, recorded in that CPU's slot ([`current_vcpu`]). A blocked
//! vCPU (one waiting after a `Halt` exit, say) stays bound; unblock it
//! before unbinding it.
//!
//! Register and interrupt calls ([`AxVCpu::set_entry`], [`AxVCpu::set_gpr`],
//! [`AxVCpu::set_return_value`], [`AxVCpu::inject_interrupt`]) change no
//! state and are allowed in Created, Free, Ready and Blocked.
//!
//! Rules:
//! - A call in any other state returns [`AxError::BadState`], calls nothing
//!   in the arch layer and leaves the state as it was (the seed's
//!   implementation invalidated the vCPU instead, or panicked).
//! - An error from the arch layer during a transition (including `run`)
//!   moves the vCPU to Invalid and is returned as is; every later call
//!   returns `BadState`. An error from a register or interrupt call is
//!   returned and changes nothing.
//! - Running is the state while the arch layer's `run` executes. Every
//!   method takes `&mut self`, so nobody else can observe or change the vCPU
//!   then; in particular a vCPU cannot be blocked while it runs: its runner
//!   blocks it after `run` returns (Ready → Blocked).
//!
//! [`current_vcpu`]: crate::current_vcpu

use axerrno::{AxError, AxResult};

use crate::{
    AxArchVCpu, AxVCpuExitReason, GuestPhysAddr, HostPhysAddr, VCpuId, VMId,
    current::{self, CurrentVCpu},
};

/// The lifecycle state of an [`AxVCpu`] (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VCpuState {
    /// A transition failed in the arch layer; the vCPU is unusable.
    Invalid,
    /// Created, not set up yet.
    Created,
    /// Set up, not bound to a physical CPU.
    Free,
    /// Bound to a physical CPU, ready to run.
    Ready,
    /// Running guest code (only while [`AxVCpu::run`] executes).
    Running,
    /// Bound to a physical CPU, waiting for an event before it runs again.
    Blocked,
}

impl VCpuState {
    /// Whether the vCPU is loaded on a physical CPU in this state.
    pub const fn is_bound(self) -> bool {
        matches!(self, Self::Ready | Self::Running | Self::Blocked)
    }

    /// Whether registers may be set and interrupts injected in this state.
    const fn allows_register_access(self) -> bool {
        matches!(self, Self::Created | Self::Free | Self::Ready | Self::Blocked)
    }
}

/// An architecture-independent vCPU wrapping the arch vCPU `A`, with its
/// lifecycle checked (see the [module docs](self)).
pub struct AxVCpu<A: AxArchVCpu> {
    /// The VM this vCPU belongs to.
    vm_id: VMId,
    /// This vCPU's id inside its VM.
    vcpu_id: VCpuId,
    /// The physical CPU this vCPU prefers to run on.
    favor_phys_cpu: usize,
    /// A bitmask of the physical CPUs this vCPU may run on (bit `n` is
    /// CPU `n`); `None` means any.
    phys_cpu_set: Option<usize>,
    /// The lifecycle state.
    state: VCpuState,
    /// The architecture's vCPU.
    arch: A,
}

impl<A: AxArchVCpu> AxVCpu<A> {
    /// Creates vCPU `vcpu_id` of VM `vm_id`, in the Created state.
    ///
    /// `favor_phys_cpu` is the physical CPU it prefers; `phys_cpu_set`, if
    /// given, is a bitmask of the physical CPUs it may run on. Both are
    /// recorded for the host's scheduler; this crate does not enforce them.
    ///
    /// Returns [`AxError::InvalidInput`] if the ids do not fit the per-CPU
    /// slot (`vm_id` at most [`MAX_SLOT_VM_ID`](crate::MAX_SLOT_VM_ID),
    /// `vcpu_id` at most [`MAX_SLOT_VCPU_ID`](crate::MAX_SLOT_VCPU_ID)), and
    /// the arch layer's error if it cannot create the vCPU.
    pub fn new(
        vm_id: VMId,
        vcpu_id: VCpuId,
        favor_phys_cpu: usize,
        phys_cpu_set: Option<usize>,
        arch_config: A::CreateConfig,
    ) -> AxResult<Self> {
        if !current::fits_slot(vm_id, vcpu_id) {
            return Err(AxError::InvalidInput);
        }
        let arch = A::new(vm_id, vcpu_id, arch_config)?;
        Ok(Self {
            vm_id,
            vcpu_id,
            favor_phys_cpu,
            phys_cpu_set,
            state: VCpuState::Created,
            arch,
        })
    }

    /// This vCPU's id inside its VM.
    pub const fn id(&self) -> VCpuId {
        self.vcpu_id
    }

    /// The VM this vCPU belongs to.
    pub const fn vm_id(&self) -> VMId {
        self.vm_id
    }

    /// The physical CPU this vCPU prefers to run on.
    pub const fn favor_phys_cpu(&self) -> usize {
        self.favor_phys_cpu
    }

    /// The bitmask of physical CPUs this vCPU may run on (`None`: any).
    pub const fn phys_cpu_set(&self) -> Option<usize> {
        self.phys_cpu_set
    }

    /// The current lifecycle state.
    pub const fn state(&self) -> VCpuState {
        self.state
    }

    /// Whether this is the VM's bootstrap processor (vCPU 0).
    pub const fn is_bsp(&self) -> bool {
        self.vcpu_id == 0
    }

    /// Created → Free: sets the entry point and the stage-2 / EPT root, then
    /// runs the arch setup, in that order.
    pub fn setup(&mut self, entry: GuestPhysAddr, ept_root: HostPhysAddr, config: A::SetupConfig) -> AxResult {
        self.with_state_transition(VCpuState::Created, VCpuState::Free, |arch| {
            arch.set_entry(entry)?;
            arch.set_ept_root(ept_root)?;
            arch.setup(config)
        })
    }

    /// Free → Ready: binds the vCPU to the current physical CPU and records
    /// it there ([`current_vcpu`](crate::current_vcpu)).
    ///
    /// Returns [`AxError::BadState`] if another vCPU is bound to this CPU.
    pub fn bind(&mut self) -> AxResult {
        self.expect_state(VCpuState::Free)?;
        if let Some(other) = current::current_vcpu() {
            log::warn!(
                "cannot bind VM {} vCPU {}: VM {} vCPU {} is bound to this CPU",
                self.vm_id,
                self.vcpu_id,
                other.vm_id,
                other.vcpu_id
            );
            return Err(AxError::BadState);
        }
        self.with_state_transition(VCpuState::Free, VCpuState::Ready, A::bind)
    }

    /// Ready → Free: unbinds the vCPU from the current physical CPU and
    /// clears its record there.
    ///
    /// Returns [`AxError::BadState`] if the vCPU is not bound to this CPU.
    pub fn unbind(&mut self) -> AxResult {
        self.expect_state(VCpuState::Ready)?;
        self.expect_bound_here()?;
        self.with_state_transition(VCpuState::Ready, VCpuState::Free, A::unbind)
    }

    /// Ready → Running → Ready: runs the guest until its next exit and
    /// returns why it exited.
    ///
    /// Returns [`AxError::BadState`] if the vCPU is not bound to this CPU.
    pub fn run(&mut self) -> AxResult<AxVCpuExitReason> {
        self.run_with(&crate::NoFastPath)
    }

    /// As [`AxVCpu::run`], with the exits `fast` finishes done inside the
    /// arch vCPU's loop ([`AxArchVCpu::run_with`]).
    pub fn run_with<F: crate::ExitFastPath>(&mut self, fast: &F) -> AxResult<AxVCpuExitReason> {
        self.expect_state(VCpuState::Ready)?;
        self.expect_bound_here()?;
        // Ready -> Running needs no bookkeeping (both are bound states),
        // so only the way back runs through the transition.
        self.state = VCpuState::Running;
        self.with_state_transition(VCpuState::Running, VCpuState::Ready, |arch| arch.run_with(fast))
    }

    /// Ready → Blocked: parks the vCPU (it stays bound) until
    /// [`AxVCpu::unblock`].
    pub fn block(&mut self) -> AxResult {
        self.with_state_transition(VCpuState::Ready, VCpuState::Blocked, |_| Ok(()))
    }

    /// Blocked → Ready: the vCPU may run again.
    pub fn unblock(&mut self) -> AxResult {
        self.with_state_transition(VCpuState::Blocked, VCpuState::Ready, |_| Ok(()))
    }

    /// Sets the guest physical address the vCPU starts at (for a secondary
    /// vCPU the guest starts with `CpuUp`, before it first runs).
    pub fn set_entry(&mut self, entry: GuestPhysAddr) -> AxResult {
        self.expect_register_access()?;
        self.arch.set_entry(entry)
    }

    /// Sets general-purpose register `reg` to `val`.
    pub fn set_gpr(&mut self, reg: usize, val: usize) -> AxResult {
        self.expect_register_access()?;
        self.arch.set_gpr(reg, val);
        Ok(())
    }

    /// Injects interrupt `vector` into the guest (or queues it).
    pub fn inject_interrupt(&mut self, vector: usize) -> AxResult {
        self.expect_register_access()?;
        self.arch.inject_interrupt(vector)
    }

    /// Sets the value the guest's hypercall returns.
    pub fn set_return_value(&mut self, val: usize) -> AxResult {
        self.expect_register_access()?;
        self.arch.set_return_value(val);
        Ok(())
    }

    /// Makes the guest take `fault` for the instruction of its last exit
    /// (see [`AxArchVCpu::inject_fault_for_last_exit`]). Only between runs
    /// of a bound vCPU (Ready).
    pub fn inject_fault_for_last_exit(&mut self, fault: crate::LastExitFault) -> AxResult {
        if self.state != VCpuState::Ready {
            return Err(AxError::BadState);
        }
        self.arch.inject_fault_for_last_exit(fault)
    }

    /// The arch vCPU, for architecture-specific queries.
    pub fn arch_vcpu(&self) -> &A {
        &self.arch
    }

    /// The arch vCPU, for architecture-specific operations this wrapper does
    /// not cover. It bypasses the lifecycle checks: do not call the
    /// [`AxArchVCpu`] lifecycle methods (`setup`, `bind`, `run`, `unbind`)
    /// through it.
    pub fn get_arch_vcpu(&mut self) -> &mut A {
        &mut self.arch
    }

    /// This vCPU's identity as the per-CPU slot records it.
    fn ident(&self) -> CurrentVCpu {
        CurrentVCpu {
            vm_id: self.vm_id,
            vcpu_id: self.vcpu_id,
        }
    }

    /// `Ok` if the vCPU is in `state`, [`AxError::BadState`] otherwise.
    fn expect_state(&self, state: VCpuState) -> AxResult {
        if self.state == state {
            Ok(())
        } else {
            log::warn!(
                "VM {} vCPU {}: expected state {state:?}, is {:?}",
                self.vm_id,
                self.vcpu_id,
                self.state
            );
            Err(AxError::BadState)
        }
    }

    /// `Ok` if registers may be accessed now, [`AxError::BadState`] otherwise.
    fn expect_register_access(&self) -> AxResult {
        if self.state.allows_register_access() {
            Ok(())
        } else {
            log::warn!(
                "VM {} vCPU {}: register access in state {:?}",
                self.vm_id,
                self.vcpu_id,
                self.state
            );
            Err(AxError::BadState)
        }
    }

    /// `Ok` if the current physical CPU records this vCPU as bound.
    fn expect_bound_here(&self) -> AxResult {
        if current::current_vcpu() == Some(self.ident()) {
            Ok(())
        } else {
            log::warn!(
                "VM {} vCPU {} is not bound to this physical CPU",
                self.vm_id,
                self.vcpu_id
            );
            Err(AxError::BadState)
        }
    }

    /// Runs `f` on the arch vCPU as the transition `from` → `to`.
    ///
    /// - Not in `from`: returns [`AxError::BadState`] without calling `f`;
    ///   the state is unchanged.
    /// - `f` succeeds: the state becomes `to`.
    /// - `f` fails: the state becomes Invalid and `f`'s error is returned.
    ///
    /// The per-CPU slot follows the state: entering a bound state from an
    /// unbound one records this vCPU on the current CPU, leaving the bound
    /// states (to Free or Invalid) clears it.
    fn with_state_transition<T>(
        &mut self,
        from: VCpuState,
        to: VCpuState,
        f: impl FnOnce(&mut A) -> AxResult<T>,
    ) -> AxResult<T> {
        self.expect_state(from)?;
        let result = f(&mut self.arch);
        let new_state = match &result {
            Ok(_) => to,
            Err(err) => {
                log::error!(
                    "VM {} vCPU {}: {from:?} -> {to:?} failed ({}), vCPU is now invalid",
                    self.vm_id,
                    self.vcpu_id,
                    crate::ErrorName(*err)
                );
                VCpuState::Invalid
            }
        };
        match (from.is_bound(), new_state.is_bound()) {
            (false, true) => {
                // `new` refused ids that do not fit, so this cannot fail.
                let recorded = current::set_current_vcpu(self.ident());
                debug_assert!(recorded, "vCPU ids checked in new() must fit the slot");
            }
            (true, false) => current::clear_current_vcpu(self.ident()),
            _ => {}
        }
        self.state = new_state;
        result
    }
}

impl<A: AxArchVCpu> Drop for AxVCpu<A> {
    /// Clears the current CPU's record of this vCPU if it is still bound
    /// here, so that the physical CPU can take another vCPU.
    fn drop(&mut self) {
        if self.state.is_bound() {
            current::clear_current_vcpu(self.ident());
        }
    }
}

impl<A: AxArchVCpu> core::fmt::Debug for AxVCpu<A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AxVCpu")
            .field("vm_id", &self.vm_id)
            .field("vcpu_id", &self.vcpu_id)
            .field("favor_phys_cpu", &self.favor_phys_cpu)
            .field("phys_cpu_set", &self.phys_cpu_set)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}
