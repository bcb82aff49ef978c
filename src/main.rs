//! The command line: parse arguments, call the library, print what happened.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The build allocates many small strings and values across threads; mimalloc halves the
// time spent in the allocator compared with glibc's (see bench/README.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the same place in its option list in v2 and v3;
/// libmimalloc-sys does not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory in the process for the rest of a one-shot command. By default
/// mimalloc hands memory freed a while ago back to the kernel, and the next stage faults
/// fresh zeroed pages in again: about 3 % of a large build's CPU (bench/README.md). A
/// `MIMALLOC_PURGE_DELAY` set by the user wins.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: a plain integer option, set before any other thread exists (mimalloc's
    // option setters are not thread safe); -1 is mimalloc's documented "never purge".
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

#[derive(Parser)]
#[command(
    name = "portalgen",
    version,
    about = "Static site generator for public transparency portals (政府信息公开工作年度报告)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the portal into a static site (public/ by default).
    Build {
        /// The portal's folder, holding portal.yaml, content/ and themes/.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Where to write the site; default: public/ in the portal's folder.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Check every report (types, cross-checks) without building. Exit 0 clean (warnings
    /// allowed), 1 errors, 2 could not run.
    Check {
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Language of the messages: zh or en (default: the portal's language).
        #[arg(long)]
        lang: Option<String>,
        /// `text` for people, `json` for one JSON object per diagnostic per line.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Preview the portal in a browser: build into memory, serve it on 127.0.0.1, rebuild
    /// and reload open pages at each save, show problems above the page.
    Serve {
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Port to listen on (the next free one when taken; 0: any free port).
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Address to listen on; anything but loopback shows the preview to the network.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Open the home page in the browser.
        #[arg(long)]
        open: bool,
    },
    /// Create a new portal in DIR that builds at once.
    Init {
        /// The folder (created if missing).
        dir: PathBuf,
        /// The portal's title.
        #[arg(long, default_value = "政府信息公开工作年度报告")]
        title: String,
        /// A built-in theme.
        #[arg(long, default_value = "default")]
        theme: String,
    },
    /// Themes: copy a built-in theme into the portal for full customisation.
    Theme {
        #[command(subcommand)]
        action: ThemeAction,
    },
    /// Start the next report of an agency: every table in place, last year's carried-over
    /// numbers pre-filled. Never overwrites a report.
    New {
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The agency's id (agency_id).
        #[arg(long)]
        agency: String,
        /// The year the report covers.
        #[arg(long)]
        year: i32,
        /// The agency's full name (default: from its latest report).
        #[arg(long)]
        name: Option<String>,
        /// government, department, township or other (default: from its latest report).
        #[arg(long)]
        kind: Option<String>,
        /// Report format id (default: the national format for the year).
        #[arg(long)]
        format: Option<String>,
    },
    /// Write the JSON Schema of every report format (for editors' autocompletion).
    JsonSchema {
        /// The portal's folder; its own formats in schemas/ are included.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Folder to write <format>.json files into.
        #[arg(long, default_value = "docs/schemas")]
        out: PathBuf,
    },
    /// Import published reports (text from a web page or PDF, saved .html, .docx) as report
    /// files, then check them. Exit 0 when every file was imported, 1 when one was refused.
    Import {
        /// The files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The agency's id (agency_id), e.g. fenyang-gov-office.
        #[arg(long)]
        agency: Option<String>,
        /// The report's year, when the title does not give it.
        #[arg(long)]
        year: Option<i32>,
        /// Folder of the report files (default: content/ of --root).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The portal's folder (its own formats in schemas/).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Replace an existing report file.
        #[arg(long)]
        force: bool,
        /// Write what is certain and mark the rest `# TODO 待填写` (the build fails until filled).
        #[arg(long)]
        allow_partial: bool,
        /// Language of the messages: zh or en (default: the portal's language).
        #[arg(long)]
        lang: Option<String>,
    },
}

#[derive(Subcommand)]
enum ThemeAction {
    /// List the built-in themes.
    List,
    /// Copy a built-in theme into themes/NAME/ (never overwrites).
    Eject {
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The theme to copy (default: the one portal.yaml names, else `default`).
        #[arg(long)]
        name: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Build { root, output } => {
            keep_freed_memory();
            let lang = portalgen::site::portal_lang(&root);
            // Progress only on a terminal, and only when a build takes a moment.
            let progress: Option<portalgen::site::ProgressFn> =
                std::io::stderr().is_terminal().then(|| {
                    let show: portalgen::site::ProgressFn =
                        std::sync::Arc::new(move |stage, done, total| {
                            if total < 300 {
                                return;
                            }
                            let (verb_zh, verb_en) = match stage {
                                portalgen::site::Stage::Reading => ("已读取", "read"),
                                portalgen::site::Stage::Rendering => ("已生成", "rendered"),
                            };
                            let line = match lang {
                                portalgen::Lang::Zh => format!("\r{verb_zh} {done}/{total} 份报告"),
                                portalgen::Lang::En => {
                                    format!("\r{verb_en} {done}/{total} reports")
                                }
                            };
                            eprint!("{line}\x1b[K");
                        });
                    show
                });
            let shown = progress.is_some();
            let result = portalgen::build(&portalgen::BuildOptions {
                root,
                output,
                progress,
            });
            if shown {
                eprint!("\r\x1b[K");
            }
            match result {
                Ok(s) => {
                    for w in &s.warnings {
                        eprintln!("{}", w.render(lang));
                    }
                    let warnings = s
                        .warnings
                        .iter()
                        .filter(|d| d.severity == portalgen::schema::Severity::Warning)
                        .count();
                    match lang {
                        portalgen::Lang::Zh => println!(
                            "已生成：{} 份报告，{} 个文件（{} 个有变化，{} 个删除），{warnings} 个警告，0 个错误，用时 {:.2} 秒，输出到 {}",
                            s.reports,
                            s.pages,
                            s.written.changed,
                            s.written.removed,
                            s.seconds,
                            s.output.display()
                        ),
                        portalgen::Lang::En => println!(
                            "built {} reports, {} files ({} changed, {} removed), {warnings} warning(s), 0 errors in {:.2} s into {}",
                            s.reports,
                            s.pages,
                            s.written.changed,
                            s.written.removed,
                            s.seconds,
                            s.output.display()
                        ),
                    }
                    if !s.notes.is_empty() {
                        for n in &s.notes {
                            println!("{n}");
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprint!("{}", e.render(lang));
                    ExitCode::FAILURE
                }
            }
        }
        Command::Check { root, lang, format } => {
            let lang = lang.map_or_else(
                || portalgen::site::portal_lang(&root),
                |l| portalgen::Lang::from_tag(&l),
            );
            match portalgen::site::check(&root) {
                Ok(diagnostics) => {
                    for d in &diagnostics {
                        if format == "json" {
                            println!("{}", serde_json::to_string(d).unwrap_or_default());
                        } else {
                            println!("{}", d.render(lang));
                        }
                    }
                    let errors = diagnostics
                        .iter()
                        .filter(|d| d.severity == portalgen::schema::Severity::Error)
                        .count();
                    if format == "text" {
                        let warnings = diagnostics.len() - errors;
                        match lang {
                            portalgen::Lang::Zh => {
                                println!("检查完毕：{errors} 个错误，{warnings} 个警告或提示。")
                            }
                            portalgen::Lang::En => println!(
                                "checked: {errors} error(s), {warnings} warning(s) or note(s)."
                            ),
                        }
                    }
                    if errors > 0 {
                        ExitCode::from(1)
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(e) => {
                    eprint!("{}", e.render(lang));
                    ExitCode::from(2)
                }
            }
        }
        Command::Serve {
            root,
            port,
            bind,
            open,
        } => {
            // Nothing is written to disk, so stopping at any moment is clean.
            let _ = ctrlc::set_handler(|| {
                eprintln!("\nstopped");
                std::process::exit(0);
            });
            let lang = portalgen::site::portal_lang(&root);
            match portalgen::serve::run(&portalgen::serve::Options {
                root,
                port,
                bind,
                open,
            }) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprint!("{}", e.render(lang));
                    ExitCode::from(2)
                }
            }
        }
        Command::Init { dir, title, theme } => {
            match portalgen::scaffold::init(&dir, &title, &theme) {
                Ok(files) => {
                    for f in files {
                        println!("wrote {}", f.display());
                    }
                    println!(
                        "next: portalgen new --root {} --agency ID --year YYYY --name 机关全称 --kind department",
                        dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprint!("{}", e.render(portalgen::Lang::Zh));
                    ExitCode::FAILURE
                }
            }
        }
        Command::Theme { action } => match action {
            ThemeAction::List => {
                for name in portalgen::theme::builtin_names() {
                    println!("{name}");
                }
                ExitCode::SUCCESS
            }
            ThemeAction::Eject { root, name } => {
                let name = name.unwrap_or_else(|| {
                    portalgen::config::Config::load(&root)
                        .map_or_else(|_| "default".to_owned(), |c| c.theme)
                });
                match portalgen::theme::eject(&root, &name) {
                    Ok(files) => {
                        println!(
                            "copied {} files into {}",
                            files.len(),
                            root.join("themes").join(&name).display()
                        );
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprint!("{}", e.render(portalgen::site::portal_lang(&root)));
                        ExitCode::FAILURE
                    }
                }
            }
        },
        Command::New {
            root,
            agency,
            year,
            name,
            kind,
            format,
        } => {
            let opts = portalgen::scaffold::NewOptions {
                root: root.clone(),
                agency_id: agency,
                year,
                agency_name: name,
                agency_kind: kind,
                format,
            };
            match portalgen::scaffold::new_report(&opts) {
                Ok(path) => {
                    println!("wrote {}", portalgen::scaffold::display(&root, &path));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprint!("{}", e.render(portalgen::site::portal_lang(&root)));
                    ExitCode::FAILURE
                }
            }
        }
        Command::Import {
            files,
            agency,
            year,
            out,
            root,
            force,
            allow_partial,
            lang,
        } => {
            let lang = lang.map_or_else(
                || portalgen::site::portal_lang(&root),
                |l| portalgen::Lang::from_tag(&l),
            );
            let opts = portalgen::import::Options {
                files,
                agency,
                year,
                out,
                root,
                force,
                allow_partial,
            };
            match portalgen::import::run(&opts) {
                Ok(outcomes) => {
                    eprint!(
                        "{}",
                        portalgen::import::render_details(&outcomes, lang, allow_partial)
                    );
                    print!("{}", portalgen::import::render_summary(&outcomes, lang));
                    if outcomes
                        .iter()
                        .any(|o| o.status == portalgen::import::Status::Refused)
                    {
                        ExitCode::from(1)
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(e) => {
                    eprint!("{}", e.render(lang));
                    ExitCode::from(2)
                }
            }
        }
        Command::JsonSchema { root, out } => match portalgen::site::write_json_schemas(&root, &out)
        {
            Ok(files) => {
                for f in files {
                    println!("wrote {}", f.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprint!("{}", e.render(portalgen::site::portal_lang(&root)));
                ExitCode::FAILURE
            }
        },
    }
}
