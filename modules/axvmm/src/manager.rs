//! The manager as the management shell sees it ([`Manager`]).

use crate::hal::VmmHal;
use crate::lifecycle::{Request, VmState};
use crate::shell::{Manager, MemorySummary, VcpuSummary, VmSummary};
use crate::vmm::Vmm;
use alloc::{string::String, vec::Vec};

impl<P: VmmHal> Manager for Vmm<P> {
    fn list(&self) -> Vec<VmSummary> {
        let now = P::now_ns();
        let images = self.images.lock().clone();
        let records: Vec<_> = self
            .records
            .lock()
            .iter()
            .map(|r| (r.id, r.name.clone(), r.image, r.run.clone()))
            .collect();
        records
            .into_iter()
            .map(|(id, name, image, run)| {
                let img = images.get(image);
                let (state, vcpus, uptime_ns, exits) = match &run {
                    Some(run) => {
                        let vcpus = if run.state() == VmState::Stopped {
                            Vec::new()
                        } else {
                            run.vcpus
                                .iter()
                                .map(|s| VcpuSummary {
                                    id: s.id,
                                    pcpu: s.pcpu,
                                    power: s.power(),
                                    halted: s.halted(),
                                })
                                .collect()
                        };
                        (run.state(), vcpus, run.uptime_ns(now), run.exits())
                    }
                    None => (VmState::Stopped, Vec::new(), 0, 0),
                };
                VmSummary {
                    id,
                    name,
                    state,
                    vcpus,
                    memory_bytes: img.map_or(0, |i| i.memory_bytes),
                    uptime_ns,
                    exits,
                    console_dropped: self.console.outboxes().get(id).map_or(0, |b| b.dropped()),
                    file: img.map_or_else(String::new, |i| i.file.clone()),
                }
            })
            .collect()
    }

    fn images(&self) -> Vec<(String, bool)> {
        self.images
            .lock()
            .iter()
            .map(|i| (i.name.clone(), i.autostart))
            .collect()
    }

    fn create(&self, name: &str, id: Option<usize>) -> Result<usize, String> {
        Vmm::create(self, name, id)
    }

    fn request(&self, id: usize, request: Request) -> Result<String, String> {
        Vmm::request(self, id, request)
    }

    fn focus(&self, id: usize) -> Result<(), String> {
        self.set_focus(id)
    }

    fn memory(&self) -> MemorySummary {
        let vm_bytes = self
            .records
            .lock()
            .iter()
            .filter(|r| r.run.is_some())
            .filter_map(|r| self.images.lock().get(r.image).map(|i| i.memory_bytes))
            .sum();
        MemorySummary {
            free_bytes: P::free_memory_bytes(),
            used_bytes: P::used_memory_bytes(),
            vm_bytes,
        }
    }
}
