//! The management shell on the host console (`hv>`): a line editor with
//! history ([`line`](mod@line)), the command words ([`command`]), and the text and
//! JSON output ([`format`]). It works against [`Manager`], so it is tested
//! on the build machine without a VM.

use crate::hal::Power;
use crate::lifecycle::{Request, VmState};
use alloc::{string::String, vec::Vec};

/// One vCPU in a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VcpuSummary {
    /// Its id in the VM.
    pub id: usize,
    /// The physical CPU it runs on.
    pub pcpu: usize,
    /// Its power state.
    pub power: Power,
    /// Waiting for an interrupt.
    pub halted: bool,
}

/// One VM in a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmSummary {
    /// Its id.
    pub id: usize,
    /// Its name.
    pub name: String,
    /// Its state.
    pub state: VmState,
    /// Its vCPUs (none while it is stopped).
    pub vcpus: Vec<VcpuSummary>,
    /// Guest RAM, in bytes.
    pub memory_bytes: usize,
    /// Time since it was last started, in nanoseconds (0 if never).
    pub uptime_ns: u64,
    /// Exits its vCPUs took since it was last started.
    pub exits: u64,
    /// Lines of its console output dropped because it wrote faster than
    /// the console drains ([`crate::outbox`]).
    pub console_dropped: u64,
    /// The config file it was built from.
    pub file: String,
}

/// Host memory, for `mem`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemorySummary {
    /// Free for VMs, in bytes.
    pub free_bytes: usize,
    /// In use (host and VMs), in bytes.
    pub used_bytes: usize,
    /// Held by VMs (their RAM), in bytes.
    pub vm_bytes: usize,
}

/// What the shell asks of the VM manager. Each call completes or refuses
/// with a message that names the problem; a refused call changes nothing.
pub trait Manager {
    /// Every VM, by id.
    fn list(&self) -> Vec<VmSummary>;
    /// The configs built into the image: (name, autostart).
    fn images(&self) -> Vec<(String, bool)>;
    /// Builds a VM from the image named `name`, under `id` (default: the
    /// config's id if free, else the lowest free one); it is left created,
    /// not started. The id it got.
    fn create(&self, name: &str, id: Option<usize>) -> Result<usize, String>;
    /// Carries out `request` on VM `id`; a line saying what was done.
    fn request(&self, id: usize, request: Request) -> Result<String, String>;
    /// Sends host console input to VM `id`.
    fn focus(&self, id: usize) -> Result<(), String>;
    /// Host memory.
    fn memory(&self) -> MemorySummary;
}

pub mod command;
pub mod format;
pub mod line;

pub use command::Outcome;
use line::{LineEditor, LineEvent, PROMPT};

/// The line printed when the shell opens (the prompt follows).
pub const BANNER: &str = "hv: management shell; \"help\" lists the commands, \"exit\" leaves\n";

/// The shell: console bytes in, text out, commands carried out against a
/// [`Manager`]. The caller owns the console: it decides when bytes go to the
/// shell (Ctrl-A m) and acts on the [`Outcome`] each byte returns.
#[derive(Debug, Default)]
pub struct Shell {
    editor: LineEditor,
}

impl Shell {
    /// A shell with an empty history.
    pub fn new() -> Self {
        Self {
            editor: LineEditor::new(),
        }
    }

    /// What is typed on the prompt line so far.
    pub fn typed(&self) -> &str {
        self.editor.line()
    }

    /// Opens the shell: drops any half-typed line, prints the banner and
    /// the prompt.
    pub fn open(&mut self, out: &mut dyn FnMut(&str)) {
        self.editor.abandon();
        out(BANNER);
        out(PROMPT);
    }

    /// Takes one byte of console input; prints through `out` (lines end in
    /// `\n`). After [`Outcome::Leave`] or [`Outcome::Focus`] the caller
    /// stops feeding bytes until it calls [`Self::open`] again.
    pub fn feed(&mut self, byte: u8, mgr: &dyn Manager, out: &mut dyn FnMut(&str)) -> Outcome {
        let line = match self.editor.feed(byte) {
            LineEvent::Nothing => return Outcome::Stay,
            LineEvent::Echo(text) => {
                out(&text);
                return Outcome::Stay;
            }
            LineEvent::Line(text) => text,
            LineEvent::Leave => String::from("exit"),
        };
        // The line ends before the command runs: what the manager prints
        // while it works starts on a line of its own.
        out("\n");
        let reply = command::run(&line, mgr);
        if !reply.text.is_empty() {
            out(&reply.text);
        }
        if reply.outcome == Outcome::Stay {
            out(PROMPT);
        }
        reply.outcome
    }
}

#[cfg(test)]
mod tests;
