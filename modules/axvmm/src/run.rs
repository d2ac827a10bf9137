//! One boot of a VM: the VM object, its lifecycle state, and its vCPUs'
//! places. A restart builds a new one; the CPUs that still hold vCPUs of
//! the old one retire them on their own.

use crate::hal::{ManagedVm, Power};
use crate::lifecycle::VmState;
use crate::vcpu::VCpuSlot;
use alloc::{sync::Arc, vec::Vec};
use axdevice::ConsoleSink;
use core::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};

/// A VM while it is built: what its vCPUs' CPUs share.
pub struct Run {
    /// The VM.
    pub vm: Arc<dyn ManagedVm>,
    /// `vm.id()`, read once: kicks look runs up by it.
    vm_id: usize,
    /// Its vCPUs, by id.
    pub vcpus: Vec<VCpuSlot>,
    /// Index (in the manager's image list) of the config it was built from.
    pub image: usize,
    /// Its console output (its UARTs and its putchar hypercall share it, so
    /// their bytes join the same lines).
    pub sink: Arc<dyn ConsoleSink>,
    state: AtomicU8,
    /// When it last started running (host ns), 0 if never.
    started_ns: AtomicU64,
    /// The VM's exit count when it last started.
    exits_at_start: AtomicU64,
    /// vCPUs taken off their CPUs since it stopped.
    retired: AtomicUsize,
}

impl Run {
    /// A run of `vm`, built from image `image` with its console output
    /// going to `sink`, with vCPU `i` on `pcpus[i]` (vCPU 0 on, the others
    /// off), in state `state`.
    pub fn new(
        vm: Arc<dyn ManagedVm>,
        image: usize,
        sink: Arc<dyn ConsoleSink>,
        pcpus: &[usize],
        state: VmState,
    ) -> Self {
        let vcpus = pcpus
            .iter()
            .enumerate()
            .map(|(id, &pcpu)| VCpuSlot::new(id, pcpu, if id == 0 { Power::On } else { Power::Off }))
            .collect();
        Self {
            vm_id: vm.id(),
            vm,
            vcpus,
            image,
            sink,
            state: AtomicU8::new(state as u8),
            started_ns: AtomicU64::new(0),
            exits_at_start: AtomicU64::new(0),
            retired: AtomicUsize::new(0),
        }
    }

    /// The VM's id (what `vm.id()` says, without the call).
    pub fn vm_id(&self) -> usize {
        self.vm_id
    }

    /// Its lifecycle state.
    pub fn state(&self) -> VmState {
        match self.state.load(Ordering::Acquire) {
            0 => VmState::Created,
            1 => VmState::Running,
            2 => VmState::Paused,
            _ => VmState::Stopped,
        }
    }

    /// Sets its lifecycle state.
    pub fn set_state(&self, state: VmState) {
        self.state.store(state as u8, Ordering::Release);
    }

    /// Records that it starts running now.
    pub fn mark_started(&self, now_ns: u64) {
        self.started_ns.store(now_ns.max(1), Ordering::Release);
        self.exits_at_start.store(self.vm.exits(), Ordering::Release);
    }

    /// Time since it started, in ns (0 if it never ran or is stopped).
    pub fn uptime_ns(&self, now_ns: u64) -> u64 {
        match (self.state(), self.started_ns.load(Ordering::Acquire)) {
            (VmState::Created | VmState::Stopped, _) | (_, 0) => 0,
            (_, t) => now_ns.saturating_sub(t),
        }
    }

    /// Exits since it started.
    pub fn exits(&self) -> u64 {
        self.vm
            .exits()
            .saturating_sub(self.exits_at_start.load(Ordering::Acquire))
    }

    /// Whether its vCPUs may be scheduled.
    pub fn schedulable(&self) -> bool {
        self.state() == VmState::Running && !self.vm.shutting_down()
    }

    /// Counts one of its vCPUs retired; true when that was the last.
    pub fn retire_one(&self) -> bool {
        self.retired.fetch_add(1, Ordering::AcqRel) + 1 == self.vcpus.len()
    }

    /// Whether every vCPU is off its CPU since it stopped.
    pub fn all_retired(&self) -> bool {
        self.retired.load(Ordering::Acquire) >= self.vcpus.len()
    }

    /// The vCPU a guest names `arch_id`.
    pub fn vcpu_by_arch_id(&self, arch_id: u64) -> Option<&VCpuSlot> {
        self.vm.vcpu_by_arch_id(arch_id).and_then(|i| self.vcpus.get(i))
    }
}
