//! The interrupts of an x86 VM: a local APIC per vCPU
//! ([`axdevice::VLapic`], all at the same guest-physical page, each vCPU
//! seeing its own), the IPIs between them, and INIT/STARTUP turned into
//! `CpuUp` exits for the VM manager.
//!
//! Around each run of vCPU `i`:
//! 1. before entry, the highest deliverable interrupt of its APIC (its
//!    timer, an IPI) moves to in-service and is queued in the vCPU, which
//!    injects it when the guest can take it; the host is asked to interrupt
//!    the CPU when the APIC timer is next due, so a guest that spins with
//!    interrupts on gets its tick;
//! 2. a `Halt` exit is only returned when the APIC has nothing deliverable
//!    and no interrupt was queued in the vCPU since the guest's last EOI or
//!    halt (it may still be waiting for the guest to enable interrupts:
//!    `sti; hlt`); a
//!    halted vCPU is woken by the manager when [`PcIrqs::has_pending`] holds
//!    or its timer deadline passes.
//!
//! An IPI to another vCPU makes it pending there and asks the host to
//! notify that vCPU (`AxVMHal::inject_irq_to_vcpu`). A STARTUP becomes a
//! `CpuUp` for each target (real mode at `vector << 12`); when it names
//! several, the others wait here and are returned by the sender's next runs.
//! INIT only readies the target for STARTUP, which the manager's CPU_ON
//! state already does.

use crate::AxVMHal;
use alloc::{boxed::Box, vec::Vec};
use axdevice::VLapic;
use axdevice::vlapic::{IpiKind, VLAPIC_BASE, VLAPIC_SIZE};
use axvcpu::{AccessWidth, AxArchVCpu, AxVCpuExitReason, GuestPhysAddr};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};
use kspin::SpinNoIrq;

/// The page of a STARTUP vector (SDM 10.4.4.1: the AP starts at
/// `vector << 12`).
const STARTUP_PAGE_SHIFT: u32 = 12;

/// The local APICs of one VM.
pub(crate) struct PcIrqs<H: AxVMHal> {
    vm_id: usize,
    lapics: Box<[VLapic]>,
    /// Per vCPU: an interrupt was queued in the vCPU since its last halt.
    queued: Box<[AtomicBool]>,
    /// `(sender, exit)`: CPU-up exits still to return to the sender.
    pending_exits: SpinNoIrq<Vec<(usize, AxVCpuExitReason)>>,
    _hal: PhantomData<fn() -> H>,
}

impl<H: AxVMHal> PcIrqs<H> {
    /// The APICs of a VM with `nr_vcpus` vCPUs (APIC ID = vCPU id).
    pub fn new(vm_id: usize, nr_vcpus: usize) -> Self {
        let hz = H::ticks_per_sec();
        Self {
            vm_id,
            lapics: (0..nr_vcpus).map(|i| VLapic::new(i as u32, hz)).collect(),
            queued: (0..nr_vcpus).map(|_| AtomicBool::new(false)).collect(),
            pending_exits: SpinNoIrq::new(Vec::new()),
            _hal: PhantomData,
        }
    }

    /// The offset into the APIC page of `addr`, if it is in it.
    pub fn lapic_offset(addr: GuestPhysAddr) -> Option<usize> {
        let off = addr.as_usize().checked_sub(VLAPIC_BASE)?;
        (off < VLAPIC_SIZE).then_some(off)
    }

    /// Before vCPU `vcpu_id` enters the guest.
    pub fn before_entry<A: AxArchVCpu>(&self, vcpu_id: usize, arch: &mut A) {
        let Some(lapic) = self.lapics.get(vcpu_id) else { return };
        if let Some(v) = lapic.take_deliverable(H::current_ticks())
            && arch.inject_interrupt(usize::from(v)).is_ok()
            && let Some(q) = self.queued.get(vcpu_id)
        {
            q.store(true, Ordering::Release);
        }
        if let Some(deadline) = lapic.timer_deadline() {
            H::wake_no_later_than_ticks(deadline);
        }
    }

    /// Whether a `Halt` of vCPU `vcpu_id` should go back to the guest at
    /// once (an interrupt is on its way). When it should not, the host is
    /// asked to wake up by the APIC timer's deadline.
    pub fn halt_is_over(&self, vcpu_id: usize) -> bool {
        let queued = self
            .queued
            .get(vcpu_id)
            .is_some_and(|q| q.swap(false, Ordering::AcqRel));
        if queued || self.has_pending(vcpu_id) {
            return true;
        }
        if let Some(deadline) = self.timer_deadline(vcpu_id) {
            H::wake_no_later_than_ticks(deadline);
        }
        false
    }

    /// Whether vCPU `vcpu_id`'s APIC has an interrupt it can deliver now.
    pub fn has_pending(&self, vcpu_id: usize) -> bool {
        self.lapics
            .get(vcpu_id)
            .is_some_and(|l| l.has_deliverable(H::current_ticks()))
    }

    /// When vCPU `vcpu_id`'s APIC timer next fires, in host ticks.
    pub fn timer_deadline(&self, vcpu_id: usize) -> Option<u64> {
        self.lapics.get(vcpu_id)?.timer_deadline()
    }

    /// A read of vCPU `vcpu_id`'s APIC page at `offset`.
    pub fn read(&self, vcpu_id: usize, offset: usize, width: AccessWidth) -> u64 {
        self.lapics
            .get(vcpu_id)
            .map_or(u64::MAX, |l| u64::from(l.read(offset, width, H::current_ticks())))
    }

    /// A write to vCPU `vcpu_id`'s APIC page at `offset`; the exit to return
    /// instead of going on, for a STARTUP.
    pub fn write(&self, vcpu_id: usize, offset: usize, width: AccessWidth, value: u64) -> Option<AxVCpuExitReason> {
        let sender = self.lapics.get(vcpu_id)?;
        if offset == axdevice::vlapic::regs::EOI
            && let Some(q) = self.queued.get(vcpu_id)
        {
            // The guest took an interrupt: nothing queued is waiting.
            q.store(false, Ordering::Release);
        }
        let ipi = sender.write(offset, width, value as u32, H::current_ticks())?;
        let mut starts = Vec::new();
        for (target, lapic) in self.lapics.iter().enumerate() {
            if !ipi.targets(sender.id(), lapic.id(), lapic.ldr()) {
                continue;
            }
            match ipi.kind {
                IpiKind::Fixed(vector) => {
                    lapic.accept(vector);
                    if target != vcpu_id {
                        let _ = H::inject_irq_to_vcpu(self.vm_id, target, usize::from(vector));
                    }
                }
                IpiKind::Init => {}
                IpiKind::Startup(vector) => starts.push(AxVCpuExitReason::CpuUp {
                    target_cpu: u64::from(lapic.id()),
                    entry_point: GuestPhysAddr::from(usize::from(vector) << STARTUP_PAGE_SHIFT),
                    arg: 0,
                }),
            }
        }
        let first = (!starts.is_empty()).then(|| starts.remove(0));
        if !starts.is_empty() {
            self.pending_exits
                .lock()
                .extend(starts.into_iter().map(|e| (vcpu_id, e)));
        }
        first
    }

    /// A CPU-up exit still to return to vCPU `vcpu_id`.
    pub fn take_pending_exit(&self, vcpu_id: usize) -> Option<AxVCpuExitReason> {
        let mut pending = self.pending_exits.lock();
        let i = pending.iter().position(|(s, _)| *s == vcpu_id)?;
        Some(pending.remove(i).1)
    }
}
