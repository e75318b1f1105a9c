//! `nndsl`: check `.nn` files and report mistakes the way rustc does, summarise a
//! network's layers, and explain diagnostic codes.
//!
//! Exit codes: 0 when no file has an error (warnings allowed), 1 when any has, 2 for a
//! usage error or a file that cannot be read.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use nn_dsl::diag::human::{self, Style};
use nn_dsl::{Code, Compiled, SourceFile};

#[derive(Parser)]
#[command(
    name = "nndsl",
    version,
    about = "Check and inspect .nn network definitions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// When to colour diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Subcommand)]
enum Command {
    /// Report every error and warning of the files; exit 1 if any has an error.
    Check {
        /// The `.nn` files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// `human` (rustc style, on stderr) or `json` (one array, on stdout).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print each network's layers with sizes, parameters and multiply-adds.
    Summary {
        /// The `.nn` file.
        file: PathBuf,
    },
    /// Print the Rust code that `network!` generates for the file, formatted.
    Expand {
        /// The `.nn` file.
        file: PathBuf,
    },
    /// Explain a diagnostic code, e.g. `nndsl explain E003`.
    Explain {
        /// The code, such as `E003` or `W001`.
        code: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = match cli.color {
        Color::Always => Style::Colored,
        Color::Never => Style::Plain,
        Color::Auto
            if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() =>
        {
            Style::Colored
        }
        Color::Auto => Style::Plain,
    };
    let code = match cli.command {
        Command::Check { files, format } => check(&files, format, style),
        Command::Summary { file } => summary(&file, style),
        Command::Expand { file } => expand(&file, style),
        Command::Explain { code } => explain(&code),
    };
    ExitCode::from(code)
}

/// A file's bytes, or exit code 2 after a one-line message.
fn read(path: &Path) -> Result<Vec<u8>, u8> {
    if path.is_dir() {
        eprintln!("error: {} is a directory, not a .nn file", path.display());
        return Err(2);
    }
    std::fs::read(path).map_err(|error| {
        eprintln!(
            "error: cannot read {}: {}",
            path.display(),
            io_reason(&error)
        );
        2
    })
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => error.to_string(),
    }
}

fn check(files: &[PathBuf], format: Format, style: Style) -> u8 {
    let mut exit = 0;
    let mut json = Vec::new();
    let mut stderr = std::io::stderr().lock();
    for path in files {
        let bytes = match read(path) {
            Ok(bytes) => bytes,
            Err(code) => {
                exit = exit.max(code);
                continue;
            }
        };
        let compiled = nn_dsl::compile_bytes(&bytes);
        if compiled.checked.has_errors() {
            exit = exit.max(1);
        }
        let name = path.display().to_string();
        match format {
            Format::Human => {
                // A closed stderr is no reason to fail the check itself.
                let _ = stderr.write_all(render_human(&compiled, &name, style).as_bytes());
            }
            Format::Json => {
                let file = SourceFile::new(&name, &compiled.text);
                json.extend(
                    compiled
                        .checked
                        .diagnostics
                        .iter()
                        .map(|d| nn_dsl::diag::json::to_json(d, &file)),
                );
            }
        }
    }
    if format == Format::Json {
        let text = serde_json::to_string_pretty(&json).expect("diagnostics serialise to JSON");
        println!("{text}");
    }
    exit
}

/// Every diagnostic of a file, then rustc's closing line.
fn render_human(compiled: &Compiled<'_>, name: &str, style: Style) -> String {
    let file = SourceFile::new(name, &compiled.text);
    human::render_all(&compiled.checked.diagnostics, &file, style)
}

fn summary(path: &Path, style: Style) -> u8 {
    with_program(path, style, nn_dsl::summary::render)
}

fn expand(path: &Path, style: Style) -> u8 {
    with_program(path, style, nn_dsl::codegen::expand)
}

/// Compiles the file, reports its diagnostics on stderr and, if it has no error,
/// prints what `render` makes of its program on stdout.
fn with_program(path: &Path, style: Style, render: impl Fn(&nn_dsl::ir::Program) -> String) -> u8 {
    let bytes = match read(path) {
        Ok(bytes) => bytes,
        Err(code) => return code,
    };
    let compiled = nn_dsl::compile_bytes(&bytes);
    eprint!(
        "{}",
        render_human(&compiled, &path.display().to_string(), style)
    );
    if compiled.checked.has_errors() {
        return 1;
    }
    print!("{}", render(&compiled.checked.program));
    0
}

fn explain(code: &str) -> u8 {
    match Code::parse(code).map(nn_dsl::explain::explain) {
        Some(text) => {
            println!("{text}");
            0
        }
        None => {
            let known: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
            eprintln!(
                "error: `{code}` is not a diagnostic code of nndsl (known: {})",
                known.join(", ")
            );
            2
        }
    }
}
