//! The command line: parse arguments, call the library, print what happened.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Write the JSON Schema of every report format (for editors' autocompletion).
    JsonSchema {
        /// The portal's folder; its own formats in schemas/ are included.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Folder to write <format>.json files into.
        #[arg(long, default_value = "docs/schemas")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Build { root, output } => {
            let lang = portalgen::site::portal_lang(&root);
            match portalgen::build(&portalgen::BuildOptions { root, output }) {
                Ok(s) => {
                    println!(
                        "built {} reports into {} pages in {} ({:.2} s)",
                        s.reports,
                        s.pages,
                        s.output.display(),
                        s.seconds
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprint!("{}", e.render(lang));
                    ExitCode::FAILURE
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
