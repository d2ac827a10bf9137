//! The process group a test run lives in: watching its leader, killing all of
//! it, and not leaving it behind when the runner itself is interrupted.
//!
//! `make justrun` is started as the leader of a new process group, so QEMU
//! and anything else it starts can be killed together. Because that group is
//! not the terminal's foreground group, Ctrl-C does not reach it: the runner
//! catches SIGINT/SIGTERM/SIGHUP and kills the group itself before exiting.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::{
    errno::Errno,
    sys::{
        signal::{Signal, killpg},
        wait::{Id, WaitPidFlag, WaitStatus, waitid},
    },
    unistd::Pid,
};

/// Exit status of the runner when it is interrupted (128 + SIGINT).
const INTERRUPTED_STATUS: i32 = 130;

/// The process group of the run in progress, or 0 when none.
static ACTIVE_GROUP: AtomicI32 = AtomicI32::new(0);

/// Makes SIGINT, SIGTERM and SIGHUP kill the active test's process group
/// before the runner exits.
pub fn install_interrupt_handler() -> Result<(), String> {
    ctrlc::set_handler(|| {
        let pgid = ACTIVE_GROUP.swap(0, Ordering::SeqCst);
        if pgid > 0 {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
            eprintln!("qemu-runner: interrupted; killed process group {pgid}");
        } else {
            eprintln!("qemu-runner: interrupted");
        }
        std::process::exit(INTERRUPTED_STATUS);
    })
    .map_err(|e| format!("cannot install signal handler: {e}"))
}

/// A running process group, led by a child the caller has not reaped yet.
pub struct Group {
    pgid: Pid,
}

impl Group {
    /// Takes charge of the group led by the child with id `pid` (started with
    /// `process_group(0)`), so an interrupt kills it.
    pub fn new(pid: u32) -> Result<Self, String> {
        let raw = i32::try_from(pid).map_err(|_| format!("child pid {pid} out of range"))?;
        ACTIVE_GROUP.store(raw, Ordering::SeqCst);
        Ok(Self {
            pgid: Pid::from_raw(raw),
        })
    }

    /// Whether the leader has exited. It is not reaped, so the group id
    /// cannot be reused before [`Group::release`].
    pub fn leader_exited(&self) -> bool {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        loop {
            match waitid(Id::Pid(self.pgid), flags) {
                Ok(WaitStatus::StillAlive) => return false,
                Ok(_) => return true,
                Err(Errno::EINTR) => {}
                // Nothing left to wait for: treat as exited so the caller
                // reaps it instead of waiting for the timeout.
                Err(_) => return true,
            }
        }
    }

    /// Sends SIGKILL to every process in the group. A group that is already
    /// gone is fine.
    pub fn kill(&self) -> Result<(), String> {
        match killpg(self.pgid, Signal::SIGKILL) {
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(e) => Err(format!("cannot kill process group {}: {e}", self.pgid)),
        }
    }

    /// Forgets the group; call before reaping its leader.
    pub fn release(self) {
        // Dropping does the work.
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        ACTIVE_GROUP.store(0, Ordering::SeqCst);
    }
}
