//! Interrupt injection through the GICv3 virtual CPU interface: the list
//! registers (ICH_LR<n>_EL2). The guest acknowledges and ends the interrupt
//! through its (virtual) ICC registers without trapping.
//!
//! The distributor/redistributor emulation that decides *which* interrupt
//! to inject is `axdevice`'s; this is only the last step.

use super::regs::{read_sysreg, write_sysreg};
use axerrno::{AxError, AxResult};

/// ICH_HCR_EL2.En: the virtual CPU interface is on.
const ICH_HCR_EN: u64 = 1;
/// ICH_LR_EL2: State = pending (bits 63:62 = 0b01), Group 1 (bit 60),
/// priority 0xa0 (bits 55:48), vINTID in bits 31:0.
const LR_PENDING: u64 = 0b01 << 62;
const LR_GROUP1: u64 = 1 << 60;
const LR_PRIORITY: u64 = 0xa0 << 48;
/// Highest INTID a list register can carry for an SGI/PPI/SPI.
const MAX_INTID: usize = 1019;

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

/// Makes virtual interrupt `intid` pending for the vCPU bound to this CPU.
/// `Ok` if it is (or already was) in a list register; `ResourceBusy` when
/// every list register is in use (the caller keeps it queued); and
/// `InvalidInput` for an INTID out of range.
pub(super) fn inject(intid: usize) -> AxResult {
    if intid > MAX_INTID {
        return Err(AxError::InvalidInput);
    }
    let count = (read_sysreg!(ich_vtr_el2) & 0x1f) as usize + 1;
    let empty = read_sysreg!(ich_elrsr_el2);
    let mut free = None;
    for i in 0..count.min(16) {
        if empty & (1 << i) != 0 {
            free = free.or(Some(i));
        } else if read_lr(i) & 0xffff_ffff == intid as u64 {
            return Ok(()); // already pending or active
        }
    }
    let i = free.ok_or(AxError::ResourceBusy)?;
    write_lr(i, LR_PENDING | LR_GROUP1 | LR_PRIORITY | intid as u64);
    write_sysreg!(ich_hcr_el2, read_sysreg!(ich_hcr_el2) | ICH_HCR_EN);
    Ok(())
}
