//! Tests of the device-tree well-formedness check: real trees pass, and
//! each malformation the `fdt` crate would panic on is refused with its
//! offset. Blobs are assembled here token by token from the Devicetree
//! Specification's layout, independently of the checker.

use super::{MAX_DEPTH, Malformed, check};
use crate::fdt::DtbError;
use std::vec::Vec;

const QEMU_DTB: &[u8] = include_bytes!("../../../axhal/testdata/qemu-virt-gicv3-smp4-2g.dtb");

/// A VM with a passthrough device, so that `generate` reads the host tree.
const CONFIG: &str = r#"
[base]
id = 1
name = "vm"
vm_type = "linux"
cpu_num = 1

[kernel]
entry_point = 0x4020_0000
kernel_path = "Image"
kernel_load_addr = 0x4020_0000
dtb_load_addr = 0x4000_0000
memory_regions = [{ gpa = 0x4000_0000, size = 0x1000_0000, flags = "rwx", map = "alloc" }]

[devices]
passthrough_devices = [{ name = "rtc", gpa = 0x0901_0000, hpa = 0x0901_0000, size = 0x1000, irq = 34 }]
"#;

/// A structure-block token stream and its strings block.
#[derive(Default)]
struct Tree {
    structs: Vec<u8>,
    strings: Vec<u8>,
}

impl Tree {
    fn u32(mut self, v: u32) -> Self {
        self.structs.extend_from_slice(&v.to_be_bytes());
        self
    }

    fn pad(mut self) -> Self {
        while !self.structs.len().is_multiple_of(4) {
            self.structs.push(0);
        }
        self
    }

    fn begin(self, name: &str) -> Self {
        let mut t = self.u32(1);
        t.structs.extend_from_slice(name.as_bytes());
        t.structs.push(0);
        t.pad()
    }

    fn end(self) -> Self {
        self.u32(2)
    }

    /// A property with its name added to the strings block.
    fn prop(mut self, name: &str, value: &[u8]) -> Self {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        self.prop_at(off, value)
    }

    /// A property whose name offset is `off`, as is.
    fn prop_at(self, off: u32, value: &[u8]) -> Self {
        let mut t = self.u32(3).u32(value.len() as u32).u32(off);
        t.structs.extend_from_slice(value);
        t.pad()
    }

    fn finish(self) -> Self {
        self.u32(9)
    }

    /// The blob: header, an empty reservation list, structs, strings.
    fn blob(&self) -> Vec<u8> {
        let off_rsv = 40u32;
        let off_struct = off_rsv + 16;
        let off_strings = off_struct + self.structs.len() as u32;
        let total = off_strings + self.strings.len() as u32;
        let mut b = Vec::new();
        for v in [
            0xd00d_feed,
            total,
            off_struct,
            off_strings,
            off_rsv,
            17,
            16,
            0,
            self.strings.len() as u32,
            self.structs.len() as u32,
        ] {
            b.extend_from_slice(&u32::to_be_bytes(v));
        }
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&self.structs);
        b.extend_from_slice(&self.strings);
        b
    }
}

/// A small valid tree: a root with cells, one child with a `reg`.
fn small() -> Tree {
    Tree::default()
        .begin("")
        .prop("#address-cells", &2u32.to_be_bytes())
        .prop("#size-cells", &2u32.to_be_bytes())
        .begin("uart@9000000")
        .prop("reg", &[0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0])
        .end()
        .end()
        .finish()
}

fn problem(blob: &[u8]) -> &'static str {
    match check(blob) {
        Err(Malformed { problem, .. }) => problem,
        Ok(()) => panic!("a malformed tree was accepted"),
    }
}

#[test]
fn real_and_generated_trees_pass() {
    assert_eq!(check(QEMU_DTB), Ok(()));
    assert_eq!(check(&small().blob()), Ok(()));
    // And the fdt crate reads what passed.
    let blob = small().blob();
    let tree = ::fdt::Fdt::new(&blob).unwrap();
    assert!(tree.find_node("/uart@9000000").is_some());
}

#[test]
fn header_problems() {
    assert!(problem(b"\xd0\x0d\xfe\xed").contains("shorter than a device tree header"));
    assert!(problem(&[0u8; 64]).contains("bad magic"));
    let mut b = small().blob();
    b[4..8].copy_from_slice(&0x10_000u32.to_be_bytes());
    assert!(problem(&b).contains("totalsize"));
    let mut b = small().blob();
    // The structure block's size runs past totalsize.
    b[36..40].copy_from_slice(&0x1000u32.to_be_bytes());
    assert!(problem(&b).contains("structure block is outside"));
    let mut b = small().blob();
    b[32..36].copy_from_slice(&0x1000u32.to_be_bytes());
    assert!(problem(&b).contains("strings block is outside"));
    let mut b = small().blob();
    b[8..12].copy_from_slice(&58u32.to_be_bytes());
    assert!(problem(&b).contains("not 4-byte aligned"));
}

#[test]
fn the_fuzzer_crash_is_refused() {
    // The first input the `dtb` fuzz target found to panic the fdt crate
    // (its first byte picks `fixup`, the rest is the blob): a header with
    // offsets into garbage.
    let input: [u8; 48] = [
        0x0e, 0xd0, 0x0d, 0xfe, 0xed, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e,
        0x0a, 0xfc, 0xfc, 0xfc, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x51, 0x51, 0x51, 0x51, 0x51, 0x51,
        0x51, 0x51, 0x51, 0x51, 0x51, 0x51, 0x51, 0x51, 0x51, 0x00, 0x00, 0x00,
    ];
    let crash = &input[1..];
    assert!(check(crash).is_err());
    // Through the readers: an error, where the fdt crate alone panicked.
    let config = crate::AxVMConfig::from(crate::AxVMCrateConfig::from_toml(CONFIG).unwrap());
    assert!(matches!(
        super::super::fixup(crash, &config, None),
        Err(DtbError::Malformed(_))
    ));
    assert!(matches!(
        super::super::generate(&config, None, Some(crash)),
        Err(DtbError::Malformed(_))
    ));
    // The same garbage behind a plausible header.
    let mut b = small().blob();
    let n = b.len();
    b[56..n].fill(0x51);
    assert!(check(&b).is_err());
}

#[test]
fn structure_problems() {
    let strings_len = small().strings.len() as u32;
    let bad_name = Tree::default().begin("").prop_at(strings_len + 100, &[]).end().finish();
    let mut t = bad_name;
    t.strings = small().strings;
    assert!(problem(&t.blob()).contains("property name"));

    let short_cells = Tree::default().begin("").prop("#address-cells", &[0, 2]).end().finish();
    assert!(problem(&short_cells.blob()).contains("one cell"));

    let prop_after_child = Tree::default().begin("").begin("a").end().prop("x", &[]).end().finish();
    assert!(problem(&prop_after_child.blob()).contains("after a child"));

    let nop = Tree::default().begin("").u32(4).end().finish();
    assert!(problem(&nop.blob()).contains("FDT_NOP"));

    let two_roots = Tree::default().begin("").end().begin("").end().finish();
    assert!(problem(&two_roots.blob()).contains("second root"));

    let unclosed = Tree::default().begin("").begin("a").end().finish();
    assert!(problem(&unclosed.blob()).contains("before the root node is complete"));

    let no_end = Tree::default().begin("").end();
    assert!(problem(&no_end.blob()).contains("without FDT_END"));

    let mut t = Tree::default().begin("");
    t.structs.extend_from_slice(&[3, 0, 0, 0xff]);
    t = t.u32(0);
    let long_value = t.end().finish();
    assert!(check(&long_value.blob()).is_err());

    let mut bad_utf8 = Tree::default().u32(1);
    bad_utf8.structs.extend_from_slice(&[0xff, 0xfe, 0, 0]);
    let bad_utf8 = bad_utf8.end().finish();
    assert!(check(&bad_utf8.blob()).is_err());
}

#[test]
fn nesting_is_bounded() {
    let nest = |depth: usize| {
        let mut t = Tree::default().begin("");
        for _ in 1..depth {
            t = t.begin("n");
        }
        for _ in 0..depth {
            t = t.end();
        }
        t.finish().blob()
    };
    assert_eq!(check(&nest(MAX_DEPTH)), Ok(()));
    assert!(problem(&nest(MAX_DEPTH + 1)).contains("too deep"));
}

#[test]
fn a_huge_cell_count_is_refused_before_anything_is_sized_by_it() {
    // Found by the `dtb` fuzz target: a root `#address-cells` of 0xb8000000
    // made the fixup allocate 12 GiB for one memory node's `reg`.
    let tree = Tree::default()
        .begin("")
        .prop("#address-cells", &0xb800_0000u32.to_be_bytes())
        .prop("#size-cells", &2u32.to_be_bytes())
        .begin("memory@40000000")
        .prop("device_type", b"memory\0")
        .end()
        .end()
        .finish();
    let blob = tree.blob();
    assert_eq!(check(&blob), Ok(()));
    let config = crate::AxVMConfig::from(crate::AxVMCrateConfig::from_toml(CONFIG).unwrap());
    assert!(matches!(
        super::super::fixup(&blob, &config, None),
        Err(DtbError::CellsTooSmall { cells: 0xb800_0000, .. })
    ));
}
