//! Walk tests over a fake physical memory, with tables built by hand from
//! the SDM's entry formats (present = bit 0, PS = bit 7, EPT RWX = bits
//! 2:0).

use super::*;
use std::collections::BTreeMap;

/// Sparse physical memory in 4 KiB pages; unmapped pages fail to read.
#[derive(Default)]
struct FakeMem {
    pages: BTreeMap<u64, [u8; 4096]>,
}

impl FakeMem {
    fn write(&mut self, addr: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            let a = addr + i as u64;
            self.pages.entry(a & !0xfff).or_insert([0; 4096])[(a & 0xfff) as usize] = *b;
        }
    }

    fn write64(&mut self, addr: u64, value: u64) {
        self.write(addr, &value.to_le_bytes());
    }

    fn write32(&mut self, addr: u64, value: u32) {
        self.write(addr, &value.to_le_bytes());
    }
}

impl HostMemory for FakeMem {
    fn read(&self, hpa: u64, buf: &mut [u8]) -> bool {
        for (i, b) in buf.iter_mut().enumerate() {
            let a = hpa + i as u64;
            match self.pages.get(&(a & !0xfff)) {
                Some(p) => *b = p[(a & 0xfff) as usize],
                None => return false,
            }
        }
        true
    }
}

const P: u64 = 1;
const RW: u64 = 1 << 1;
const PS: u64 = 1 << 7;

fn long_mode(cr3: u64) -> GuestPageWalkInfo {
    // CR0.PG|PE, CR4.PAE, EFER.LME|LMA.
    GuestPageWalkInfo::for_fetch(0x8000_0001, cr3, 1 << 5, (1 << 8) | (1 << 10), 0)
}

#[test]
fn mode_from_control_registers() {
    assert_eq!(GuestPageWalkInfo::for_fetch(0x11, 0, 0, 0, 0).level, 0);
    let legacy = GuestPageWalkInfo::for_fetch(0x8000_0011, 0x5000, 1 << 4, 0, 3);
    assert_eq!((legacy.level, legacy.width, legacy.pse), (2, 32, true));
    assert!(legacy.is_user_mode_access && legacy.is_inst_fetch);
    assert_eq!(GuestPageWalkInfo::for_fetch(0x8000_0011, 0, 1 << 5, 0, 0).level, 3);
    assert_eq!(long_mode(0).level, 4);
    let la57 = GuestPageWalkInfo::for_fetch(0x8001_0011, 0, (1 << 5) | (1 << 12), 1 << 10, 0);
    assert_eq!((la57.level, la57.wp), (5, true));
}

#[test]
fn four_level_4k_2m_1g() {
    let mut m = FakeMem::default();
    // gva 0x80_8060_4567: PML4[1], PDPT[2], PD[3], PT[4], offset 0x567.
    m.write64(0x1000 + 8, 0x2000 | P | RW);
    m.write64(0x2000 + 2 * 8, 0x3000 | P);
    m.write64(0x3000 + 3 * 8, 0x4000 | P);
    m.write64(0x4000 + 4 * 8, 0x9_9000 | P | (1 << 63));
    let info = long_mode(0x1000);
    assert_eq!(guest_translate(&m, &info, 0x80_8060_4567), Ok(0x9_9567));
    // PT[5] is empty.
    assert_eq!(
        guest_translate(&m, &info, 0x80_8060_5000),
        Err(WalkError::NotPresent { level: 1 })
    );
    // PD[7]: a 2 MiB page at 0x4000_0000.
    m.write64(0x3000 + 7 * 8, 0x4000_0000 | P | PS);
    assert_eq!(guest_translate(&m, &info, 0x80_80e1_2345), Ok(0x4001_2345));
    // PDPT[3]: a 1 GiB page at 0x1_4000_0000.
    m.write64(0x2000 + 3 * 8, 0x1_4000_0000 | P | PS);
    assert_eq!(guest_translate(&m, &info, 0x80_c123_4567), Ok(0x1_4123_4567));
    // PML4[0] missing.
    assert_eq!(
        guest_translate(&m, &info, 0x1000),
        Err(WalkError::NotPresent { level: 4 })
    );
    // A table that is not in memory at all.
    m.write64(0x1000 + 2 * 8, 0xdead_0000 | P);
    assert_eq!(guest_translate(&m, &info, 0x100_0000_0000), Err(WalkError::ReadFailed));
}

#[test]
fn thirty_two_bit_paging_with_pse36() {
    let mut m = FakeMem::default();
    // gva 0x0483_4abc: PD[0x12], PT[0x34], offset 0xabc.
    m.write32(0x5000 + 0x12 * 4, 0x6000 | P as u32);
    m.write32(0x6000 + 0x34 * 4, 0x0012_3000 | P as u32);
    let mut info = GuestPageWalkInfo::for_fetch(0x8000_0001, 0x5000, 1 << 4, 0, 0);
    assert_eq!(guest_translate(&m, &info, 0x0483_4abc), Ok(0x0012_3abc));
    // PD[0x20]: a 4 MiB page at 0x0080_0000 with PSE-36 bits 39:32 = 0x3.
    m.write32(0x5000 + 0x20 * 4, 0x0080_0000 | (3 << 13) | (PS | P) as u32);
    assert_eq!(guest_translate(&m, &info, 0x0812_3456), Ok(0x3_0092_3456));
    // Without CR4.PSE the PS bit is ignored: PD[0x20] is a table pointer.
    info.pse = false;
    assert_eq!(guest_translate(&m, &info, 0x0812_3456), Err(WalkError::ReadFailed));
}

#[test]
fn pae_paging() {
    let mut m = FakeMem::default();
    // gva 0x80a0_6010: PDPT[2], PD[5], PT[6], offset 0x10. CR3 is 32-byte
    // aligned.
    m.write64(0x7020 + 2 * 8, 0x8000 | P);
    m.write64(0x8000 + 5 * 8, 0xa000 | P);
    m.write64(0xa000 + 6 * 8, 0xb000 | P);
    let info = GuestPageWalkInfo::for_fetch(0x8000_0001, 0x7020, 1 << 5, 0, 0);
    assert_eq!(guest_translate(&m, &info, 0x80a0_6010), Ok(0xb010));
    assert_eq!(
        guest_translate(&m, &info, 0x0000_0010),
        Err(WalkError::NotPresent { level: 3 })
    );
}

#[test]
fn nested_ept_and_npt() {
    let mut m = FakeMem::default();
    // GPA 0x80_8060_4567 through EPT entries with RWX = 0b111, and a 2 MiB
    // entry at PD[7].
    m.write64(0x1000 + 8, 0x2000 | 0b111);
    m.write64(0x2000 + 2 * 8, 0x3000 | 0b111);
    m.write64(0x3000 + 3 * 8, 0x4000 | 0b111);
    m.write64(0x4000 + 4 * 8, 0x5_5000 | 0b001 | (6 << 3));
    m.write64(0x3000 + 7 * 8, 0x20_0000 | 0b100 | PS);
    let ept = |gpa| nested_translate(&m, NestedFormat::Ept, 0x1000, gpa);
    assert_eq!(ept(0x80_8060_4567), Ok(0x5_5567));
    assert_eq!(ept(0x80_80e0_0001), Ok(0x20_0001));
    // An EPT entry is present through any of R/W/X, not bit 0 alone: NPT
    // reading the same tables sees PD[7] (bit 0 clear) as not present.
    assert_eq!(
        nested_translate(&m, NestedFormat::Npt, 0x1000, 0x80_80e0_0001),
        Err(WalkError::NotPresent { level: 2 })
    );
    assert_eq!(ept(0), Err(WalkError::NotPresent { level: 4 }));
}

#[test]
fn reading_guest_virtual_memory_across_pages() {
    let mut host = FakeMem::default();
    // NPT at 0x10_0000: GPA page 0x1000 -> HPA 0x20_1000, 0x2000 -> 0x20_2000.
    host.write64(0x10_0000, 0x10_1000 | P);
    host.write64(0x10_1000, 0x10_2000 | P);
    host.write64(0x10_2000, 0x10_3000 | P);
    host.write64(0x10_3000 + 8, 0x20_1000 | P);
    host.write64(0x10_3000 + 2 * 8, 0x20_2000 | P);
    host.write(0x20_1ffd, &[0x48, 0x89, 0x08]);
    host.write(0x20_2000, &[0x90, 0xc3]);
    host.write(0x20_2ffc, &[1, 2, 3, 4]);
    let guest = NestedMemory {
        host: &host,
        format: NestedFormat::Npt,
        root: 0x10_0000,
    };
    // Paging off: guest virtual = guest physical.
    let info = GuestPageWalkInfo::default();
    let mut buf = [0u8; 5];
    assert_eq!(read_guest_virt(&guest, &info, 0x1ffd, &mut buf), 5);
    assert_eq!(buf, [0x48, 0x89, 0x08, 0x90, 0xc3]);
    // The page after 0x2000 is not mapped: only what precedes it is read.
    let mut buf = [0u8; 15];
    assert_eq!(read_guest_virt(&guest, &info, 0x2ffe, &mut buf), 2);
    assert_eq!(read_guest_virt(&guest, &info, 0x3000, &mut buf), 0);
    let mut buf = [0u8; 8];
    assert_eq!(read_guest_virt(&guest, &info, 0x2ffc, &mut buf), 4);
    assert_eq!(buf[..4], [1, 2, 3, 4]);
}
