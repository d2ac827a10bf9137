//! The examples in `configs/vms/README.md` are valid.

mod common;

use axvmconfig::{AxVMConfig, ValidateContext};
use common::*;

const README: &str = include_str!("../../../configs/vms/README.md");

/// The ```toml blocks of the README.
fn toml_blocks() -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in README.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```toml") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn readme_example_is_valid() {
    let blocks = toml_blocks();
    assert_eq!(blocks.len(), 2, "the README has the example and the positional snippet");
    let config = parse(&blocks[0]);
    config.validate(&ValidateContext::new(PHYS_CPUS, &sizes)).unwrap();
    let vm = AxVMConfig::from(config);
    assert_eq!(vm.emu_devices().len(), 3);
}

#[test]
fn readme_positional_snippet_parses() {
    let blocks = toml_blocks();
    let snippet = &blocks[1];
    // The snippet's `memory_regions` go in [kernel], its device lists in [devices].
    let (regions, devices) = snippet.split_at(snippet.find("emu_devices").unwrap());
    let kernel = GOOD_NAMED.split("[[kernel.memory_regions]]").next().unwrap();
    let config = parse(&format!("{kernel}{regions}\n[devices]\n{devices}"));
    assert_eq!(config.kernel.memory_regions.len(), 1);
    assert_eq!(config.kernel.memory_regions[0].size, 0x1000_0000);
    assert_eq!(config.devices.emu_devices[0].name, "uart0");
    assert_eq!(config.devices.passthrough_devices[0].irq_id, 34);
}
