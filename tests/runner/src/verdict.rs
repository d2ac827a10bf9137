//! Deciding whether a run passed, and saying exactly why not.

use std::time::Duration;

use crate::{matcher::Matcher, spec::Spec};

/// Forbidden lines longer than this are shortened in the failure reason (the
/// full line is in the output tail).
const MAX_QUOTED_CHARS: usize = 200;

/// How the `justrun` process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

/// Why the runner stopped watching the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The process exited by itself.
    Exited(Exit),
    /// The timeout (already scaled) ran out and the run was killed.
    TimedOut(Duration),
    /// A forbidden line appeared and the run was killed.
    Forbidden,
}

/// `Ok` if the run passed, else the reason it failed. `notes` are problems
/// met on the way (input that could not be sent) that may explain a failure;
/// they are reported only if the run failed.
pub fn judge(spec: &Spec, matcher: &Matcher<'_>, ending: Ending, notes: &[String]) -> Result<(), String> {
    let mut reasons = Vec::new();
    if let Some(forbidden) = matcher.forbidden() {
        reasons.push(format!(
            "forbidden output on line {} (matches {}): {:?}",
            forbidden.line_no,
            spec.forbid[forbidden.pattern],
            shorten(&forbidden.text)
        ));
    } else {
        match ending {
            Ending::TimedOut(limit) => {
                let mut reason = format!("timed out after {:.1} s", limit.as_secs_f64());
                if matcher.all_matched() && !spec.expect.is_empty() {
                    reason.push_str(" (every expect pattern matched, but the run did not exit)");
                }
                reasons.push(reason);
            }
            Ending::Exited(Exit::Code(code)) if code == spec.exit_code => {}
            Ending::Exited(Exit::Code(code)) => {
                reasons.push(format!("exit code {code}, wanted {}", spec.exit_code));
            }
            Ending::Exited(Exit::Signal(signal)) => reasons.push(format!(
                "killed by signal {signal}, wanted exit code {}",
                spec.exit_code
            )),
            // Unreachable in practice: the runner only ends this way after
            // the matcher saw a forbidden line.
            Ending::Forbidden => reasons.push("stopped after forbidden output".into()),
        }
        if let Some(reason) = unmatched(spec, matcher) {
            reasons.push(reason);
        }
    }
    if reasons.is_empty() {
        return Ok(());
    }
    if let Some(rule) = spec.input.get(matcher.inputs_sent()) {
        let index = matcher.inputs_sent();
        reasons.push(format!("input[{index}] was never sent (waiting for {})", rule.after));
    }
    reasons.extend(notes.iter().cloned());
    Err(reasons.join("; "))
}

/// Describes the first `expect` pattern that never matched, if any, then
/// the first `expect_unordered` one.
fn unmatched(spec: &Spec, matcher: &Matcher<'_>) -> Option<String> {
    let matched: Vec<usize> = matcher.matched_lines().collect();
    let Some(missing) = spec.expect.get(matched.len()) else {
        let i = matcher.first_unordered_missing()?;
        return Some(format!("{} never matched (in any order)", spec.expect_unordered[i]));
    };
    let mut reason = format!("{missing} never matched");
    if matched.is_empty() {
        match matcher.lines_seen() {
            0 => reason.push_str(" (there was no output at all)"),
            n => reason.push_str(&format!(" in {n} lines of output")),
        }
    } else {
        let so_far: Vec<String> = matched
            .iter()
            .enumerate()
            .map(|(i, line)| format!("expect[{i}] on line {line}"))
            .collect();
        reason.push_str(&format!(" (matched: {})", so_far.join(", ")));
    }
    let after = spec.expect.len() - matched.len() - 1;
    if after > 0 {
        reason.push_str(&format!(", nor the {after} after it"));
    }
    Some(reason)
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn spec(text: &str) -> Spec {
        Spec::parse(&format!("name = \"t\"\n{text}"), Path::new("t.toml")).unwrap()
    }

    fn judge_lines(spec: &Spec, lines: &[&str], ending: Ending) -> Result<(), String> {
        let mut m = Matcher::new(spec);
        for line in lines {
            m.feed_line(line);
        }
        judge(spec, &m, ending, &["note".into()])
    }

    const OK: Ending = Ending::Exited(Exit::Code(0));

    #[test]
    fn pass() {
        let spec = spec(r#"expect = ["a", "b"]"#);
        assert_eq!(judge_lines(&spec, &["a", "b"], OK), Ok(()));
    }

    #[test]
    fn names_missing_and_matched_patterns() {
        let spec = spec(r#"expect = ["a", "b", "c", "d"]"#);
        let err = judge_lines(&spec, &["x", "a", "c"], OK).unwrap_err();
        assert_eq!(
            err,
            r#"expect[1] "b" never matched (matched: expect[0] on line 2), nor the 2 after it; note"#
        );
    }

    #[test]
    fn says_when_there_was_no_output() {
        let spec = spec(r#"expect = ["a"]"#);
        let err = judge_lines(&spec, &[], OK).unwrap_err();
        assert!(err.contains("there was no output at all"), "{err}");
    }

    #[test]
    fn wrong_exit_code() {
        let spec = spec("exit_code = 3");
        let err = judge_lines(&spec, &[], OK).unwrap_err();
        assert!(err.starts_with("exit code 0, wanted 3"), "{err}");
        assert_eq!(judge_lines(&spec, &[], Ending::Exited(Exit::Code(3))), Ok(()));
        let err = judge_lines(&spec, &[], Ending::Exited(Exit::Signal(9))).unwrap_err();
        assert!(err.starts_with("killed by signal 9, wanted exit code 3"), "{err}");
    }

    #[test]
    fn timeout_with_everything_matched() {
        let spec = spec(r#"expect = ["a"]"#);
        let err = judge_lines(&spec, &["a"], Ending::TimedOut(Duration::from_millis(1500))).unwrap_err();
        assert!(
            err.starts_with("timed out after 1.5 s (every expect pattern matched"),
            "{err}"
        );
    }

    #[test]
    fn unsent_input_is_reported() {
        let spec = spec("expect = [\"done\"]\n[[input]]\nafter = \"login:\"\nsend = \"root\\n\"");
        let err = judge_lines(&spec, &["boot"], OK).unwrap_err();
        assert!(
            err.contains(r#"input[0] was never sent (waiting for input[0].after "login:")"#),
            "{err}"
        );
    }

    #[test]
    fn forbidden_line_is_quoted() {
        let spec = spec("");
        let err = judge_lines(&spec, &["ok", "Unhandled exception 0x25"], Ending::Forbidden).unwrap_err();
        assert_eq!(
            err,
            r#"forbidden output on line 2 (matches forbid (built-in) "Unhandled exception"): "Unhandled exception 0x25"; note"#
        );
    }
}
