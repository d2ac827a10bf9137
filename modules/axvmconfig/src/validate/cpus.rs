//! vCPU checks of `[base]`.

use alloc::format;
use alloc::vec::Vec;

use super::{ValidateContext, push};
use crate::crate_config::VMBaseConfig;
use crate::error::{ConfigError, ErrorKind};

pub(super) fn check(base: &VMBaseConfig, ctx: &ValidateContext<'_>, errors: &mut Vec<ConfigError>) {
    let phys = ctx.phys_cpu_num();
    if base.name.is_empty() {
        push(errors, ErrorKind::InvalidValue, "base.name", "must not be empty".into());
    }
    if base.cpu_num == 0 {
        push(errors, ErrorKind::Cpu, "base.cpu_num", "must be at least 1".into());
    } else if base.cpu_num > phys {
        push(
            errors,
            ErrorKind::Cpu,
            "base.cpu_num",
            format!("{} vCPUs, but the machine has only {phys} physical CPUs", base.cpu_num),
        );
    }

    if let Some(ids) = &base.phys_cpu_ids {
        check_len(errors, "base.phys_cpu_ids", ids.len(), base.cpu_num);
        for (j, id) in ids.iter().enumerate() {
            if let Some(i) = ids[..j].iter().position(|other| other == id) {
                push(
                    errors,
                    ErrorKind::Cpu,
                    format!("base.phys_cpu_ids[{j}]"),
                    format!("{id:#x} is already the physical id of vCPU {i}"),
                );
            }
        }
    }

    if let Some(sets) = &base.phys_cpu_sets {
        check_len(errors, "base.phys_cpu_sets", sets.len(), base.cpu_num);
        // Bits at and above `phys` name CPUs the machine does not have.
        let existing = match u32::try_from(phys) {
            Ok(n) if n < usize::BITS => (1usize << n) - 1,
            _ => usize::MAX,
        };
        for (i, &mask) in sets.iter().enumerate() {
            let field = format!("base.phys_cpu_sets[{i}]");
            if mask == 0 {
                push(errors, ErrorKind::Cpu, field, "mask 0x0 selects no physical CPU".into());
            } else if mask & !existing != 0 {
                push(
                    errors,
                    ErrorKind::Cpu,
                    field,
                    format!("mask {mask:#x} names physical CPUs beyond the {phys} the machine has"),
                );
            }
        }
    }
}

fn check_len(errors: &mut Vec<ConfigError>, field: &str, len: usize, cpu_num: usize) {
    if len != cpu_num {
        push(
            errors,
            ErrorKind::Cpu,
            field,
            format!("has {len} entries, but base.cpu_num is {cpu_num} (one entry per vCPU)"),
        );
    }
}
