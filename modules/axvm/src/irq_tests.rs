//! Host tests of the VM's interrupt path with the scripted vCPU: the
//! virtual GIC's registers reached through MMIO exits, guest SGIs, timer
//! lines, device lines, list registers filled before each run and read back
//! after it, and the host asked to notify the right vCPUs.

use crate::arch_mock::{script, set_guest, set_saved_deadline, set_timer_level, take_events};
use crate::layout::{DEFAULT_GICD_BASE, DEFAULT_GICR_BASE, GICR_STRIDE};
use crate::tests::{CONFIG, Console, KICKS, UNMASKS, Vm};
use crate::{AxVMConfig, AxVMCrateConfig};
use axvcpu::virq::lr;
use axvcpu::{AccessWidth, AxVCpuExitReason, GuestPhysAddr, ListRegs};
use std::sync::Arc;
use std::vec::Vec;

/// GICR SGI_base frame offset and its registers.
const SGI_BASE: usize = 0x1_0000;
const GICR_ISENABLER0: usize = SGI_BASE + 0x100;
const GICR_IGROUPR0: usize = SGI_BASE + 0x80;
const GICD_CTLR: usize = 0x0;
const GICD_IGROUPR1: usize = 0x84;
const GICD_ISENABLER1: usize = 0x104;
/// GICD_CTLR.EnableGrp1.
const ENABLE_GRP1: u64 = 1 << 1;

pub(crate) fn vm_with(config: &str) -> Arc<Vm> {
    let cfg = AxVMConfig::from(AxVMCrateConfig::from_toml(config).unwrap());
    let vm = Vm::new(cfg, Arc::new(Console::default())).unwrap();
    take_events();
    KICKS.with(|k| k.borrow_mut().clear());
    set_guest(None);
    set_timer_level(false);
    vm
}

pub(crate) fn write(vm: &Vm, addr: usize, value: u64) {
    vm.devices()
        .handle_mmio_write(GuestPhysAddr::from(addr), AccessWidth::Dword, value)
        .unwrap();
}

fn read(vm: &Vm, addr: usize) -> u64 {
    vm.devices()
        .handle_mmio_read(GuestPhysAddr::from(addr), AccessWidth::Dword)
        .unwrap()
}

/// Group 1 on, every SGI/PPI of `vcpu` in Group 1 and enabled.
pub(crate) fn enable_private(vm: &Vm, vcpu: usize) {
    write(vm, DEFAULT_GICD_BASE + GICD_CTLR, ENABLE_GRP1);
    let rd = DEFAULT_GICR_BASE + vcpu * GICR_STRIDE;
    write(vm, rd + GICR_IGROUPR0, 0xffff_ffff);
    write(vm, rd + GICR_ISENABLER0, 0xffff_ffff);
}

pub(crate) fn hypercall() -> AxVCpuExitReason {
    AxVCpuExitReason::Hypercall {
        nr: 0xc600_0000,
        args: [0; 6],
    }
}

/// The valid list registers of `vcpu` as (INTID, state bits).
pub(crate) fn lrs(vm: &Vm, vcpu: usize) -> Vec<(u64, u64)> {
    let mut cell = vm.vcpu(vcpu).unwrap().lock();
    let l = cell.get_arch_vcpu().lrs;
    l.lr[..l.count]
        .iter()
        .filter(|v| *v & lr::STATE_MASK != 0)
        .map(|v| (v & lr::VINTID_MASK, v & lr::STATE_MASK))
        .collect()
}

pub(crate) fn kicks() -> Vec<(usize, usize)> {
    KICKS.with(|k| core::mem::take(&mut *k.borrow_mut()))
}

#[test]
fn the_virtual_gic_answers_at_the_default_layout() {
    let vm = vm_with(CONFIG);
    // GICD_PIDR2.ArchRev = 3 (GICv3), and vCPU 1's redistributor is last.
    assert_eq!(read(&vm, DEFAULT_GICD_BASE + 0xffe8) >> 4 & 0xf, 3);
    let typer1 = read(&vm, DEFAULT_GICR_BASE + GICR_STRIDE + 0x8);
    assert_eq!(typer1 >> 8 & 0xffff, 1, "processor number");
    assert_ne!(typer1 & (1 << 4), 0, "Last");
}

/// The guest's write of `ICC_SGI1R_EL1` that sends SGI 5 to vCPU 1.
pub(crate) fn sgi_5_to_vcpu_1() -> AxVCpuExitReason {
    AxVCpuExitReason::SendIPI {
        target_cpu: 0b10,
        target_cpu_aux: 0,
        send_to_all: false,
        send_to_self: false,
        vector: 5,
    }
}

#[test]
fn a_guest_sgi_reaches_the_other_vcpu_and_its_cpu_is_notified() {
    let vm = vm_with(CONFIG);
    enable_private(&vm, 1);
    script([sgi_5_to_vcpu_1(), hypercall()]);
    assert_eq!(
        vm.run_vcpu(0, None),
        Ok(hypercall()),
        "the SGI is handled inside the VM"
    );
    assert_eq!(kicks(), [(3, 1)], "vCPU 1 of VM 3 is notified, not the sender");
    assert!(vm.vcpu_has_pending_irq(1));
    assert!(!vm.vcpu_has_pending_irq(0));
    // This thread plays vCPU 1's CPU now.
    vm.vcpu(0).unwrap().lock().unbind().unwrap();
    script([hypercall()]);
    assert_eq!(vm.run_vcpu(1, None), Ok(hypercall()));
    assert_eq!(lrs(&vm, 1), [(5, lr::STATE_PENDING)], "SGI 5 went into a list register");
}

#[test]
fn the_timer_line_is_delivered_and_resampled_after_the_guest_ends_it() {
    let vm = vm_with(CONFIG);
    enable_private(&vm, 0);
    set_timer_level(true);
    script([hypercall()]);
    vm.run_vcpu(0, None).unwrap();
    assert_eq!(lrs(&vm, 0), [(27, lr::STATE_PENDING)]);
    {
        let mut cell = vm.vcpu(0).unwrap().lock();
        let v = cell.get_arch_vcpu().lrs.lr[0];
        assert_ne!(v & lr::HW, 0, "linked to the physical timer interrupt");
        assert_eq!(
            v >> lr::PINTID_SHIFT & lr::PINTID_MASK,
            27,
            "the physical INTID is the same"
        );
    }
    // The guest acknowledges and ends it, and reprograms its timer.
    fn end_all(l: &mut ListRegs) {
        for v in l.lr.iter_mut() {
            *v &= !lr::STATE_MASK;
        }
    }
    set_guest(Some(end_all));
    set_timer_level(false);
    script([hypercall()]);
    vm.run_vcpu(0, None).unwrap();
    set_guest(None);
    script([hypercall()]);
    vm.run_vcpu(0, None).unwrap();
    assert_eq!(lrs(&vm, 0), [], "not pending again: the line is low");
    // Still high after the guest ended it: pending again.
    set_timer_level(true);
    set_guest(Some(end_all));
    script([hypercall()]);
    vm.run_vcpu(0, None).unwrap();
    set_guest(None);
    script([hypercall()]);
    vm.run_vcpu(0, None).unwrap();
    assert_eq!(lrs(&vm, 0), [(27, lr::STATE_PENDING)]);
}

fn unmasks() -> Vec<usize> {
    UNMASKS.with(|u| core::mem::take(&mut *u.borrow_mut()))
}

/// A vCPU woken by its timer (the line high at entry, so the host keeps
/// the timer's physical interrupt masked) whose guest ends the interrupt,
/// arms its timer again and waits in WFI with no exit in between: the
/// halt exit unmasks the idle line, or the timer could never wake it.
#[test]
fn a_halt_unmasks_the_timer_interrupt_the_guest_rearmed() {
    let vm = vm_with(CONFIG);
    enable_private(&vm, 0);
    set_timer_level(true);
    script([hypercall()]);
    vm.run_vcpu(0, None).unwrap();
    assert_eq!(lrs(&vm, 0), [(27, lr::STATE_PENDING)]);
    unmasks();
    fn end_rearm_and_wait(l: &mut ListRegs) {
        for v in l.lr.iter_mut() {
            *v &= !lr::STATE_MASK;
        }
        set_timer_level(false);
    }
    set_guest(Some(end_rearm_and_wait));
    script([AxVCpuExitReason::Halt]);
    assert_eq!(vm.run_vcpu(0, None), Ok(AxVCpuExitReason::Halt));
    set_guest(None);
    assert!(!vm.vcpu_has_pending_irq(0));
    assert_eq!(unmasks(), [27], "the idle timer line is unmasked at the halt");
}

/// A halt with the timer line still high leaves its interrupt masked (it
/// would fire again at once) and delivers it instead.
#[test]
fn a_halt_with_the_timer_line_high_delivers_it_and_keeps_it_masked() {
    let vm = vm_with(CONFIG);
    enable_private(&vm, 0);
    set_timer_level(true);
    script([AxVCpuExitReason::Halt]);
    unmasks();
    assert_eq!(vm.run_vcpu(0, None), Ok(AxVCpuExitReason::Halt));
    assert!(vm.vcpu_has_pending_irq(0), "the WFI ends at once");
    assert_eq!(unmasks(), [], "a high line stays masked");
}

#[test]
fn a_disabled_timer_interrupt_stays_pending_in_the_model() {
    let vm = vm_with(CONFIG);
    write(&vm, DEFAULT_GICD_BASE + GICD_CTLR, ENABLE_GRP1);
    set_timer_level(true);
    script([hypercall()]);
    vm.run_vcpu(0, None).unwrap();
    assert_eq!(lrs(&vm, 0), [], "PPI 27 is not enabled");
    assert!(!vm.vcpu_has_pending_irq(0));
    let ispendr0 = read(&vm, DEFAULT_GICR_BASE + SGI_BASE + 0x200);
    assert_ne!(ispendr0 & (1 << 27), 0, "the guest sees it pending");
}

#[test]
fn interrupts_of_the_guests_own_devices_reenter_the_guest() {
    let vm = vm_with(CONFIG);
    script([
        AxVCpuExitReason::ExternalInterrupt { vector: 27 },
        AxVCpuExitReason::ExternalInterrupt { vector: 25 },
        hypercall(),
    ]);
    assert_eq!(vm.run_vcpu(0, None), Ok(hypercall()));
    script([AxVCpuExitReason::ExternalInterrupt { vector: 26 }]);
    assert_eq!(
        vm.run_vcpu(0, None),
        Ok(AxVCpuExitReason::ExternalInterrupt { vector: 26 }),
        "the host's own timer goes to the host"
    );
}

#[test]
fn console_input_raises_the_uart_interrupt_at_the_routed_vcpu() {
    let config = CONFIG.replace(
        r#"type = "pl011", gpa = 0x0900_0000, size = 0x1000 }"#,
        r#"type = "pl011", gpa = 0x0900_0000, size = 0x1000, irq = 33 }"#,
    );
    let vm = vm_with(&config);
    write(&vm, DEFAULT_GICD_BASE + GICD_CTLR, ENABLE_GRP1);
    write(&vm, DEFAULT_GICD_BASE + GICD_IGROUPR1, 0xffff_ffff);
    write(&vm, DEFAULT_GICD_BASE + GICD_ISENABLER1, 1 << 1);
    // Route SPI 33 to vCPU 1 (GICD_IROUTER<33>, Aff0 = 1).
    vm.devices()
        .handle_mmio_write(
            GuestPhysAddr::from(DEFAULT_GICD_BASE + 0x6000 + 8 * 33),
            AccessWidth::Qword,
            1,
        )
        .unwrap();
    // UARTIMSC: RX and RT interrupts on.
    write(&vm, 0x0900_0038, (1 << 4) | (1 << 6));
    let uart = vm.devices().pl011s()[0].clone();
    assert!(uart.push_rx(b'x'));
    vm.deliver_pending_irqs();
    assert_eq!(kicks(), [(3, 1)]);
    assert!(vm.vcpu_has_pending_irq(1));
    assert!(!vm.vcpu_has_pending_irq(0));
}

#[test]
fn a_vm_without_interrupts_has_no_gic() {
    let config = CONFIG.replace("[devices]\n", "[devices]\ninterrupt_mode = \"no_irq\"\n");
    let vm = vm_with(&config);
    assert!(vm.vgic().is_none());
    assert!(
        vm.devices()
            .handle_mmio_read(GuestPhysAddr::from(DEFAULT_GICD_BASE), AccessWidth::Dword)
            .is_err()
    );
}

#[test]
fn a_saved_timer_deadline_is_only_reported_for_an_unloaded_vcpu() {
    let vm = vm_with(CONFIG);
    set_saved_deadline(Some(12_345));
    assert_eq!(
        vm.vcpu_timer_deadlines(0),
        [Some(12_345), None],
        "never bound: its timers are saved"
    );
    script([hypercall()]);
    vm.run_vcpu(0, None).unwrap();
    assert_eq!(
        vm.vcpu_timer_deadlines(0),
        [None, None],
        "bound: its timer raises its own interrupt"
    );
    vm.vcpu(0).unwrap().lock().unbind().unwrap();
    assert_eq!(vm.vcpu_timer_deadlines(0), [Some(12_345), None]);
    assert_eq!(vm.vcpu_timer_deadlines(7), [None, None], "no such vCPU");
}

fn gicd_ctlr_read() -> AxVCpuExitReason {
    AxVCpuExitReason::MmioRead {
        addr: GuestPhysAddr::from(DEFAULT_GICD_BASE + GICD_CTLR),
        width: AccessWidth::Dword,
        reg: 1,
        reg_width: AccessWidth::Qword,
        signed_ext: false,
    }
}

#[test]
fn an_interrupt_a_device_access_made_pending_is_flushed_at_the_next_entry() {
    let vm = vm_with(CONFIG);
    enable_private(&vm, 0);
    // Nothing pending at the first device access (the entry after it may
    // be a quick one); the second makes SGI 3 pending (GICR_ISPENDR0).
    script([
        gicd_ctlr_read(),
        AxVCpuExitReason::MmioWrite {
            addr: GuestPhysAddr::from(DEFAULT_GICR_BASE + SGI_BASE + 0x200),
            width: AccessWidth::Dword,
            data: 1 << 3,
        },
        hypercall(),
    ]);
    assert_eq!(vm.run_vcpu(0, None), Ok(hypercall()));
    assert_eq!(lrs(&vm, 0), [(3, lr::STATE_PENDING)], "flushed after the write");
}

#[test]
fn a_timer_line_that_rose_is_sampled_at_the_interrupt_exit_after_device_accesses() {
    let vm = vm_with(CONFIG);
    enable_private(&vm, 0);
    fn rise(_: &mut ListRegs) {
        set_timer_level(true);
    }
    // Sampled low at the first entry; the line rises while the guest runs;
    // two device accesses, then the timer's physical interrupt.
    set_guest(Some(rise));
    script([
        gicd_ctlr_read(),
        gicd_ctlr_read(),
        AxVCpuExitReason::ExternalInterrupt { vector: 27 },
        hypercall(),
    ]);
    assert_eq!(vm.run_vcpu(0, None), Ok(hypercall()));
    set_guest(None);
    assert_eq!(lrs(&vm, 0), [(27, lr::STATE_PENDING)]);
}

#[test]
fn a_timer_line_seen_high_is_sampled_after_every_device_access() {
    let vm = vm_with(CONFIG);
    write(&vm, DEFAULT_GICD_BASE + GICD_CTLR, ENABLE_GRP1);
    // High with PPI 27 disabled: nothing for the vCPU in the model, but
    // the line's physical interrupt stays masked until it is seen low.
    set_timer_level(true);
    script([hypercall()]);
    vm.run_vcpu(0, None).unwrap();
    assert!(!vm.vcpu_has_pending_irq(0));
    unmasks();
    fn fall(_: &mut ListRegs) {
        set_timer_level(false);
    }
    set_guest(Some(fall));
    script([gicd_ctlr_read(), hypercall()]);
    assert_eq!(vm.run_vcpu(0, None), Ok(hypercall()));
    set_guest(None);
    assert!(
        unmasks().contains(&27),
        "the line went low during the access exit: its interrupt is unmasked at the entry after it"
    );
}

/// A host interrupt (here the host's wake-up SGI 1) ends the guest run; the
/// caller's `on_interrupt` decides, inside the VM's loop, whether the vCPU
/// goes on. A guest-owned interrupt (its timer, PPI 27) never asks.
#[test]
fn the_caller_decides_whether_a_run_a_host_interrupt_ended_goes_on() {
    let vm = vm_with(CONFIG);
    let host_irq = || AxVCpuExitReason::ExternalInterrupt { vector: 1 };
    let mut asked = 0;
    script([
        host_irq(),
        AxVCpuExitReason::ExternalInterrupt { vector: 27 },
        host_irq(),
        hypercall(),
    ]);
    let ended = vm.run_vcpu_with(0, None, &mut || {
        asked += 1;
        true
    });
    assert_eq!(ended, Ok(hypercall()), "went on past both host interrupts");
    assert_eq!(asked, 2);
    script([host_irq(), hypercall()]);
    let ended = vm.run_vcpu_with(0, None, &mut || {
        asked += 1;
        false
    });
    assert_eq!(ended, Ok(host_irq()), "returned at the first");
    assert_eq!(asked, 3);
    assert_eq!(vm.run_vcpu(0, None), Ok(hypercall()), "the rest of the script");
}
