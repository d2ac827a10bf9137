//! Turning the child's byte streams into text lines, and keeping the last few.
//!
//! Console output is split on `\n`; a trailing `\r` and ANSI escape sequences
//! (guest log colours) are removed, a lone `\r` returns to the start of the
//! line as on a terminal (what follows it is what the line shows: the
//! hypervisor's shell erases its prompt line that way before other output),
//! and invalid UTF-8 is replaced, so patterns see plain text. Text still waiting for its newline is reported as a
//! *partial* line, because a prompt (`login: `) never gets one until the
//! input it asks for is typed.

use std::collections::VecDeque;

/// A line that grows past this many bytes without a newline is cut here, so a
/// runaway guest cannot make the runner hold unbounded memory.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// What one chunk of a stream amounted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A complete line, cleaned, without its line ending.
    Line(String),
    /// Everything of the current line received so far (it has no newline yet).
    Partial(String),
}

/// Splits a byte stream into lines as the bytes arrive.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Adds `bytes` and appends to `out` each line they complete, followed by
    /// a [`Piece::Partial`] if part of a line is left over.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Piece>) {
        let mut rest = bytes;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            self.pending.extend_from_slice(&rest[..pos]);
            out.push(Piece::Line(clean(&self.pending)));
            self.pending.clear();
            rest = &rest[pos + 1..];
        }
        self.pending.extend_from_slice(rest);
        if self.pending.len() >= MAX_LINE_BYTES {
            out.push(Piece::Line(clean(&self.pending)));
            self.pending.clear();
        } else if !rest.is_empty() {
            out.push(Piece::Partial(clean(&self.pending)));
        }
    }

    /// Ends the stream: the unterminated last line, if any.
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let line = clean(&self.pending);
        self.pending.clear();
        Some(line)
    }
}

/// Decodes one raw line into the text patterns are matched against.
fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    // Carriage returns right before the line feed end the line as on a
    // terminal (`\r\r\n` shows the text before them).
    let text = text.trim_end_matches('\r');
    // Text before a carriage return is overwritten by what follows (the
    // erase-line sequence after it, if any, is stripped below).
    let shown = text.rsplit('\r').next().unwrap_or(text);
    strip_ansi(shown)
}

/// The escape character that starts ANSI control sequences.
const ESC: char = '\x1b';
/// Bell, which may end an OSC sequence.
const BEL: char = '\x07';

/// Removes ANSI escape sequences (CSI such as colours, OSC such as window
/// titles, and two-character escapes) from `text`.
pub fn strip_ansi(text: &str) -> String {
    if !text.contains(ESC) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != ESC {
            out.push(c);
            continue;
        }
        match chars.next() {
            // CSI: parameters and intermediates, then one final byte in '@'..='~'.
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: ends at BEL or at ESC '\'.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == BEL {
                        break;
                    }
                    if c == ESC && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            // Any other escape is ESC plus one character.
            Some(_) | None => {}
        }
    }
    out
}

/// The last `capacity` lines of output, for showing when a test fails.
#[derive(Debug)]
pub struct Tail {
    lines: VecDeque<String>,
    capacity: usize,
    total: usize,
}

impl Tail {
    /// Keeps at most `capacity` lines.
    pub fn new(capacity: usize) -> Self {
        Self {
            lines: VecDeque::with_capacity(capacity),
            capacity,
            total: 0,
        }
    }

    /// Records one line, forgetting the oldest if full.
    pub fn push(&mut self, line: String) {
        if self.capacity == 0 {
            return;
        }
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
        self.total += 1;
    }

    /// The lines kept, oldest first.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(String::as_str)
    }

    /// How many lines are kept.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// How many lines were pushed in all.
    pub fn total(&self) -> usize {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<Piece> {
        let mut splitter = LineSplitter::default();
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.push(chunk, &mut out);
        }
        if let Some(last) = splitter.finish() {
            out.push(Piece::Line(last));
        }
        out
    }

    fn line(s: &str) -> Piece {
        Piece::Line(s.into())
    }

    fn partial(s: &str) -> Piece {
        Piece::Partial(s.into())
    }

    #[test]
    fn splits_lines_across_chunks() {
        assert_eq!(
            split(&[b"one\ntw", b"o\r\nthree\n"]),
            [line("one"), partial("tw"), line("two"), line("three")]
        );
    }

    #[test]
    fn carriage_returns_before_the_line_feed_keep_the_text() {
        assert_eq!(
            split(&[b"[linux] 4 CPUs online\r", b"\r\nnext\r\n", b"50%\r100%\n"]),
            [
                partial("[linux] 4 CPUs online"),
                line("[linux] 4 CPUs online"),
                line("next"),
                line("100%")
            ]
        );
    }

    #[test]
    fn prompt_is_partial_then_flushed_at_end() {
        assert_eq!(split(&[b"login: "]), [partial("login: "), line("login: ")]);
    }

    #[test]
    fn empty_lines_are_kept() {
        assert_eq!(split(&[b"\n\na\n"]), [line(""), line(""), line("a")]);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(split(&[b"a\xffb\n"]), [line("a\u{fffd}b")]);
    }

    #[test]
    fn overlong_line_is_cut() {
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        let pieces = split(&[&long]);
        assert_eq!(pieces.len(), 1);
        assert!(matches!(&pieces[0], Piece::Line(l) if l.len() == long.len()));
    }

    #[test]
    fn carriage_return_overwrites_the_line() {
        assert_eq!(
            split(&[b"hv> vm li\r\x1b[Khv: VM 2 stopped\r\nhv> vm li"]),
            [line("hv: VM 2 stopped"), partial("hv> vm li"), line("hv> vm li")]
        );
        assert_eq!(clean(b"a\rb\rc"), "c");
        assert_eq!(clean(b"plain\r"), "plain");
    }

    #[test]
    fn strips_ansi() {
        assert_eq!(
            strip_ansi("\x1b[37m[ 0.1 axruntime] \x1b[1;32mok\x1b[m"),
            "[ 0.1 axruntime] ok"
        );
        assert_eq!(strip_ansi("\x1b]0;title\x07text"), "text");
        assert_eq!(strip_ansi("\x1b]0;title\x1b\\text"), "text");
        assert_eq!(strip_ansi("a\x1bcb"), "ab");
        assert_eq!(strip_ansi("plain"), "plain");
    }

    #[test]
    fn tail_keeps_last_lines() {
        let mut tail = Tail::new(2);
        for s in ["a", "b", "c"] {
            tail.push(s.into());
        }
        assert_eq!(tail.lines().collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(tail.len(), 2);
        assert_eq!(tail.total(), 3);
    }
}
