//! The shell's line editor, fed one byte at a time from a serial console.
//!
//! It keeps the line being typed and says what to write back so that the
//! terminal shows it: printable ASCII is appended (there is no cursor
//! movement inside the line), Backspace (DEL or BS) erases the last
//! character, Ctrl-U the whole line, Ctrl-C abandons it, Up and Down (`ESC [
//! A` / `ESC [ B`, or `ESC O A` / `ESC O B`) walk a bounded history, and
//! Enter (`\r`, `\n` or `\r\n`) finishes it. Ctrl-D on an empty line asks to
//! leave. Every other control byte, byte above 0x7e and escape sequence is
//! ignored; a sequence may arrive split over any number of calls. An ESC not
//! followed by `[` or `O` is dropped and the byte after it counts as typed.
//!
//! Output uses `\n` for a new line: the host console writes it as `\r\n`.

use alloc::{
    collections::VecDeque,
    string::{String, ToString},
};

/// The prompt, printed before each line.
pub const PROMPT: &str = "hv> ";
/// The longest line, in bytes; further bytes ring the bell and are dropped.
pub const MAX_LINE: usize = 256;
/// How many lines the history keeps (the oldest goes first).
pub const HISTORY_LEN: usize = 32;

/// Erases one character on the terminal: back, blank, back.
const ERASE_ONE: &str = "\x08 \x08";
/// The terminal bell, for a key that cannot do anything.
const BELL: &str = "\x07";

const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const BACKSPACE: u8 = 0x08;
const CTRL_U: u8 = 0x15;
const ESC: u8 = 0x1b;
const DEL: u8 = 0x7f;

/// What a byte did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineEvent {
    /// Nothing to show.
    Nothing,
    /// Write this back to the terminal.
    Echo(String),
    /// Enter finished this line (not echoed: the caller starts a new line,
    /// runs it, then prints [`PROMPT`]).
    Line(String),
    /// Ctrl-D on an empty line: leave the shell (the caller starts a new
    /// line).
    Leave,
}

/// Where the editor is in an escape sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    /// Not in one.
    None,
    /// After ESC.
    Started,
    /// After `ESC [`: parameter bytes until a final byte.
    Csi,
    /// After `ESC O`: the next byte ends it.
    Ss3,
}

/// A line editor with history. See the module doc for the keys.
#[derive(Debug)]
pub struct LineEditor {
    line: String,
    history: VecDeque<String>,
    /// The history entry shown (an index into `history`), if browsing.
    browsing: Option<usize>,
    /// The line being typed when browsing started, shown again past the
    /// newest entry.
    draft: String,
    escape: Escape,
    /// The last byte was `\r`: a `\n` right after it ends nothing.
    after_cr: bool,
}

impl Default for LineEditor {
    fn default() -> Self {
        Self::new()
    }
}

impl LineEditor {
    /// An editor with an empty line and no history.
    pub fn new() -> Self {
        Self {
            line: String::new(),
            history: VecDeque::new(),
            browsing: None,
            draft: String::new(),
            escape: Escape::None,
            after_cr: false,
        }
    }

    /// The line typed so far.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The history, oldest first.
    pub fn history(&self) -> impl Iterator<Item = &str> {
        self.history.iter().map(String::as_str)
    }

    /// Forgets the line being typed and any escape sequence under way
    /// (the history stays): for when the shell is opened again.
    pub fn abandon(&mut self) {
        self.line.clear();
        self.stop_browsing();
        self.escape = Escape::None;
        self.after_cr = false;
    }

    /// Takes one byte of console input.
    pub fn feed(&mut self, byte: u8) -> LineEvent {
        let after_cr = core::mem::replace(&mut self.after_cr, false);
        match self.escape {
            Escape::None => {}
            Escape::Started => {
                self.escape = match byte {
                    b'[' => Escape::Csi,
                    b'O' => Escape::Ss3,
                    ESC => Escape::Started,
                    // Anything else ends it and counts as typed (Alt-x
                    // types x; a stray ESC does not eat the next key).
                    _ => return self.plain(byte, after_cr),
                };
                return LineEvent::Nothing;
            }
            Escape::Csi => {
                return match byte {
                    // Parameter and intermediate bytes.
                    0x20..=0x3f => LineEvent::Nothing,
                    // The final byte.
                    0x40..=0x7e => {
                        self.escape = Escape::None;
                        self.arrow(byte)
                    }
                    // A control byte ends the sequence and counts.
                    _ => self.plain(byte, after_cr),
                };
            }
            Escape::Ss3 => {
                return match byte {
                    0x20..=0x7e => {
                        self.escape = Escape::None;
                        self.arrow(byte)
                    }
                    _ => self.plain(byte, after_cr),
                };
            }
        }
        self.plain(byte, after_cr)
    }

    /// A byte outside any escape sequence.
    fn plain(&mut self, byte: u8, after_cr: bool) -> LineEvent {
        self.escape = Escape::None;
        match byte {
            b'\n' if after_cr => LineEvent::Nothing,
            b'\r' | b'\n' => {
                self.after_cr = byte == b'\r';
                self.enter()
            }
            0x20..=0x7e => {
                if self.line.len() >= MAX_LINE {
                    return LineEvent::Echo(BELL.to_string());
                }
                self.line.push(char::from(byte));
                LineEvent::Echo(char::from(byte).to_string())
            }
            DEL | BACKSPACE => match self.line.pop() {
                Some(_) => LineEvent::Echo(ERASE_ONE.to_string()),
                None => LineEvent::Nothing,
            },
            CTRL_U => self.replace_shown(String::new()),
            CTRL_C => {
                self.line.clear();
                self.stop_browsing();
                LineEvent::Echo(alloc::format!("^C\n{PROMPT}"))
            }
            CTRL_D if self.line.is_empty() => {
                self.stop_browsing();
                LineEvent::Leave
            }
            ESC => {
                self.escape = Escape::Started;
                LineEvent::Nothing
            }
            _ => LineEvent::Nothing,
        }
    }

    /// The final byte of an escape sequence: Up and Down walk the history.
    fn arrow(&mut self, byte: u8) -> LineEvent {
        let len = self.history.len();
        let next = match (byte, self.browsing) {
            (b'A', _) if len == 0 => return LineEvent::Echo(BELL.to_string()),
            (b'A', None) => {
                self.draft = self.line.clone();
                Some(len - 1)
            }
            (b'A', Some(0)) => return LineEvent::Echo(BELL.to_string()),
            (b'A', Some(i)) => Some(i - 1),
            (b'B', None) => return LineEvent::Nothing,
            (b'B', Some(i)) if i + 1 < len => Some(i + 1),
            (b'B', Some(_)) => None,
            _ => return LineEvent::Nothing,
        };
        self.browsing = next;
        let shown = match next.and_then(|i| self.history.get(i)) {
            Some(entry) => entry.clone(),
            None => core::mem::take(&mut self.draft),
        };
        self.replace_shown(shown)
    }

    /// Erases the shown line and shows `new` instead.
    fn replace_shown(&mut self, new: String) -> LineEvent {
        if self.line.is_empty() && new.is_empty() {
            return LineEvent::Nothing;
        }
        let mut echo = ERASE_ONE.repeat(self.line.len());
        echo.push_str(&new);
        self.line = new;
        LineEvent::Echo(echo)
    }

    /// Enter: the line is finished and goes into the history.
    fn enter(&mut self) -> LineEvent {
        let line = core::mem::take(&mut self.line);
        self.stop_browsing();
        let blank = line.trim().is_empty();
        if !blank && self.history.back() != Some(&line) {
            if self.history.len() == HISTORY_LEN {
                self.history.pop_front();
            }
            self.history.push_back(line.clone());
        }
        LineEvent::Line(line)
    }

    fn stop_browsing(&mut self) {
        self.browsing = None;
        self.draft.clear();
    }
}

#[cfg(test)]
mod tests;
