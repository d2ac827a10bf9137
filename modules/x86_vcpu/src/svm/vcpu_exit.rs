//! [`SvmVcpu`]'s exit handling: acting on [`decide`], MMIO decoding, and
//! event injection (EVENTINJ, with a virtual interrupt request as the
//! interrupt window).

use axvcpu::{AccessFlags, AxVCpuExitReason, AxVCpuHal, GuestPhysAddr};

use super::definitions::{self as def, EventKind, InterceptVec3, vmcb_msr};
use super::exit_map::{SvmRawExit, decode_exit};
use super::vcpu::SvmVcpu;
use crate::cpuid::{CpuidContext, host_cpuid};
use crate::decode::decode;
use crate::event::{GuestInterruptibility, Injection, next_injection};
use crate::exit::mmio::{access_matches, mmio_step};
use crate::exit::{ExitAction, ExitEnv, decide, last_exit_of};
use crate::frame::HalMemory;
use crate::mode::{VmCpuMode, cpu_mode, decode_mode};
use crate::paging::{GuestPageWalkInfo, NestedFormat, NestedMemory, fetch_instruction};

/// CR4.OSXSAVE.
const CR4_OSXSAVE: u64 = 1 << 18;
/// RFLAGS.IF.
const RFLAGS_IF: u64 = 1 << 9;
/// CR0.PE.
const CR0_PE: u64 = 1;

impl<H: AxVCpuHal> SvmVcpu<H> {
    /// Handles one exit; `Some` is what `run` returns.
    pub(super) fn handle_exit(&mut self, raw: &SvmRawExit) -> Option<AxVCpuExitReason> {
        let e = decode_exit(raw);
        self.last = last_exit_of(&e);
        let cr4 = self.vmcb_ref().save.cr4;
        let env = ExitEnv {
            ids: (self.vm_id, self.vcpu_id),
            cpuid: CpuidContext {
                apic_id: self.vcpu_id as u32,
                osxsave: cr4 & CR4_OSXSAVE != 0,
                xcr0_supported: self.fp.supported(),
            },
            host_cpuid,
        };
        let (mut efer, mut g_pat) = (self.vmcb_ref().save.efer, self.vmcb_ref().save.g_pat);
        let action = match vmcb_msr(&e, &mut self.frame.regs, &mut efer, &mut g_pat) {
            Some(a) => {
                let v = &mut self.vmcb().save;
                (v.efer, v.g_pat) = (efer, g_pat);
                a
            }
            None => decide(e, &mut self.frame.regs, &env),
        };
        match action {
            ExitAction::Exit { reason, advance } => {
                self.advance_rip(advance);
                if let AxVCpuExitReason::Unsupported { raw, detail } = reason {
                    log::warn!(
                        "VM {} vCPU {}: unhandled #VMEXIT {raw:#x}, EXITINFO1 {detail:#x}, RIP {:#x}",
                        self.vm_id,
                        self.vcpu_id,
                        self.exit_rip
                    );
                }
                Some(reason)
            }
            ExitAction::Resume { advance } => {
                self.advance_rip(advance);
                None
            }
            ExitAction::Inject(e) => {
                self.events.set_exception(e);
                None
            }
            ExitAction::SetXcr0 { xcr0, advance } => {
                self.fp.set_guest_xcr0(xcr0);
                self.advance_rip(advance);
                None
            }
            ExitAction::DecodeMmio { gpa, access } => Some(self.mmio(gpa, access)),
            ExitAction::HostInterrupt { vector } => {
                let irq = vector.map_or_else(H::irq_fetch, usize::from);
                H::handle_host_irq(irq);
                Some(AxVCpuExitReason::ExternalInterrupt { vector: irq as u64 })
            }
            // The NMI is held pending by GIF = 0 and taken by the host's
            // handler at STGI, in the world switch.
            ExitAction::HostNmi => None,
            ExitAction::InterruptWindowOpen => {
                self.set_window(false);
                None
            }
        }
    }

    /// Fetches and decodes the instruction that faulted on `gpa`.
    fn mmio(&mut self, gpa: GuestPhysAddr, access: AccessFlags) -> AxVCpuExitReason {
        let fault = AxVCpuExitReason::NestedPageFault {
            addr: gpa,
            access_flags: access,
        };
        let Some(root) = self.npt_root.map(|r| r.as_usize() as u64) else {
            return fault;
        };
        let s = &self.vmcb_ref().save;
        let cs = super::code_segment(s.cs.attrib);
        let mode = cpu_mode(s.cr0, s.efer, cs);
        let walk = GuestPageWalkInfo::for_fetch(s.cr0, s.cr3, s.cr4, s.efer, s.cpl);
        let linear = if mode == VmCpuMode::Mode64 {
            s.rip
        } else {
            s.cs.base.wrapping_add(s.rip) & 0xffff_ffff
        };
        let host = HalMemory::<H>::new();
        let guest = NestedMemory {
            host: &host,
            format: NestedFormat::Npt,
            root,
        };
        let rsp = s.rsp;
        let (bytes, n) = fetch_instruction(&guest, &walk, linear);
        let insn = match decode(&bytes[..n], decode_mode(mode, cs)) {
            Ok(insn) if access_matches(&insn, access) => insn,
            other => {
                log::debug!(
                    "VM {} vCPU {}: MMIO at {gpa:?} not decoded: {other:?}",
                    self.vm_id,
                    self.vcpu_id
                );
                return fault;
            }
        };
        let (reason, last) = mmio_step(&insn, gpa, &self.frame.regs, rsp);
        self.last = last;
        self.advance_rip(insn.len);
        reason
    }

    /// Before VMRUN: inject the next pending event through EVENTINJ, or
    /// request a virtual interrupt to learn when the guest can take one.
    pub(super) fn inject_events(&mut self) {
        let (rflags, cr0, int_state) = {
            let v = self.vmcb_ref();
            (v.save.rflags, v.save.cr0, v.control.int_state)
        };
        let guest = GuestInterruptibility {
            interrupts_enabled: rflags & RFLAGS_IF != 0,
            shadow: int_state & def::INT_STATE_SHADOW != 0,
            event_in_flight: core::mem::take(&mut self.event_in_flight),
        };
        let window = match next_injection(&self.events, guest) {
            Injection::None => false,
            Injection::RequestWindow => true,
            Injection::Exception(e) => {
                self.events.take_exception();
                // Real mode pushes no error code.
                let code = e.error_code.filter(|_| cr0 & CR0_PE != 0);
                self.vmcb().control.event_inj = def::event_injection(e.vector, EventKind::Exception, code);
                self.events.has_interrupt()
            }
            Injection::Interrupt(v) => {
                self.events.clear_interrupt(v);
                self.vmcb().control.event_inj = def::event_injection(v, EventKind::Interrupt, None);
                self.events.has_interrupt()
            }
        };
        self.set_window(window);
    }

    /// Requests (or stops requesting) a VINTR exit when the guest can take
    /// an interrupt.
    fn set_window(&mut self, on: bool) {
        let c = &mut self.vmcb().control;
        c.int_control = def::vintr_control(on);
        let mut v3 = InterceptVec3::from_bits_retain(c.intercept_vec3);
        v3.set(InterceptVec3::VINTR, on);
        c.intercept_vec3 = v3.bits();
    }

    /// An exit during event delivery: the event (EXITINTINFO) is delivered
    /// again on the next VMRUN.
    pub(super) fn reinject_exit_int_info(&mut self) {
        let c = &mut self.vmcb().control;
        c.event_inj = 0;
        if def::event_valid(c.exit_int_info) {
            c.event_inj = c.exit_int_info;
            self.event_in_flight = true;
        }
    }
}
