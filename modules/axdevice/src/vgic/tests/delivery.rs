//! Delivery through the list registers: flush, sync, kicks, SGIs and
//! forwarded SPIs.

use super::*;

#[test]
fn level_spi_from_a_sink_is_delivered_and_resampled_on_deactivation() {
    let g = Gic::new(2, 64);
    g.setup_spi(40, 0xA0);
    let sink: Arc<dyn IrqSink> = g.vgic.clone();
    sink.set_level(40, true);
    assert_eq!(g.vgic.take_kicks(), 0b1, "routed to vCPU 0 after reset");
    assert_eq!(g.vgic.take_kicks(), 0, "taken");
    let mut lrs = list_regs(4);
    lrs.lr[3] = 0xdead;
    g.flush(0, &mut lrs);
    let v = lrs.lr[0];
    assert_eq!(intid_of(v), 40);
    assert_eq!(state_of(v), lr::STATE_PENDING);
    assert_ne!(v & lr::EOI, 0, "level-sensitive: EOI maintenance");
    assert_eq!(priority_of(v), 0xA0);
    assert_ne!(v & lr::GROUP1, 0);
    assert_eq!(v & lr::HW, 0);
    assert_eq!(lrs.lr[1..], [0; 15]);
    assert!(!lrs.underflow_exit);

    // The guest acknowledges it.
    ack(&mut lrs, 0);
    g.sync(0, &lrs);
    assert!(g.spi_bit(irq::ISACTIVER, 40));
    assert!(g.spi_bit(irq::ICACTIVER, 40));
    assert!(!g.spi_bit(irq::ISPENDR, 40));
    assert!(!g.vgic.has_deliverable(0));
    g.flush(0, &mut lrs);
    assert_eq!(state_of(lrs.lr[0]), lr::STATE_ACTIVE, "stays in its LR while active");

    // It deactivates it with the line still high: pending again.
    deactivate(&mut lrs, 0);
    g.sync(0, &lrs);
    assert!(!g.spi_bit(irq::ISACTIVER, 40));
    assert!(g.spi_bit(irq::ISPENDR, 40));
    g.flush(0, &mut lrs);
    assert_eq!(intid_of(lrs.lr[0]), 40);
    assert_eq!(state_of(lrs.lr[0]), lr::STATE_PENDING);

    // With the line low by the time it deactivates, it is not.
    ack(&mut lrs, 0);
    g.sync(0, &lrs);
    sink.set_level(40, false);
    g.flush(0, &mut lrs);
    deactivate(&mut lrs, 0);
    g.sync(0, &lrs);
    g.flush(0, &mut lrs);
    assert!(held(&lrs).is_empty());
    assert!(!g.spi_bit(irq::ISPENDR, 40));
    let work = g.vgic.work.load(core::sync::atomic::Ordering::Relaxed);
    assert_eq!(work & 1, 0, "vCPU 0 has nothing left to do");
}

#[test]
fn a_line_that_drops_before_the_ack_withdraws_the_interrupt() {
    let g = Gic::new(1, 64);
    g.setup_spi(40, 0);
    g.vgic.set_level(0, 40, true);
    let mut lrs = list_regs(4);
    g.flush(0, &mut lrs);
    g.sync(0, &lrs); // The guest did not take it yet.
    g.vgic.set_level(0, 40, false);
    g.flush(0, &mut lrs);
    assert!(held(&lrs).is_empty());
}

#[test]
fn ppi_levels_are_per_vcpu() {
    let g = Gic::new(2, 32);
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP1);
    g.ws(1, irq::IGROUPR, u32::MAX);
    g.ws(1, irq::ISENABLER, 1 << 27);
    g.vgic.set_level(1, 27, true);
    assert_eq!(g.vgic.take_kicks(), 0b10);
    assert!(g.vgic.has_deliverable(1));
    assert!(!g.vgic.has_deliverable(0));
    let mut lrs = list_regs(4);
    g.flush(1, &mut lrs);
    assert_eq!(held(&lrs), [27]);
    assert_ne!(lrs.lr[0] & lr::EOI, 0);
    assert_eq!(g.rs(1, irq::ISPENDR), 1 << 27);
    // SGIs have no line.
    g.vgic.set_level(1, 3, true);
    assert_eq!(g.rs(1, irq::ISPENDR), 1 << 27);
}

#[test]
fn disabled_interrupts_stay_pending_until_enabled() {
    let g = Gic::new(1, 64);
    g.setup_spi(40, 0x10);
    g.wd(word(irq::ICENABLER, 40), bit(40));
    g.vgic.take_kicks();
    g.vgic.set_pending(0, 40);
    assert_eq!(g.vgic.take_kicks(), 0, "not deliverable");
    assert!(!g.vgic.has_deliverable(0));
    let mut lrs = list_regs(4);
    g.flush(0, &mut lrs);
    assert!(held(&lrs).is_empty());
    assert!(g.spi_bit(irq::ISPENDR, 40));
    g.set_spi_bit(irq::ISENABLER, 40);
    assert_eq!(g.vgic.take_kicks(), 0b1);
    assert!(g.vgic.has_deliverable(0));
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [40]);
}

#[test]
fn more_pending_than_list_registers_loses_nothing() {
    let g = Gic::new(1, 64);
    // Six edge SPIs; priority decides, ties by INTID.
    let prios = [(40, 0x50), (41, 0x10), (42, 0x30), (43, 0x10), (44, 0x60), (45, 0x20)];
    for (intid, prio) in prios {
        g.setup_spi(intid, prio);
        g.vgic.set_pending(0, intid);
    }
    let mut lrs = list_regs(4);
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [41, 43, 45, 42]);
    assert!(lrs.underflow_exit);
    // The guest handles all four.
    for slot in 0..4 {
        deactivate(&mut lrs, slot);
    }
    g.sync(0, &lrs);
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [40, 44]);
    assert!(!lrs.underflow_exit);
    deactivate(&mut lrs, 0);
    deactivate(&mut lrs, 1);
    g.sync(0, &lrs);
    g.flush(0, &mut lrs);
    assert!(held(&lrs).is_empty());
}

#[test]
fn active_interrupts_keep_their_list_registers() {
    let g = Gic::new(1, 64);
    for intid in 40..46 {
        g.setup_spi(intid, 0x80);
    }
    g.vgic.set_pending(0, 45);
    let mut lrs = list_regs(2);
    g.flush(0, &mut lrs);
    ack(&mut lrs, 0);
    g.sync(0, &lrs);
    // Five more urgent ones arrive; 45 stays (active), one more fits.
    g.wd(irq::IPRIORITYR + 40, 0);
    for intid in 40..45 {
        g.vgic.set_pending(0, intid);
    }
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [45, 40]);
    assert_eq!(state_of(lrs.lr[0]), lr::STATE_ACTIVE);
    assert!(lrs.underflow_exit);
    // A second edge while active: pending and active in the same LR.
    g.vgic.set_pending(0, 45);
    g.sync(0, &lrs);
    g.flush(0, &mut lrs);
    assert_eq!(state_of(lrs.lr[0]), lr::STATE_ACTIVE | lr::STATE_PENDING);
}

#[test]
fn an_edge_during_the_run_is_not_lost() {
    let g = Gic::new(1, 64);
    g.setup_spi(40, 0);
    g.vgic.set_pending(0, 40);
    let mut lrs = list_regs(4);
    g.flush(0, &mut lrs);
    // The guest takes it while another edge arrives.
    g.vgic.set_pending(0, 40);
    ack(&mut lrs, 0);
    g.sync(0, &lrs);
    assert!(g.spi_bit(irq::ISPENDR, 40));
    assert!(g.spi_bit(irq::ISACTIVER, 40));
    g.flush(0, &mut lrs);
    assert_eq!(state_of(lrs.lr[0]), lr::STATE_ACTIVE | lr::STATE_PENDING);
    // The guest deactivates the first: the second stays pending. A flush
    // without a sync in between folds first.
    lrs.lr[0] = (lrs.lr[0] & !lr::STATE_MASK) | lr::STATE_PENDING;
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [40]);
    assert_eq!(state_of(lrs.lr[0]), lr::STATE_PENDING);
}

#[test]
fn icactiver_and_icpendr_remove_the_state_from_the_list_registers() {
    let g = Gic::new(1, 64);
    g.setup_spi(40, 0);
    g.setup_spi(41, 0);
    g.vgic.set_pending(0, 40);
    g.vgic.set_pending(0, 41);
    let mut lrs = list_regs(4);
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [40, 41]);
    ack(&mut lrs, 0);
    g.sync(0, &lrs);
    g.wd(word(irq::ICACTIVER, 40), bit(40));
    g.wd(word(irq::ICPENDR, 41), bit(41));
    assert!(!g.spi_bit(irq::ISACTIVER, 40));
    assert!(!g.spi_bit(irq::ISPENDR, 41));
    g.flush(0, &mut lrs);
    assert!(held(&lrs).is_empty());
    // ISACTIVER puts an interrupt into an LR as active.
    g.set_spi_bit(irq::ISACTIVER, 41);
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [41]);
    assert_eq!(state_of(lrs.lr[0]), lr::STATE_ACTIVE);
    // Private interrupts through the redistributor too.
    g.ws(0, irq::IGROUPR, u32::MAX);
    g.ws(0, irq::ISENABLER, 1 << 5);
    g.ws(0, irq::ISPENDR, 1 << 5);
    g.sync(0, &lrs);
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [41, 5]);
    g.sync(0, &lrs);
    g.ws(0, irq::ICPENDR, 1 << 5);
    assert_eq!(g.rs(0, irq::ISPENDR), 0);
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [41]);
}

#[test]
fn sgis_reach_their_targets() {
    let g = Gic::new(4, 32);
    let sgi = |intid: u64, list: u64| (intid << 24) | list;
    // Target list {1, 2}, SGI 5, from vCPU 0.
    g.vgic.send_sgi(0, sgi(5, 0b110));
    let pending: Vec<u32> = (0..4).map(|v| g.rs(v, irq::ISPENDR)).collect();
    assert_eq!(pending, [0, 1 << 5, 1 << 5, 0]);
    // IRM: everyone but the sender.
    g.vgic.send_sgi(2, sgi(7, 0) | (1 << 40));
    let pending: Vec<u32> = (0..4).map(|v| g.rs(v, irq::ISPENDR) & (1 << 7)).collect();
    assert_eq!(pending, [1 << 7, 1 << 7, 0, 1 << 7]);
    // Targets that do not exist: Aff0 4..15, Aff1 = 1, RS = 1, Aff2, Aff3.
    let before: Vec<u32> = (0..4).map(|v| g.rs(v, irq::ISPENDR)).collect();
    g.vgic.send_sgi(0, sgi(9, 0xFFF0));
    g.vgic.send_sgi(0, sgi(9, 0b1) | (1 << 16));
    g.vgic.send_sgi(0, sgi(9, 0b1) | (1 << 44));
    g.vgic.send_sgi(0, sgi(9, 0b1) | (1 << 32));
    g.vgic.send_sgi(0, sgi(9, 0b1) | (1 << 48));
    let after: Vec<u32> = (0..4).map(|v| g.rs(v, irq::ISPENDR)).collect();
    assert_eq!(before, after);
    // INTID is bits [27:24] only.
    g.vgic.send_sgi(0, sgi(15, 0b1000) | (0xF << 28));
    assert_eq!(g.rs(3, irq::ISPENDR) & 0xFF00, 1 << 15);
    // Delivered as an edge without EOI maintenance.
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP1);
    g.ws(3, irq::IGROUPR, u32::MAX);
    g.ws(3, irq::ISENABLER, 1 << 15);
    assert_eq!(g.vgic.take_kicks(), 0b1000);
    let mut lrs = list_regs(4);
    g.flush(3, &mut lrs);
    assert_eq!(held(&lrs), [15]);
    assert_eq!(lrs.lr[0] & lr::EOI, 0);
}

/// The vCPUs whose SGI `intid` is pending (bit `i` for vCPU `i`).
fn sgi_pending(g: &Gic, nr_vcpus: usize, intid: u64) -> u32 {
    (0..nr_vcpus)
        .filter(|&v| g.rs(v, irq::ISPENDR) & (1 << intid) != 0)
        .fold(0, |mask, v| mask | (1 << v))
}

#[test]
fn sgi_target_lists_with_several_bits_ranges_and_irm() {
    let sgi = |intid: u64, list: u64| (intid << 24) | list;
    let irm = 1 << 40;
    let rs = |n: u64| n << 44;
    // (vCPUs, sender, ICC_SGI1R_EL1, the vCPUs it reaches)
    let cases: [(usize, usize, u64, u32); 14] = [
        (16, 0, sgi(1, 0xFFFF), 0xFFFF),
        (16, 3, sgi(2, 0x8001), 0x8001),
        (16, 0, sgi(3, 0b1000_0000_0010_0100), 0b1000_0000_0010_0100),
        (16, 0, sgi(4, 0xFFFF) | rs(1), 0),
        (16, 0, sgi(4, 0xFFFF) | rs(15), 0),
        (16, 15, sgi(5, 0) | irm, 0x7FFF),
        (16, 0, sgi(6, 0x1234) | irm, 0xFFFE),
        (16, 20, sgi(7, 0) | irm, 0xFFFF),
        (3, 1, sgi(8, 0b1111_0000_0000_0101), 0b101),
        (3, 1, sgi(9, 0b111) | (1 << 16), 0),
        (3, 1, sgi(10, 0b111) | (0xFF << 32), 0),
        (3, 1, sgi(11, 0b111) | (1 << 55), 0),
        (1, 0, sgi(12, 0b1) | irm, 0),
        (1, 0, sgi(13, 0xFFFF), 0b1),
    ];
    for (nr_vcpus, sender, sgi1r, reached) in cases {
        let g = Gic::new(nr_vcpus, 32);
        g.vgic.send_sgi(sender, sgi1r);
        let intid = (sgi1r >> 24) & 0xF;
        assert_eq!(
            sgi_pending(&g, nr_vcpus, intid),
            reached,
            "{nr_vcpus} vCPUs, {sgi1r:#x} from {sender}"
        );
    }
}

/// `send_sgi` against the rule it implements, spelled out through
/// `vcpu_of_affinity`, for random values (most with the fields that name
/// vCPUs small, so that many reach some).
#[test]
fn sgi_targets_follow_the_affinity_rule() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for _ in 0..3000 {
        let nr_vcpus = 1 + rng.below(16) as usize;
        let sender = rng.below(18) as usize;
        let mut sgi1r = rng.next();
        for (shift, width) in [(16, 8), (32, 8), (44, 4), (48, 8)] {
            // Aff1, Aff2, RS, Aff3: mostly 0.
            if rng.below(4) != 0 {
                sgi1r &= !(((1u64 << width) - 1) << shift);
            }
        }
        if rng.below(3) != 0 {
            sgi1r &= !(1 << 40);
        }
        let intid = (sgi1r >> 24) & 0xF;
        let expected = if sgi1r & (1 << 40) != 0 {
            (0..nr_vcpus).filter(|&v| v != sender).fold(0, |m, v| m | (1 << v))
        } else {
            let high = (((sgi1r >> 48) & 0xFF) << 32) | (((sgi1r >> 32) & 0xFF) << 16) | (((sgi1r >> 16) & 0xFF) << 8);
            let first = ((sgi1r >> 44) & 0xF) * 16;
            let g = Gic::new(nr_vcpus, 32);
            (0..16)
                .filter(|n| sgi1r & (1 << n) != 0)
                .filter_map(|n| g.vgic.vcpu_of_affinity(high | (first + n)))
                .fold(0, |m, v| m | (1 << v))
        };
        let g = Gic::new(nr_vcpus, 32);
        g.vgic.send_sgi(sender, sgi1r);
        assert_eq!(
            sgi_pending(&g, nr_vcpus, intid),
            expected,
            "{nr_vcpus} vCPUs, {sgi1r:#x} from {sender}"
        );
    }
}

#[test]
fn sgi_to_an_enabled_target_kicks_it() {
    let g = Gic::new(2, 32);
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP0);
    g.ws(1, irq::ISENABLER, 1);
    g.vgic.send_sgi(0, 0b10);
    assert_eq!(g.vgic.take_kicks(), 0b10);
    assert!(g.vgic.has_deliverable(1));
}

#[test]
fn has_deliverable_needs_pending_enabled_group_and_not_active() {
    let g = Gic::new(1, 64);
    assert!(!g.vgic.has_deliverable(0));
    assert!(!g.vgic.has_deliverable(7), "no such vCPU");
    g.vgic.set_pending(0, 40);
    assert!(!g.vgic.has_deliverable(0), "disabled");
    g.set_spi_bit(irq::ISENABLER, 40);
    assert!(!g.vgic.has_deliverable(0), "group 0 disabled");
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP0);
    assert!(g.vgic.has_deliverable(0));
    g.set_spi_bit(irq::ISACTIVER, 40);
    assert!(!g.vgic.has_deliverable(0), "active");
    g.wd(word(irq::ICACTIVER, 40), bit(40));
    assert!(g.vgic.has_deliverable(0));
    // The guest's priority mask does not matter (the model never sees it).
    g.wd(irq::IPRIORITYR + 40, 0xFF);
    assert!(g.vgic.has_deliverable(0));
}

#[test]
fn gicd_ctlr_gates_each_group() {
    let g = Gic::new(1, 64);
    g.set_spi_bit(irq::ISENABLER, 40); // Group 0
    g.wd(word(irq::IGROUPR, 41), bit(41));
    g.set_spi_bit(irq::ISENABLER, 41); // Group 1
    g.vgic.set_pending(0, 40);
    g.vgic.set_pending(0, 41);
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP1);
    assert_eq!(g.vgic.take_kicks(), 0b1);
    let mut lrs = list_regs(4);
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [41]);
    assert_ne!(lrs.lr[0] & lr::GROUP1, 0);
    g.sync(0, &lrs);
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP0 | gicd::CTLR_ENABLE_GRP1);
    assert_eq!(g.vgic.take_kicks(), 0b1, "enabling group 0 kicks");
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [40, 41]);
    assert_eq!(lrs.lr[0] & lr::GROUP1, 0);
    g.sync(0, &lrs);
    g.wd(gicd::CTLR, 0);
    g.flush(0, &mut lrs);
    assert!(held(&lrs).is_empty());
    assert_eq!(g.vgic.take_kicks(), 0, "disabling kicks nobody");
}

#[test]
fn forwarded_spi_is_unmasked_when_the_guest_deactivates_it() {
    let g = Gic::new(1, 64);
    let mut out = [0u32; 4];
    assert_eq!(g.vgic.take_unmasks(&mut out), 0);
    g.setup_spi(50, 0x40);
    g.vgic.set_forwarded(50, true);
    // The host took it, masked it physically, and raises the line.
    g.vgic.set_level(0, 50, true);
    let mut lrs = list_regs(4);
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [50]);
    assert_ne!(lrs.lr[0] & lr::EOI, 0);
    ack(&mut lrs, 0);
    g.sync(0, &lrs);
    assert_eq!(g.vgic.take_unmasks(&mut out), 0, "still active");
    g.flush(0, &mut lrs);
    deactivate(&mut lrs, 0);
    g.sync(0, &lrs);
    assert_eq!(g.vgic.take_unmasks(&mut out), 1);
    assert_eq!(out[0], 50);
    assert_eq!(g.vgic.take_unmasks(&mut out), 0, "taken");
    // The level went low with the deactivation: not pending again.
    assert!(!g.spi_bit(irq::ISPENDR, 50));
    g.flush(0, &mut lrs);
    assert!(held(&lrs).is_empty());

    // Acknowledged and deactivated within one run: pending -> invalid.
    g.vgic.set_level(0, 50, true);
    g.flush(0, &mut lrs);
    deactivate(&mut lrs, 0);
    g.sync(0, &lrs);
    assert_eq!(g.vgic.take_unmasks(&mut out), 1);
    // ICACTIVER ends it too.
    g.vgic.set_level(0, 50, true);
    g.set_spi_bit(irq::ISACTIVER, 50);
    g.wd(word(irq::ICACTIVER, 50), bit(50));
    assert_eq!(g.vgic.take_unmasks(&mut out), 1);
    assert!(!g.spi_bit(irq::ISPENDR, 50));
}

#[test]
fn unmasks_wait_for_room() {
    let g = Gic::new(1, 64);
    for intid in [40, 41, 42] {
        g.vgic.set_forwarded(intid, true);
        g.vgic.set_level(0, intid, true);
        g.wd(word(irq::ICPENDR, intid), bit(intid));
    }
    let mut out = [0u32; 2];
    assert_eq!(g.vgic.take_unmasks(&mut out), 2);
    assert_eq!(out, [40, 41]);
    assert_eq!(g.vgic.take_unmasks(&mut out), 1);
    assert_eq!(out[0], 42);
    assert_eq!(g.vgic.take_unmasks(&mut out), 0);
    // Not forwarded: nothing to unmask.
    g.vgic.set_forwarded(40, false);
    g.vgic.set_level(0, 40, true);
    g.wd(word(irq::ICPENDR, 40), bit(40));
    assert_eq!(g.vgic.take_unmasks(&mut out), 0);
    assert!(g.spi_bit(irq::ISPENDR, 40), "a high line stays pending");
}

#[test]
fn a_vcpu_without_list_registers_or_work_is_left_alone() {
    let g = Gic::new(2, 32);
    let mut lrs = list_regs(0);
    lrs.lr[0] = 7;
    g.vgic.set_pending(0, 40);
    g.flush(0, &mut lrs);
    assert_eq!(lrs.lr[0], 7, "count 0: nothing touched");
    let mut lrs = list_regs(4);
    lrs.lr = [u64::MAX; 16];
    lrs.underflow_exit = true;
    g.flush(1, &mut lrs);
    assert_eq!(lrs.lr[..4], [0; 4]);
    assert_eq!(lrs.lr[4], u64::MAX, "beyond count untouched");
    assert!(!lrs.underflow_exit);
    g.flush(9, &mut lrs);
    g.sync(9, &lrs);
    assert!(!g.vgic.has_deliverable(9));
}

#[test]
fn hw_linked_spi_goes_to_the_physical_gic_without_an_unmask() {
    let g = Gic::new(1, 64);
    let mut out = [0u32; 4];
    g.setup_spi(51, 0x40);
    g.vgic.set_forwarded(51, true);
    g.vgic.set_hw_linked(51, true);
    g.vgic.set_level(0, 51, true);
    let mut lrs = list_regs(4);
    g.flush(0, &mut lrs);
    let v = lrs.lr[0];
    assert_eq!(intid_of(v), 51);
    assert_ne!(v & lr::HW, 0, "linked to the physical interrupt");
    assert_eq!((v >> lr::PINTID_SHIFT) & lr::PINTID_MASK, 51, "pINTID");
    assert_eq!(v & lr::EOI, 0, "no maintenance exit: bit 41 is part of pINTID here");
    ack(&mut lrs, 0);
    g.sync(0, &lrs);
    g.flush(0, &mut lrs);
    deactivate(&mut lrs, 0);
    g.sync(0, &lrs);
    assert_eq!(g.vgic.take_unmasks(&mut out), 0, "the guest deactivated it in hardware");
    assert!(!g.spi_bit(irq::ISPENDR, 51), "the line was lowered");
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), Vec::<u32>::new());
    // Cleared by the guest through the distributor: the host must do it.
    g.vgic.set_level(0, 51, true);
    g.flush(0, &mut lrs);
    ack(&mut lrs, 0);
    g.sync(0, &lrs);
    g.set_spi_bit(irq::ICACTIVER, 51);
    assert_eq!(g.vgic.take_unmasks(&mut out), 1);
    assert_eq!(out[0], 51);
}

#[test]
fn a_local_timer_line_is_linked_and_never_pending_and_active_at_once() {
    let g = Gic::new(2, 32);
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP1);
    g.ws(1, irq::IGROUPR, u32::MAX);
    g.ws(1, irq::ISENABLER, u32::MAX);
    g.vgic.set_local_level(1, 27, true);
    g.vgic.set_local_level(1, 3, true); // an SGI: not a line, ignored
    g.vgic.set_local_level(9, 27, true); // no such vCPU: ignored
    let mut lrs = list_regs(4);
    g.flush(1, &mut lrs);
    assert_eq!(held(&lrs), [27]);
    let v = lrs.lr[0];
    assert_ne!(v & lr::HW, 0, "linked to the physical timer interrupt");
    assert_eq!((v >> lr::PINTID_SHIFT) & lr::PINTID_MASK, 27, "pINTID");
    assert_eq!(state_of(v), lr::STATE_PENDING);
    // Taken; pended again through the redistributor while active: the
    // list register shows it active only, the new one waits in the model.
    ack(&mut lrs, 0);
    g.sync(1, &lrs);
    g.ws(1, irq::ISPENDR, 1 << 27);
    g.flush(1, &mut lrs);
    assert_eq!(state_of(lrs.lr[0]), lr::STATE_ACTIVE, "not pending and active at once");
    // The guest deactivates it (in hardware too, no exit); the line is still
    // high and the latch is set: pending again at the next pass.
    deactivate(&mut lrs, 0);
    g.sync(1, &lrs);
    g.flush(1, &mut lrs);
    assert_eq!(held(&lrs), [27]);
    assert_eq!(state_of(lrs.lr[0]), lr::STATE_PENDING);
    // Ended with the line low: nothing left, and no unmask for the host
    // (it re-arms its timer interrupts itself when a line is seen low).
    ack(&mut lrs, 0);
    deactivate(&mut lrs, 0);
    g.vgic.set_local_level(1, 27, false);
    g.sync(1, &lrs);
    g.flush(1, &mut lrs);
    assert_eq!(held(&lrs), Vec::<u32>::new());
    assert_eq!(g.vgic.take_unmasks(&mut [0u32; 4]), 0);
    assert!(!g.vgic.has_deliverable(1));
}

#[test]
fn private_interrupts_reach_the_list_registers_however_they_became_pending() {
    // A flush visits only the private interrupts noted as live: each way
    // of making one pending or active must note it.
    let g = Gic::new(2, 32);
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP1);
    g.ws(1, irq::IGROUPR, u32::MAX);
    g.ws(1, irq::ISENABLER, u32::MAX);
    g.ws(1, irq::ISPENDR, 1 << 20); // a PPI pended through the redistributor
    g.ws(1, irq::ISACTIVER, 1 << 21); // one made active
    g.vgic.set_level(1, 27, true); // a line
    let mut lrs = list_regs(4);
    g.flush(1, &mut lrs);
    let mut got = held(&lrs);
    got.sort_unstable();
    assert_eq!(got, [20, 21, 27]);
    // The guest takes and ends all of them; the line drops.
    for slot in 0..3 {
        ack(&mut lrs, slot);
        deactivate(&mut lrs, slot);
    }
    g.vgic.set_level(1, 27, false);
    g.sync(1, &lrs);
    g.flush(1, &mut lrs);
    assert!(held(&lrs).is_empty(), "nothing left: {:?}", held(&lrs));
    // Pended again after it ended: noted again.
    g.ws(1, irq::ISPENDR, 1 << 20);
    g.flush(1, &mut lrs);
    assert_eq!(held(&lrs), [20]);
    // vCPU 0 saw none of it.
    let mut lrs0 = list_regs(4);
    g.flush(0, &mut lrs0);
    assert!(held(&lrs0).is_empty());
}

#[test]
fn an_sgi_sent_again_while_the_guest_handles_it_kicks_its_vcpu() {
    let g = Gic::new(2, 32);
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP1);
    g.ws(1, irq::IGROUPR, u32::MAX);
    g.ws(1, irq::ISENABLER, 1 << 5);
    g.vgic.send_sgi(0, 5 << 24 | 0b10);
    assert_eq!(g.vgic.take_kicks(), 0b10);
    let mut lrs = list_regs(4);
    g.flush(1, &mut lrs);
    ack(&mut lrs, 0);
    g.sync(1, &lrs);
    // vCPU 1 runs its handler; vCPU 0 sends the SGI again.
    g.vgic.send_sgi(0, 5 << 24 | 0b10);
    assert_eq!(
        g.vgic.take_kicks(),
        0b10,
        "vCPU 1 must leave the guest to see it: it may wait there"
    );
    g.flush(1, &mut lrs);
    assert_eq!(held(&lrs), [5]);
    assert_eq!(state_of(lrs.lr[0]), lr::STATE_PENDING | lr::STATE_ACTIVE);
}

#[test]
fn enabling_the_group_kicks_a_vcpu_whose_active_sgi_is_pending_again() {
    let g = Gic::new(2, 32);
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP1);
    g.ws(1, irq::IGROUPR, u32::MAX);
    g.ws(1, irq::ISENABLER, 1 << 5);
    g.vgic.send_sgi(0, 5 << 24 | 0b10);
    let mut lrs = list_regs(4);
    g.flush(1, &mut lrs);
    ack(&mut lrs, 0);
    g.sync(1, &lrs);
    g.wd(gicd::CTLR, 0);
    g.vgic.send_sgi(0, 5 << 24 | 0b10);
    g.vgic.take_kicks();
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP1);
    assert_eq!(
        g.vgic.take_kicks(),
        0b10,
        "pending again while active: its list register must say so"
    );
}
