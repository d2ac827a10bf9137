//! The in-order matching state machine, fed one output line at a time.
//!
//! It knows nothing about processes or time: the runner feeds it lines and
//! acts on what each line triggered (text to send, a forbidden line). Rules:
//!
//! - `expect` patterns match in order, each on a line after the one that
//!   matched the previous pattern; one line satisfies at most one pattern.
//! - `expect_unordered` patterns each match some line, in any order; a line
//!   an `expect` pattern took is not offered to them, and one line satisfies
//!   at most one of them (the first in the list that is still open).
//! - A line matching any `forbid` pattern is recorded and ends matching.
//! - `input` rules fire in order, each once, each on a line after the one that
//!   fired the previous rule. A rule may fire on a partial line (a prompt that
//!   has no newline yet), unless it asks for whole lines; that line then
//!   counts as used by the rule.

use crate::spec::Spec;

/// A forbidden line that was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    /// Index into `Spec::forbid` of the pattern it matched.
    pub pattern: usize,
    /// 1-based number of the output line.
    pub line_no: usize,
    /// The line itself.
    pub text: String,
}

/// What feeding one line did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Step {
    /// Index into `Spec::expect` of the pattern this line satisfied.
    pub matched: Option<usize>,
    /// Index into `Spec::input` of the rule this line fired; its text is to
    /// be sent now.
    pub send: Option<usize>,
    /// Whether this line was forbidden (see [`Matcher::forbidden`]).
    pub forbidden: bool,
}

/// Matching state of one test run.
#[derive(Debug)]
pub struct Matcher<'s> {
    spec: &'s Spec,
    /// Complete lines seen so far; also the 0-based index of the line in progress.
    lines: usize,
    /// `matched[i]` is the 0-based line that satisfied `expect[i]`.
    matched: Vec<usize>,
    /// `unordered[i]`: the 0-based line that satisfied `expect_unordered[i]`.
    unordered: Vec<Option<usize>>,
    /// Input rules fired so far.
    sent: usize,
    /// The 0-based line that fired the last input rule.
    last_send_line: Option<usize>,
    forbidden: Option<Forbidden>,
}

impl<'s> Matcher<'s> {
    /// Starts matching `spec` against an empty output.
    pub fn new(spec: &'s Spec) -> Self {
        Self {
            spec,
            lines: 0,
            matched: Vec::with_capacity(spec.expect.len()),
            unordered: vec![None; spec.expect_unordered.len()],
            sent: 0,
            last_send_line: None,
            forbidden: None,
        }
    }

    /// Feeds one complete output line.
    ///
    /// After a forbidden line, lines are only counted.
    pub fn feed_line(&mut self, line: &str) -> Step {
        let index = self.lines;
        self.lines += 1;
        let mut step = Step::default();
        if self.forbidden.is_some() {
            return step;
        }
        if let Some(pattern) = self.spec.forbid.iter().position(|p| p.is_match(line)) {
            self.forbidden = Some(Forbidden {
                pattern,
                line_no: index + 1,
                text: line.to_owned(),
            });
            step.forbidden = true;
            return step;
        }
        if let Some(next) = self.spec.expect.get(self.matched.len())
            && next.is_match(line)
        {
            step.matched = Some(self.matched.len());
            self.matched.push(index);
        } else if let Some(slot) = self
            .unordered
            .iter()
            .zip(&self.spec.expect_unordered)
            .position(|(done, p)| done.is_none() && p.is_match(line))
        {
            self.unordered[slot] = Some(index);
        }
        step.send = self.try_input(index, line, false);
        step
    }

    /// Feeds the part of the current line received so far. Only input rules
    /// look at it; the line is matched in full when it completes.
    pub fn feed_partial(&mut self, partial: &str) -> Option<usize> {
        if self.forbidden.is_some() {
            return None;
        }
        self.try_input(self.lines, partial, true)
    }

    fn try_input(&mut self, index: usize, text: &str, partial: bool) -> Option<usize> {
        let rule = self.spec.input.get(self.sent)?;
        if partial && rule.whole_line {
            return None;
        }
        if self.last_send_line.is_some_and(|last| index <= last) || !rule.after.is_match(text) {
            return None;
        }
        self.last_send_line = Some(index);
        self.sent += 1;
        Some(self.sent - 1)
    }

    /// Whether every `expect` and `expect_unordered` pattern has matched.
    pub fn all_matched(&self) -> bool {
        self.matched.len() == self.spec.expect.len() && self.unordered.iter().all(Option::is_some)
    }

    /// The first `expect_unordered` pattern (index) that has not matched.
    pub fn first_unordered_missing(&self) -> Option<usize> {
        self.unordered.iter().position(Option::is_none)
    }

    /// 1-based line numbers on which `expect[0]`, `expect[1]`, … matched, as
    /// far as matching got.
    pub fn matched_lines(&self) -> impl Iterator<Item = usize> + '_ {
        self.matched.iter().map(|&index| index + 1)
    }

    /// How many input rules have fired.
    pub fn inputs_sent(&self) -> usize {
        self.sent
    }

    /// The forbidden line, if one was seen.
    pub fn forbidden(&self) -> Option<&Forbidden> {
        self.forbidden.as_ref()
    }

    /// Complete lines fed so far.
    pub fn lines_seen(&self) -> usize {
        self.lines
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn spec(text: &str) -> Spec {
        Spec::parse(&format!("name = \"t\"\n{text}"), Path::new("t.toml")).unwrap()
    }

    fn feed(matcher: &mut Matcher<'_>, lines: &[&str]) -> Vec<Step> {
        lines.iter().map(|l| matcher.feed_line(l)).collect()
    }

    #[test]
    fn unordered_patterns_match_in_any_order_on_distinct_lines() {
        let spec = spec(
            r#"expect = ["start", "end"]
expect_unordered = ['\[a\] done', '\[b\] done', "done"]"#,
        );
        let mut m = Matcher::new(&spec);
        feed(&mut m, &["start", "[b] done", "[a] done"]);
        assert!(!m.all_matched());
        assert_eq!(m.first_unordered_missing(), Some(2), "one line satisfies one pattern");
        feed(&mut m, &["end"]);
        assert_eq!(
            m.first_unordered_missing(),
            Some(2),
            "a line taken by expect is not offered"
        );
        feed(&mut m, &["done"]);
        assert!(m.all_matched());
    }

    #[test]
    fn matches_in_order() {
        let spec = spec(r#"expect = ["boot", "hello \\d+", "bye"]"#);
        let mut m = Matcher::new(&spec);
        let steps = feed(&mut m, &["noise", "boot ok", "hello 42", "x", "bye"]);
        assert_eq!(steps[1].matched, Some(0));
        assert_eq!(steps[2].matched, Some(1));
        assert_eq!(steps[4].matched, Some(2));
        assert!(m.all_matched());
        assert_eq!(m.matched_lines().collect::<Vec<_>>(), [2, 3, 5]);
        assert_eq!(m.lines_seen(), 5);
    }

    #[test]
    fn out_of_order_fails() {
        let spec = spec(r#"expect = ["first", "second"]"#);
        let mut m = Matcher::new(&spec);
        feed(&mut m, &["second", "first"]);
        assert!(!m.all_matched());
        assert_eq!(m.matched_lines().collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn one_line_cannot_satisfy_two_patterns() {
        let spec = spec(r#"expect = ["ready", "ready"]"#);
        let mut m = Matcher::new(&spec);
        feed(&mut m, &["ready"]);
        assert!(!m.all_matched());
        feed(&mut m, &["ready again"]);
        assert!(m.all_matched());
        assert_eq!(m.matched_lines().collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn no_expect_is_trivially_matched() {
        let spec = spec("");
        assert!(Matcher::new(&spec).all_matched());
    }

    #[test]
    fn forbidden_line_is_recorded_and_stops_matching() {
        let spec = spec(r#"expect = ["a", "b"]"#);
        let mut m = Matcher::new(&spec);
        let steps = feed(&mut m, &["a", "PANIC: oh no", "b"]);
        assert!(steps[1].forbidden);
        let forbidden = m.forbidden().unwrap();
        assert_eq!(forbidden.line_no, 2);
        assert_eq!(forbidden.text, "PANIC: oh no");
        assert_eq!(spec.forbid[forbidden.pattern].label, "forbid (built-in)");
        // Nothing after the forbidden line counts.
        assert_eq!(steps[2], Step::default());
        assert!(!m.all_matched());
    }

    #[test]
    fn forbid_wins_over_expect_on_same_line() {
        let spec = spec("expect = [\"boom\"]\nforbid = [\"boom\"]\nallow_panic = true");
        let mut m = Matcher::new(&spec);
        let step = m.feed_line("boom");
        assert!(step.forbidden);
        assert_eq!(step.matched, None);
        assert_eq!(m.forbidden().unwrap().pattern, 0);
    }

    #[test]
    fn allow_panic_lets_panics_through() {
        let spec = spec("allow_panic = true");
        let mut m = Matcher::new(&spec);
        feed(&mut m, &["panicked at x", "PANIC", "Unhandled exception"]);
        assert!(m.forbidden().is_none());
    }

    const INPUTS: &str = r#"
        [[input]]
        after = '\$ $'
        send = "ls\n"
        [[input]]
        after = '\$ $'
        send = "exit\n"
    "#;

    #[test]
    fn inputs_fire_in_order_once_each_on_later_lines() {
        let spec = spec(INPUTS);
        let mut m = Matcher::new(&spec);
        assert_eq!(m.feed_line("boot").send, None);
        assert_eq!(m.feed_line("$ ").send, Some(0));
        assert_eq!(m.feed_line("file").send, None);
        assert_eq!(m.feed_line("$ ").send, Some(1));
        assert_eq!(m.feed_line("$ ").send, None);
        assert_eq!(m.inputs_sent(), 2);
    }

    #[test]
    fn input_fires_on_partial_line_once() {
        let spec = spec(INPUTS);
        let mut m = Matcher::new(&spec);
        assert_eq!(m.feed_partial("$"), None);
        assert_eq!(m.feed_partial("$ "), Some(0));
        // The same line, growing or completed, cannot fire the next rule.
        assert_eq!(m.feed_partial("$ "), None);
        assert_eq!(m.feed_line("$ ").send, None);
        assert_eq!(m.feed_partial("$ "), Some(1));
        assert_eq!(m.inputs_sent(), 2);
    }

    #[test]
    fn whole_line_input_waits_for_the_newline() {
        let spec = spec(
            r#"
            [[input]]
            after = 'tick \d+$'
            send = "next\n"
            whole_line = true
        "#,
        );
        let mut m = Matcher::new(&spec);
        // The first half of a longer line would match; it must not fire.
        assert_eq!(m.feed_partial("tick 4"), None);
        assert_eq!(m.feed_line("tick 4 after a gap of 1000 ms").send, None);
        assert_eq!(m.feed_partial("tick 5"), None);
        assert_eq!(m.feed_line("tick 5").send, Some(0));
    }

    #[test]
    fn input_and_expect_can_share_a_line() {
        let spec = spec(&format!("expect = [\"\\\\$\"]\n{INPUTS}"));
        let mut m = Matcher::new(&spec);
        let step = m.feed_line("$ ");
        assert_eq!(step.matched, Some(0));
        assert_eq!(step.send, Some(0));
    }

    #[test]
    fn no_input_after_forbidden() {
        let spec = spec(INPUTS);
        let mut m = Matcher::new(&spec);
        m.feed_line("PANIC");
        assert_eq!(m.feed_line("$ ").send, None);
        assert_eq!(m.feed_partial("$ "), None);
    }
}
