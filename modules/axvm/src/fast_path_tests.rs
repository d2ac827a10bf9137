//! Host tests of the exits a VM finishes inside the vCPU's loop
//! (`fast_path`), with the scripted vCPU offering its exits as the
//! hardware vCPU does: the guest sees the same as on the slow way, the
//! interrupt controller's registers and a vCPU with interrupt work go the
//! slow way, SGIs notify their targets, and every exit is counted once.

use crate::arch_mock::{Event, script, set_fast, set_timer_level, take_events};
use crate::irq_tests::{enable_private, hypercall, kicks, lrs, sgi_5_to_vcpu_1, vm_with};
use crate::layout::DEFAULT_GICD_BASE;
use crate::tests::{CONFIG, STOP, mmio_read};
use axerrno::AxError;
use axvcpu::virq::lr;
use axvcpu::{AccessWidth, AxVCpuExitReason, FastExit, GuestPhysAddr, LastExitFault, SysRegAddr};
use std::vec::Vec;

const RESUMED: Event = Event::Offered(FastExit::Done { value: 0, resume: true });

/// The test device's reads and writes, one that nothing answers, and a
/// system register nobody models.
fn accesses() -> Vec<AxVCpuExitReason> {
    std::vec![
        mmio_read(0x0a00_0010, AccessWidth::Byte, 6, true, AccessWidth::Qword),
        AxVCpuExitReason::MmioWrite {
            addr: GuestPhysAddr::from(0x0a00_0008),
            width: AccessWidth::Dword,
            data: 0x1234_5678,
        },
        mmio_read(0x0a00_0008, AccessWidth::Word, 7, false, AccessWidth::Dword),
        mmio_read(0x2000_0000, AccessWidth::Dword, 1, false, AccessWidth::Dword),
        AxVCpuExitReason::SysRegRead {
            addr: SysRegAddr::new(0x3a_3016),
            reg: 2,
        },
        STOP,
    ]
}

/// A byte read of the test device (0x80 into x6), then a stop.
fn test_device_read_then_stop() -> [AxVCpuExitReason; 2] {
    [
        mmio_read(0x0a00_0010, AccessWidth::Byte, 6, false, AccessWidth::Qword),
        STOP,
    ]
}

/// What the guest saw of [`accesses`]: register writes and faults.
fn guest_view(events: Vec<Event>) -> Vec<Event> {
    events.into_iter().filter(|e| !matches!(e, Event::Offered(_))).collect()
}

#[test]
fn the_guest_sees_the_same_on_the_fast_path() {
    let mut seen = Vec::new();
    for fast in [false, true] {
        let vm = vm_with(CONFIG);
        set_fast(fast);
        script(accesses());
        let result = vm.run_vcpu(0, None);
        set_fast(false);
        assert_eq!(
            result,
            Ok(STOP),
            "fast {fast}: finished accesses do not reach the caller"
        );
        let events = take_events();
        if fast {
            assert!(
                events
                    .iter()
                    .filter(|e| matches!(e, Event::Offered(FastExit::Done { resume: true, .. })))
                    .count()
                    == 3,
                "the device accesses were finished in the loop: {events:?}"
            );
            assert_eq!(
                events.iter().filter(|e| **e == Event::Offered(FastExit::Slow)).count(),
                2,
                "what nothing takes goes the slow way: {events:?}"
            );
            assert_eq!(vm.exits(), 6, "every exit counted once");
        }
        seen.push(guest_view(events));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(
        seen[1],
        [
            Event::Gpr(6, 0xffff_ffff_ffff_ff80),
            Event::Gpr(7, 0x5678),
            Event::Fault(LastExitFault::Access),
            Event::Fault(LastExitFault::Undefined),
        ]
    );
}

#[test]
fn interrupt_controller_accesses_go_the_slow_way() {
    let vm = vm_with(CONFIG);
    set_fast(true);
    // GICD_CTLR: the model must see the list registers read back first.
    script([
        mmio_read(DEFAULT_GICD_BASE, AccessWidth::Dword, 3, false, AccessWidth::Dword),
        STOP,
    ]);
    let result = vm.run_vcpu(0, None);
    set_fast(false);
    assert_eq!(result, Ok(STOP));
    let events = take_events();
    assert_eq!(events[0], Event::Offered(FastExit::Slow), "{events:?}");
    assert!(matches!(events[1], Event::Gpr(3, _)), "the VM answered it: {events:?}");
}

#[test]
fn a_vcpu_with_interrupt_work_is_handed_back_for_it() {
    let vm = vm_with(CONFIG);
    enable_private(&vm, 0);
    // vCPU 1 sends SGI 3 to vCPU 0 meanwhile: the model has work for it.
    vm.vgic().unwrap().send_sgi(1, (3 << 24) | 0b1);
    kicks();
    set_fast(true);
    script(test_device_read_then_stop());
    let result = vm.run_vcpu(0, None);
    set_fast(false);
    assert_eq!(result, Ok(STOP), "the handed-back exit is the VM's, not the caller's");
    let events = take_events();
    assert_eq!(
        events[..2],
        [
            Event::Offered(FastExit::Done {
                value: 0x80,
                resume: false
            }),
            Event::Gpr(6, 0x80)
        ]
    );
    assert_eq!(lrs(&vm, 0), [(3, lr::STATE_PENDING)], "filled before the next entry");
    assert_eq!(vm.exits(), 2);
}

#[test]
fn a_high_timer_line_hands_the_exit_back() {
    let vm = vm_with(CONFIG);
    enable_private(&vm, 0);
    // The first entry samples the line high.
    set_timer_level(true);
    set_fast(true);
    script(test_device_read_then_stop());
    let result = vm.run_vcpu(0, None);
    set_fast(false);
    set_timer_level(false);
    assert_eq!(result, Ok(STOP));
    assert!(matches!(
        take_events()[0],
        Event::Offered(FastExit::Done { resume: false, .. })
    ));
}

#[test]
fn an_sgi_is_sent_from_the_loop_and_its_target_notified() {
    let vm = vm_with(CONFIG);
    enable_private(&vm, 1);
    set_fast(true);
    script([sgi_5_to_vcpu_1(), hypercall()]);
    let result = vm.run_vcpu(0, None);
    set_fast(false);
    assert_eq!(result, Ok(hypercall()));
    assert_eq!(take_events(), [RESUMED], "the sender has no work and runs on");
    assert_eq!(kicks(), [(3, 1)], "vCPU 1 is notified, not the sender");
    assert!(vm.vcpu_has_pending_irq(1));
}

#[test]
fn the_fast_path_leaves_a_guest_that_cannot_take_its_fault_to_the_vm() {
    let vm = vm_with(CONFIG);
    vm.vcpu(0).unwrap().lock().get_arch_vcpu().refuse_faults = true;
    set_fast(true);
    script([mmio_read(0x2000_0000, AccessWidth::Dword, 1, false, AccessWidth::Dword)]);
    let result = vm.run_vcpu(0, None);
    set_fast(false);
    assert_eq!(
        result,
        Err(AxError::BadState),
        "as on the slow way: the caller stops the VM"
    );
    assert_eq!(take_events(), [Event::Offered(FastExit::Slow)]);
}

#[test]
fn a_kick_for_the_vcpu_itself_is_reported_not_dropped() {
    let vm = vm_with(CONFIG);
    enable_private(&vm, 0);
    // vCPU 1 sends SGI 3 to vCPU 0: the model notes work and a kick for it.
    vm.vgic().unwrap().send_sgi(1, (3 << 24) | 0b1);
    let irqs = vm.irqs_for_tests();
    assert!(irqs.deliver_kicks(Some(0)), "its own kick is reported to the caller");
    assert!(kicks().is_empty(), "and nobody else was notified");
    assert!(!irqs.deliver_kicks(Some(0)), "taken once");
}
