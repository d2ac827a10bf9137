//! The GICv3 virtual CPU interface of a vCPU (ARM IHI 0069, chapter 6 and
//! 12.4): its list registers, kept in software as [`ListRegs`] and copied
//! into the `ICH_LR<n>_EL2` registers around each guest run, and the
//! virtual CPU interface state (`ICH_VMCR_EL2`, the active-priority
//! registers) saved in `unbind` and restored in `bind`.
//!
//! The guest acknowledges and ends its interrupts through the ICV
//! registers without trapping; which interrupts go into the list registers
//! is decided by the VM's virtual GIC model (`axdevice::vgic`).
//!
//! When an exit goes to the VM layer the interface is disabled
//! (`ICH_HCR_EL2.En` = 0), so the list registers left in the hardware
//! cannot raise maintenance interrupts in the host. Across the exits the
//! vCPU finishes itself (IRQs masked, the list registers untouched) it
//! stays on.

use super::regs::{read_sysreg, write_sysreg};
use axvcpu::{ListRegs, MAX_LIST_REGS};

/// ICH_HCR_EL2 bits (ARM IHI 0069, 12.4.4).
mod hcr {
    /// En: the virtual CPU interface is on.
    pub const EN: u64 = 1 << 0;
    /// UIE: maintenance interrupt when at most one list register is valid.
    pub const UIE: u64 = 1 << 1;
}

/// ICH_VTR_EL2 fields (ARM IHI 0069, 12.4.8).
mod vtr {
    /// ListRegs, bits \[4:0\]: number of list registers - 1.
    pub const LIST_REGS_MASK: u64 = 0x1f;
    /// PREbits, bits \[28:26\]: preemption bits - 1.
    pub const PRE_BITS_SHIFT: u64 = 26;
    pub const PRE_BITS_MASK: u64 = 0x7;
}

fn read_lr(i: usize) -> u64 {
    macro_rules! r {
        ($($n:literal => $reg:ident),*) => {
            match i { $($n => read_sysreg!($reg),)* _ => 0 }
        };
    }
    r!(0 => ich_lr0_el2, 1 => ich_lr1_el2, 2 => ich_lr2_el2, 3 => ich_lr3_el2,
       4 => ich_lr4_el2, 5 => ich_lr5_el2, 6 => ich_lr6_el2, 7 => ich_lr7_el2,
       8 => ich_lr8_el2, 9 => ich_lr9_el2, 10 => ich_lr10_el2, 11 => ich_lr11_el2,
       12 => ich_lr12_el2, 13 => ich_lr13_el2, 14 => ich_lr14_el2, 15 => ich_lr15_el2)
}

fn write_lr(i: usize, v: u64) {
    macro_rules! w {
        ($($n:literal => $reg:ident),*) => {
            match i { $($n => write_sysreg!($reg, v),)* _ => {} }
        };
    }
    w!(0 => ich_lr0_el2, 1 => ich_lr1_el2, 2 => ich_lr2_el2, 3 => ich_lr3_el2,
       4 => ich_lr4_el2, 5 => ich_lr5_el2, 6 => ich_lr6_el2, 7 => ich_lr7_el2,
       8 => ich_lr8_el2, 9 => ich_lr9_el2, 10 => ich_lr10_el2, 11 => ich_lr11_el2,
       12 => ich_lr12_el2, 13 => ich_lr13_el2, 14 => ich_lr14_el2, 15 => ich_lr15_el2)
}

/// The virtual CPU interface of one vCPU.
#[derive(Clone, Copy, Debug, Default)]
pub struct VgicCpuIf {
    /// The list registers as the VM layer sees them.
    pub lrs: ListRegs,
    /// What the hardware list registers hold (valid while `hw_known`).
    hw: [u64; MAX_LIST_REGS],
    /// Whether `hw` mirrors the hardware (false after `bind`: another vCPU
    /// may have used this CPU's list registers).
    hw_known: bool,
    /// Bit `i` set while `hw[i]` holds an interrupt (nonzero): the list
    /// registers `exit` reads back.
    live: u16,
    vmcr: u64,
    ap0r: [u64; 4],
    ap1r: [u64; 4],
    /// Active-priority registers implemented: 1, 2 or 4 (from PREbits).
    apr_count: usize,
}

impl VgicCpuIf {
    /// The interface of a new vCPU, sized from this CPU's ICH_VTR_EL2.
    pub fn new() -> Self {
        let vtr = read_sysreg!(ich_vtr_el2);
        let count = ((vtr & vtr::LIST_REGS_MASK) as usize + 1).min(MAX_LIST_REGS);
        let pre_bits = ((vtr >> vtr::PRE_BITS_SHIFT) & vtr::PRE_BITS_MASK) + 1;
        // 5 preemption bits: APxR0; 6: APxR0..1; 7: APxR0..3.
        let apr_count = match pre_bits {
            7 => 4,
            6 => 2,
            _ => 1,
        };
        Self {
            lrs: ListRegs {
                count,
                ..ListRegs::default()
            },
            apr_count,
            ..Self::default()
        }
    }

    /// Before entering the guest: loads the list registers that changed and
    /// turns the interface on. With none in use, before or now (the usual
    /// case between interrupts), that is one look at each software copy.
    pub fn enter(&mut self) {
        let count = self.lrs.count.min(MAX_LIST_REGS);
        let idle = self.hw_known && self.live == 0 && self.lrs.lr[..count].iter().all(|&v| v == 0);
        if !idle {
            for i in 0..count {
                let v = self.lrs.lr[i];
                if !self.hw_known || self.hw[i] != v {
                    write_lr(i, v);
                    self.hw[i] = v;
                }
                if v != 0 {
                    self.live |= 1 << i;
                } else {
                    self.live &= !(1 << i);
                }
            }
            self.hw_known = true;
        }
        let uie = if self.lrs.underflow_exit { hcr::UIE } else { 0 };
        write_sysreg!(ich_hcr_el2, hcr::EN | uie);
    }

    /// After the exit: turns the interface off and reads back the list
    /// registers that held an interrupt (the guest cannot fill an empty
    /// one).
    pub fn exit(&mut self) {
        write_sysreg!(ich_hcr_el2, 0);
        let mut live = self.live;
        while live != 0 {
            let i = live.trailing_zeros() as usize;
            live &= live - 1;
            let v = read_lr(i);
            if let (Some(hw), Some(lr)) = (self.hw.get_mut(i), self.lrs.lr.get_mut(i)) {
                *hw = v;
                *lr = v;
            }
            if v == 0 {
                self.live &= !(1 << i);
            }
        }
    }

    /// `bind`: restores the virtual CPU interface state.
    pub fn restore(&mut self) {
        write_sysreg!(ich_vmcr_el2, self.vmcr);
        write_sysreg!(ich_ap0r0_el2, self.ap0r[0]);
        write_sysreg!(ich_ap1r0_el2, self.ap1r[0]);
        if self.apr_count >= 2 {
            write_sysreg!(ich_ap0r1_el2, self.ap0r[1]);
            write_sysreg!(ich_ap1r1_el2, self.ap1r[1]);
        }
        if self.apr_count >= 4 {
            write_sysreg!(ich_ap0r2_el2, self.ap0r[2]);
            write_sysreg!(ich_ap1r2_el2, self.ap1r[2]);
            write_sysreg!(ich_ap0r3_el2, self.ap0r[3]);
            write_sysreg!(ich_ap1r3_el2, self.ap1r[3]);
        }
        self.hw_known = false;
    }

    /// `unbind`: saves the virtual CPU interface state.
    pub fn save(&mut self) {
        self.vmcr = read_sysreg!(ich_vmcr_el2);
        self.ap0r[0] = read_sysreg!(ich_ap0r0_el2);
        self.ap1r[0] = read_sysreg!(ich_ap1r0_el2);
        if self.apr_count >= 2 {
            self.ap0r[1] = read_sysreg!(ich_ap0r1_el2);
            self.ap1r[1] = read_sysreg!(ich_ap1r1_el2);
        }
        if self.apr_count >= 4 {
            self.ap0r[2] = read_sysreg!(ich_ap0r2_el2);
            self.ap1r[2] = read_sysreg!(ich_ap1r2_el2);
            self.ap0r[3] = read_sysreg!(ich_ap0r3_el2);
            self.ap1r[3] = read_sysreg!(ich_ap1r3_el2);
        }
    }
}
