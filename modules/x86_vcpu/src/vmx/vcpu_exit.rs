//! [`VmxVcpu`]'s exit handling: acting on [`decide`], control-register
//! accesses, MMIO decoding, and event injection around each entry.

use axerrno::{AxError, AxResult};
use axvcpu::{AccessFlags, AxVCpuExitReason, AxVCpuHal, GuestPhysAddr};
use x86::vmx::vmcs::control::{EntryControls, PrimaryControls};

use super::cr::{self, CrValues, cr0_write, cr4_write, efer_after_cr0, lmsw};
use super::entry::host_nmi;
use super::exit_info::{CrAccessInfo, CrAccessType, VmxInterruptInfo, interrupt_shadow};
use super::exit_map::{VmxExit, VmxRawExit, decode_exit};
use super::vcpu::VmxVcpu;
use super::vmcs::{VmcsControl32, VmcsControlNW, VmcsGuest32, VmcsGuest64, VmcsGuestNW, VmcsReadOnly32};
use crate::cpuid::{CpuidContext, host_cpuid};
use crate::decode::decode;
use crate::event::{Exception, GuestInterruptibility, Injection, next_injection};
use crate::exit::mmio::{access_matches, mmio_step};
use crate::exit::{ExitAction, ExitEnv, decide, last_exit_of};
use crate::frame::HalMemory;
use crate::mode::{CodeSegment, VmCpuMode, ar, cpu_mode, decode_mode};
use crate::paging::{GuestPageWalkInfo, NestedFormat, NestedMemory, fetch_instruction};
use crate::regs::Gpr;

/// CR4.OSXSAVE.
const CR4_OSXSAVE: u64 = 1 << 18;
/// RFLAGS.IF.
const RFLAGS_IF: u64 = 1 << 9;

impl<H: AxVCpuHal> VmxVcpu<H> {
    /// CS.L and CS.D.
    pub(super) fn code_segment(&self) -> AxResult<CodeSegment> {
        let cs = VmcsGuest32::CS_ACCESS_RIGHTS.read()?;
        Ok(CodeSegment {
            long: cs & ar::L != 0,
            default_32: cs & ar::DB != 0,
        })
    }

    /// CR0 (or CR4) as the guest sees it: owned bits from the shadow.
    fn guest_view(real: VmcsGuestNW, mask: VmcsControlNW, shadow: VmcsControlNW) -> AxResult<u64> {
        let mask = mask.read()? as u64;
        Ok((real.read()? as u64 & !mask) | (shadow.read()? as u64 & mask))
    }

    fn guest_cr0(&self) -> AxResult<u64> {
        Self::guest_view(
            VmcsGuestNW::CR0,
            VmcsControlNW::CR0_GUEST_HOST_MASK,
            VmcsControlNW::CR0_READ_SHADOW,
        )
    }

    fn guest_cr4(&self) -> AxResult<u64> {
        Self::guest_view(
            VmcsGuestNW::CR4,
            VmcsControlNW::CR4_GUEST_HOST_MASK,
            VmcsControlNW::CR4_READ_SHADOW,
        )
    }

    fn exit_env(&self) -> AxResult<ExitEnv> {
        Ok(ExitEnv {
            ids: (self.vm_id, self.vcpu_id),
            cpuid: CpuidContext {
                apic_id: self.vcpu_id as u32,
                osxsave: self.guest_cr4()? & CR4_OSXSAVE != 0,
                xcr0_supported: self.fp.supported(),
            },
            host_cpuid,
        })
    }

    /// Handles one exit; `Some` is what `run` returns.
    pub(super) fn handle_exit(&mut self, raw: &VmxRawExit) -> AxResult<Option<AxVCpuExitReason>> {
        let action = match decode_exit(raw) {
            VmxExit::CrAccess { info, len } => self.handle_cr(info, len, raw)?,
            VmxExit::Common(e) => {
                self.last = last_exit_of(&e);
                let env = self.exit_env()?;
                decide(e, &mut self.frame.regs, &env)
            }
        };
        match action {
            ExitAction::Exit { reason, advance } => {
                self.advance_rip(advance)?;
                if let AxVCpuExitReason::Unsupported { raw, detail } = reason {
                    log::warn!(
                        "VM {} vCPU {}: unhandled VM exit {raw:#x}, qualification {detail:#x}, RIP {:#x}",
                        self.vm_id,
                        self.vcpu_id,
                        self.exit_rip
                    );
                }
                Ok(Some(reason))
            }
            ExitAction::Resume { advance } => {
                self.advance_rip(advance)?;
                Ok(None)
            }
            ExitAction::Inject(e) => {
                self.events.set_exception(e);
                Ok(None)
            }
            ExitAction::SetXcr0 { xcr0, advance } => {
                self.fp.set_guest_xcr0(xcr0);
                self.advance_rip(advance)?;
                Ok(None)
            }
            ExitAction::DecodeMmio { gpa, access } => self.mmio(gpa, access).map(Some),
            ExitAction::HostInterrupt { vector } => {
                let irq = vector.map_or_else(H::irq_fetch, usize::from);
                H::handle_host_irq(irq);
                Ok(Some(AxVCpuExitReason::ExternalInterrupt { vector: irq as u64 }))
            }
            ExitAction::HostNmi => {
                host_nmi();
                Ok(None)
            }
            ExitAction::InterruptWindowOpen => {
                self.set_interrupt_window(false)?;
                Ok(None)
            }
        }
    }

    /// A control-register access on a bit the hypervisor owns.
    fn handle_cr(&mut self, info: CrAccessInfo, len: u8, raw: &VmxRawExit) -> AxResult<ExitAction> {
        let caps = self.caps.ok_or(AxError::BadState)?;
        let resume = ExitAction::Resume { advance: len };
        let result = match (info.access, info.cr) {
            (CrAccessType::MovToCr, 0) => self.write_cr0(self.gpr(info.gpr)?, &caps)?,
            (CrAccessType::Lmsw, 0) => self.write_cr0(lmsw(self.guest_cr0()?, info.lmsw_data), &caps)?,
            (CrAccessType::Clts, 0) => self.write_cr0(self.guest_cr0()? & !(1 << 3), &caps)?,
            (CrAccessType::MovToCr, 4) => match cr4_write(self.gpr(info.gpr)?, caps.cr4) {
                Ok(v) => {
                    VmcsGuestNW::CR4.write(v.real as usize)?;
                    VmcsControlNW::CR4_READ_SHADOW.write(v.shadow as usize)?;
                    Ok(())
                }
                Err(e) => Err(e),
            },
            // CR3 exits only where the CPU forces CR3 exiting.
            (CrAccessType::MovToCr, 3) => {
                VmcsGuestNW::CR3.write(self.gpr(info.gpr)? as usize)?;
                Ok(())
            }
            (CrAccessType::MovFromCr, 3) => {
                let cr3 = VmcsGuestNW::CR3.read()? as u64;
                self.write_gpr(Gpr::full(info.gpr), cr3)?;
                Ok(())
            }
            _ => {
                return Ok(ExitAction::Exit {
                    reason: AxVCpuExitReason::Unsupported {
                        raw: u64::from(raw.reason),
                        detail: raw.qualification,
                    },
                    advance: 0,
                });
            }
        };
        Ok(match result {
            Ok(()) => resume,
            Err(e) => ExitAction::Inject(e),
        })
    }

    /// The guest writes `value` to CR0: the VMX-forced bits stay on, and a
    /// paging change with EFER.LME switches IA-32e mode.
    fn write_cr0(&mut self, value: u64, caps: &super::setup::VmxCaps) -> AxResult<Result<(), Exception>> {
        let efer = VmcsGuest64::IA32_EFER.read()?;
        let v: CrValues = match cr0_write(value, efer, self.guest_cr4()?, caps.cr0, true) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        VmcsGuestNW::CR0.write(v.real as usize)?;
        VmcsControlNW::CR0_READ_SHADOW.write(v.shadow as usize)?;
        let new_efer = efer_after_cr0(efer, value);
        if new_efer != efer {
            VmcsGuest64::IA32_EFER.write(new_efer)?;
            let entry = VmcsControl32::VMENTRY_CONTROLS.read()?;
            let ia32e = EntryControls::IA32E_MODE_GUEST.bits();
            let lma = new_efer & cr::efer::LMA != 0;
            VmcsControl32::VMENTRY_CONTROLS.write(if lma { entry | ia32e } else { entry & !ia32e })?;
        }
        Ok(Ok(()))
    }

    /// Fetches and decodes the instruction that faulted on `gpa`; the MMIO
    /// exit, or `NestedPageFault` when it cannot be decoded.
    fn mmio(&mut self, gpa: GuestPhysAddr, access: AccessFlags) -> AxResult<AxVCpuExitReason> {
        let fault = AxVCpuExitReason::NestedPageFault {
            addr: gpa,
            access_flags: access,
        };
        let Some(root) = self.ept_root_paddr() else {
            return Ok(fault);
        };
        let cr0 = VmcsGuestNW::CR0.read()? as u64;
        let efer = VmcsGuest64::IA32_EFER.read()?;
        let cs = self.code_segment()?;
        let mode = cpu_mode(cr0, efer, cs);
        let cpl = ((VmcsGuest32::SS_ACCESS_RIGHTS.read()? >> 5) & 3) as u8;
        let walk = GuestPageWalkInfo::for_fetch(
            cr0,
            VmcsGuestNW::CR3.read()? as u64,
            VmcsGuestNW::CR4.read()? as u64,
            efer,
            cpl,
        );
        let rip = self.exit_rip;
        let linear = if mode == VmCpuMode::Mode64 {
            rip
        } else {
            (VmcsGuestNW::CS_BASE.read()? as u64).wrapping_add(rip) & 0xffff_ffff
        };
        let host = HalMemory::<H>::new();
        let guest = NestedMemory {
            host: &host,
            format: NestedFormat::Ept,
            root,
        };
        let (bytes, n) = fetch_instruction(&guest, &walk, linear);
        let insn = match decode(&bytes[..n], decode_mode(mode, cs)) {
            Ok(insn) if access_matches(&insn, access) => insn,
            other => {
                log::debug!(
                    "VM {} vCPU {}: MMIO at {gpa:?} not decoded: {other:?}",
                    self.vm_id,
                    self.vcpu_id
                );
                return Ok(fault);
            }
        };
        let rsp = VmcsGuestNW::RSP.read()? as u64;
        let (reason, last) = mmio_step(&insn, gpa, &self.frame.regs, rsp);
        self.last = last;
        self.advance_rip(insn.len)?;
        Ok(reason)
    }

    /// Before an entry: inject the next pending event or ask for the
    /// interrupt window.
    pub(super) fn inject_events(&mut self) -> AxResult {
        let guest = GuestInterruptibility {
            interrupts_enabled: VmcsGuestNW::RFLAGS.read()? as u64 & RFLAGS_IF != 0,
            shadow: interrupt_shadow(VmcsGuest32::INTERRUPTIBILITY_STATE.read()?),
            event_in_flight: core::mem::take(&mut self.event_in_flight),
        };
        let window = match next_injection(&self.events, guest) {
            Injection::None => false,
            Injection::RequestWindow => true,
            Injection::Exception(e) => {
                self.events.take_exception();
                // Real mode delivers no error code (a VM-entry check).
                let protected = self.guest_cr0()? & crate::mode::bits::CR0_PE != 0;
                let info = VmxInterruptInfo::exception(e.vector, e.error_code.filter(|_| protected));
                VmcsControl32::VMENTRY_EXCEPTION_ERR_CODE.write(info.err_code.unwrap_or(0))?;
                VmcsControl32::VMENTRY_INTERRUPTION_INFO_FIELD.write(info.bits())?;
                self.events.has_interrupt()
            }
            Injection::Interrupt(v) => {
                self.events.clear_interrupt(v);
                VmcsControl32::VMENTRY_INTERRUPTION_INFO_FIELD.write(VmxInterruptInfo::external(v).bits())?;
                self.events.has_interrupt()
            }
        };
        self.set_interrupt_window(window)
    }

    fn set_interrupt_window(&mut self, on: bool) -> AxResult {
        let bit = PrimaryControls::INTERRUPT_WINDOW_EXITING.bits();
        let ctl = VmcsControl32::PRIMARY_PROCBASED_EXEC_CONTROLS.read()?;
        let new = if on { ctl | bit } else { ctl & !bit };
        if new != ctl {
            VmcsControl32::PRIMARY_PROCBASED_EXEC_CONTROLS.write(new)?;
        }
        Ok(())
    }

    /// An exit during event delivery (an EPT violation on the IDT or the
    /// stack): the event is delivered again on the next entry.
    pub(super) fn reinject_idt_vectoring(&mut self, raw: &VmxRawExit) -> AxResult {
        /// Bits 30:12 of IDT-vectoring information are not part of an
        /// entry's interruption information.
        const ENTRY_BITS: u32 = 0x8000_0fff;
        let idt = VmcsReadOnly32::IDT_VECTORING_INFO.read()?;
        let Some(info) = VmxInterruptInfo::from_bits(idt, 0).filter(|i| i.valid) else {
            return Ok(());
        };
        if info.err_code.is_some() {
            let code = VmcsReadOnly32::IDT_VECTORING_ERR_CODE.read()?;
            VmcsControl32::VMENTRY_EXCEPTION_ERR_CODE.write(code)?;
        }
        if info.int_type.needs_instruction_len() {
            VmcsControl32::VMENTRY_INSTRUCTION_LEN.write(raw.instruction_len)?;
        }
        VmcsControl32::VMENTRY_INTERRUPTION_INFO_FIELD.write(idt & ENTRY_BITS)?;
        self.event_in_flight = true;
        Ok(())
    }
}
