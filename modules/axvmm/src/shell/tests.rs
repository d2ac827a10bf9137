//! A mock [`Manager`] with a few VMs (shared by the shell's tests), and the
//! tests of [`Shell`], the driver.

use super::*;
use crate::lifecycle::{Plan, plan};
use alloc::{format, string::ToString, vec};
use core::cell::{Cell, RefCell};

/// A VM name with a quote, a backslash and control characters.
pub(crate) const ODD_NAME: &str = "odd \"one\"\\\u{1}\u{9b}é";

/// A manager over a table of VMs that follows the lifecycle rules.
pub(crate) struct MockManager {
    pub vms: RefCell<Vec<VmSummary>>,
    pub images: Vec<(String, bool)>,
    pub focused: Cell<Option<usize>>,
}

fn vcpu(id: usize, pcpu: usize, power: Power, halted: bool) -> VcpuSummary {
    VcpuSummary {
        id,
        pcpu,
        power,
        halted,
    }
}

impl MockManager {
    /// VM 1 `linux` running on two CPUs, VM 2 `testguest` paused, VM 5
    /// (odd name) stopped.
    pub fn new() -> Self {
        let vms = vec![
            VmSummary {
                id: 1,
                name: "linux".to_string(),
                state: VmState::Running,
                vcpus: vec![vcpu(0, 0, Power::On, false), vcpu(1, 1, Power::On, true)],
                memory_bytes: 128 << 20,
                uptime_ns: 3_723_400_000_000,
                exits: 123_456,
                console_dropped: 0,
                file: "configs/linux.toml".to_string(),
            },
            VmSummary {
                id: 2,
                name: "testguest".to_string(),
                state: VmState::Paused,
                vcpus: vec![vcpu(0, 2, Power::On, false), vcpu(1, 3, Power::Off, false)],
                memory_bytes: 512 << 10,
                uptime_ns: 12_345_000_000,
                exits: 7,
                console_dropped: 0,
                file: "configs/testguest.toml".to_string(),
            },
            VmSummary {
                id: 5,
                name: ODD_NAME.to_string(),
                state: VmState::Stopped,
                vcpus: Vec::new(),
                memory_bytes: 3 << 19,
                uptime_ns: 0,
                exits: 0,
                console_dropped: 0,
                file: "configs/odd\ttab.toml".to_string(),
            },
        ];
        let images = vec![("linux".to_string(), true), ("testguest".to_string(), false)];
        Self {
            vms: RefCell::new(vms),
            images,
            focused: Cell::new(None),
        }
    }

    pub fn state_of(&self, id: usize) -> Option<VmState> {
        self.vms.borrow().iter().find(|vm| vm.id == id).map(|vm| vm.state)
    }
}

impl Manager for MockManager {
    fn list(&self) -> Vec<VmSummary> {
        self.vms.borrow().clone()
    }

    fn images(&self) -> Vec<(String, bool)> {
        self.images.clone()
    }

    fn create(&self, name: &str, id: Option<usize>) -> Result<usize, String> {
        let mut vms = self.vms.borrow_mut();
        let taken = |id| vms.iter().any(|vm: &VmSummary| vm.id == id);
        let id = match id {
            Some(id) if taken(id) => return Err(format!("VM id {id} is taken")),
            Some(id) => id,
            None => (0..).find(|id| !taken(*id)).ok_or("no free id")?,
        };
        vms.push(VmSummary {
            id,
            name: name.to_string(),
            state: VmState::Created,
            vcpus: Vec::new(),
            memory_bytes: 1 << 20,
            uptime_ns: 0,
            exits: 0,
            console_dropped: 0,
            file: format!("configs/{name}.toml"),
        });
        Ok(id)
    }

    fn request(&self, id: usize, request: Request) -> Result<String, String> {
        let mut vms = self.vms.borrow_mut();
        let at = vms.iter().position(|vm| vm.id == id).ok_or(format!("no VM {id}"))?;
        let vm = &mut vms[at];
        match plan(id, vm.state, request).map_err(|e| e.to_string())? {
            Plan::Become(state) => vm.state = state,
            Plan::Stop => vm.state = VmState::Stopped,
            Plan::Reboot => vm.state = VmState::Running,
            Plan::Destroy => {
                vms.remove(at);
            }
        }
        Ok(format!("VM {id}: {} done\n", request.name()))
    }

    fn focus(&self, id: usize) -> Result<(), String> {
        self.state_of(id).ok_or(format!("no VM {id}"))?;
        self.focused.set(Some(id));
        Ok(())
    }

    fn memory(&self) -> MemorySummary {
        MemorySummary {
            free_bytes: 1536 << 20,
            used_bytes: (200 << 20) + (512 << 10),
            vm_bytes: 130 << 20,
        }
    }
}

/// Feeds `input` to `shell`; what it printed and the last outcome.
fn type_in(shell: &mut Shell, mgr: &MockManager, input: &[u8]) -> (String, Outcome) {
    let mut printed = String::new();
    let mut outcome = Outcome::Stay;
    for &b in input {
        outcome = shell.feed(b, mgr, &mut |s| printed.push_str(s));
    }
    (printed, outcome)
}

#[test]
fn open_prints_the_banner_and_the_prompt() {
    let mut shell = Shell::new();
    let mut printed = String::new();
    shell.open(&mut |s| printed.push_str(s));
    assert_eq!(
        printed,
        "hv: management shell; \"help\" lists the commands, \"exit\" leaves\nhv> "
    );
}

#[test]
fn a_command_is_echoed_run_and_followed_by_a_prompt() {
    let (mgr, mut shell) = (MockManager::new(), Shell::new());
    let (printed, outcome) = type_in(&mut shell, &mgr, b"vm pause 1\r\n");
    assert_eq!(printed, "vm pause 1\nVM 1: pause done\nhv> ");
    assert_eq!(outcome, Outcome::Stay);
    assert_eq!(mgr.state_of(1), Some(VmState::Paused));
    // An error is printed the same way and changes nothing.
    let (printed, _) = type_in(&mut shell, &mgr, b"vm pause 1\r");
    assert_eq!(printed, "vm pause 1\nvm pause: VM 1 is already paused\nhv> ");
    // A blank line: a new prompt only.
    let (printed, _) = type_in(&mut shell, &mgr, b"\r");
    assert_eq!(printed, "\nhv> ");
}

#[test]
fn console_leaves_with_focus_and_exit_and_ctrl_d_leave() {
    let (mgr, mut shell) = (MockManager::new(), Shell::new());
    let (printed, outcome) = type_in(&mut shell, &mgr, b"vm console 2\r");
    assert_eq!(outcome, Outcome::Focus(2));
    assert_eq!(mgr.focused.get(), Some(2));
    assert!(printed.ends_with("console input goes to VM 2 (testguest); Ctrl-A m comes back here\n"));
    assert!(!printed.ends_with(line::PROMPT));

    let (printed, outcome) = type_in(&mut shell, &mgr, b"exit\r");
    assert_eq!(
        (printed.as_str(), outcome),
        (
            "exit\nleft the management shell; Ctrl-A m opens it again\n",
            Outcome::Leave
        )
    );
    let (printed, outcome) = type_in(&mut shell, &mgr, b"\x04");
    assert_eq!(
        (printed.as_str(), outcome),
        ("\nleft the management shell; Ctrl-A m opens it again\n", Outcome::Leave)
    );
}

#[test]
fn opening_again_drops_the_half_typed_line_and_keeps_the_history() {
    let (mgr, mut shell) = (MockManager::new(), Shell::new());
    type_in(&mut shell, &mgr, b"mem\rvm li\x1b[");
    shell.open(&mut |_| {});
    let (printed, _) = type_in(&mut shell, &mgr, b"help\r");
    assert!(printed.starts_with("help\ncommands:\n"), "{printed}");
    let (printed, _) = type_in(&mut shell, &mgr, b"\x1b[A\x1b[A");
    assert_eq!(printed, "help\x08 \x08\x08 \x08\x08 \x08\x08 \x08mem");
}

#[test]
fn garbage_then_a_command_works() {
    let (mgr, mut shell) = (MockManager::new(), Shell::new());
    let garbage: Vec<u8> = (0u8..=0xff)
        .filter(|b| !b.is_ascii_graphic() && !b" \r\n\x04".contains(b))
        .collect();
    type_in(&mut shell, &mgr, &garbage);
    let (printed, outcome) = type_in(&mut shell, &mgr, b"vm stop 1\r");
    assert_eq!(printed, "vm stop 1\nVM 1: stop done\nhv> ");
    assert_eq!(outcome, Outcome::Stay);
    assert_eq!(mgr.state_of(1), Some(VmState::Stopped));
}
