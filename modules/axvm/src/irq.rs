//! A VM's interrupts: its virtual GICv3 (`axdevice::vgic`), the list
//! registers of each vCPU around every guest run, the lines the vCPUs' own
//! timers drive, guest SGIs, and telling the host which vCPUs to notify.
//!
//! Around each run of vCPU `i` (on its own physical CPU):
//! 1. before entry: the levels of its timer lines go into the model
//!    (`set_local_level`, only on a change), then the model fills its list
//!    registers (`flush_lrs`); an entry right after a device access exit
//!    skips both when the model has nothing for the vCPU and its lines were
//!    low (`entry_is_quiet`), and on the same condition an access the
//!    vCPU's fast path finished (`crate::fast_path`) does not even leave
//!    the vCPU's loop;
//! 2. after the exit: the model reads back what the guest did with them
//!    (`sync_lrs`); after a WFI exit (a vCPU alone on its CPU waits in the
//!    guest instead, and its timer's interrupt ends the wait with an exit)
//!    the timer levels are sampled again, so
//!    that a vCPU halting in WFI is only put to sleep when nothing is
//!    deliverable, and the physical interrupt of every idle timer line is
//!    re-armed, so that the timer can wake the vCPU. A timer interrupt
//!    reaches the guest through a list register linked to the physical
//!    interrupt (HW bit): the guest's deactivation re-arms the physical
//!    one with no exit (no maintenance interrupt), and a line still high
//!    then fires again at once;
//! 3. after an exit handled inside the VM (a GIC register write, an SGI),
//!    every other vCPU that got a deliverable interrupt is notified through
//!    [`AxVMHal::inject_irq_to_vcpu`], which interrupts its physical CPU or
//!    wakes it.

use crate::AxVMHal;
use alloc::{boxed::Box, sync::Arc, vec::Vec};
use axdevice::{Vgic, VgicLayout};
use axerrno::AxResult;
use axvcpu::{AxArchVCpu, AxVCpuHal};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU8, Ordering};

/// The interrupt state of a VM.
pub(crate) struct VmIrqs<H: AxVMHal> {
    vm_id: usize,
    vgic: Arc<Vgic>,
    /// Per vCPU: bit `n` is the last level given to the model for its
    /// `n`-th local line (timers).
    local_levels: Box<[AtomicU8]>,
    _hal: PhantomData<fn() -> H>,
}

impl<H: AxVMHal> VmIrqs<H> {
    /// The virtual GIC of a VM laid out as `layout`.
    pub fn new(vm_id: usize, layout: VgicLayout) -> AxResult<Self> {
        let vgic = Vgic::new(layout)?;
        let local_levels = (0..layout.nr_vcpus).map(|_| AtomicU8::new(0)).collect::<Vec<_>>();
        Ok(Self {
            vm_id,
            vgic,
            local_levels: local_levels.into_boxed_slice(),
            _hal: PhantomData,
        })
    }

    /// The model.
    pub fn vgic(&self) -> &Arc<Vgic> {
        &self.vgic
    }

    /// Gives the model the levels of vCPU `vcpu_id`'s own lines that
    /// changed since the last call (delivered linked to their physical
    /// interrupts: `Vgic::set_local_level`), and re-arms the physical
    /// interrupt of every idle line through `U` (the host left it active
    /// or masked it when it fired, as it stays asserted until the guest
    /// reprograms its timer; the guest's own deactivation re-arms it too).
    fn sample_local_lines<U: AxVCpuHal, A: AxArchVCpu>(&self, vcpu_id: usize, arch: &A) {
        let Some(cell) = self.local_levels.get(vcpu_id) else {
            return;
        };
        let old = cell.load(Ordering::Relaxed);
        let mut new = 0u8;
        for (n, line) in arch.local_irq_lines().iter().enumerate() {
            if let Some(line) = line {
                let bit = 1u8 << n;
                if line.level {
                    new |= bit;
                } else {
                    U::unmask_guest_irq(line.intid as usize);
                }
                if (old & bit != 0) != line.level {
                    self.vgic.set_local_level(vcpu_id, line.intid, line.level);
                }
            }
        }
        cell.store(new, Ordering::Relaxed);
    }

    /// Whether vCPU `vcpu_id` may skip [`Self::before_entry`] after an
    /// exit that was a device or system-register access handled in the VM
    /// (`access_exit`): its timer lines were low when last sampled (so
    /// their physical interrupts are unmasked) and its model has nothing
    /// for it (so its list registers are empty and stay so). A line that
    /// rises meanwhile raises its physical interrupt, whose exit is no
    /// access exit, and is sampled then; a change the access made in the
    /// distributor gives the model work.
    pub fn entry_is_quiet(&self, vcpu_id: usize, access_exit: bool) -> bool {
        access_exit
            && self
                .local_levels
                .get(vcpu_id)
                .is_some_and(|levels| levels.load(Ordering::Relaxed) == 0)
            && self.vgic.is_idle(vcpu_id)
    }

    /// Before vCPU `vcpu_id` enters the guest.
    pub fn before_entry<U: AxVCpuHal, A: AxArchVCpu>(&self, vcpu_id: usize, arch: &mut A) {
        self.sample_local_lines::<U, A>(vcpu_id, arch);
        if let Some(lrs) = arch.list_regs() {
            self.vgic.flush_lrs(vcpu_id, lrs);
        }
    }

    /// After vCPU `vcpu_id` left the guest (`halted`: in WFI). Forwarded
    /// physical interrupts the guest has finished with are unmasked through
    /// `U`; after a WFI, so are the interrupts of its idle timer lines (it
    /// may sleep now, and only they can wake it when its timer is due).
    pub fn after_exit<U: AxVCpuHal, A: AxArchVCpu>(&self, vcpu_id: usize, arch: &mut A, halted: bool) {
        if let Some(lrs) = arch.list_regs() {
            self.vgic.sync_lrs(vcpu_id, lrs);
        }
        if halted {
            self.sample_local_lines::<U, A>(vcpu_id, arch);
        }
        let mut done = [0u32; 8];
        loop {
            let n = self.vgic.take_unmasks(&mut done);
            for &intid in done.iter().take(n) {
                U::unmask_guest_irq(intid as usize);
            }
            if n < done.len() {
                break;
            }
        }
    }

    /// Notifies every vCPU but `except` that got a deliverable interrupt;
    /// returns whether `except` was among them (its own kick is taken
    /// here: the caller must then flush its list registers itself).
    #[inline]
    pub fn deliver_kicks(&self, except: Option<usize>) -> bool {
        let kicks = self.vgic.take_kicks();
        kicks != 0 && self.notify_kicked(kicks, except)
    }

    /// [`Self::deliver_kicks`] once there are `kicks`. Out of line: the
    /// exit path that asks about kicks finds none almost always, and keeps
    /// its registers free for that.
    #[inline(never)]
    fn notify_kicked(&self, kicks: u32, except: Option<usize>) -> bool {
        let mut own = false;
        for vcpu in 0..self.local_levels.len().min(32) {
            if kicks & (1 << vcpu) != 0 {
                if Some(vcpu) == except {
                    own = true;
                } else {
                    let _ = H::inject_irq_to_vcpu(self.vm_id, vcpu, 0);
                }
            }
        }
        own
    }
}

/// The raw `ICC_SGI1R_EL1` value behind a decoded
/// [`SendIPI`](axvcpu::AxVCpuExitReason::SendIPI) exit (the inverse of
/// `arm_vcpu::sysreg::sgi1r_send_ipi`).
pub(crate) fn sgi1r_value(target_list: u64, aux: u64, send_to_all: bool, intid: u64) -> u64 {
    /// ICC_SGI1R_EL1 fields (ARM IHI 0069, 12.2.23).
    const INTID_SHIFT: u32 = 24;
    const AFF1_SHIFT: u32 = 16;
    const AFF2_SHIFT: u32 = 32;
    const IRM: u64 = 1 << 40;
    const RS_SHIFT: u32 = 44;
    const AFF3_SHIFT: u32 = 48;
    let byte = |v: u64, shift: u32| (v >> shift) & 0xff;
    (target_list & 0xffff)
        | (byte(aux, 8) << AFF1_SHIFT)
        | ((intid & 0xf) << INTID_SHIFT)
        | (byte(aux, 16) << AFF2_SHIFT)
        | if send_to_all { IRM } else { 0 }
        | (((aux >> 4) & 0xf) << RS_SHIFT)
        | (byte(aux, 32) << AFF3_SHIFT)
}
