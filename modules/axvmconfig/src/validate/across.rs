//! Checks across the configurations of one build: two VMs cannot have the
//! same host memory, so their `identical` and `reserved` RAM regions (host
//! addresses known from the files) must not overlap.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{overlaps, range_of, region_field, show};
use crate::crate_config::AxVMCrateConfig;
use crate::error::{ConfigError, ConfigFileError, ErrorKind};
use crate::types::VmMemMappingType;

/// Checks the configurations `configs` (`(file, config)`, in build order)
/// against each other; each problem is reported on the later file, naming
/// the earlier one.
pub fn check_across(configs: &[(&str, &AxVMCrateConfig)]) -> Vec<ConfigFileError> {
    let mut host_ranges = Vec::new();
    let mut failed = Vec::new();
    for &(file, config) in configs {
        let mut errors = Vec::new();
        let mut own = Vec::new();
        for (i, region) in config.kernel.memory_regions.iter().enumerate() {
            let fixed = matches!(
                region.map_type,
                VmMemMappingType::MapIdentical | VmMemMappingType::MapReserved
            );
            let Some(range) = range_of(region.gpa, region.size).filter(|_| fixed && region.flags.is_ram()) else {
                continue;
            };
            for (other_file, other_index, other) in host_ranges.iter().filter(|(_, _, r)| overlaps(r, &range)) {
                let problem: String = format!(
                    "{} host memory {} overlaps {other_file}'s {} {}: two VMs cannot have the same host memory",
                    region.map_type,
                    show(&range),
                    region_field(*other_index),
                    show(other)
                );
                errors.push(ConfigError::new(ErrorKind::Overlap, region_field(i), problem));
            }
            own.push((file, i, range));
        }
        host_ranges.extend(own);
        if !errors.is_empty() {
            failed.push(ConfigFileError::new(file, errors));
        }
    }
    failed
}
