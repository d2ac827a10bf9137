//! Host tests of node-path passthrough against QEMU's `virt` tree.

use super::generate;
use super::host_nodes::{HostNodeDevice, apply, resolve_blob};
use crate::{AxVMConfig, AxVMCrateConfig};
use ::fdt::Fdt;
use std::string::String;
use std::vec::Vec;

/// QEMU 7.2 `virt,gic-version=3 -smp 4 -m 2G`, dumped with `dumpdtb`.
const QEMU_DTB: &[u8] = include_bytes!("../../../axhal/testdata/qemu-virt-gicv3-smp4-2g.dtb");

/// What the hypervisor keeps on that machine: its console UART, the GIC
/// distributor and redistributors.
const OWN: [core::ops::Range<usize>; 3] = [
    0x0900_0000..0x0900_1000,
    0x0800_0000..0x0801_0000,
    0x080a_0000..0x080a_0000 + 4 * 0x2_0000,
];

/// An identity-mapped Linux VM in AxVisor's form with these devices lines.
fn config(devices: &str) -> AxVMConfig {
    let text = format!(
        r#"
[base]
id = 1
name = "linux-qemu"
vm_type = 1
cpu_num = 1

[kernel]
entry_point = 0x8000_0000
kernel_load_addr = 0x8000_0000
kernel_path = "Image"
dtb_load_addr = 0x8fff_0000
memory_regions = [[0x8000_0000, 0x1000_0000, 0x7, 1]]

[devices]
interrupt_mode = "passthrough"
{devices}
"#
    );
    AxVMConfig::from(AxVMCrateConfig::from_toml(&text).unwrap())
}

fn resolve(devices: &str) -> Result<Vec<HostNodeDevice>, String> {
    resolve_blob(QEMU_DTB, &config(devices), &OWN).map_err(|e| e.to_string())
}

fn paths(nodes: &[HostNodeDevice]) -> Vec<&str> {
    nodes.iter().map(|n| n.path.as_str()).collect()
}

#[test]
fn root_takes_the_devices_the_hypervisor_does_not_use() {
    let nodes = resolve(r#"passthrough_devices = [["/"]]"#).unwrap();
    let p = paths(&nodes);
    for taken in ["/pl031@9010000", "/pl061@9030000", "/fw-cfg@9020000", "/flash@0"] {
        assert!(p.contains(&taken), "{taken} missing from {p:?}");
    }
    assert_eq!(p.iter().filter(|p| p.starts_with("/virtio_mmio@")).count(), 32);
    for left_out in ["/pl011@9000000", "/intc@8000000", "/pcie@10000000", "/memory@40000000"] {
        assert!(!p.contains(&left_out), "{left_out} was taken: {p:?}");
    }
    assert!(!p.iter().any(|p| p.starts_with("/timer") || p.starts_with("/cpus")));
    let rtc = nodes.iter().find(|n| n.path == "/pl031@9010000").unwrap();
    assert_eq!(rtc.windows.len(), 1);
    assert_eq!(rtc.windows[0], 0x0901_0000..0x0901_1000);
    assert_eq!(rtc.spis, [34]);
    // Eight virtio-mmio devices share a page: it is mapped once.
    let virtio: Vec<_> = nodes.iter().filter(|n| n.path.starts_with("/virtio_mmio@")).collect();
    let windows: usize = virtio.iter().map(|n| n.windows.len()).sum();
    assert_eq!(windows, 4, "32 devices of 0x200 bytes in 4 pages");
    assert!(virtio.iter().all(|n| n.spis.len() == 1 && n.spis[0] >= 32));
}

#[test]
fn excluded_devices_and_their_children_are_left_out() {
    let nodes = resolve(
        r#"passthrough_devices = [["/"]]
excluded_devices = [["/pl031@9010000"], "/flash@0"]"#,
    )
    .unwrap();
    let p = paths(&nodes);
    assert!(!p.contains(&"/pl031@9010000") && !p.contains(&"/flash@0"), "{p:?}");
    assert!(p.contains(&"/pl061@9030000"));
    let err = resolve(
        r#"passthrough_devices = [["/"]]
excluded_devices = ["/nothing@0"]"#,
    )
    .unwrap_err();
    assert_eq!(
        err,
        "devices.excluded_devices[0]: \"/nothing@0\": no such node in the host device tree"
    );
}

#[test]
fn root_leaves_out_what_overlaps_the_vms_own_devices() {
    let nodes = resolve(
        r#"passthrough_devices = [["/"]]
emu_devices = [["rtc-emu", 0x0901_0000, 0x1000, 0, 0x0, []]]"#,
    )
    .unwrap();
    assert!(!paths(&nodes).contains(&"/pl031@9010000"));
}

#[test]
fn named_nodes_are_taken_or_refused_with_the_field() {
    let nodes = resolve(r#"passthrough_devices = [["/pl031@9010000"]]"#).unwrap();
    assert_eq!(paths(&nodes), ["/pl031@9010000"]);
    for (entry, problem) in [
        ("/nothing@0", "no such node in the host device tree"),
        ("/pl011@9000000", "is used by the hypervisor itself"),
        ("/intc@8000000", "an interrupt controller"),
        ("/pcie@10000000", "translate addresses"),
        ("/timer", "not a device that can be passed through"),
        ("/intc@8000000/its@8080000", "an interrupt controller"),
        ("/virtio_mmio@a000200", "does not start on a 4 KiB page"),
    ] {
        let err = resolve(&format!("passthrough_devices = [[\"/pl061@9030000\"], [\"{entry}\"]]")).unwrap_err();
        assert!(
            err.starts_with("devices.passthrough_devices[1]: ") && err.contains(problem),
            "{entry}: {err}"
        );
    }
}

#[test]
fn apply_adds_windows_and_spis_and_the_guest_tree_copies_the_node() {
    let mut cfg = config(r#"passthrough_devices = [["/pl031@9010000"], ["/pl061@9030000"]]"#);
    let nodes = resolve_blob(QEMU_DTB, &cfg, &OWN).unwrap();
    apply(&mut cfg, nodes);
    let devs = cfg.pass_through_devices();
    assert_eq!(devs.len(), 2);
    assert_eq!(
        (
            devs[0].name.as_str(),
            devs[0].base_gpa,
            devs[0].base_hpa,
            devs[0].length,
            devs[0].irq_id
        ),
        ("/pl031@9010000", 0x0901_0000, 0x0901_0000, 0x1000, 34)
    );
    assert_eq!(cfg.pass_through_spis(), [2, 7]);
    assert_eq!(cfg.host_nodes(), ["/pl031@9010000", "/pl061@9030000"]);

    let blob = generate(&cfg, None, Some(QEMU_DTB)).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    let rtc = fdt.find_node("/pl031@9010000").expect("copied under its own name");
    let reg: Vec<_> = rtc
        .reg()
        .unwrap()
        .map(|r| (r.starting_address as usize, r.size))
        .collect();
    assert_eq!(reg, [(0x0901_0000, Some(0x1000))]);
    assert!(rtc.property("interrupt-parent").is_none());
    assert!(rtc.property("interrupts").is_some());
    let clock = rtc.property("clocks").expect("its fixed clock comes along");
    assert_eq!(clock.value.len(), 4);
    let gpio = fdt.find_node("/pl061@9030000").unwrap();
    assert!(gpio.property("phandle").is_none(), "its phandle is the host's");
}
