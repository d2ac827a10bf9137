//! The host console: VM output, prefixed `[name]` line by line (each VM's
//! sink), and host input, which goes to the VM that has focus, or to the
//! management shell.
//!
//! Keys: Ctrl-A then `n` moves focus to the next VM; Ctrl-A then `m` opens
//! the management shell (`hv>`), and leaves it again; Ctrl-A twice sends
//! one Ctrl-A to the VM. (Under QEMU's `-nographic` console, QEMU takes a
//! first Ctrl-A itself: type Ctrl-A twice for each one meant here.)

use crate::hal::VmmHal;
use crate::outbox::{DropReport, Outbox, Outboxes, Printer};
use crate::screen::Screen;
use crate::shell::{Outcome, Shell, line::PROMPT};
use crate::vmm::Vmm;
use alloc::{format, sync::Arc};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use kspin::SpinNoIrq;

const CTRL_A: u8 = 0x01;
/// No byte is held.
const NO_BYTE: u16 = 0x100;
/// No VM has focus.
const NO_VM: usize = usize::MAX;

/// Console routing state (only CPU 0 reads host input).
pub struct Console {
    /// The screen VM output, the hypervisor's lines and the shell share
    /// (made on first use: a `static` cannot hold a new `Arc`).
    screen: SpinNoIrq<Option<Arc<Screen>>>,
    /// The VM that gets input (its id), `NO_VM` for the first one.
    focus: AtomicUsize,
    /// Ctrl-A was typed; the next key is a command.
    escape: AtomicBool,
    /// A byte the focused VM's UART refused (its FIFO was full), offered
    /// again before any new one.
    held: AtomicU16,
    /// The management shell (made when first opened; it keeps its
    /// history while closed).
    shell: SpinNoIrq<Option<Shell>>,
    /// Input goes to the shell.
    shell_open: AtomicBool,
    /// Each VM's queued output (made on first use, as the screen).
    outboxes: SpinNoIrq<Option<Arc<Outboxes>>>,
}

impl Console {
    /// No focus, nothing held, the shell closed, an empty screen.
    pub const fn new() -> Self {
        Self {
            screen: SpinNoIrq::new(None),
            focus: AtomicUsize::new(NO_VM),
            escape: AtomicBool::new(false),
            held: AtomicU16::new(NO_BYTE),
            shell: SpinNoIrq::new(None),
            shell_open: AtomicBool::new(false),
            outboxes: SpinNoIrq::new(None),
        }
    }

    /// The shared screen.
    pub(crate) fn screen(&self) -> Arc<Screen> {
        self.screen
            .lock()
            .get_or_insert_with(|| Arc::new(Screen::new()))
            .clone()
    }

    /// The VMs' output queues.
    pub(crate) fn outboxes(&self) -> Arc<Outboxes> {
        self.outboxes
            .lock()
            .get_or_insert_with(|| Arc::new(Outboxes::new()))
            .clone()
    }

    /// Whether input is waiting to be delivered (a held byte).
    pub fn has_input<P: VmmHal>(&self) -> bool {
        self.held.load(Ordering::Acquire) != NO_BYTE
    }

    /// VM `id` is gone: focus moves on if it had it.
    pub fn forget(&self, id: usize) {
        let _ = self
            .focus
            .compare_exchange(id, NO_VM, Ordering::AcqRel, Ordering::Acquire);
    }
}

impl Default for Console {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: VmmHal> Vmm<P> {
    /// The id of the VM with focus: the chosen one if it still exists,
    /// else the first VM.
    fn focused(&self) -> Option<usize> {
        let records = self.records.lock();
        let chosen = self.console.focus.load(Ordering::Acquire);
        records
            .iter()
            .find(|r| r.id == chosen)
            .or_else(|| records.first())
            .map(|r| r.id)
    }

    /// Sends host input to VM `id`.
    pub fn set_focus(&self, id: usize) -> Result<(), alloc::string::String> {
        if !self.records.lock().iter().any(|r| r.id == id) {
            return Err(alloc::format!("no VM {id}"));
        }
        self.console.focus.store(id, Ordering::Release);
        Ok(())
    }

    /// Moves focus to the VM after the focused one (by id, wrapping).
    fn focus_next(&self) {
        let current = self.focused();
        let next = {
            let records = self.records.lock();
            let after = current.and_then(|c| records.iter().find(|r| r.id > c));
            after.or_else(|| records.first()).map(|r| (r.id, r.name.clone()))
        };
        if let Some((id, name)) = next {
            self.console.focus.store(id, Ordering::Release);
            self.say(format_args!("\n[hv] console input goes to VM {id} ({name})"));
        }
    }

    /// Offers `b` to the focused VM's UART; false if it has no room.
    fn deliver(&self, b: u8) -> bool {
        let run = self.focused().and_then(|id| self.run_of(id));
        match run {
            Some(run) if !run.vm.shutting_down() => run.vm.push_console_input(b),
            _ => true, // no VM to take it: dropped
        }
    }

    /// Moves host console input to the focused VM or the shell. Called by
    /// CPU 0 between guest runs. A byte the guest's UART has no room for is
    /// held (and further input left in the host UART) until there is room.
    pub fn poll_console(&self) {
        let held = self.console.held.swap(NO_BYTE, Ordering::AcqRel);
        if held != NO_BYTE && !self.deliver(held as u8) {
            self.console.held.store(held, Ordering::Release);
            return;
        }
        while let Some(b) = P::getchar() {
            if self.console.escape.swap(false, Ordering::AcqRel) {
                match b {
                    b'n' => {
                        self.focus_next();
                        continue;
                    }
                    b'm' => {
                        self.toggle_shell();
                        continue;
                    }
                    CTRL_A => {} // a literal Ctrl-A
                    _ => continue,
                }
            } else if b == CTRL_A {
                self.console.escape.store(true, Ordering::Release);
                continue;
            }
            if self.console.shell_open.load(Ordering::Acquire) {
                self.shell_input(b);
                continue;
            }
            if !self.deliver(b) {
                self.console.held.store(u16::from(b), Ordering::Release);
                return;
            }
        }
    }

    /// Opens the management shell, or leaves it.
    fn toggle_shell(&self) {
        if self.console.shell_open.swap(false, Ordering::AcqRel) {
            let screen = self.console.screen();
            screen.set_prompt_line(None);
            screen.shell_output("\n", &mut |t| P::print(t));
            self.say(format_args!("hv: left the management shell"));
            return;
        }
        let mut shell = self.console.shell.lock().take().unwrap_or_default();
        let screen = self.console.screen();
        shell.open(&mut |s: &str| screen.shell_output(s, &mut |t| P::print(t)));
        screen.set_prompt_line(Some(format!("{PROMPT}{}", shell.typed())));
        *self.console.shell.lock() = Some(shell);
        self.console.shell_open.store(true, Ordering::Release);
    }

    /// Feeds a byte to the open shell (taken out of its lock while it runs
    /// the command, which may print and change the registry).
    fn shell_input(&self, b: u8) {
        let mut shell = self.console.shell.lock().take().unwrap_or_default();
        let screen = self.console.screen();
        // While a command runs, the screen does not draw the prompt again.
        screen.set_prompt_line(None);
        let outcome = shell.feed(b, self, &mut |s: &str| screen.shell_output(s, &mut |t| P::print(t)));
        if outcome == Outcome::Stay {
            screen.set_prompt_line(Some(format!("{PROMPT}{}", shell.typed())));
        }
        *self.console.shell.lock() = Some(shell);
        match outcome {
            Outcome::Stay => {}
            Outcome::Leave => {
                self.console.shell_open.store(false, Ordering::Release);
            }
            Outcome::Focus(id) => {
                self.console.shell_open.store(false, Ordering::Release);
                let name = self.records.lock().iter().find(|r| r.id == id).map(|r| r.name.clone());
                if let Some(name) = name {
                    self.say(format_args!("hv: console input goes to VM {id} ({name})"));
                }
            }
        }
    }
}

/// Prints queued VM output on the screen, and the host's reports of drops.
pub(crate) struct ScreenPrinter<'a, P: VmmHal> {
    pub(crate) screen: &'a Screen,
    pub(crate) _hal: PhantomData<fn() -> P>,
}

impl<P: VmmHal> Printer for ScreenPrinter<'_, P> {
    fn chunk(&mut self, outbox: &Outbox, chunk: &str) {
        self.screen
            .vm_output(outbox.id, &outbox.name, chunk, &mut |s| P::print(s));
    }

    fn report(&mut self, outbox: &Outbox, report: DropReport) {
        let line = match report {
            DropReport::Started => format!(
                "hv: VM {} ({}) writes to the console faster than it drains; its oldest lines are dropped\n",
                outbox.id, outbox.name
            ),
            DropReport::Stopped(n) => format!(
                "hv: VM {} ({}): {n} lines of its console output dropped\n",
                outbox.id, outbox.name
            ),
        };
        self.screen.host_line(&line, &mut |s| P::print(s));
    }
}
