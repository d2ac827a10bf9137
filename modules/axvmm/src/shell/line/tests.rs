use super::*;
use alloc::{vec, vec::Vec};

/// A terminal that shows the echo: one row of text with a cursor (BS moves
/// it left, a character overwrites and moves right, `\n` starts a new row,
/// the bell shows nothing). Checks that what the editor returns makes the
/// terminal show its line.
struct Screen {
    rows: Vec<Vec<char>>,
    col: usize,
}

impl Screen {
    fn new() -> Self {
        Self {
            rows: vec![PROMPT.chars().collect()],
            col: PROMPT.len(),
        }
    }

    fn show(&mut self, text: &str) {
        for c in text.chars() {
            match c {
                '\x08' => self.col = self.col.saturating_sub(1),
                '\x07' => {}
                '\n' => {
                    self.rows.push(Vec::new());
                    self.col = 0;
                }
                c => {
                    assert!(!c.is_control(), "control {c:?} echoed");
                    let row = self.rows.last_mut().unwrap();
                    if row.len() <= self.col {
                        row.resize(self.col + 1, ' ');
                    }
                    row[self.col] = c;
                    self.col += 1;
                }
            }
        }
    }

    /// The last row, trailing blanks left out.
    fn row(&self) -> String {
        let row: String = self.rows.last().unwrap().iter().collect();
        row.trim_end().to_string()
    }
}

/// An editor and its screen.
struct Term {
    ed: LineEditor,
    screen: Screen,
}

impl Term {
    fn new() -> Self {
        Self {
            ed: LineEditor::new(),
            screen: Screen::new(),
        }
    }

    /// Feeds `bytes`; the events that were not `Nothing`. After each byte
    /// the screen shows the prompt and the editor's line, the cursor at its
    /// end.
    fn feed(&mut self, bytes: &[u8]) -> Vec<LineEvent> {
        let mut events = Vec::new();
        for &b in bytes {
            let event = self.ed.feed(b);
            match &event {
                LineEvent::Echo(text) => self.screen.show(text),
                LineEvent::Line(_) | LineEvent::Leave => self.screen.show(&format!("\n{PROMPT}")),
                LineEvent::Nothing => {}
            }
            let want = format!("{PROMPT}{}", self.ed.line());
            assert_eq!(self.screen.row(), want.trim_end(), "after byte {b:#04x}");
            assert_eq!(self.screen.col, want.len(), "cursor after byte {b:#04x}");
            if event != LineEvent::Nothing {
                events.push(event);
            }
        }
        events
    }

    /// Feeds `bytes`; the lines they finished.
    fn lines(&mut self, bytes: &[u8]) -> Vec<String> {
        let events = self.feed(bytes);
        events
            .into_iter()
            .filter_map(|e| match e {
                LineEvent::Line(l) => Some(l),
                _ => None,
            })
            .collect()
    }

    fn history(&self) -> Vec<&str> {
        self.ed.history().collect()
    }
}

fn echo(s: &str) -> LineEvent {
    LineEvent::Echo(s.to_string())
}

#[test]
fn typing_echoes_each_character_and_enter_finishes_the_line() {
    let mut t = Term::new();
    let events = t.feed(b"vm list\r");
    let mut want: Vec<LineEvent> = "vm list".chars().map(|c| echo(&c.to_string())).collect();
    want.push(LineEvent::Line("vm list".to_string()));
    assert_eq!(events, want);
    assert_eq!(t.ed.line(), "");
    assert_eq!(t.history(), ["vm list"]);
}

#[test]
fn backspace_erases_the_last_character_and_nothing_on_an_empty_line() {
    let mut t = Term::new();
    assert_eq!(t.feed(b"\x7f\x08"), []);
    assert_eq!(t.feed(b"abc\x7f"), [echo("a"), echo("b"), echo("c"), echo("\x08 \x08")]);
    assert_eq!(t.feed(b"\x08"), [echo("\x08 \x08")]);
    assert_eq!(t.ed.line(), "a");
    assert_eq!(t.feed(b"\x7f\x7f\x08"), [echo("\x08 \x08")]);
    assert_eq!(t.lines(b"ok\r"), ["ok"]);
}

#[test]
fn ctrl_u_erases_the_line() {
    let mut t = Term::new();
    assert_eq!(t.feed(b"\x15"), []);
    t.feed(b"hello");
    assert_eq!(t.feed(b"\x15"), [echo(&"\x08 \x08".repeat(5))]);
    assert_eq!(t.ed.line(), "");
    assert_eq!(t.lines(b"mem\r"), ["mem"]);
}

#[test]
fn ctrl_c_abandons_the_line_with_a_new_prompt() {
    let mut t = Term::new();
    t.feed(b"vm destroy 1");
    assert_eq!(t.feed(b"\x03"), [echo("^C\nhv> ")]);
    assert_eq!(t.screen.rows.len(), 2);
    assert_eq!(t.lines(b"\r"), [""]);
    assert_eq!(t.history(), Vec::<&str>::new());
}

#[test]
fn ctrl_d_leaves_only_on_an_empty_line() {
    let mut t = Term::new();
    t.feed(b"ab");
    assert_eq!(t.feed(b"\x04"), []);
    assert_eq!(t.ed.line(), "ab");
    assert_eq!(t.feed(b"\x15\x04"), [echo(&"\x08 \x08".repeat(2)), LineEvent::Leave]);
}

#[test]
fn cr_lf_is_one_line_and_each_enter_alone_is_one() {
    let lines = |bytes: &[u8]| Term::new().lines(bytes);
    assert_eq!(lines(b"a\r\nb\r\n"), ["a", "b"]);
    assert_eq!(lines(b"\r\r"), ["", ""]);
    assert_eq!(lines(b"\n\n"), ["", ""]);
    assert_eq!(lines(b"\r\n\r\n"), ["", ""]);
    // Only a `\n` right after the `\r` is swallowed, even in a later feed.
    assert_eq!(lines(b"\rx\n"), ["", "x"]);
    assert_eq!(lines(b"\n\r"), ["", ""]);
    let mut t = Term::new();
    assert_eq!(t.lines(b"a\r"), ["a"]);
    assert_eq!(t.lines(b"\n"), Vec::<String>::new());
    assert_eq!(t.lines(b"\n"), [""]);
}

#[test]
fn up_and_down_walk_the_history_and_come_back_to_the_draft() {
    let mut t = Term::new();
    assert_eq!(t.lines(b"one\rtwo\rthree\r"), ["one", "two", "three"]);
    t.feed(b"dr");
    let up = b"\x1b[A";
    let down = b"\x1b[B";
    let shown = |t: &mut Term, key: &[u8]| {
        t.feed(key);
        t.ed.line().to_string()
    };
    assert_eq!(shown(&mut t, up), "three");
    assert_eq!(shown(&mut t, up), "two");
    assert_eq!(shown(&mut t, up), "one");
    assert_eq!(t.feed(up), [echo("\x07")]);
    assert_eq!(t.ed.line(), "one");
    assert_eq!(shown(&mut t, down), "two");
    assert_eq!(shown(&mut t, down), "three");
    assert_eq!(shown(&mut t, down), "dr");
    assert_eq!(t.feed(down), []);
    assert_eq!(t.ed.line(), "dr");
    // The exact echo: erase what is shown, print the entry.
    assert_eq!(t.feed(up), [echo("\x08 \x08\x08 \x08three")]);
    // SS3 arrows (application cursor mode) do the same; Enter runs the
    // entry shown, which goes into the history again.
    assert_eq!(t.lines(b"\x1bOA\x1bOB\x1bOA\r"), ["two"]);
    assert_eq!(t.history(), ["one", "two", "three", "two"]);
    // Up on an empty history rings the bell and changes nothing.
    let mut fresh = Term::new();
    assert_eq!(fresh.feed(up), [echo("\x07")]);
    assert_eq!(fresh.feed(down), []);
}

#[test]
fn the_history_is_bounded_without_repeats_or_blank_lines() {
    let mut t = Term::new();
    t.lines(b"a\ra\r\r   \rb\ra\r");
    assert_eq!(t.history(), ["a", "b", "a"]);
    for i in 0..40 {
        t.lines(format!("cmd {i}\r").as_bytes());
    }
    let history = t.history();
    assert_eq!(history.len(), HISTORY_LEN);
    assert_eq!(history.first(), Some(&"cmd 8"));
    assert_eq!(history.last(), Some(&"cmd 39"));
    // Up reaches the oldest kept entry and stops there.
    for _ in 0..HISTORY_LEN {
        t.feed(b"\x1b[A");
    }
    assert_eq!(t.ed.line(), "cmd 8");
    assert_eq!(t.feed(b"\x1b[A"), [echo("\x07")]);
}

#[test]
fn the_line_is_bounded_and_extra_bytes_ring_the_bell() {
    let mut t = Term::new();
    let events = t.feed(&[b'x'; MAX_LINE + 10]);
    assert_eq!(events.len(), MAX_LINE + 10);
    assert!(events[MAX_LINE..].iter().all(|e| *e == echo("\x07")));
    assert_eq!(t.ed.line().len(), MAX_LINE);
    // Backspace makes room again.
    t.feed(b"\x7fy");
    assert_eq!(t.lines(b"z\r"), [format!("{}y", "x".repeat(MAX_LINE - 1))]);
}

#[test]
fn other_escape_sequences_are_ignored_even_split_across_feeds() {
    let mut t = Term::new();
    t.feed(b"ab");
    // Left, right, Delete (ESC [ 3 ~), Ctrl-Right (ESC [ 1 ; 5 C), F1
    // (ESC O P), each byte fed on its own.
    assert_eq!(t.feed(b"\x1b[D\x1b[C\x1b[3~\x1b[1;5C\x1bOP"), []);
    assert_eq!(t.ed.line(), "ab");
    // A lone ESC does not eat the key after it; ESC ESC [ A is Up.
    assert_eq!(t.lines(b"\x1bc\r"), ["abc"]);
    assert_eq!(t.feed(b"\x1b\x1b[A"), [echo("abc")]);
    // A control byte inside a sequence ends it and counts.
    assert_eq!(t.lines(b"\x1b[12\r"), ["abc"]);
    assert_eq!(t.lines(b"\x1bO\rx\r"), ["", "x"]);
}

#[test]
fn garbage_bytes_do_not_break_the_editor() {
    let mut t = Term::new();
    // Every control byte but Enter and Ctrl-D, and every byte above ASCII.
    let garbage: Vec<u8> = (0u8..=0x1f)
        .chain(0x7f..=0xff)
        .filter(|b| !b"\r\n\x04\x7f".contains(b))
        .collect();
    t.feed(&garbage);
    assert_eq!(t.ed.line(), "");
    assert_eq!(t.lines(b"vm list\r"), ["vm list"]);
    // Pseudo-random garbage typed among the letters of a command.
    let mut seed = 0x2545_f491_u32;
    let mut input = Vec::new();
    for &c in b"vm info 2" {
        for _ in 0..5 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let b = (seed >> 16) as u8;
            if !(0x20..=0x7f).contains(&b) && !b"\r\n\x03\x04\x08\x15\x1b".contains(&b) {
                input.push(b);
            }
        }
        input.push(c);
    }
    input.push(b'\r');
    assert_eq!(t.lines(&input), ["vm info 2"]);
    assert_eq!(t.history(), ["vm list", "vm info 2"]);
}
