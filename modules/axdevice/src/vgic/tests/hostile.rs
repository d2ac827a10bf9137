//! Hostile accesses: unimplemented INTIDs, bad widths, reserved offsets,
//! the log limit and a random walk over both frames.

use super::*;

#[test]
fn registers_beyond_the_implemented_intids_read_zero_and_ignore_writes() {
    let g = Gic::new(1, 64); // INTIDs up to 95
    let accesses = [
        word(irq::ISENABLER, 96),
        word(irq::ISPENDR, 1000),
        irq::IPRIORITYR + 96,
        irq::ICFGR + 4 * 6,
    ];
    for at in accesses {
        g.wd(at, u32::MAX);
        assert_eq!(g.rd(at), 0, "{at:#x}");
    }
    let at = gicd::IROUTER + 8 * 96;
    g.gicd.handle_write(at, AccessWidth::Qword, 1).expect("write");
    assert_eq!(g.gicd.handle_read(at, AccessWidth::Qword), Ok(0));
    assert_eq!(g.vgic.gicd_log.seen(), 10);
    // The redistributor's bank ends at INTID 31.
    g.ws(0, word(irq::ISENABLER, 32), u32::MAX);
    assert_eq!(g.rs(0, word(irq::ISENABLER, 32)), 0);
    assert_eq!(g.rs(0, irq::IPRIORITYR + 32), 0);
    assert_eq!(g.rs(0, irq::ITARGETSR), 0);
    // Nothing happened to the implemented ones, and no vCPU was kicked.
    assert_eq!(g.rd(word(irq::ISENABLER, 64)), 0);
    assert_eq!(g.vgic.take_kicks(), 0);
}

#[test]
fn bad_widths_and_reserved_offsets_read_zero_and_are_logged_up_to_the_limit() {
    let g = Gic::new(2, 64);
    g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP1);
    g.set_spi_bit(irq::ISENABLER, 40);
    let bad = [
        (gicd::CTLR, AccessWidth::Qword),                   // 8 bytes on a 32-bit register
        (word(irq::ISENABLER, 40), AccessWidth::Word),      // 2 bytes
        (word(irq::ISENABLER, 40), AccessWidth::Byte),      // bytes on a bitmap
        (word(irq::ISENABLER, 40) + 1, AccessWidth::Dword), // misaligned
        (0x20, AccessWidth::Dword),                         // reserved
        (0x5000, AccessWidth::Dword),                       // reserved
        (0xF10, AccessWidth::Dword),                        // CPENDSGIR: not with ARE
        (0x1_0000, AccessWidth::Dword),                     // beyond the frame
        (usize::MAX, AccessWidth::Qword),
    ];
    for (at, width) in bad {
        assert_eq!(g.gicd.handle_read(at, width), Ok(0), "{at:#x}");
        g.gicd.handle_write(at, width, u64::MAX).expect("write");
    }
    assert_eq!(g.rd(word(irq::ISENABLER, 40)), bit(40), "the writes changed nothing");
    assert_eq!(g.rd(gicd::CTLR) & gicd::CTLR_WRITABLE, gicd::CTLR_ENABLE_GRP1);
    // Read-only registers ignore writes.
    g.wd(gicd::TYPER, 0);
    g.wd(PIDR2, 0);
    assert_eq!(g.rd(PIDR2), 0x3B);
    let seen = 2 * bad.len() as u64 + 2;
    assert_eq!(g.vgic.gicd_log.seen(), seen);
    assert_eq!(g.vgic.gicd_log.logged(), UNHANDLED_LOG_LIMIT);
    assert!(seen > UNHANDLED_LOG_LIMIT);

    let bad = [
        (gicr::WAKER, AccessWidth::Qword),
        (gicr::TYPER + 2, AccessWidth::Word),
        (gicr::TYPER + 1, AccessWidth::Byte),
        (gicr::TYPER + 4, AccessWidth::Qword),
        (0x40, AccessWidth::Dword),
        (GICR_SGI_BASE + 0x800, AccessWidth::Dword),
        (GICR_SGI_BASE + irq::ICFGR + 8, AccessWidth::Dword),
        (2 * GICR_STRIDE, AccessWidth::Dword), // no third vCPU
    ];
    for (at, width) in bad {
        assert_eq!(g.gicr.handle_read(at, width), Ok(0), "{at:#x}");
        g.gicr.handle_write(at, width, u64::MAX).expect("write");
    }
    g.wr(0, gicr::TYPER, AccessWidth::Qword, 0);
    assert_eq!(g.vgic.gicr_log.seen(), 2 * bad.len() as u64 + 1);
    assert_eq!(g.vgic.gicr_log.logged(), UNHANDLED_LOG_LIMIT);
    // The 64-bit LPI registers are RAZ/WI, not unhandled.
    let seen = g.vgic.gicr_log.seen();
    for reg in [gicr::PROPBASER, gicr::PENDBASER] {
        g.wr(0, reg, AccessWidth::Qword, u64::MAX);
        assert_eq!(g.rr(0, reg, AccessWidth::Qword), 0);
        assert_eq!(g.rr(0, reg + 4, AccessWidth::Dword), 0);
    }
    assert_eq!(g.vgic.gicr_log.seen(), seen);
}

#[test]
fn the_log_limit_holds_under_a_flood() {
    let log = access_log::AccessLog::new();
    let logged = (0..1000).filter(|i| log.read("dev", *i, AccessWidth::Dword)).count();
    assert_eq!(logged as u64, UNHANDLED_LOG_LIMIT);
    assert!(!log.write("dev", 0, AccessWidth::Byte, 0));
    assert_eq!(log.seen(), 1001);
    assert_eq!(log.logged(), UNHANDLED_LOG_LIMIT);
}

#[test]
fn random_accesses_never_panic() {
    let g = Gic::new(3, 96);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let widths = [
        AccessWidth::Byte,
        AccessWidth::Word,
        AccessWidth::Dword,
        AccessWidth::Qword,
    ];
    let mut lrs = [list_regs(4), list_regs(16), list_regs(1)];
    // Which vCPUs are "in the guest": flushed, not synced yet.
    let mut in_guest = [false; 3];
    let mut spis_delivered = 0usize;
    for round in 0..200_000u32 {
        if round % 500 == 0 {
            // Keep interrupts flowing: random writes disable them.
            g.wd(gicd::CTLR, gicd::CTLR_ENABLE_GRP0 | gicd::CTLR_ENABLE_GRP1);
            for w in 1..4 {
                g.wd(irq::ISENABLER + 4 * w, u32::MAX);
            }
            for v in 0..3 {
                g.ws(v, irq::ISENABLER, u32::MAX);
            }
            for intid in 32..128 {
                let route = rng.below(3);
                g.gicd
                    .handle_write(gicd::IROUTER + 8 * intid, AccessWidth::Qword, route)
                    .expect("write");
            }
        }
        let width = widths[rng.below(4) as usize];
        // Mostly inside the frames, sometimes anywhere.
        let (dev, size) = if rng.below(2) == 0 {
            (&g.gicd, 0x1_0000u64)
        } else {
            (&g.gicr, 3 * 0x2_0000u64)
        };
        let offset = match rng.below(8) {
            0 => rng.next() as usize,
            1..=3 => rng.below(0x1000) as usize,
            4 => (rng.below(0x2000) + 0x6000) as usize,
            _ => rng.below(size) as usize,
        };
        let value = rng.next();
        if rng.below(2) == 0 {
            let read = dev.handle_read(offset, width).expect("reads never fail");
            assert!(width == AccessWidth::Qword || read >> (8 * width.size()) == 0 || offset >= 0x6000);
        } else {
            dev.handle_write(offset, width, value).expect("writes never fail");
        }
        // Inputs and list-register passes in between.
        let vcpu = rng.below(4) as usize;
        let intid = rng.below(140) as u32;
        match rng.below(16) {
            0 => g.vgic.set_level(vcpu, intid, rng.below(2) == 0),
            1 => g.vgic.set_pending(vcpu, intid),
            2 => g.vgic.send_sgi(vcpu, rng.next()),
            3 => g.vgic.set_forwarded(intid, rng.below(2) == 0),
            4..=7 if vcpu < 3 => {
                let l = &mut lrs[vcpu];
                g.vgic.flush_lrs(vcpu, l);
                in_guest[vcpu] = true;
                // An SPI is in the list registers of one vCPU at most.
                let mut spis: Vec<u32> = (0..3)
                    .filter(|v| in_guest[*v])
                    .flat_map(|v| held(&lrs[v]))
                    .filter(|i| *i >= 32)
                    .collect();
                let n = spis.len();
                spis_delivered += n;
                spis.sort_unstable();
                spis.dedup();
                assert_eq!(spis.len(), n, "round {round}");
                // The guest does what a guest can with each list register.
                let l = &mut lrs[vcpu];
                for slot in 0..l.count {
                    let options: &[u64] = match state_of(l.lr[slot]) {
                        lr::STATE_PENDING => &[lr::STATE_PENDING, lr::STATE_ACTIVE, 0],
                        lr::STATE_ACTIVE => &[lr::STATE_ACTIVE, 0],
                        0 => &[0],
                        _ => &[lr::STATE_MASK, lr::STATE_PENDING, lr::STATE_ACTIVE, 0],
                    };
                    let state = options[rng.below(options.len() as u64) as usize];
                    l.lr[slot] = (l.lr[slot] & !lr::STATE_MASK) | state;
                }
                if rng.below(4) != 0 {
                    g.vgic.sync_lrs(vcpu, l);
                    in_guest[vcpu] = false;
                }
            }
            8 => {
                let mut out = [0u32; 3];
                let n = g.vgic.take_unmasks(&mut out);
                assert!(n <= 3);
                assert!(out[..n].iter().all(|i| (32..128).contains(i)));
            }
            9 => {
                assert!(g.vgic.take_kicks() < 1 << 3);
                g.vgic.has_deliverable(vcpu);
            }
            _ => {}
        }
        if round % 50_000 == 0 {
            // Every list register names an implemented INTID.
            for l in &lrs {
                for v in &l.lr[..l.count] {
                    assert!(state_of(*v) == 0 || intid_of(*v) < 128);
                }
            }
        }
    }
    assert!(spis_delivered > 1000, "the run exercised delivery: {spis_delivered}");
    assert!(g.vgic.gicd_log.logged() <= UNHANDLED_LOG_LIMIT);
    assert!(g.vgic.gicr_log.logged() <= UNHANDLED_LOG_LIMIT);
}
