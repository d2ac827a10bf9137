//! Programming a VMCS: execution controls, host state (refreshed on every
//! bind: it is per physical CPU) and the guest's reset state.

use axerrno::{AxError, AxResult};
use x86::vmx::vmcs::control::{EntryControls, ExitControls, PinbasedControls, PrimaryControls, SecondaryControls};

use super::controls::{VmxBasic, adjust_controls};
use super::cr::{CrFixed, cr0_owned, cr0_write, cr4_write};
use super::entry::vmx_exit;
use super::vmcs::{
    VmcsControl32, VmcsControl64, VmcsControlNW, VmcsGuest16, VmcsGuest32, VmcsGuest64, VmcsGuestNW, VmcsHost16,
    VmcsHost64, VmcsHostNW,
};
use crate::hw;
use crate::mode::{StartMode, ar};
use crate::msr::Msr;

/// What the CPU allows, read once per vCPU.
#[derive(Debug, Clone, Copy)]
pub(super) struct VmxCaps {
    /// CR0 fixed bits.
    pub cr0: CrFixed,
    /// CR4 fixed bits.
    pub cr4: CrFixed,
    /// Whether the capability MSRs have "true" versions.
    pub true_controls: bool,
}

impl VmxCaps {
    pub fn read() -> Self {
        Self {
            cr0: CrFixed {
                fixed0: Msr::IA32_VMX_CR0_FIXED0.read(),
                fixed1: Msr::IA32_VMX_CR0_FIXED1.read(),
            },
            cr4: CrFixed {
                fixed0: Msr::IA32_VMX_CR4_FIXED0.read(),
                fixed1: Msr::IA32_VMX_CR4_FIXED1.read(),
            },
            true_controls: VmxBasic::from_msr(Msr::IA32_VMX_BASIC.read()).true_controls,
        }
    }
}

/// A control value, or `Unsupported` naming the bits the CPU refuses.
fn controls(name: &str, cap: Msr, set: u32, optional: u32) -> AxResult<u32> {
    let cap = cap.read();
    let allowed_optional = optional & (cap >> 32) as u32;
    adjust_controls(cap, set | allowed_optional, 0).map_err(|bad| {
        log::error!("VMX {name} controls: the CPU does not allow {bad:#x}");
        AxError::Unsupported
    })
}

/// IA32_VMX_EPT_VPID_CAP bits (SDM A.10).
mod ept_cap {
    /// A page walk of length 4.
    pub const WALK_4: u64 = 1 << 6;
    /// Write-back paging structures.
    pub const WB: u64 = 1 << 14;
}

/// EPTP: write-back (6), walk length 4 (3 in bits 5:3), the root.
pub(super) fn eptp(root: u64) -> u64 {
    const WB: u64 = 6;
    const WALK_LENGTH_4: u64 = 3 << 3;
    root | WALK_LENGTH_4 | WB
}

/// The execution, exit and entry controls and the bitmaps.
pub(super) fn setup_controls(caps: &VmxCaps, io_a: u64, io_b: u64, msr_bitmap: u64) -> AxResult {
    let (pin_cap, proc_cap, exit_cap, entry_cap) = if caps.true_controls {
        (
            Msr::IA32_VMX_TRUE_PINBASED_CTLS,
            Msr::IA32_VMX_TRUE_PROCBASED_CTLS,
            Msr::IA32_VMX_TRUE_EXIT_CTLS,
            Msr::IA32_VMX_TRUE_ENTRY_CTLS,
        )
    } else {
        (
            Msr::IA32_VMX_PINBASED_CTLS,
            Msr::IA32_VMX_PROCBASED_CTLS,
            Msr::IA32_VMX_EXIT_CTLS,
            Msr::IA32_VMX_ENTRY_CTLS,
        )
    };
    let pin = PinbasedControls::EXTERNAL_INTERRUPT_EXITING | PinbasedControls::NMI_EXITING;
    let primary = PrimaryControls::HLT_EXITING
        | PrimaryControls::USE_IO_BITMAPS
        | PrimaryControls::USE_MSR_BITMAPS
        | PrimaryControls::MWAIT_EXITING
        | PrimaryControls::MONITOR_EXITING
        | PrimaryControls::SECONDARY_CONTROLS;
    let secondary = SecondaryControls::ENABLE_EPT | SecondaryControls::UNRESTRICTED_GUEST;
    // The guest sees these in CPUID; without them it would take #UD.
    let secondary_optional = SecondaryControls::ENABLE_RDTSCP | SecondaryControls::ENABLE_INVPCID;
    let exit = ExitControls::HOST_ADDRESS_SPACE_SIZE
        | ExitControls::SAVE_IA32_PAT
        | ExitControls::LOAD_IA32_PAT
        | ExitControls::SAVE_IA32_EFER
        | ExitControls::LOAD_IA32_EFER;
    let entry = EntryControls::LOAD_IA32_PAT | EntryControls::LOAD_IA32_EFER;

    let ept = Msr::IA32_VMX_EPT_VPID_CAP.read();
    if ept & (ept_cap::WALK_4 | ept_cap::WB) != ept_cap::WALK_4 | ept_cap::WB {
        log::error!("EPT without 4-level write-back tables (cap {ept:#x})");
        return Err(AxError::Unsupported);
    }

    VmcsControl32::PINBASED_EXEC_CONTROLS.write(controls("pin-based", pin_cap, pin.bits(), 0)?)?;
    VmcsControl32::PRIMARY_PROCBASED_EXEC_CONTROLS.write(controls("primary", proc_cap, primary.bits(), 0)?)?;
    VmcsControl32::SECONDARY_PROCBASED_EXEC_CONTROLS.write(controls(
        "secondary",
        Msr::IA32_VMX_PROCBASED_CTLS2,
        secondary.bits(),
        secondary_optional.bits(),
    )?)?;
    VmcsControl32::VMEXIT_CONTROLS.write(controls("exit", exit_cap, exit.bits(), 0)?)?;
    VmcsControl32::VMENTRY_CONTROLS.write(controls("entry", entry_cap, entry.bits(), 0)?)?;
    VmcsControl32::EXCEPTION_BITMAP.write(0)?;
    VmcsControl32::PAGE_FAULT_ERR_CODE_MASK.write(0)?;
    VmcsControl32::PAGE_FAULT_ERR_CODE_MATCH.write(0)?;
    VmcsControl32::CR3_TARGET_COUNT.write(0)?;
    VmcsControl32::VMEXIT_MSR_STORE_COUNT.write(0)?;
    VmcsControl32::VMEXIT_MSR_LOAD_COUNT.write(0)?;
    VmcsControl32::VMENTRY_MSR_LOAD_COUNT.write(0)?;
    VmcsControl32::VMENTRY_INTERRUPTION_INFO_FIELD.write(0)?;
    VmcsControl64::IO_BITMAP_A_ADDR.write(io_a)?;
    VmcsControl64::IO_BITMAP_B_ADDR.write(io_b)?;
    VmcsControl64::MSR_BITMAPS_ADDR.write(msr_bitmap)?;
    VmcsControl64::TSC_OFFSET.write(0)?;
    VmcsControlNW::CR0_GUEST_HOST_MASK.write(cr0_owned(caps.cr0, true) as usize)?;
    VmcsControlNW::CR4_GUEST_HOST_MASK.write(caps.cr4.fixed0 as usize)?;
    VmcsGuest64::LINK_PTR.write(u64::MAX)?;
    Ok(())
}

/// The host state: this CPU's control registers, segments, descriptor
/// tables and MSRs, and where a VM exit lands.
pub(super) fn setup_host() -> AxResult {
    /// Host selectors must have RPL and TI clear (SDM 27.2.3).
    const RPL_TI: u16 = 0x7;
    let sel = hw::selectors();
    let (gdt_base, _) = hw::gdtr();
    let (idt_base, _) = hw::idtr();
    VmcsHost16::CS_SELECTOR.write(sel.cs & !RPL_TI)?;
    VmcsHost16::SS_SELECTOR.write(sel.ss & !RPL_TI)?;
    VmcsHost16::DS_SELECTOR.write(sel.ds & !RPL_TI)?;
    VmcsHost16::ES_SELECTOR.write(sel.es & !RPL_TI)?;
    VmcsHost16::FS_SELECTOR.write(sel.fs & !RPL_TI)?;
    VmcsHost16::GS_SELECTOR.write(sel.gs & !RPL_TI)?;
    VmcsHost16::TR_SELECTOR.write(sel.tr & !RPL_TI)?;
    VmcsHostNW::CR0.write(hw::cr0() as usize)?;
    VmcsHostNW::CR3.write(hw::cr3() as usize)?;
    VmcsHostNW::CR4.write(hw::cr4() as usize)?;
    VmcsHostNW::FS_BASE.write(Msr::IA32_FS_BASE.read() as usize)?;
    VmcsHostNW::GS_BASE.write(Msr::IA32_GS_BASE.read() as usize)?;
    VmcsHostNW::TR_BASE.write(hw::system_descriptor_base(gdt_base, sel.tr) as usize)?;
    VmcsHostNW::GDTR_BASE.write(gdt_base as usize)?;
    VmcsHostNW::IDTR_BASE.write(idt_base as usize)?;
    VmcsHostNW::IA32_SYSENTER_ESP.write(Msr::IA32_SYSENTER_ESP.read() as usize)?;
    VmcsHostNW::IA32_SYSENTER_EIP.write(Msr::IA32_SYSENTER_EIP.read() as usize)?;
    super::vmcs::VmcsHost32::IA32_SYSENTER_CS.write(Msr::IA32_SYSENTER_CS.read() as u32)?;
    VmcsHost64::IA32_PAT.write(Msr::IA32_PAT.read())?;
    VmcsHost64::IA32_EFER.write(Msr::IA32_EFER.read())?;
    VmcsHostNW::RIP.write(vmx_exit as *const () as usize)?;
    Ok(())
}

/// IA32_PAT after reset (SDM 13.12.4).
const PAT_RESET: u64 = 0x0007_0406_0007_0406;
/// DR7 after reset.
const DR7_RESET: usize = 0x400;
/// RFLAGS after reset: only the always-one bit 1.
const RFLAGS_RESET: usize = 0x2;

/// The guest's state at `entry` in `mode`, as a CPU after INIT.
pub(super) fn setup_guest(caps: &VmxCaps, entry: u64, mode: StartMode) -> AxResult {
    let s = mode.segments(entry);
    let cr0 = cr0_write(s.cr0, 0, 0, caps.cr0, true).map_err(|_| AxError::BadState)?;
    let cr4 = cr4_write(0, caps.cr4).map_err(|_| AxError::BadState)?;
    VmcsGuestNW::CR0.write(cr0.real as usize)?;
    VmcsControlNW::CR0_READ_SHADOW.write(cr0.shadow as usize)?;
    VmcsGuestNW::CR3.write(0)?;
    VmcsGuestNW::CR4.write(cr4.real as usize)?;
    VmcsControlNW::CR4_READ_SHADOW.write(cr4.shadow as usize)?;

    macro_rules! segment {
        ($sel:ident, $base:ident, $limit:ident, $ar:ident, $s:expr, $b:expr, $l:expr, $a:expr) => {
            VmcsGuest16::$sel.write($s)?;
            VmcsGuestNW::$base.write($b as usize)?;
            VmcsGuest32::$limit.write($l)?;
            VmcsGuest32::$ar.write($a)?;
        };
    }
    let d = s.data_selector;
    segment!(
        CS_SELECTOR,
        CS_BASE,
        CS_LIMIT,
        CS_ACCESS_RIGHTS,
        s.cs_selector,
        s.cs_base,
        s.limit,
        s.code_ar
    );
    segment!(
        DS_SELECTOR,
        DS_BASE,
        DS_LIMIT,
        DS_ACCESS_RIGHTS,
        d,
        0,
        s.limit,
        s.data_ar
    );
    segment!(
        ES_SELECTOR,
        ES_BASE,
        ES_LIMIT,
        ES_ACCESS_RIGHTS,
        d,
        0,
        s.limit,
        s.data_ar
    );
    segment!(
        SS_SELECTOR,
        SS_BASE,
        SS_LIMIT,
        SS_ACCESS_RIGHTS,
        d,
        0,
        s.limit,
        s.data_ar
    );
    segment!(
        FS_SELECTOR,
        FS_BASE,
        FS_LIMIT,
        FS_ACCESS_RIGHTS,
        d,
        0,
        s.limit,
        s.data_ar
    );
    segment!(
        GS_SELECTOR,
        GS_BASE,
        GS_LIMIT,
        GS_ACCESS_RIGHTS,
        d,
        0,
        s.limit,
        s.data_ar
    );
    segment!(
        LDTR_SELECTOR,
        LDTR_BASE,
        LDTR_LIMIT,
        LDTR_ACCESS_RIGHTS,
        0,
        0,
        0,
        ar::UNUSABLE
    );
    segment!(
        TR_SELECTOR,
        TR_BASE,
        TR_LIMIT,
        TR_ACCESS_RIGHTS,
        0,
        0,
        0xffff,
        ar::TSS_BUSY
    );
    VmcsGuestNW::GDTR_BASE.write(0)?;
    VmcsGuest32::GDTR_LIMIT.write(0xffff)?;
    VmcsGuestNW::IDTR_BASE.write(0)?;
    VmcsGuest32::IDTR_LIMIT.write(0xffff)?;

    VmcsGuestNW::DR7.write(DR7_RESET)?;
    VmcsGuestNW::RSP.write(0)?;
    VmcsGuestNW::RIP.write(s.rip as usize)?;
    VmcsGuestNW::RFLAGS.write(RFLAGS_RESET)?;
    VmcsGuestNW::PENDING_DBG_EXCEPTIONS.write(0)?;
    VmcsGuestNW::IA32_SYSENTER_ESP.write(0)?;
    VmcsGuestNW::IA32_SYSENTER_EIP.write(0)?;
    VmcsGuest32::IA32_SYSENTER_CS.write(0)?;
    VmcsGuest32::INTERRUPTIBILITY_STATE.write(0)?;
    VmcsGuest32::ACTIVITY_STATE.write(0)?;
    VmcsGuest64::IA32_DEBUGCTL.write(0)?;
    VmcsGuest64::IA32_PAT.write(PAT_RESET)?;
    VmcsGuest64::IA32_EFER.write(0)?;
    // Not in IA-32e mode.
    let entry_ctls = VmcsControl32::VMENTRY_CONTROLS.read()?;
    VmcsControl32::VMENTRY_CONTROLS.write(entry_ctls & !EntryControls::IA32E_MODE_GUEST.bits())?;
    Ok(())
}
