//! [`Vgic`]: the VM's virtual GICv3, a distributor and one redistributor per
//! vCPU, delivering through the list registers of the vCPUs' hardware
//! virtual CPU interfaces.
//!
//! # What is modelled
//!
//! - **Interrupts.** SGIs and PPIs (INTIDs 0..31) per vCPU, banked in its
//!   redistributor's `SGI_base` frame; `nr_spis` SPIs (INTIDs 32..) shared,
//!   in the distributor. Each has an enable, a pending latch (edges,
//!   `ISPENDR`, SGIs), the level of its input line, an active state, an
//!   8-bit priority, a trigger mode (`ICFGR`; SGIs always edge, PPIs
//!   always level: their lines are the timers', sampled at exits, where an
//!   edge could be missed; SPIs level after reset, programmable), a group (`IGROUPR`, Group 0 after reset) and,
//!   for SPIs, a route (`GICD_IROUTER`).
//! - **Pending and deliverable.** An interrupt is pending when its latch is
//!   set, or when it is level-sensitive, its line is high and it is not
//!   active: the line is sampled again when the guest deactivates it (every
//!   level-sensitive or forwarded interrupt goes into its list register with
//!   the EOI bit, so that the deactivation exits to the host). It is
//!   deliverable when it is also enabled, its group is enabled in
//!   `GICD_CTLR` and it is not active.
//! - **Routing.** An SPI goes to the vCPU whose affinity its `IROUTER`
//!   names, to vCPU 0 when `IROUTER.IRM` is set ("any one PE"), to nobody
//!   when the affinity names no vCPU. Once in a vCPU's list registers it
//!   stays with that vCPU until it is no longer active.
//! - **Registers.** The distributor ([`regs::gicd`]) and redistributor
//!   ([`regs::gicr`], `SGI_base` in [`regs::irq`]) registers Linux and
//!   other GICv3 drivers use, with affinity routing always on and one
//!   security state (`GICD_CTLR.ARE` and `.DS` read 1), no LPIs, no
//!   extended ranges. See [`regs`] for the identification values.
//! - **Delivery.** The model is pure state: the VM's vCPU loop calls
//!   [`Vgic::flush_lrs`] before each entry and [`Vgic::sync_lrs`] after each
//!   exit on the vCPU's own CPU; [`Vgic::take_kicks`] names the vCPUs to
//!   interrupt so that they flush again, [`Vgic::has_deliverable`] wakes a
//!   vCPU waiting in WFI, [`Vgic::take_unmasks`] names the forwarded
//!   physical SPIs the host may unmask again.
//!
//! While a vCPU runs, its list registers hold the pending state of the
//! interrupts in them; the model sees it again after the vCPU's next sync.
//! So `ISPENDR` / `ISACTIVER` reads by the vCPU itself (which has exited to
//! make them) are exact, reads by another vCPU may be a guest run behind.
//! Likewise a write by another vCPU that changes the active state of an
//! interrupt a running vCPU holds is overridden when that vCPU syncs.
//!
//! # Accesses
//!
//! 32-bit registers take 4-byte aligned accesses, the priority and
//! `ITARGETSR` bytes 1- or 4-byte accesses, 64-bit registers (`IROUTER`,
//! `GICR_TYPER`, `PROPBASER`, `PENDBASER`) 8-byte accesses or 4-byte
//! accesses to either half. Any other access, a reserved offset, a
//! register all of whose INTIDs are beyond the implemented ones, or a write
//! to a read-only register reads zero and is ignored; each device logs the
//! first [`UNHANDLED_LOG_LIMIT`] of them. No access allocates or panics.
//!
//! # Locks
//!
//! One [`SpinNoIrq`] holds the state; every critical section is a few
//! register updates or one scan of a vCPU's candidates (its 32 private
//! interrupts and the SPIs with a pending, active or level state). Atomics
//! outside it let `flush_lrs` / `sync_lrs` of a vCPU with nothing to do,
//! `take_kicks` and `take_unmasks` run without the lock. The vGIC calls no
//! other code while it holds its lock; devices may call it while holding
//! theirs (the PL011 does: PL011 lock, then vGIC lock).

mod access_log;
mod gicd;
mod gicr;
mod irqregs;
mod lrs;
pub mod regs;
mod state;

#[cfg(test)]
mod tests;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use axerrno::{AxError, AxResult};
use axvcpu::{GuestPhysAddr, ListRegs, MAX_LIST_REGS};
use kspin::SpinNoIrq;

use crate::BaseDeviceOps;
use access_log::AccessLog;
use regs::{AFF_MASK, AFF0_MASK, GICD_SIZE, GICR_STRIDE, MAX_SPIS, MAX_VCPUS, NR_PRIVATE, NR_SGIS, sgi1r};
use state::{Op, VgicState, bits, vcpu_bit};

pub use access_log::UNHANDLED_LOG_LIMIT;

/// Where a [`Vgic`]'s frames are and what it implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VgicLayout {
    /// The guest physical address of the distributor frame
    /// ([`GICD_SIZE`] bytes).
    pub gicd_base: GuestPhysAddr,
    /// The guest physical address of vCPU 0's redistributor; vCPU `i`'s is
    /// `i` * [`GICR_STRIDE`] bytes above.
    pub gicr_base: GuestPhysAddr,
    /// The number of vCPUs, 1 to 16.
    pub nr_vcpus: usize,
    /// The number of SPIs (INTIDs 32..32 + `nr_spis`): a multiple of 32 up
    /// to 960, or 988 (every INTID up to 1019).
    pub nr_spis: u32,
}

impl VgicLayout {
    /// The size of the redistributor block: `nr_vcpus` redistributors.
    pub fn gicr_size(&self) -> Option<usize> {
        self.nr_vcpus.checked_mul(GICR_STRIDE)
    }

    /// Whether the layout is one [`Vgic::new`] accepts.
    fn is_valid(&self) -> bool {
        let vcpus = (1..=MAX_VCPUS).contains(&self.nr_vcpus);
        let spis = self.nr_spis == MAX_SPIS || (self.nr_spis < MAX_SPIS && self.nr_spis.is_multiple_of(32));
        let gicd_fits = self.gicd_base.as_usize().checked_add(GICD_SIZE).is_some();
        let gicr_fits = self
            .gicr_size()
            .and_then(|size| self.gicr_base.as_usize().checked_add(size))
            .is_some();
        vcpus && spis && gicd_fits && gicr_fits
    }
}

/// Where a device drives its interrupt lines: the level of SPI `intid`.
/// [`Vgic`] implements it for its SPIs (other INTIDs are ignored).
pub trait IrqSink: Send + Sync {
    /// Sets the level of the line of interrupt `intid`.
    fn set_level(&self, intid: u32, level: bool);
}

/// A VM's virtual GICv3; see the [module docs](self).
pub struct Vgic {
    layout: VgicLayout,
    /// Taken with [`axsync::lock`]: every vCPU of the VM takes it at its
    /// exits and SGIs, from several CPUs.
    state: SpinNoIrq<VgicState>,
    /// vCPUs whose flush or sync has something to do (a pending, active or
    /// held interrupt may exist); set under the state lock, cleared by the
    /// vCPU's own flush under it.
    work: AtomicU32,
    /// vCPUs with a newly deliverable interrupt, for [`take_kicks`](Self::take_kicks).
    kicks: AtomicU32,
    /// Forwarded SPIs may be queued for [`take_unmasks`](Self::take_unmasks).
    unmasks: AtomicBool,
    gicd_log: AccessLog,
    gicr_log: AccessLog,
}

impl Vgic {
    /// A vGIC after reset (all interrupts disabled, Group 0, priority 0,
    /// SPIs routed to vCPU 0, redistributors asleep). Fails with
    /// [`AxError::InvalidInput`] for 0 or more than 16 vCPUs, an SPI count
    /// [`VgicLayout::nr_spis`] does not allow, or a frame that wraps the
    /// address space.
    pub fn new(layout: VgicLayout) -> AxResult<Arc<Self>> {
        if !layout.is_valid() {
            return Err(AxError::InvalidInput);
        }
        Ok(Arc::new(Self {
            layout,
            state: SpinNoIrq::new(VgicState::new(layout.nr_vcpus, layout.nr_spis)),
            work: AtomicU32::new(0),
            kicks: AtomicU32::new(0),
            unmasks: AtomicBool::new(false),
            gicd_log: AccessLog::new(),
            gicr_log: AccessLog::new(),
        }))
    }

    /// The layout it was built with.
    pub fn layout(&self) -> VgicLayout {
        self.layout
    }

    /// The MMIO device of the distributor frame.
    pub fn distributor(self: &Arc<Self>) -> Arc<dyn BaseDeviceOps> {
        Arc::new(gicd::Distributor { vgic: self.clone() })
    }

    /// One MMIO device covering every redistributor
    /// (`nr_vcpus` * [`GICR_STRIDE`] bytes).
    pub fn redistributors(self: &Arc<Self>) -> Arc<dyn BaseDeviceOps> {
        Arc::new(gicr::Redistributors { vgic: self.clone() })
    }

    /// The affinity (MPIDR layout) of vCPU `vcpu`: Aff0 = `vcpu`, the other
    /// levels 0. For the vCPUs a vGIC has (below 16) it is the value
    /// `axvm::fdt::vcpu_mpidr` gives the guest's device tree and `MPIDR_EL1`.
    pub fn mpidr_of(vcpu: usize) -> u64 {
        u64::try_from(vcpu).unwrap_or(u64::MAX)
    }

    /// The vCPU whose affinity is `aff` (MPIDR layout: Aff3 \[39:32\], Aff2
    /// \[23:16\], Aff1 \[15:8\], Aff0 \[7:0\]; other bits, such as
    /// `MPIDR_EL1`'s RES1 bit 31, are ignored), if there is one.
    pub fn vcpu_of_affinity(&self, aff: u64) -> Option<usize> {
        let aff = aff & AFF_MASK;
        if aff & !AFF0_MASK != 0 {
            return None;
        }
        usize::try_from(aff).ok().filter(|&vcpu| vcpu < self.layout.nr_vcpus)
    }

    /// Sets the level of a level-sensitive input: PPI `intid` (16..31) of
    /// `vcpu`, or SPI `intid` (`vcpu` is ignored). A rising edge also
    /// latches an interrupt the guest configured as edge-triggered. Other
    /// INTIDs and vCPUs are ignored.
    pub fn set_level(&self, vcpu: usize, intid: u32, level: bool) {
        if intid < NR_SGIS {
            return;
        }
        let vcpu = if intid < NR_PRIVATE { vcpu } else { 0 };
        self.with_state(|s| s.update(vcpu, intid, Op::Line(level)));
    }

    /// Sets the level of PPI `intid` (16..31) of `vcpu` driven by the
    /// vCPU's own hardware (its timers), whose physical interrupt has the
    /// same INTID on the physical CPU the vCPU runs on. From then on the
    /// model delivers it through list registers linked to that physical
    /// interrupt (HW bit, never pending and active at once): the host
    /// leaves the physical interrupt active when it fires, and the guest's
    /// deactivation re-arms it in the physical GIC without an exit. Other
    /// INTIDs and vCPUs are ignored.
    pub fn set_local_level(&self, vcpu: usize, intid: u32, level: bool) {
        if !(NR_SGIS..NR_PRIVATE).contains(&intid) {
            return;
        }
        self.with_state(|s| s.update(vcpu, intid, Op::LocalLine(level)));
    }

    /// Latches interrupt `intid` pending (an edge): an SGI or PPI of
    /// `vcpu`, or an SPI (`vcpu` is ignored).
    pub fn set_pending(&self, vcpu: usize, intid: u32) {
        let vcpu = if intid < NR_PRIVATE { vcpu } else { 0 };
        self.with_state(|s| s.update(vcpu, intid, Op::SetPending));
    }

    /// Emulates a write of `sgi1r` to `ICC_SGI1R_EL1` by vCPU `sender`: SGI
    /// `INTID` goes pending on every vCPU but the sender when `IRM` is set,
    /// else on each vCPU whose affinity is `Aff3.Aff2.Aff1.(RS * 16 + n)`
    /// for a bit `n` set in `TargetList`. Targets that do not exist are
    /// ignored.
    pub fn send_sgi(&self, sender: usize, sgi1r: u64) {
        let intid = ((sgi1r >> sgi1r::INTID_SHIFT) & sgi1r::INTID_MASK) as u32;
        let all = vcpu_bit(self.layout.nr_vcpus).wrapping_sub(1);
        let targets = if sgi1r & sgi1r::IRM != 0 {
            all & !vcpu_bit(sender)
        } else {
            sgi_list_targets(sgi1r) & all
        };
        if targets == 0 {
            return;
        }
        self.with_state(|s| {
            // One pass per target: the set bits, lowest first.
            for vcpu in bits(targets) {
                s.update(vcpu as usize, intid, Op::SetPending);
            }
        });
    }

    /// Marks SPI `intid` as a physical SPI the host forwards (or no longer
    /// does). The host masks it when it fires and raises its level
    /// ([`set_level`](Self::set_level)); when the guest ends it
    /// (deactivates it, or clears its pending state) the model lowers the
    /// level and queues it for [`take_unmasks`](Self::take_unmasks).
    pub fn set_forwarded(&self, intid: u32, forwarded: bool) {
        if intid < NR_PRIVATE {
            return;
        }
        self.with_state(|s| s.update(0, intid, Op::Forward(forwarded)));
    }

    /// Delivers forwarded SPI `intid` through list registers linked to
    /// the physical interrupt (the HW bit, pINTID = `intid`), or stops
    /// doing so. The host then leaves the physical interrupt active when
    /// it fires instead of masking it, and the guest's deactivation
    /// deactivates it in the physical GIC without an exit; the model
    /// lowers the line when it sees the list register empty, and queues
    /// no unmask for it (except when the guest clears it through
    /// `ICPENDR`/`ICACTIVER`, which the physical GIC does not see).
    pub fn set_hw_linked(&self, intid: u32, linked: bool) {
        if intid < NR_PRIVATE {
            return;
        }
        self.with_state(|s| s.update(0, intid, Op::HwLinked(linked)));
    }

    /// Fills `lrs.lr[..lrs.count]` for `vcpu` before it enters the guest:
    /// first its active interrupts (they stay in a list register until the
    /// guest deactivates them), then its deliverable ones, most urgent
    /// first (lower priority value, then lower INTID); the rest of the
    /// registers are cleared. Sets `lrs.underflow_exit` when some did not
    /// fit (they stay pending in the model). Does nothing when
    /// `lrs.count` is 0.
    pub fn flush_lrs(&self, vcpu: usize, lrs: &mut ListRegs) {
        let count = lrs.count.min(MAX_LIST_REGS);
        if count == 0 {
            return;
        }
        if !self.has_work(vcpu) {
            // Nothing was held or pending since the last flush (which
            // cleared the registers): no lock needed.
            // Usually they are clear already: stored only where not (no
            // call to `memset` on every entry).
            for lr in lrs.lr.iter_mut().take(count).filter(|lr| **lr != 0) {
                *lr = 0;
            }
            lrs.underflow_exit = false;
            return;
        }
        self.with_state(|s| {
            if !s.flush(vcpu, lrs) {
                s.note_idle(vcpu);
            }
        });
    }

    /// Reads back `vcpu`'s list registers after it exits from the guest:
    /// what it acknowledged (active), ended (invalid) or left pending.
    pub fn sync_lrs(&self, vcpu: usize, lrs: &ListRegs) {
        if self.has_work(vcpu) {
            self.with_state(|s| s.fold(vcpu, lrs));
        }
    }

    /// Whether nothing is held or pending for `vcpu` since its last flush:
    /// its list registers are empty and stay so, and neither a flush nor a
    /// sync would do anything.
    pub fn is_idle(&self, vcpu: usize) -> bool {
        !self.has_work(vcpu)
    }

    /// Whether an interrupt is deliverable to `vcpu` (pending, enabled,
    /// group enabled, not active), whatever the guest's priority mask: a
    /// vCPU waiting in WFI wakes up for it.
    pub fn has_deliverable(&self, vcpu: usize) -> bool {
        self.has_work(vcpu) && self.with_state(|s| s.has_deliverable(vcpu))
    }

    /// The vCPUs (bit `i` for vCPU `i`) that got a newly deliverable
    /// interrupt since the last call; the caller interrupts them so that
    /// they flush their list registers again.
    pub fn take_kicks(&self) -> u32 {
        // Looked at first: most exits find none, and then leave the
        // shared word's cache line alone.
        if self.kicks.load(Ordering::Acquire) == 0 {
            return 0;
        }
        self.kicks.swap(0, Ordering::AcqRel)
    }

    /// Moves the forwarded SPIs the guest ended since the last call into
    /// `out` (at most `out.len()`; the others wait for the next call) and
    /// returns how many. The host unmasks them physically.
    pub fn take_unmasks(&self, out: &mut [u32]) -> usize {
        if out.is_empty() || !self.unmasks.load(Ordering::Acquire) {
            return 0;
        }
        let mut state = axsync::lock(&self.state);
        let (n, more) = state.take_unmasks(out);
        if !more {
            self.unmasks.store(false, Ordering::Release);
        }
        n
    }

    /// Whether `vcpu`'s flush or sync may have something to do.
    fn has_work(&self, vcpu: usize) -> bool {
        self.work.load(Ordering::Acquire) & vcpu_bit(vcpu) != 0
    }

    /// Runs `f` on the state under the lock, then publishes what it noted.
    fn with_state<R>(&self, f: impl FnOnce(&mut VgicState) -> R) -> R {
        let mut state = axsync::lock(&self.state);
        let result = f(&mut state);
        let notes = state.take_notes();
        // Still under the lock: a flush clears its vCPU's work bit under it
        // too, so a change is never lost between the two.
        if notes.work != 0 {
            self.work.fetch_or(notes.work, Ordering::AcqRel);
        }
        if notes.idle != 0 {
            self.work.fetch_and(!notes.idle, Ordering::AcqRel);
        }
        if notes.kicks != 0 {
            self.kicks.fetch_or(notes.kicks, Ordering::AcqRel);
        }
        if notes.unmask {
            self.unmasks.store(true, Ordering::Release);
        }
        drop(state);
        result
    }
}

/// The vCPUs (bit `i` for vCPU `i`, before masking with the vCPUs there
/// are) that the `TargetList` form of `sgi1r` (`IRM` clear) names: each
/// set bit `n` names affinity `Aff3.Aff2.Aff1.(RS * 16 + n)`, which is
/// vCPU `RS * 16 + n` when Aff3, Aff2 and Aff1 are 0 ([`Vgic::mpidr_of`])
/// and no vCPU otherwise. Bits for vCPUs at 32 and above are dropped (a
/// vGIC has at most [`MAX_VCPUS`]).
fn sgi_list_targets(sgi1r: u64) -> u32 {
    let high_affinity = (sgi1r::AFF_LEVEL_MASK << sgi1r::AFF1_SHIFT)
        | (sgi1r::AFF_LEVEL_MASK << sgi1r::AFF2_SHIFT)
        | (sgi1r::AFF_LEVEL_MASK << sgi1r::AFF3_SHIFT);
    if sgi1r & high_affinity != 0 {
        return 0;
    }
    let first = ((sgi1r >> sgi1r::RS_SHIFT) & sgi1r::RS_MASK) * sgi1r::TARGETS_PER_LIST;
    let list = (sgi1r & sgi1r::TARGET_LIST_MASK) as u32;
    u32::try_from(first)
        .ok()
        .and_then(|shift| list.checked_shl(shift))
        .unwrap_or(0)
}

impl IrqSink for Vgic {
    /// Sets the level of SPI `intid`; SGIs and PPIs are ignored (they
    /// belong to a vCPU: use [`Vgic::set_level`]).
    fn set_level(&self, intid: u32, level: bool) {
        if intid >= NR_PRIVATE {
            Vgic::set_level(self, 0, intid, level);
        }
    }
}
