//! `qemu-runner`: the host tool behind `make test` that boots the
//! hypervisor's QEMU images and checks their console output.
//!
//! It owns the test loop: reading test specs (`tests/qemu/*.toml`, format in
//! `tests/qemu/README.md`), running `make build` and `make justrun` for each,
//! matching the console output against the spec (expected lines in order,
//! forbidden lines, console input), enforcing the timeout, and reporting
//! `PASS`/`FAIL` lines and a summary. It does not own how images are built or
//! how QEMU is invoked: that is the Makefile's `build` and `justrun` targets.
//!
//! ```text
//! qemu-runner [--verbose] [--filter SUBSTR] [--list] [--root DIR] SPEC.toml...
//! ```
//!
//! Environment: `QEMU_RUNNER_MAKE` names the make program (default `make`);
//! `QEMU_RUNNER_TIMEOUT_SCALE` multiplies every timeout (default 1.0).
//!
//! Exit status: 0 if no test failed, 1 if one did, 2 for bad arguments or
//! bad spec files (then nothing is run).

#![forbid(unsafe_code)]

/// `println!` that ignores a closed stdout (the runner piped into `head`)
/// instead of panicking, so a run in progress is still cleaned up.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod group;
mod lines;
mod matcher;
mod pump;
mod run;
mod spec;
mod verdict;

use std::{collections::HashMap, env, ffi::OsString, path::PathBuf, process::ExitCode};

use run::{Options, Report};
use spec::Spec;

const USAGE: &str = "\
usage: qemu-runner [OPTIONS] SPEC.toml...

Builds and boots each test spec with `make build` / `make justrun` and checks
its console output. Ends with `N passed, N failed`.

options:
  -v, --verbose        echo every output line as it arrives
      --filter SUBSTR  only run specs whose name contains SUBSTR
      --list           print the names of the selected specs and exit
      --root DIR       directory to run make in (default: current directory)
  -h, --help           show this help

environment:
  QEMU_RUNNER_MAKE           make program to use (default: make)
  QEMU_RUNNER_TIMEOUT_SCALE  factor applied to every timeout (default: 1.0)";

/// Largest accepted `QEMU_RUNNER_TIMEOUT_SCALE`.
const MAX_TIMEOUT_SCALE: f64 = 1000.0;

/// Exit status for bad arguments or spec files.
const USAGE_ERROR: u8 = 2;

/// The parsed command line.
#[derive(Debug, Default, PartialEq)]
struct Args {
    verbose: bool,
    list: bool,
    filter: Option<String>,
    root: Option<PathBuf>,
    specs: Vec<PathBuf>,
    help: bool,
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut args = args.into_iter();
    let mut only_files = false;
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if only_files || !text.starts_with('-') || text == "-" {
            parsed.specs.push(arg.into());
            continue;
        }
        let (name, inline) = match text.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (text.into_owned(), None),
        };
        let mut value = |what: &str| -> Result<OsString, String> {
            match &inline {
                Some(v) => Ok(v.into()),
                None => args.next().ok_or_else(|| format!("{name} needs {what}")),
            }
        };
        let is_flag = matches!(name.as_str(), "-v" | "--verbose" | "--list" | "-h" | "--help" | "--");
        if is_flag && inline.is_some() {
            return Err(format!("{name} takes no value"));
        }
        match name.as_str() {
            "-v" | "--verbose" => parsed.verbose = true,
            "--list" => parsed.list = true,
            "-h" | "--help" => parsed.help = true,
            "--" => only_files = true,
            "--filter" => {
                let filter = value("a substring")?;
                parsed.filter = Some(filter.to_string_lossy().into_owned());
            }
            "--root" => parsed.root = Some(value("a directory")?.into()),
            _ => return Err(format!("unknown option {name}")),
        }
    }
    if parsed.specs.is_empty() && !parsed.help {
        return Err("no spec files given".into());
    }
    Ok(parsed)
}

/// Reads `QEMU_RUNNER_TIMEOUT_SCALE` (`None` when unset).
fn parse_timeout_scale(value: Option<&str>) -> Result<f64, String> {
    let Some(text) = value else {
        return Ok(1.0);
    };
    match text.trim().parse::<f64>() {
        Ok(scale) if scale > 0.0 && scale <= MAX_TIMEOUT_SCALE => Ok(scale),
        _ => Err(format!(
            "QEMU_RUNNER_TIMEOUT_SCALE={text:?}: want a number in (0, {MAX_TIMEOUT_SCALE}]"
        )),
    }
}

/// Loads every spec, reporting every broken one, and rejects duplicate names.
fn load_specs(paths: &[PathBuf]) -> Result<Vec<Spec>, Vec<String>> {
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match Spec::load(path) {
            Ok(spec) => specs.push(spec),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let mut seen: HashMap<&str, &PathBuf> = HashMap::new();
    for spec in &specs {
        if let Some(first) = seen.insert(&spec.name, &spec.path) {
            errors.push(format!(
                "{}: field `name`: {:?} is already the name of {}",
                spec.path.display(),
                spec.name,
                first.display()
            ));
        }
    }
    if errors.is_empty() { Ok(specs) } else { Err(errors) }
}

fn print_report(spec: &Spec, report: &Report, verbose: bool) {
    let secs = report.elapsed.as_secs_f64();
    match &report.result {
        Ok(()) => say!("PASS {} ({secs:.2} s)", spec.name),
        Err(reason) => {
            say!("FAIL {} ({secs:.2} s): {reason}", spec.name);
            // In verbose mode every line has been shown already.
            if verbose {
                return;
            }
            let tail = &report.tail;
            if tail.total() == 0 {
                say!("  (no {})", report.tail_of);
                return;
            }
            say!("  last {} of {} lines of {}:", tail.len(), tail.total(), report.tail_of);
            for line in tail.lines() {
                say!("  | {line}");
            }
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("qemu-runner: {message}");
    eprintln!("run `qemu-runner --help` for usage");
    ExitCode::from(USAGE_ERROR)
}

fn main() -> ExitCode {
    let args = match parse_args(env::args_os().skip(1)) {
        Ok(args) => args,
        Err(e) => return usage_error(&e),
    };
    if args.help {
        say!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let scale = match env::var("QEMU_RUNNER_TIMEOUT_SCALE") {
        Ok(text) => parse_timeout_scale(Some(&text)),
        Err(env::VarError::NotPresent) => parse_timeout_scale(None),
        Err(env::VarError::NotUnicode(text)) => parse_timeout_scale(Some(&text.to_string_lossy())),
    };
    let scale = match scale {
        Ok(scale) => scale,
        Err(e) => return usage_error(&e),
    };
    let specs = match load_specs(&args.specs) {
        Ok(specs) => specs,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("qemu-runner: {} bad spec file(s); no test was run", errors.len());
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let selected: Vec<&Spec> = specs
        .iter()
        .filter(|s| args.filter.as_deref().is_none_or(|f| s.name.contains(f)))
        .collect();
    if let (Some(filter), true) = (&args.filter, selected.is_empty()) {
        eprintln!("qemu-runner: warning: no spec name contains {filter:?}");
    }
    if args.list {
        for spec in &selected {
            say!("{}", spec.name);
        }
        return ExitCode::SUCCESS;
    }

    if let Err(e) = group::install_interrupt_handler() {
        eprintln!("qemu-runner: warning: {e}");
    }
    let opts = Options {
        make: env::var_os("QEMU_RUNNER_MAKE").unwrap_or_else(|| "make".into()),
        root: args.root.unwrap_or_else(|| ".".into()),
        verbose: args.verbose,
        timeout_scale: scale,
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    for spec in selected {
        let report = run::run_test(spec, &opts);
        print_report(spec, &report, opts.verbose);
        match report.result {
            Ok(()) => passed += 1,
            Err(_) => failed += 1,
        }
    }
    say!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(args.iter().map(OsString::from))
    }

    #[test]
    fn args() {
        let args = parse(&["-v", "--filter", "aarch64", "--root=/repo", "a.toml", "b.toml"]).unwrap();
        assert!(args.verbose);
        assert_eq!(args.filter.as_deref(), Some("aarch64"));
        assert_eq!(args.root, Some(PathBuf::from("/repo")));
        assert_eq!(args.specs, [PathBuf::from("a.toml"), PathBuf::from("b.toml")]);
        assert_eq!(
            parse(&["--", "--odd.toml"]).unwrap().specs,
            [PathBuf::from("--odd.toml")]
        );
    }

    #[test]
    fn bad_args() {
        assert!(parse(&[]).unwrap_err().contains("no spec files"));
        assert!(parse(&["--bogus", "a.toml"]).unwrap_err().contains("--bogus"));
        assert!(parse(&["a.toml", "--filter"]).unwrap_err().contains("--filter needs"));
        assert!(parse(&["--list=yes", "a.toml"]).unwrap_err().contains("takes no value"));
        assert!(parse(&["--help"]).unwrap().help);
    }

    #[test]
    fn timeout_scale() {
        assert_eq!(parse_timeout_scale(None), Ok(1.0));
        assert_eq!(parse_timeout_scale(Some("2.5")), Ok(2.5));
        for bad in ["0", "-1", "abc", "nan", "inf", "1e9"] {
            assert!(parse_timeout_scale(Some(bad)).is_err(), "{bad}");
        }
    }
}
