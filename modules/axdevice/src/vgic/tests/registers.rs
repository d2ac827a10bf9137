//! Identification, layout and the interrupt registers.

use super::*;

#[test]
fn layouts_are_validated() {
    for (vcpus, spis) in [(0, 32), (17, 32), (1, 33), (1, 989), (1, 992), (1, 1024)] {
        assert_eq!(
            Vgic::new(layout(vcpus, spis)).err(),
            Some(AxError::InvalidInput),
            "{vcpus} {spis}"
        );
    }
    for (vcpus, spis) in [(1, 0), (16, 960), (4, 988), (2, 64)] {
        assert!(Vgic::new(layout(vcpus, spis)).is_ok(), "{vcpus} {spis}");
    }
    let mut wrapping = layout(1, 32);
    wrapping.gicd_base = GuestPhysAddr::from(usize::MAX - 0xFFFF);
    assert_eq!(Vgic::new(wrapping).err(), Some(AxError::InvalidInput));
}

#[test]
fn devices_cover_the_frames() {
    let g = Gic::new(3, 64);
    assert_eq!(
        g.gicd.address_range(),
        DeviceRange::Mmio {
            base: GuestPhysAddr::from(GICD_BASE),
            size: 0x1_0000
        }
    );
    assert_eq!(
        g.gicr.address_range(),
        DeviceRange::Mmio {
            base: GuestPhysAddr::from(GICR_BASE),
            size: 3 * 0x2_0000
        }
    );
    assert_ne!(g.gicd.name(), g.gicr.name());
}

#[test]
fn distributor_identifies_as_a_gicv3() {
    let g = Gic::new(2, 64);
    // ITLinesNumber = (32 + 64) / 32 - 1 = 2, IDbits = 9.
    assert_eq!(g.rd(gicd::TYPER), 2 | (9 << 19));
    assert_eq!(g.rd(PIDR2), 0x3B);
    assert_eq!(g.rd(gicd::IIDR), IIDR_VALUE);
    assert_eq!(IIDR_VALUE & 0xFFF, 0x43B);
    assert_eq!(g.rd(gicd::TYPER2), 0);
    assert_eq!(g.rd(0xFFD0), 0);
    assert_eq!(g.rd(0xFFFC), 0);
    // ARE and DS read as one, RWP as zero.
    assert_eq!(g.rd(gicd::CTLR), gicd::CTLR_ARE | gicd::CTLR_DS);
    g.wd(gicd::CTLR, u32::MAX);
    assert_eq!(
        g.rd(gicd::CTLR),
        gicd::CTLR_ARE | gicd::CTLR_DS | gicd::CTLR_ENABLE_GRP0 | gicd::CTLR_ENABLE_GRP1
    );
    assert_eq!(g.rd(gicd::CTLR) & gicd::CTLR_RWP, 0);
    // The full range: INTIDs up to 1019.
    assert_eq!(Gic::new(1, 988).rd(gicd::TYPER) & 0x1F, 31);
    assert_eq!(Gic::new(1, 0).rd(gicd::TYPER) & 0x1F, 0);
}

#[test]
fn redistributor_typer_names_each_vcpu_and_the_last() {
    let g = Gic::new(3, 32);
    for vcpu in 0..3 {
        let typer = g.rr(vcpu, gicr::TYPER, AccessWidth::Qword);
        let last = if vcpu == 2 { gicr::TYPER_LAST } else { 0 };
        let expected = (Vgic::mpidr_of(vcpu) << 32) | ((vcpu as u64) << 8) | last;
        assert_eq!(typer, expected, "vCPU {vcpu}");
        assert_eq!(g.rr(vcpu, gicr::TYPER, AccessWidth::Dword), expected & 0xFFFF_FFFF);
        assert_eq!(g.rr(vcpu, gicr::TYPER + 4, AccessWidth::Dword), expected >> 32);
        assert_eq!(g.rr(vcpu, PIDR2, AccessWidth::Dword), 0x3B);
        assert_eq!(g.rr(vcpu, gicr::IIDR, AccessWidth::Dword), u64::from(IIDR_VALUE));
    }
    assert_eq!(Vgic::mpidr_of(5), 5);
    assert_eq!(g.vgic.vcpu_of_affinity(2), Some(2));
    assert_eq!(g.vgic.vcpu_of_affinity(0x8000_0001), Some(1), "MPIDR bit 31 is ignored");
    assert_eq!(g.vgic.vcpu_of_affinity(3), None);
    assert_eq!(g.vgic.vcpu_of_affinity(1 << 8), None);
    assert_eq!(g.vgic.vcpu_of_affinity(1 << 32), None);
}

#[test]
fn waker_handshake() {
    let g = Gic::new(2, 32);
    let sleep = u64::from(gicr::WAKER_PROCESSOR_SLEEP | gicr::WAKER_CHILDREN_ASLEEP);
    assert_eq!(g.rr(1, gicr::WAKER, AccessWidth::Dword), sleep);
    g.wr(1, gicr::WAKER, AccessWidth::Dword, 0);
    assert_eq!(g.rr(1, gicr::WAKER, AccessWidth::Dword), 0, "ChildrenAsleep follows");
    assert_eq!(g.rr(0, gicr::WAKER, AccessWidth::Dword), sleep, "per redistributor");
    g.wr(
        1,
        gicr::WAKER,
        AccessWidth::Dword,
        u64::from(gicr::WAKER_PROCESSOR_SLEEP),
    );
    assert_eq!(g.rr(1, gicr::WAKER, AccessWidth::Dword), sleep);
    assert_eq!(g.rr(0, gicr::CTLR, AccessWidth::Dword), 0, "RWP reads 0");
}

// ---- interrupt registers ----

#[test]
fn enables_at_the_distributor_and_redistributor() {
    let g = Gic::new(2, 64);
    g.set_spi_bit(irq::ISENABLER, 40);
    g.set_spi_bit(irq::ISENABLER, 95);
    assert_eq!(g.rd(word(irq::ISENABLER, 40)), bit(40));
    assert_eq!(g.rd(word(irq::ICENABLER, 40)), bit(40));
    assert_eq!(g.rd(word(irq::ISENABLER, 95)), bit(95));
    g.wd(word(irq::ICENABLER, 40), bit(40));
    assert_eq!(g.rd(word(irq::ISENABLER, 40)), 0);
    // The distributor's first word is RAZ/WI: INTIDs 0..31 live in the GICRs.
    g.wd(irq::ISENABLER, u32::MAX);
    assert_eq!(g.rd(irq::ISENABLER), 0);
    assert_eq!(g.rs(0, irq::ISENABLER), 0);
    // PPI 27 and SGI 3 of vCPU 1.
    g.ws(1, irq::ISENABLER, (1 << 27) | (1 << 3));
    assert_eq!(g.rs(1, irq::ISENABLER), (1 << 27) | (1 << 3));
    assert_eq!(g.rs(1, irq::ICENABLER), (1 << 27) | (1 << 3));
    assert_eq!(g.rs(0, irq::ISENABLER), 0, "banked per vCPU");
    g.ws(1, irq::ICENABLER, 1 << 3);
    assert_eq!(g.rs(1, irq::ISENABLER), 1 << 27);
    // Groups.
    g.ws(1, irq::IGROUPR, u32::MAX);
    assert_eq!(g.rs(1, irq::IGROUPR), u32::MAX);
    g.wd(word(irq::IGROUPR, 40), 0x0F0F_0F0F);
    assert_eq!(g.rd(word(irq::IGROUPR, 40)), 0x0F0F_0F0F);
    // Group modifier and NSACR are RAZ/WI.
    g.wd(irq::IGRPMODR + 4, u32::MAX);
    assert_eq!(g.rd(irq::IGRPMODR + 4), 0);
    g.ws(0, irq::IGRPMODR, u32::MAX);
    assert_eq!(g.rs(0, irq::IGRPMODR), 0);
    assert_eq!(
        g.vgic.gicd_log.seen() + g.vgic.gicr_log.seen(),
        0,
        "all of these are handled"
    );
}

#[test]
fn priorities_take_byte_and_word_accesses() {
    let g = Gic::new(1, 64);
    let at = irq::IPRIORITYR + 40;
    g.gicd.handle_write(at, AccessWidth::Byte, 0xA0).expect("write");
    g.gicd.handle_write(at + 1, AccessWidth::Byte, 0xB0).expect("write");
    assert_eq!(g.gicd.handle_read(at, AccessWidth::Byte), Ok(0xA0));
    assert_eq!(g.rd(at), 0xB0A0);
    g.wd(at, 0x1122_3344);
    for (i, expected) in [0x44, 0x33, 0x22, 0x11].into_iter().enumerate() {
        assert_eq!(g.gicd.handle_read(at + i, AccessWidth::Byte), Ok(expected));
    }
    // The distributor's bytes of INTIDs 0..31 are RAZ/WI.
    g.wd(irq::IPRIORITYR, u32::MAX);
    assert_eq!(g.rd(irq::IPRIORITYR), 0);
    // The redistributor holds them.
    g.wr(0, GICR_SGI_BASE + irq::IPRIORITYR + 27, AccessWidth::Byte, 0x80);
    assert_eq!(g.rs(0, irq::IPRIORITYR + 24), 0x8000_0000);
    g.ws(0, irq::IPRIORITYR + 0x1C, 0x0102_0304);
    assert_eq!(g.rr(0, GICR_SGI_BASE + irq::IPRIORITYR + 0x1F, AccessWidth::Byte), 0x01);
    // Misaligned word accesses are not handled.
    assert_eq!(g.gicd.handle_read(at + 1, AccessWidth::Dword), Ok(0));
    assert_eq!(g.vgic.gicd_log.seen(), 1);
}

#[test]
fn icfgr_sets_the_trigger_mode() {
    let g = Gic::new(1, 64);
    // ICFGR2 covers INTIDs 32..47; SPIs are level-sensitive after reset.
    let cfg2 = irq::ICFGR + 8;
    assert_eq!(g.rd(cfg2), 0);
    g.wd(cfg2, 0b11 << (2 * (40 - 32)));
    assert_eq!(
        g.rd(cfg2),
        irq::CFG_EDGE << (2 * (40 - 32)),
        "only the edge bit is stored"
    );
    // ICFGR0/1 are RAZ/WI in the distributor.
    g.wd(irq::ICFGR, u32::MAX);
    assert_eq!(g.rd(irq::ICFGR), 0);
    // SGIs: edge, read-only. PPIs: level, fixed (writes ignored, not
    // logged: a fixed configuration is the architecture's choice).
    assert_eq!(g.rs(0, irq::ICFGR), 0xAAAA_AAAA);
    g.ws(0, irq::ICFGR, 0);
    assert_eq!(g.rs(0, irq::ICFGR), 0xAAAA_AAAA);
    assert_eq!(g.vgic.gicr_log.seen(), 1, "the write to the read-only ICFGR0 is logged");
    assert_eq!(g.rs(0, irq::ICFGR + 4), 0);
    g.ws(0, irq::ICFGR + 4, irq::CFG_EDGE << (2 * (27 - 16)));
    assert_eq!(g.rs(0, irq::ICFGR + 4), 0, "PPIs stay level-sensitive");
    assert_eq!(g.vgic.gicr_log.seen(), 1);
}

/// A guest that asks for its timer PPI edge-triggered, ends its interrupt
/// and arms the timer already due again with no exit in between: the
/// model sees the line high at both samples (the low between them is
/// invisible to it) and must still make the interrupt pending again, as
/// it does for a level-sensitive one.
#[test]
fn a_timer_ppi_asked_edge_triggered_is_not_lost_between_samples() {
    let g = Gic::new(1, 32);
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP1);
    g.ws(0, irq::IGROUPR, u32::MAX);
    g.ws(0, irq::ICFGR + 4, irq::CFG_EDGE << (2 * (27 - 16)));
    g.ws(0, irq::ISENABLER, 1 << 27);
    g.vgic.set_level(0, 27, true);
    let mut lrs = list_regs(4);
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [27]);
    // Acknowledged and ended by the guest; the line is high again at the
    // next sample.
    lrs.lr[0] &= !lr::STATE_MASK;
    g.sync(0, &lrs);
    g.vgic.set_level(0, 27, true);
    assert!(g.vgic.has_deliverable(0), "pending again: the line is high");
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [27]);
}

#[test]
fn edge_spi_latches_on_a_rising_line() {
    let g = Gic::new(1, 64);
    g.setup_spi(40, 0x10);
    g.wd(irq::ICFGR + 8, irq::CFG_EDGE << (2 * (40 - 32)));
    g.vgic.set_level(0, 40, true);
    assert!(g.spi_bit(irq::ISPENDR, 40));
    let mut lrs = list_regs(4);
    g.flush(0, &mut lrs);
    assert_eq!(lrs.lr[0] & lr::EOI, 0, "an edge needs no EOI maintenance");
    ack(&mut lrs, 0);
    g.sync(0, &lrs);
    // The line staying high is no new edge.
    g.vgic.set_level(0, 40, true);
    g.flush(0, &mut lrs);
    assert_eq!(state_of(lrs.lr[0]), lr::STATE_ACTIVE);
    deactivate(&mut lrs, 0);
    g.sync(0, &lrs);
    g.flush(0, &mut lrs);
    assert!(held(&lrs).is_empty());
    // Low then high again is.
    g.vgic.set_level(0, 40, false);
    g.vgic.set_level(0, 40, true);
    g.flush(0, &mut lrs);
    assert_eq!(held(&lrs), [40]);
}

#[test]
fn irouter_takes_64_and_32_bit_accesses() {
    let g = Gic::new(2, 64);
    let at = gicd::IROUTER + 8 * 40;
    assert_eq!(g.gicd.handle_read(at, AccessWidth::Qword), Ok(0));
    g.gicd.handle_write(at, AccessWidth::Qword, u64::MAX).expect("write");
    assert_eq!(
        g.gicd.handle_read(at, AccessWidth::Qword),
        Ok(0xFF_80FF_FFFF),
        "RES0 bits dropped"
    );
    g.gicd.handle_write(at, AccessWidth::Dword, 0x1).expect("write");
    assert_eq!(g.gicd.handle_read(at, AccessWidth::Qword), Ok(0xFF_0000_0001));
    g.gicd.handle_write(at + 4, AccessWidth::Dword, 0).expect("write");
    assert_eq!(g.gicd.handle_read(at, AccessWidth::Qword), Ok(1));
    assert_eq!(g.gicd.handle_read(at + 4, AccessWidth::Dword), Ok(0));
    assert_eq!(g.gicd.handle_read(at, AccessWidth::Dword), Ok(1));
    // Neither bytes, halfwords nor misaligned words.
    g.gicd.handle_write(at + 1, AccessWidth::Byte, 0xFF).expect("write");
    g.gicd.handle_write(at + 2, AccessWidth::Word, 0xFF).expect("write");
    g.gicd.handle_write(at + 4, AccessWidth::Qword, 0xFF).expect("write");
    assert_eq!(g.gicd.handle_read(at, AccessWidth::Qword), Ok(1));
    assert_eq!(g.gicd.handle_read(at + 2, AccessWidth::Word), Ok(0));
    // IROUTER of INTIDs 0..31 does not exist.
    assert_eq!(g.gicd.handle_read(gicd::IROUTER, AccessWidth::Qword), Ok(0));
    assert_eq!(g.vgic.gicd_log.seen(), 5);
}

#[test]
fn an_spi_routed_to_vcpu_1_goes_there() {
    let g = Gic::new(2, 64);
    g.setup_spi(40, 0x20);
    g.gicd
        .handle_write(gicd::IROUTER + 8 * 40, AccessWidth::Qword, 1)
        .expect("write");
    g.vgic.set_level(0, 40, true);
    assert_eq!(g.vgic.take_kicks(), 0b10);
    let mut lrs0 = list_regs(4);
    g.flush(0, &mut lrs0);
    assert!(held(&lrs0).is_empty());
    let mut lrs1 = list_regs(4);
    g.flush(1, &mut lrs1);
    assert_eq!(held(&lrs1), [40]);
    assert!(!g.vgic.has_deliverable(0));
}

#[test]
fn rerouting_a_pending_spi_kicks_the_new_target() {
    let g = Gic::new(3, 64);
    g.setup_spi(40, 0x20);
    g.set_spi_bit(irq::ISPENDR, 40);
    assert_eq!(g.vgic.take_kicks(), 0b1);
    g.gicd
        .handle_write(gicd::IROUTER + 8 * 40, AccessWidth::Qword, 2)
        .expect("write");
    assert_eq!(g.vgic.take_kicks(), 0b100);
    assert!(g.vgic.has_deliverable(2));
    assert!(!g.vgic.has_deliverable(0));
    // IRM: any one vCPU, which is vCPU 0.
    g.gicd
        .handle_write(gicd::IROUTER + 8 * 40, AccessWidth::Qword, gicd::IROUTER_IRM | 2)
        .expect("write");
    assert_eq!(g.vgic.take_kicks(), 0b1);
    // An affinity no vCPU has: delivered nowhere.
    g.gicd
        .handle_write(gicd::IROUTER + 8 * 40, AccessWidth::Qword, 0x100)
        .expect("write");
    assert!((0..3).all(|v| !g.vgic.has_deliverable(v)));
}
