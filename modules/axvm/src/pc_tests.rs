//! The x86 VM's local APIC glue ([`PcIrqs`]) with the scripted vCPU and the
//! tests' host, whose clock stands at tick 0.

use crate::arch_mock::{Event, MockCreateConfig, ScriptedVCpu, take_events};
use crate::pc::PcIrqs;
use crate::tests::{Hal, KICKS};
use axdevice::vlapic::regs;
use axvcpu::{AccessWidth, AxArchVCpu, AxVCpuExitReason, GuestPhysAddr};

const DW: AccessWidth = AccessWidth::Dword;

fn pc(n: usize) -> PcIrqs<Hal> {
    let pc = PcIrqs::<Hal>::new(7, n);
    for v in 0..n {
        // Software-enable every APIC.
        assert_eq!(pc.write(v, regs::SVR, DW, 0x1ff), None);
    }
    KICKS.with(|k| k.borrow_mut().clear());
    pc
}

fn vcpu() -> ScriptedVCpu<crate::tests::VHal> {
    ScriptedVCpu::new(7, 0, MockCreateConfig { x0: 0 }).unwrap()
}

#[test]
fn the_apic_page_is_0xfee00000() {
    assert_eq!(
        PcIrqs::<Hal>::lapic_offset(GuestPhysAddr::from(0xfee0_0020)),
        Some(0x20)
    );
    assert_eq!(PcIrqs::<Hal>::lapic_offset(GuestPhysAddr::from(0xfee0_1000)), None);
    assert_eq!(PcIrqs::<Hal>::lapic_offset(GuestPhysAddr::from(0xfedf_ffff)), None);
}

#[test]
fn each_vcpu_reads_its_own_id() {
    let pc = pc(3);
    assert_eq!(pc.read(0, regs::ID, DW), 0);
    assert_eq!(pc.read(2, regs::ID, DW), 2 << 24);
    // A vCPU the VM does not have reads all ones.
    assert_eq!(pc.read(9, regs::ID, DW), u64::MAX);
}

#[test]
fn a_fixed_ipi_is_injected_into_its_target_and_kicks_it() {
    let pc = pc(2);
    pc.write(0, regs::ICR_HIGH, DW, 1 << 24);
    assert_eq!(pc.write(0, regs::ICR_LOW, DW, 0x41), None);
    assert_eq!(KICKS.with(|k| k.borrow().clone()), vec![(7, 1)]);
    assert!(pc.has_pending(1));
    assert!(!pc.has_pending(0));
    let mut v = vcpu();
    take_events();
    pc.before_entry(1, &mut v);
    assert_eq!(take_events(), vec![Event::Irq(0x41)]);
    // Queued and not yet acknowledged: a halt goes back to the guest once.
    assert!(pc.halt_is_over(1));
    assert!(!pc.halt_is_over(1));
    // A self-IPI of the same priority class waits for the EOI; the EOI
    // clears the note, and the halt ends for the next interrupt.
    pc.write(1, regs::ICR_LOW, DW, (1 << 18) | 0x42);
    pc.before_entry(1, &mut v);
    assert_eq!(take_events(), vec![]);
    pc.write(1, regs::EOI, DW, 0);
    assert!(pc.halt_is_over(1));
    pc.before_entry(1, &mut v);
    assert_eq!(take_events(), vec![Event::Irq(0x42)]);
    pc.write(1, regs::EOI, DW, 0);
    assert!(!pc.halt_is_over(1));
}

#[test]
fn startup_becomes_cpu_up_for_each_target() {
    let pc = pc(3);
    pc.write(0, regs::ICR_HIGH, DW, 1 << 24);
    assert_eq!(pc.write(0, regs::ICR_LOW, DW, 0x4500), None); // INIT
    let up = |cpu: u64| AxVCpuExitReason::CpuUp {
        target_cpu: cpu,
        entry_point: GuestPhysAddr::from(0x9_f000),
        arg: 0,
    };
    assert_eq!(pc.write(0, regs::ICR_LOW, DW, 0x069f), Some(up(1)));
    assert_eq!(pc.take_pending_exit(0), None);
    // All but self: vCPU 1 now, vCPU 2 on the sender's next run.
    assert_eq!(pc.write(0, regs::ICR_LOW, DW, (3 << 18) | 0x069f), Some(up(1)));
    assert_eq!(pc.take_pending_exit(1), None);
    assert_eq!(pc.take_pending_exit(0), Some(up(2)));
    assert_eq!(pc.take_pending_exit(0), None);
}
