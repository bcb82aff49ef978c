//! Writes a synthetic portal for benchmarks: `cargo run --release --example gen_portal -- DIR N`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(n)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: gen_portal DIR N   (N reports: N/10 agencies × 10 years)");
        return ExitCode::from(2);
    };
    match portalgen::synth::generate(std::path::Path::new(dir), n) {
        Ok(summary) => {
            println!(
                "wrote {} reports into {dir}, with {} deliberate warnings",
                summary.reports.len(),
                summary.planted.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprint!("{}", e.render(portalgen::Lang::En));
            ExitCode::FAILURE
        }
    }
}
