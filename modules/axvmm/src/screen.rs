//! The host console as a person sees it: one screen that VM output, the
//! hypervisor's own lines and the management shell share.
//!
//! It remembers what the last line on the screen is: nothing (the cursor
//! is at the start of a line), a VM's unfinished line (a prompt waiting for
//! input), or the shell's prompt line. Output from someone else first ends
//! a VM's unfinished line (that VM's next text then starts a line of its
//! own with its `[name]` prefix), or takes the shell's prompt line off the
//! screen (`\r` and erase-line) and draws it again below the new output, so
//! what a person types at the shell is never mixed with guest output.

use alloc::{string::String, vec::Vec};
use kspin::SpinNoIrq;

/// Erases the line the cursor is on and goes to its start.
const ERASE_LINE: &str = "\r\x1b[K";

/// Who owns the last, unfinished line on the screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    /// A VM (its id): a line it has not ended yet.
    Vm(usize),
    /// The shell: its prompt and what is typed.
    Shell,
}

#[derive(Default)]
struct State {
    /// The last line, when unfinished.
    owner: Option<Owner>,
    /// VMs whose unfinished line was ended by other output: their next
    /// text continues that line, so it gets their prefix again.
    cut: Vec<usize>,
    /// The shell's prompt line (prompt and typed text) while it is open.
    prompt_line: Option<String>,
}

/// The shared host console screen.
pub struct Screen {
    state: SpinNoIrq<Option<State>>,
}

impl Default for Screen {
    fn default() -> Self {
        Self::new()
    }
}

/// Owner id of the hypervisor's own lines.
const HOST: usize = usize::MAX;

impl Screen {
    /// A screen with the cursor at the start of a line.
    pub const fn new() -> Self {
        Self {
            state: SpinNoIrq::new(None),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self.state.lock();
        f(guard.get_or_insert_with(State::default))
    }

    /// Text VM `id` (named `name`) wrote, as its line assembler emits it:
    /// whole lines (prefix included) end in `\n`; a shown partial line does
    /// not. `print` writes to the console.
    pub fn vm_output(&self, id: usize, name: &str, text: &str, print: &mut dyn FnMut(&str)) {
        self.with(|st| {
            let mut out = String::new();
            let redraw = st.take_screen_line(id, &mut out);
            if let Some(i) = st.cut.iter().position(|&c| c == id) {
                // The continuation of a line its assembler already
                // prefixed, now on a line of its own.
                st.cut.swap_remove(i);
                out.push('[');
                out.push_str(name);
                out.push_str("] ");
            }
            out.push_str(text);
            st.owner = (!text.ends_with('\n')).then_some(Owner::Vm(id));
            if redraw {
                st.redraw_prompt(&mut out);
            }
            print(&out);
        });
    }

    /// A whole line of the hypervisor's (`text` ends in `\n`).
    pub fn host_line(&self, text: &str, print: &mut dyn FnMut(&str)) {
        self.with(|st| {
            let mut out = String::new();
            let redraw = st.take_screen_line(HOST, &mut out);
            out.push_str(text);
            st.owner = (!text.ends_with('\n')).then_some(Owner::Vm(HOST));
            if redraw {
                st.redraw_prompt(&mut out);
            }
            print(&out);
        });
    }

    /// The shell's own output (echo, replies, its prompt), which goes where
    /// the shell's line is.
    pub fn shell_output(&self, text: &str, print: &mut dyn FnMut(&str)) {
        self.with(|st| {
            let mut out = String::new();
            if let Some(Owner::Vm(p)) = st.owner {
                out.push('\n');
                if p != HOST {
                    st.cut.push(p);
                }
            }
            out.push_str(text);
            st.owner = (!text.is_empty() && !text.ends_with('\n')).then_some(Owner::Shell);
            print(&out);
        });
    }

    /// The shell's prompt line as it is now shown (prompt and typed text),
    /// or `None` when the shell is not at a prompt (closed, or running a
    /// command).
    pub fn set_prompt_line(&self, line: Option<String>) {
        self.with(|st| st.prompt_line = line);
    }

    /// VM `id` starts afresh (a restart): its unfinished line is ended.
    pub fn end_line_of(&self, id: usize, print: &mut dyn FnMut(&str)) {
        self.with(|st| {
            st.cut.retain(|&c| c != id);
            if st.owner == Some(Owner::Vm(id)) {
                st.owner = None;
                print("\n");
            }
        });
    }
}

impl State {
    /// Before `id` prints: ends another VM's unfinished line (remembering
    /// it was cut) or erases the shell's prompt line. True if the prompt
    /// line was erased and must be drawn again.
    fn take_screen_line(&mut self, id: usize, out: &mut String) -> bool {
        match self.owner {
            Some(Owner::Shell) => {
                out.push_str(ERASE_LINE);
                self.owner = None;
                true
            }
            Some(Owner::Vm(p)) if p != id => {
                out.push('\n');
                if p != HOST {
                    self.cut.push(p);
                }
                self.owner = None;
                false
            }
            _ => false,
        }
    }

    /// Draws the shell's prompt line again below what was just printed.
    fn redraw_prompt(&mut self, out: &mut String) {
        let Some(line) = &self.prompt_line else { return };
        if let Some(Owner::Vm(p)) = self.owner {
            out.push('\n');
            if p != HOST {
                self.cut.push(p);
            }
        }
        out.push_str(line);
        self.owner = Some(Owner::Shell);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything printed, as one string.
    struct Term(String);
    impl Term {
        fn p(&mut self) -> impl FnMut(&str) + '_ {
            |s| self.0.push_str(s)
        }
    }

    #[test]
    fn a_vm_prompt_cut_by_another_vm_continues_on_its_own_prefixed_line() {
        let s = Screen::new();
        let mut t = Term(String::new());
        s.vm_output(1, "linux", "[linux] hv-linux# ", &mut t.p());
        s.vm_output(2, "ticker", "[ticker] tick 4\n", &mut t.p());
        s.vm_output(1, "linux", "ls", &mut t.p());
        s.vm_output(1, "linux", "\n", &mut t.p());
        assert_eq!(t.0, "[linux] hv-linux# \n[ticker] tick 4\n[linux] ls\n");
    }

    #[test]
    fn the_same_vm_continues_its_line_unprefixed() {
        let s = Screen::new();
        let mut t = Term(String::new());
        s.vm_output(1, "linux", "[linux] hv-linux# ", &mut t.p());
        s.vm_output(1, "linux", "ls\n", &mut t.p());
        assert_eq!(t.0, "[linux] hv-linux# ls\n");
    }

    #[test]
    fn output_while_the_shell_prompt_is_shown_goes_above_it() {
        let s = Screen::new();
        let mut t = Term(String::new());
        s.shell_output("hv> ", &mut t.p());
        s.set_prompt_line(Some("hv> vm li".into()));
        s.shell_output("vm li", &mut t.p());
        s.vm_output(2, "ticker", "[ticker] tick 9\n", &mut t.p());
        s.host_line("hv: VM 3 (x) stopped: powered off by the guest (vCPU 0)\n", &mut t.p());
        s.shell_output("st", &mut t.p());
        assert_eq!(
            t.0,
            "hv> vm li\r\x1b[K[ticker] tick 9\nhv> vm li\r\x1b[Khv: VM 3 (x) stopped: powered off by the guest (vCPU 0)\nhv> vm list"
        );
    }

    #[test]
    fn a_vm_prompt_below_the_shell_prompt_is_cut_and_continues_prefixed() {
        let s = Screen::new();
        let mut t = Term(String::new());
        s.shell_output("hv> ", &mut t.p());
        s.set_prompt_line(Some("hv> ".into()));
        s.vm_output(1, "linux", "[linux] hv-linux# ", &mut t.p());
        s.set_prompt_line(None);
        s.shell_output("\n", &mut t.p());
        s.vm_output(1, "linux", "ls\n", &mut t.p());
        assert_eq!(t.0, "hv> \r\x1b[K[linux] hv-linux# \nhv> \n[linux] ls\n");
    }

    #[test]
    fn the_shell_starts_below_an_unfinished_vm_line() {
        let s = Screen::new();
        let mut t = Term(String::new());
        s.vm_output(1, "linux", "[linux] hv-linux# ", &mut t.p());
        s.shell_output("hv: management shell\nhv> ", &mut t.p());
        assert!(t.0.starts_with("[linux] hv-linux# \nhv: management shell\n"));
    }

    #[test]
    fn a_restart_ends_the_old_unfinished_line() {
        let s = Screen::new();
        let mut t = Term(String::new());
        s.vm_output(1, "linux", "[linux] hv-linux# ", &mut t.p());
        s.end_line_of(1, &mut t.p());
        s.vm_output(1, "linux", "[linux] Booting\n", &mut t.p());
        assert_eq!(t.0, "[linux] hv-linux# \n[linux] Booting\n");
        // Not its line: nothing to end.
        s.vm_output(2, "b", "[b] x", &mut t.p());
        let before = t.0.len();
        s.end_line_of(1, &mut t.p());
        assert_eq!(t.0.len(), before);
    }
}
