//! Choosing the physical CPU of each vCPU of a VM: a fixed CPU where the
//! config names one (`phys_cpu_ids`), otherwise the least loaded CPU of the
//! vCPU's set (`phys_cpu_sets`) or of all online CPUs, the lowest on a tie.
//! Load is the number of vCPUs already placed on a CPU (of running and
//! paused VMs, and of the VM being placed).
//!
//! A vCPU is placed once, when its VM is built, and stays on that CPU until
//! the VM is restarted. For `phys_cpu_sets` this keeps AxVisor's promise
//! that a vCPU never runs outside its set, but not its "may be scheduled on
//! any CPU of the set": a vCPU does not move to another CPU of its set when
//! its own is busy.

use crate::hal::CpuChoice;
use alloc::{format, string::String, vec::Vec};

/// Places each vCPU of `choices` given `load[cpu]` (CPUs `0..load.len()`
/// are online): the CPU of each vCPU, or why it cannot be placed.
pub fn place(choices: &[CpuChoice], load: &[usize]) -> Result<Vec<usize>, String> {
    let mut load = load.to_vec();
    let cpus = load.len();
    let mut out = Vec::with_capacity(choices.len());
    for (vcpu, choice) in choices.iter().enumerate() {
        let allowed = |cpu: usize| match *choice {
            CpuChoice::Fixed(c) => c == cpu,
            CpuChoice::Set(mask) => cpu < 64 && mask & (1 << cpu) != 0,
            CpuChoice::Any => true,
        };
        let cpu = (0..cpus)
            .filter(|&c| allowed(c))
            .min_by_key(|&c| (load[c], c))
            .ok_or_else(|| match *choice {
                CpuChoice::Fixed(c) => format!("vCPU {vcpu} wants CPU {c}, which is not online ({cpus} CPUs)"),
                CpuChoice::Set(mask) => {
                    format!("vCPU {vcpu} may run on CPUs {mask:#x}, none of which is online ({cpus} CPUs)")
                }
                CpuChoice::Any => String::from("no CPU is online"),
            })?;
        load[cpu] += 1;
        out.push(cpu);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CpuChoice::*;

    #[test]
    fn fixed_cpus_are_kept_even_when_busy() {
        assert_eq!(place(&[Fixed(2), Fixed(2)], &[0, 0, 5, 0]), Ok(alloc::vec![2, 2]));
    }

    #[test]
    fn any_goes_to_the_least_loaded_lowest_first() {
        assert_eq!(place(&[Any, Any], &[0, 0, 0, 0]), Ok(alloc::vec![0, 1]));
        assert_eq!(place(&[Any, Any, Any], &[1, 1, 0, 2]), Ok(alloc::vec![2, 0, 1]));
        // More vCPUs than CPUs: they share, evenly.
        assert_eq!(place(&[Any; 5], &[0, 0]), Ok(alloc::vec![0, 1, 0, 1, 0]));
    }

    #[test]
    fn sets_are_honoured() {
        assert_eq!(
            place(&[Set(0b1100), Set(0b1100), Set(0b1100)], &[0; 4]),
            Ok(alloc::vec![2, 3, 2])
        );
        assert_eq!(place(&[Set(0b0010)], &[0, 9, 0]), Ok(alloc::vec![1]));
    }

    #[test]
    fn offline_cpus_are_refused_with_the_vcpu_named() {
        assert_eq!(
            place(&[Any, Fixed(4)], &[0; 4]),
            Err(String::from("vCPU 1 wants CPU 4, which is not online (4 CPUs)"))
        );
        assert_eq!(
            place(&[Set(0b1_0000)], &[0; 4]),
            Err(String::from(
                "vCPU 0 may run on CPUs 0x10, none of which is online (4 CPUs)"
            ))
        );
        assert!(place(&[Any], &[]).is_err());
        assert!(place(&[Set(u64::MAX)], &[0; 70]).is_ok());
    }
}
