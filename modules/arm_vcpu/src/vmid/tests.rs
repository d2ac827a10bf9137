use super::*;

#[test]
fn vm_1_and_vm_257_get_different_vmids() {
    let mut a = VmidAllocator::new(8);
    let v1 = a.acquire(1).expect("vmid for VM 1");
    let v257 = a.acquire(257).expect("vmid for VM 257");
    assert_ne!(v1, v257);
    // 257 & 0xff == 1: the old rule gave both VMID 1.
    assert_ne!(v1, 0);
    assert_ne!(v257, 0);
}

#[test]
fn every_vcpu_of_a_vm_shares_its_vmid() {
    let mut a = VmidAllocator::new(8);
    let first = a.acquire(7);
    assert_eq!(a.acquire(7), first);
    assert_eq!(a.acquire(7), first);
    assert_eq!(a.in_use(), 1);
    assert_eq!(a.release(7), Released::StillHeld);
    assert_eq!(a.release(7), Released::StillHeld);
    assert_eq!(a.release(7), Released::Freed(first.expect("held")));
    assert_eq!(a.in_use(), 0);
    assert_eq!(a.release(7), Released::NotHeld);
}

#[test]
fn eight_bit_vmids_run_out_after_255_vms_and_come_back_when_freed() {
    let mut a = VmidAllocator::new(8);
    assert_eq!(a.capacity(), 255);
    let mut seen = std::collections::BTreeSet::new();
    for vm in 0..255 {
        let v = a.acquire(vm).expect("a free vmid");
        assert_ne!(v, 0, "VMID 0 is reserved");
        assert!(seen.insert(v), "VMID {v} given twice");
    }
    assert_eq!(a.acquire(1000), None, "256th VM");
    // A VM that already holds one still gets it for another vCPU.
    assert_eq!(a.acquire(3), a.vmid_of(3));
    assert_eq!(a.release(3), Released::StillHeld);
    let freed = a.release(3);
    let Released::Freed(v) = freed else { panic!("{freed:?}") };
    assert_eq!(a.acquire(1000), Some(v), "the freed VMID is reused");
    assert_eq!(a.acquire(1001), None);
}

#[test]
fn sixteen_bit_vmids() {
    let mut a = VmidAllocator::new(16);
    assert_eq!(a.capacity(), 65535);
    for vm in 0..65535 {
        assert!(a.acquire(vm).is_some(), "VM {vm}");
    }
    assert_eq!(a.acquire(65535), None);
    // Any width other than 16 is the 8-bit minimum.
    assert_eq!(VmidAllocator::new(12).capacity(), 255);
}

#[test]
fn freed_vmids_are_reused_late() {
    let mut a = VmidAllocator::new(8);
    let v1 = a.acquire(1).expect("vmid");
    assert_eq!(a.release(1), Released::Freed(v1));
    let v2 = a.acquire(2).expect("vmid");
    assert_ne!(v1, v2, "round robin: the VMID just freed is not the next one given");
}

#[test]
fn a_restarted_vm_does_not_share_the_vmid_of_its_old_boot() {
    let mut a = VmidAllocator::new(8);
    // Boot 1 of some VM, two vCPUs.
    let old = a.acquire(1).expect("vmid");
    assert_eq!(a.acquire(1), Some(old));
    // Restarted: boot 2 is built while boot 1's vCPUs are still alive.
    let new = a.acquire(2).expect("vmid");
    assert_ne!(old, new);
    // Boot 1's vCPUs go: its VMID is freed (and invalidated by the caller).
    assert_eq!(a.release(1), Released::StillHeld);
    assert_eq!(a.release(1), Released::Freed(old));
    assert_eq!(a.vmid_of(2), Some(new));
}
