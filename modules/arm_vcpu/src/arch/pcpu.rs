//! Per physical CPU virtualization state: what `hardware_enable` turns on.

use super::entry::HOST_VBAR;
use super::regs::{read_sysreg, write_sysreg};
use super::{debug_hw, hw_ids};
use axerrno::{AxError, AxResult};
use axvcpu::{AxArchPerCpu, AxVCpuHal};
use core::marker::PhantomData;
use core::sync::atomic::Ordering;

/// CNTHCTL_EL2: EL1PCTEN (bit 0) and EL1PCEN (bit 1): the guest reads the
/// physical counter and uses the EL1 physical timer without traps.
const CNTHCTL_EL2_EL1_ACCESS: u64 = 0b11;

/// One physical CPU's virtualization state (seed 000). `H` is the host's
/// [`AxVCpuHal`].
pub struct Aarch64PerCpu<H: AxVCpuHal> {
    cpu_id: usize,
    enabled: bool,
    /// HCR_EL2 found at `hardware_enable`, put back by `hardware_disable`.
    saved_hcr: u64,
    _hal: PhantomData<fn() -> H>,
}

impl<H: AxVCpuHal> AxArchPerCpu for Aarch64PerCpu<H> {
    fn new(cpu_id: usize) -> AxResult<Self> {
        Ok(Self {
            cpu_id,
            enabled: false,
            saved_hcr: 0,
            _hal: PhantomData,
        })
    }

    fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Records the host's exception vectors (the world switch puts them back
    /// on every exit), lets EL1 use FP/SIMD and the physical timer, sets
    /// the feature traps (`CPTR_EL2`, `MDCR_EL2`: see `crate::traps`),
    /// disarms the hardware breakpoints and watchpoints, and
    /// checks that this CPU has EL2. The seed's version always succeeded
    /// and installed the vCPU vectors permanently; here the guest vectors
    /// are only live while a guest runs, so host faults keep their reports.
    fn hardware_enable(&mut self) -> AxResult {
        if self.enabled {
            return Err(AxError::BadState);
        }
        if !super::has_hardware_support() {
            log::error!("CPU {}: no EL2 (ID_AA64PFR0_EL1.EL2 = 0)", self.cpu_id);
            return Err(AxError::Unsupported);
        }
        let vbar = read_sysreg!(vbar_el2);
        // Every CPU runs the same host, so the value is the same for all.
        HOST_VBAR.store(vbar, Ordering::Release);
        self.saved_hcr = read_sysreg!(hcr_el2);
        // FP/SIMD free; SVE, SME, trace and AMU trapped; PMU and debug
        // registers trapped (crate::traps).
        write_sysreg!(cptr_el2, crate::traps::cptr_el2(hw_ids::pfr0()));
        let dfr0 = hw_ids::dfr0();
        let pmcr = if crate::traps::has_pmu(dfr0) {
            read_sysreg!(pmcr_el0)
        } else {
            0
        };
        write_sysreg!(mdcr_el2, crate::traps::mdcr_el2(dfr0, pmcr));
        debug_hw::reset_debug_hw(dfr0);
        write_sysreg!(cnthctl_el2, CNTHCTL_EL2_EL1_ACCESS);
        // SAFETY: a barrier only.
        unsafe { core::arch::asm!("isb") };
        self.enabled = true;
        Ok(())
    }

    fn hardware_disable(&mut self) -> AxResult {
        if !self.enabled {
            return Err(AxError::BadState);
        }
        write_sysreg!(hcr_el2, self.saved_hcr);
        // SAFETY: a barrier only.
        unsafe { core::arch::asm!("isb") };
        self.enabled = false;
        Ok(())
    }
}
