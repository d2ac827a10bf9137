//! The shell's commands: a typed line parsed into a [`Command`], and a
//! command carried out against a [`Manager`] into the text to print and
//! what the shell does next.
//!
//! Input comes from a person at the console, so every problem is a message
//! that names the command and what is wrong (`vm pause: "x" is not a VM
//! id`), and a refused command changes nothing.

use super::{Manager, format, format::Quoted};
use crate::lifecycle::Request;
use alloc::{
    format,
    string::{String, ToString},
    vec::Vec,
};

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `help`
    Help,
    /// `vm list [--json]`
    List {
        /// As JSON.
        json: bool,
    },
    /// `vm info ID [--json]`
    Info {
        /// The VM.
        id: usize,
        /// As JSON.
        json: bool,
    },
    /// `vm create NAME [ID]`
    Create {
        /// The built-in config.
        name: String,
        /// The id asked for.
        id: Option<usize>,
    },
    /// `vm start|pause|resume|stop|restart|destroy ID`
    Request {
        /// The VM.
        id: usize,
        /// What to do to it.
        request: Request,
    },
    /// `vm console ID`
    Console {
        /// The VM to send console input to.
        id: usize,
    },
    /// `mem`
    Mem,
    /// `exit` or `quit`
    Exit,
}

/// What the shell does after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Prompts for the next line.
    Stay,
    /// Leaves the shell.
    Leave,
    /// Leaves the shell; console input now goes to this VM.
    Focus(usize),
}

/// A command's result: the text to print (empty, or lines ending in `\n`)
/// and what comes next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// What to print.
    pub text: String,
    /// What the shell does next.
    pub outcome: Outcome,
}

impl Reply {
    fn stay(text: String) -> Self {
        Self {
            text,
            outcome: Outcome::Stay,
        }
    }
}

/// Parses a line: `Ok(None)` for a blank one, `Err` with the message to
/// print for a bad one.
pub fn parse(line: &str) -> Result<Option<Command>, String> {
    let mut words = line.split_ascii_whitespace();
    let Some(first) = words.next() else {
        return Ok(None);
    };
    let rest: Vec<&str> = words.collect();
    let command = match first {
        "help" => no_arguments("help", &rest, Command::Help)?,
        "mem" => no_arguments("mem", &rest, Command::Mem)?,
        "exit" | "quit" => no_arguments(first, &rest, Command::Exit)?,
        "vm" => parse_vm(&rest)?,
        _ => {
            return Err(format!(
                "unknown command {}; \"help\" lists the commands",
                Quoted(first)
            ));
        }
    };
    Ok(Some(command))
}

/// `command` if `rest` is empty.
fn no_arguments(name: &str, rest: &[&str], command: Command) -> Result<Command, String> {
    match rest.first() {
        None => Ok(command),
        Some(word) => Err(format!("{name}: unexpected argument {}", Quoted(word))),
    }
}

/// The words after `vm`.
fn parse_vm(words: &[&str]) -> Result<Command, String> {
    let Some((&sub, rest)) = words.split_first() else {
        return Err("vm: missing subcommand; \"help\" lists them".to_string());
    };
    let request = Request::from_name(sub);
    let takes_json = matches!(sub, "list" | "info");
    if request.is_none() && !matches!(sub, "list" | "info" | "create" | "console") {
        return Err(format!("vm: unknown subcommand {}", Quoted(sub)));
    }
    let name = format!("vm {sub}");
    // Options first out of the way, then the positional arguments.
    let mut json = false;
    let mut args = Vec::new();
    for &word in rest {
        match word {
            "--json" if takes_json => json = true,
            _ if word.starts_with("--") => return Err(format!("{name}: unknown option {}", Quoted(word))),
            _ => args.push(word),
        }
    }
    let mut args = args.into_iter();
    let command = match (sub, request) {
        (_, Some(request)) => Command::Request {
            id: vm_id(&name, args.next())?,
            request,
        },
        ("list", _) => Command::List { json },
        ("info", _) => Command::Info {
            id: vm_id(&name, args.next())?,
            json,
        },
        ("console", _) => Command::Console {
            id: vm_id(&name, args.next())?,
        },
        _ => {
            let config = args.next().ok_or_else(|| format!("{name}: missing config name"))?;
            let id = match args.next() {
                Some(word) => Some(vm_id(&name, Some(word))?),
                None => None,
            };
            Command::Create {
                name: config.to_string(),
                id,
            }
        }
    };
    match args.next() {
        Some(extra) => Err(format!("{name}: unexpected argument {}", Quoted(extra))),
        None => Ok(command),
    }
}

/// A VM id: decimal digits only.
fn vm_id(command: &str, word: Option<&str>) -> Result<usize, String> {
    let word = word.ok_or_else(|| format!("{command}: missing VM id"))?;
    let digits = !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit());
    match word.parse() {
        Ok(id) if digits => Ok(id),
        _ => Err(format!("{command}: {} is not a VM id", Quoted(word))),
    }
}

/// Carries out `command`: the reply, or the message saying why nothing was
/// done.
pub fn execute(command: &Command, mgr: &dyn Manager) -> Result<Reply, String> {
    let text = match command {
        Command::Help => format::HELP.to_string(),
        Command::List { json: false } => format::vm_table(&mgr.list()),
        Command::List { json: true } => format::vms_json(&mgr.list()),
        Command::Info { id, json } => {
            let vms = mgr.list();
            let vm = vms
                .iter()
                .find(|vm| vm.id == *id)
                .ok_or_else(|| format!("vm info: no VM {id}"))?;
            if *json {
                format::vm_json(vm)
            } else {
                format::vm_info(vm)
            }
        }
        Command::Create { name, id } => {
            let images = mgr.images();
            if !images.iter().any(|(image, _)| image == name) {
                let names: Vec<String> = images.iter().map(|(image, _)| format::printable(image)).collect();
                let known = if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                };
                return Err(format!(
                    "vm create: no config named {}; built in: {known}",
                    Quoted(name)
                ));
            }
            let id = mgr.create(name, *id).map_err(|e| format!("vm create: {e}"))?;
            format!(
                "VM {id} ({}) created; \"vm start {id}\" runs it\n",
                format::printable(name)
            )
        }
        Command::Request { id, request } => {
            let done = mgr
                .request(*id, *request)
                .map_err(|e| format!("vm {}: {e}", request.name()))?;
            line(done)
        }
        Command::Console { id } => {
            mgr.focus(*id).map_err(|e| format!("vm console: {e}"))?;
            let vms = mgr.list();
            let text = match vms.iter().find(|vm| vm.id == *id) {
                Some(vm) => {
                    let name = format::printable(&vm.name);
                    format!("console input goes to VM {id} ({name}); Ctrl-A m comes back here\n")
                }
                None => format!("console input goes to VM {id}; Ctrl-A m comes back here\n"),
            };
            return Ok(Reply {
                text,
                outcome: Outcome::Focus(*id),
            });
        }
        Command::Mem => format::memory(&mgr.memory()),
        Command::Exit => {
            let text = "left the management shell; Ctrl-A m opens it again\n".to_string();
            return Ok(Reply {
                text,
                outcome: Outcome::Leave,
            });
        }
    };
    Ok(Reply::stay(text))
}

/// `text` ending in exactly one new line (nothing if it is empty).
fn line(mut text: String) -> String {
    let trimmed = text.trim_end_matches(['\n', '\r']).len();
    text.truncate(trimmed);
    if !text.is_empty() {
        text.push('\n');
    }
    text
}

/// Parses and carries out a typed line; a problem becomes the reply's text.
pub fn run(input: &str, mgr: &dyn Manager) -> Reply {
    let result = match parse(input) {
        Ok(None) => return Reply::stay(String::new()),
        Ok(Some(command)) => execute(&command, mgr),
        Err(e) => Err(e),
    };
    result.unwrap_or_else(|e| Reply::stay(line(e)))
}

#[cfg(test)]
mod tests;
