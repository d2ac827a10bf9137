//! The lifecycle of a VM: its states, the requests that move it, and the
//! table of which request is legal in which state.
//!
//! ```text
//!            start            pause
//!  Created ---------> Running <-----> Paused
//!                       |  ^  resume    |
//!                  stop |  | start,     | stop
//!                       v  | restart    v
//!                      Stopped <--------+
//! ```
//!
//! `restart` is legal from Running, Paused and Stopped and boots the VM
//! again from its images with fresh memory (`start` on a stopped VM does the
//! same). `destroy` is legal from every state: a VM that still runs is
//! stopped first, as `virsh destroy` does. Everything else is refused with a
//! message that says why, and changes nothing.

use core::fmt;

/// Where a VM is in its lifecycle.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmState {
    /// Built (memory, vCPUs, devices), never started.
    Created = 0,
    /// Its vCPUs are scheduled.
    Running = 1,
    /// Its vCPUs are kept off the CPUs; they resume where they were.
    Paused = 2,
    /// Its vCPUs are retired and its interrupts released; its memory is
    /// kept until it is restarted or destroyed.
    Stopped = 3,
}

impl VmState {
    /// The lower-case name used by the console and its JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
        }
    }
}

impl fmt::Display for VmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A request to change a VM's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Run a created VM (or boot a stopped one again).
    Start,
    /// Keep its vCPUs off the CPUs.
    Pause,
    /// Schedule a paused VM's vCPUs again.
    Resume,
    /// Retire its vCPUs, quiesce its devices, release its interrupts.
    Stop,
    /// Boot it again from its images, with fresh memory.
    Restart,
    /// Return everything it holds and forget it.
    Destroy,
}

impl Request {
    /// Every request, in console order.
    pub const ALL: [Request; 6] = [
        Self::Start,
        Self::Pause,
        Self::Resume,
        Self::Stop,
        Self::Restart,
        Self::Destroy,
    ];

    /// The console word for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Stop => "stop",
            Self::Restart => "restart",
            Self::Destroy => "destroy",
        }
    }

    /// The request a console word names.
    pub fn from_name(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == word)
    }
}

/// What a legal request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Only the state changes (start, pause, resume).
    Become(VmState),
    /// Stop the VM (retire its vCPUs, release its interrupts).
    Stop,
    /// Stop it if it is not stopped yet, then build it again and run it.
    Reboot,
    /// Stop it if it is not stopped yet, then free it.
    Destroy,
}

/// A request refused in the VM's current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The VM.
    pub vm_id: usize,
    /// Its state.
    pub state: VmState,
    /// What was asked.
    pub request: Request,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.vm_id;
        match (self.request, self.state) {
            (Request::Start | Request::Resume, VmState::Running) => write!(f, "VM {id} is already running"),
            (Request::Start, VmState::Paused) => write!(f, "VM {id} is paused; `vm resume {id}` runs it again"),
            (Request::Pause, VmState::Paused) => write!(f, "VM {id} is already paused"),
            (Request::Stop, VmState::Stopped) => write!(f, "VM {id} is already stopped"),
            (Request::Restart, VmState::Created) => {
                write!(f, "VM {id} was never started; `vm start {id}` starts it")
            }
            (r, s) => write!(f, "VM {id} is {s}: it cannot be asked to {}", r.name()),
        }
    }
}

/// What `request` does to a VM in `state`, or why it is refused.
pub fn plan(vm_id: usize, state: VmState, request: Request) -> Result<Plan, Refused> {
    use {Request as R, VmState as S};
    let plan = match (request, state) {
        (R::Start, S::Created) => Plan::Become(S::Running),
        (R::Start, S::Stopped) => Plan::Reboot,
        (R::Pause, S::Running) => Plan::Become(S::Paused),
        (R::Resume, S::Paused) => Plan::Become(S::Running),
        (R::Stop, S::Running | S::Paused) => Plan::Stop,
        (R::Restart, S::Running | S::Paused | S::Stopped) => Plan::Reboot,
        (R::Destroy, _) => Plan::Destroy,
        _ => return Err(Refused { vm_id, state, request }),
    };
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    const STATES: [VmState; 4] = [VmState::Created, VmState::Running, VmState::Paused, VmState::Stopped];

    /// The legal requests, written out independently of `plan`'s match.
    fn expected(state: VmState, request: Request) -> Option<Plan> {
        use {Request as R, VmState as S};
        let table: &[(S, R, Plan)] = &[
            (S::Created, R::Start, Plan::Become(S::Running)),
            (S::Created, R::Destroy, Plan::Destroy),
            (S::Running, R::Pause, Plan::Become(S::Paused)),
            (S::Running, R::Stop, Plan::Stop),
            (S::Running, R::Restart, Plan::Reboot),
            (S::Running, R::Destroy, Plan::Destroy),
            (S::Paused, R::Resume, Plan::Become(S::Running)),
            (S::Paused, R::Stop, Plan::Stop),
            (S::Paused, R::Restart, Plan::Reboot),
            (S::Paused, R::Destroy, Plan::Destroy),
            (S::Stopped, R::Start, Plan::Reboot),
            (S::Stopped, R::Restart, Plan::Reboot),
            (S::Stopped, R::Destroy, Plan::Destroy),
        ];
        table.iter().find(|(s, r, _)| *s == state && *r == request).map(|t| t.2)
    }

    #[test]
    fn every_request_in_every_state_matches_the_table() {
        let mut legal = 0;
        for state in STATES {
            for request in Request::ALL {
                match (plan(7, state, request), expected(state, request)) {
                    (Ok(p), Some(e)) => {
                        assert_eq!(p, e, "{request:?} in {state:?}");
                        legal += 1;
                    }
                    (Err(r), None) => assert_eq!(
                        r,
                        Refused {
                            vm_id: 7,
                            state,
                            request
                        }
                    ),
                    (got, want) => panic!("{request:?} in {state:?}: got {got:?}, want {want:?}"),
                }
            }
        }
        assert_eq!(legal, 13);
    }

    #[test]
    fn refusals_say_why() {
        let msg = |s, r| plan(3, s, r).unwrap_err().to_string();
        assert_eq!(msg(VmState::Stopped, Request::Stop), "VM 3 is already stopped");
        assert_eq!(msg(VmState::Running, Request::Start), "VM 3 is already running");
        assert_eq!(msg(VmState::Paused, Request::Pause), "VM 3 is already paused");
        assert_eq!(
            msg(VmState::Created, Request::Pause),
            "VM 3 is created: it cannot be asked to pause"
        );
        assert_eq!(
            msg(VmState::Paused, Request::Start),
            "VM 3 is paused; `vm resume 3` runs it again"
        );
    }

    #[test]
    fn request_words_round_trip() {
        for r in Request::ALL {
            assert_eq!(Request::from_name(r.name()), Some(r));
        }
        assert_eq!(Request::from_name("reboot"), None);
        assert_eq!(Request::from_name(""), None);
    }
}
