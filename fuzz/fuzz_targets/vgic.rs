//! The virtual GICv3 under a stream of guest register accesses (any offset
//! and width in the distributor and redistributor frames), device lines,
//! SGIs, and list-register round trips in which the "guest" changes the
//! list registers arbitrarily.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use axdevice::{Vgic, VgicLayout};
use axvcpu::{GuestPhysAddr, ListRegs, MAX_LIST_REGS};
use hv_fuzz::{offset, span, width};
use libfuzzer_sys::fuzz_target;

const GICD: usize = 0x0800_0000;
const GICR: usize = 0x080A_0000;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let nr_vcpus = u.int_in_range(1..=4usize).unwrap_or(1);
    let nr_spis = match u.int_in_range(0..=2u8).unwrap_or(0) {
        0 => 32,
        1 => 64,
        _ => 988,
    };
    let layout = VgicLayout {
        gicd_base: GuestPhysAddr::from(GICD),
        gicr_base: GuestPhysAddr::from(GICR),
        nr_vcpus,
        nr_spis,
    };
    let Ok(vgic) = Vgic::new(layout) else { return };
    let gicd = vgic.distributor();
    let gicr = vgic.redistributors();
    let gicd_size = span(gicd.as_ref());
    let gicr_size = span(gicr.as_ref());
    let mut lrs = [ListRegs::default(); 4];
    for l in lrs.iter_mut() {
        l.count = 4;
    }
    while !u.is_empty() {
        let vcpu = u.int_in_range(0..=nr_vcpus - 1).unwrap_or(0);
        let intid = u.int_in_range(0..=1100u32).unwrap_or(0);
        match u.int_in_range(0..=10u8).unwrap_or(0) {
            0 => {
                let _ = gicd.handle_read(offset(&mut u, gicd_size), width(&mut u));
            }
            1 => {
                let (off, w) = (offset(&mut u, gicd_size), width(&mut u));
                let _ = gicd.handle_write(off, w, u64::arbitrary(&mut u).unwrap_or(0));
            }
            2 => {
                let _ = gicr.handle_read(offset(&mut u, gicr_size), width(&mut u));
            }
            3 => {
                let (off, w) = (offset(&mut u, gicr_size), width(&mut u));
                let _ = gicr.handle_write(off, w, u64::arbitrary(&mut u).unwrap_or(0));
            }
            4 => vgic.set_level(vcpu, intid, bool::arbitrary(&mut u).unwrap_or(true)),
            5 => vgic.set_pending(vcpu, intid),
            6 => vgic.send_sgi(vcpu, u64::arbitrary(&mut u).unwrap_or(0)),
            7 => {
                let Some(l) = lrs.get_mut(vcpu) else { continue };
                vgic.flush_lrs(vcpu, l);
                // The guest acknowledges, ends or leaves each interrupt, or
                // the registers come back as anything at all.
                for i in 0..MAX_LIST_REGS {
                    if let Some(lr) = l.lr.get_mut(i) {
                        *lr = match u.int_in_range(0..=3u8).unwrap_or(0) {
                            0 => *lr,
                            1 => 0,
                            2 => (*lr & !(3 << 62)) | (2 << 62),
                            _ => u64::arbitrary(&mut u).unwrap_or(0),
                        };
                    }
                }
                vgic.sync_lrs(vcpu, l);
            }
            8 => vgic.set_forwarded(intid, bool::arbitrary(&mut u).unwrap_or(false)),
            9 => vgic.set_hw_linked(intid, bool::arbitrary(&mut u).unwrap_or(false)),
            _ => {
                let _ = vgic.has_deliverable(vcpu);
                let _ = vgic.take_kicks();
                let mut out = [0u32; 8];
                let _ = vgic.take_unmasks(&mut out);
            }
        }
    }
});
