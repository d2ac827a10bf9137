//! The exits a VM finishes inside its vCPU's own run loop ([`InLoop`]):
//! accesses to devices other than the interrupt controller, and SGIs the
//! guest sends, while the guest's interrupt state stays live in the vCPU's
//! hardware.
//!
//! The vCPU goes back into the guest at once when the entry would have
//! nothing to do anyway ([`VmIrqs::entry_is_quiet`]: the model has nothing
//! for this vCPU and its timer lines were low); otherwise it returns to
//! [`AxVM::run_vcpu`](crate::AxVM::run_vcpu), which reads the list
//! registers back and fills them again before the next entry.

use crate::AxVMHal;
use crate::exit_count::ExitCount;
use crate::irq::{VmIrqs, sgi1r_value};
use axdevice::AxVmDevices;
use axvcpu::{AccessWidth, AxVCpuExitReason, ExitFastPath, FastExit, GuestPhysAddr};
use core::cell::Cell;

/// The fast path of vCPU `vcpu_id` of a VM.
pub(crate) struct InLoop<'a, H: AxVMHal> {
    /// The VM's devices.
    pub devices: &'a AxVmDevices,
    /// Its interrupt state (`None`: no virtual GIC).
    pub irqs: Option<&'a VmIrqs<H>>,
    /// Whether the VM has local APICs (x86), whose work before each entry
    /// this path does not do: it then finishes nothing.
    pub has_apics: bool,
    /// The vCPU.
    pub vcpu_id: usize,
    /// The vCPU's exit counter.
    pub exits: &'a ExitCount,
    /// Set when an exit was finished here but the vCPU is to return
    /// ([`FastExit::Done`] without `resume`): the
    /// [`Nothing`](AxVCpuExitReason::Nothing) it then returns is this
    /// path's, for the VM's interrupt work, not the guest's yield.
    pub handed_back: Cell<bool>,
}

impl<H: AxVMHal> InLoop<'_, H> {
    /// An exit finished here, `value` its answer: whether the guest may
    /// run again at once, counted as the caller would count it.
    #[inline(always)]
    fn done(&self, value: u64) -> FastExit {
        let resume = match self.irqs {
            // The kicks first: a kick for this vCPU (another CPU gave it an
            // interrupt meanwhile) is taken here, and the model's work for
            // it, noted before the kick, is then seen by the check.
            Some(irqs) => !irqs.deliver_kicks(Some(self.vcpu_id)) && irqs.entry_is_quiet(self.vcpu_id, true),
            None => true,
        };
        // A run that ends here is counted by the caller.
        if resume {
            self.exits.add_one();
        } else {
            self.handed_back.set(true);
        }
        FastExit::Done { value, resume }
    }
}

impl<H: AxVMHal> ExitFastPath for InLoop<'_, H> {
    fn finish(&self, exit: &AxVCpuExitReason) -> FastExit {
        if self.has_apics {
            return FastExit::Slow;
        }
        let value = match *exit {
            AxVCpuExitReason::SendIPI {
                target_cpu,
                target_cpu_aux,
                send_to_all,
                vector,
                ..
            } => {
                let Some(irqs) = self.irqs else {
                    return FastExit::Slow;
                };
                let sgi1r = sgi1r_value(target_cpu, target_cpu_aux, send_to_all, vector);
                irqs.vgic().send_sgi(self.vcpu_id, sgi1r);
                0
            }
            // An access nothing takes goes the slow way: the VM makes the
            // guest take its fault there, or stops it when it cannot.
            _ => match self.devices.fast_access(exit) {
                Some(value) => value,
                None => return FastExit::Slow,
            },
        };
        self.done(value)
    }

    fn mmio(&self, addr: GuestPhysAddr, width: AccessWidth, data: Option<u64>) -> FastExit {
        if self.has_apics {
            return FastExit::Slow;
        }
        match self.devices.fast_mmio(addr, width, data) {
            Some(value) => self.done(value),
            None => FastExit::Slow,
        }
    }
}
