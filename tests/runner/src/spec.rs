//! Test spec files: parsing and validation.
//!
//! A spec is a small TOML file describing one boot test (see
//! `tests/qemu/README.md`). Everything is checked when the file is loaded, so
//! a broken spec is reported before any test runs, naming the file, the field
//! and what is wrong.

use std::{
    fmt, fs,
    path::{Path, PathBuf},
    time::Duration,
};

use regex::Regex;
use serde::Deserialize;

/// Patterns every spec forbids unless it sets `allow_panic = true`.
pub const DEFAULT_FORBID: [&str; 3] = ["panicked at", "PANIC", "Unhandled exception"];

/// Timeout of the `justrun` phase when the spec gives none.
const DEFAULT_TIMEOUT_S: f64 = 60.0;

/// Longest `timeout_s` accepted (one day); anything longer is a typo.
const MAX_TIMEOUT_S: f64 = 86_400.0;

/// The file as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: String,
    #[serde(default)]
    make: Vec<String>,
    #[serde(default = "default_timeout_s")]
    timeout_s: f64,
    #[serde(default)]
    expect: Vec<String>,
    #[serde(default)]
    expect_unordered: Vec<String>,
    #[serde(default)]
    forbid: Vec<String>,
    #[serde(default)]
    allow_panic: bool,
    #[serde(default)]
    exit_code: i32,
    #[serde(default)]
    input: Vec<RawInput>,
}

/// One `[[input]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    after: String,
    send: String,
    #[serde(default)]
    whole_line: bool,
}

fn default_timeout_s() -> f64 {
    DEFAULT_TIMEOUT_S
}

/// A compiled regex together with the spec field it came from, so messages
/// can say which pattern they mean (`expect[2] "login:"`).
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Where the pattern was written, e.g. `expect[2]` or `forbid (built-in)`.
    pub label: String,
    /// The compiled pattern.
    pub regex: Regex,
}

impl Pattern {
    fn compile(label: String, source: &str) -> Result<Self, (String, String)> {
        match Regex::new(source) {
            Ok(regex) => Ok(Self { label, regex }),
            Err(e) => Err((label, format!("invalid regex {source:?}: {e}"))),
        }
    }

    /// Whether the pattern matches anywhere in `line`.
    pub fn is_match(&self, line: &str) -> bool {
        self.regex.is_match(line)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.label, self.regex.as_str())
    }
}

/// Text to type into the console once a line matching `after` is seen.
#[derive(Debug, Clone)]
pub struct InputRule {
    /// The trigger.
    pub after: Pattern,
    /// What to write to the child's stdin, verbatim.
    pub send: String,
    /// Whether `after` is tried only on complete lines. By default it is
    /// also tried on a line still waiting for its newline (a prompt), where
    /// `tick \\d+$` would fire on the first half of `tick 4 after a gap`.
    pub whole_line: bool,
}

/// One validated test.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The file the spec was read from.
    pub path: PathBuf,
    /// Test name, as printed in `PASS`/`FAIL` lines.
    pub name: String,
    /// Arguments given to `make` before the target (`build` / `justrun`).
    pub make: Vec<String>,
    /// Timeout of the `justrun` phase, before `QEMU_RUNNER_TIMEOUT_SCALE`.
    pub timeout: Duration,
    /// Patterns that must match output lines, in order.
    pub expect: Vec<Pattern>,
    /// Patterns that must each match some output line, in any order (for
    /// output of concurrent producers, such as two VMs), each on its own
    /// line, and not on a line an `expect` pattern took.
    pub expect_unordered: Vec<Pattern>,
    /// Patterns no output line may match (including the built-in ones).
    pub forbid: Vec<Pattern>,
    /// Console input, sent in order.
    pub input: Vec<InputRule>,
    /// Exit code wanted from `make justrun`.
    pub exit_code: i32,
}

/// Why a spec file was rejected.
#[derive(Debug)]
pub struct SpecError {
    /// The spec file.
    pub path: PathBuf,
    /// The offending field (`expect[1]`, `timeout_s`), when one is known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: field `{field}`: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for SpecError {}

impl Spec {
    /// Reads and validates the spec file at `path`.
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let text = fs::read_to_string(path).map_err(|e| SpecError {
            path: path.to_owned(),
            field: None,
            message: format!("cannot read spec file: {e}"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates spec `text`; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, SpecError> {
        let error = |field: Option<String>, message: String| SpecError {
            path: path.to_owned(),
            field,
            message,
        };
        // toml's message already names an unknown or missing field and shows
        // the line it is on.
        let raw: RawSpec =
            toml::from_str(text).map_err(|e| error(None, format!("invalid spec: {}", e.to_string().trim_end())))?;

        if raw.name.trim().is_empty() {
            return Err(error(Some("name".into()), "must not be empty".into()));
        }
        let timeout = checked_timeout(raw.timeout_s).map_err(|message| error(Some("timeout_s".into()), message))?;

        let compile = |label: String, source: &str| {
            Pattern::compile(label, source).map_err(|(field, message)| error(Some(field), message))
        };
        let compile_all = |field: &str, sources: &[String]| {
            sources
                .iter()
                .enumerate()
                .map(|(i, s)| compile(format!("{field}[{i}]"), s))
                .collect::<Result<Vec<_>, _>>()
        };
        let expect = compile_all("expect", &raw.expect)?;
        let expect_unordered = compile_all("expect_unordered", &raw.expect_unordered)?;
        let mut forbid = compile_all("forbid", &raw.forbid)?;
        if !raw.allow_panic {
            for source in DEFAULT_FORBID {
                forbid.push(compile("forbid (built-in)".into(), &regex::escape(source))?);
            }
        }
        let input = raw
            .input
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                if rule.send.is_empty() {
                    return Err(error(Some(format!("input[{i}].send")), "must not be empty".into()));
                }
                Ok(InputRule {
                    after: compile(format!("input[{i}].after"), &rule.after)?,
                    send: rule.send.clone(),
                    whole_line: rule.whole_line,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        Ok(Self {
            path: path.to_owned(),
            name: raw.name,
            make: raw.make,
            timeout,
            expect,
            expect_unordered,
            forbid,
            input,
            exit_code: raw.exit_code,
        })
    }
}

/// Checks a `timeout_s` value and turns it into a duration.
fn checked_timeout(seconds: f64) -> Result<Duration, String> {
    if !(seconds > 0.0 && seconds <= MAX_TIMEOUT_S) {
        return Err(format!(
            "must be a number of seconds in (0, {MAX_TIMEOUT_S}], got {seconds}"
        ));
    }
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{seconds}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Spec, SpecError> {
        Spec::parse(text, Path::new("tests/qemu/x.toml"))
    }

    #[test]
    fn good_spec() {
        let spec = parse(
            r#"
            name = "helloworld-aarch64"
            make = ["A=apps/helloworld", "ARCH=aarch64"]
            timeout_s = 30
            expect = ["Hello", "world$"]
            forbid = ["oops"]
            exit_code = 3

            [[input]]
            after = "login:"
            send = "root\n"
            "#,
        )
        .unwrap();
        assert_eq!(spec.name, "helloworld-aarch64");
        assert_eq!(spec.make, ["A=apps/helloworld", "ARCH=aarch64"]);
        assert_eq!(spec.timeout, Duration::from_secs(30));
        assert_eq!(spec.expect.len(), 2);
        assert_eq!(spec.expect[1].label, "expect[1]");
        // The spec's own pattern, then the built-in ones.
        assert_eq!(spec.forbid.len(), 1 + DEFAULT_FORBID.len());
        assert!(spec.forbid[1].is_match("thread 'main' panicked at src/main.rs:1:1"));
        assert_eq!(spec.exit_code, 3);
        assert_eq!(spec.input[0].send, "root\n");
    }

    #[test]
    fn defaults() {
        let spec = parse(r#"name = "t""#).unwrap();
        assert!(spec.make.is_empty());
        assert_eq!(spec.timeout, Duration::from_secs(60));
        assert_eq!(spec.exit_code, 0);
        assert_eq!(spec.forbid.len(), DEFAULT_FORBID.len());
    }

    #[test]
    fn allow_panic_drops_builtin_forbids() {
        let spec = parse("name = \"t\"\nallow_panic = true\nforbid = [\"x\"]").unwrap();
        assert_eq!(spec.forbid.len(), 1);
        assert_eq!(spec.forbid[0].label, "forbid[0]");
    }

    #[test]
    fn fractional_timeout() {
        let spec = parse("name = \"t\"\ntimeout_s = 0.5").unwrap();
        assert_eq!(spec.timeout, Duration::from_millis(500));
    }

    #[test]
    fn unknown_field() {
        let err = parse("name = \"t\"\nexpekt = [\"x\"]").unwrap_err().to_string();
        assert!(err.starts_with("tests/qemu/x.toml: "), "{err}");
        assert!(err.contains("unknown field `expekt`"), "{err}");
    }

    #[test]
    fn unknown_field_in_input() {
        let err = parse("name = \"t\"\n[[input]]\nafter = \"a\"\ntext = \"b\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `text`"), "{err}");
    }

    #[test]
    fn bad_regex_names_field_and_index() {
        let err = parse("name = \"t\"\nexpect = [\"ok\", \"(unclosed\"]").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("expect[1]"));
        let text = err.to_string();
        assert!(
            text.starts_with("tests/qemu/x.toml: field `expect[1]`: invalid regex"),
            "{text}"
        );

        let err = parse("name = \"t\"\n[[input]]\nafter = \"[\"\nsend = \"x\"").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("input[0].after"));
    }

    #[test]
    fn missing_name() {
        let err = parse("expect = [\"x\"]").unwrap_err().to_string();
        assert!(err.contains("missing field `name`"), "{err}");
    }

    #[test]
    fn empty_name() {
        let err = parse("name = \" \"").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("name"));
    }

    #[test]
    fn bad_timeout() {
        for value in ["0", "-1", "1e9", "nan"] {
            let err = parse(&format!("name = \"t\"\ntimeout_s = {value}")).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("timeout_s"), "{value}");
        }
    }

    #[test]
    fn wrong_type() {
        let err = parse("name = \"t\"\nexpect = \"x\"").unwrap_err().to_string();
        assert!(err.contains("expect"), "{err}");
    }
}
