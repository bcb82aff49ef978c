//! The floor under a build: how long portalgen's write stage alone takes to put a built
//! site's files on disk, with the site already in memory (nothing loaded, checked or
//! rendered). `bench/run` prints it after each size's builds; a build cannot be quicker
//! than this on the same machine, whatever the other stages cost.
//!
//! `cargo run --release --example write_floor -- SITE OUT [RUNS]`: reads every file of the
//! built site SITE (untimed), then RUNS times (default 3) removes OUT (untimed) and writes
//! the files into it with `portalgen::write::write_site`, on every core as a build does.
//! Prints the median wall time and the user and system CPU time of that run.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use portalgen::render::Page;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(site), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: write_floor SITE OUT [RUNS]   (SITE: a folder portalgen built)");
        return ExitCode::from(2);
    };
    let runs = match args.get(2).map(|r| r.parse::<usize>()) {
        None => 3,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("RUNS must be a whole number above 0");
            return ExitCode::from(2);
        }
    };
    let pages = match read_site(Path::new(site)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot read {site}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bytes: usize = pages.iter().map(|p| p.content.len()).sum();
    let out = Path::new(out);
    let mut samples = Vec::new();
    for _ in 0..runs {
        if out.exists()
            && let Err(e) = std::fs::remove_dir_all(out)
        {
            eprintln!("cannot remove {}: {e}", out.display());
            return ExitCode::FAILURE;
        }
        let cpu = cpu_ticks();
        let start = Instant::now();
        if let Err(e) = portalgen::write::write_site(out, &pages) {
            eprint!("{}", e.render(portalgen::Lang::En));
            return ExitCode::FAILURE;
        }
        let wall = start.elapsed().as_secs_f64();
        let (user, sys) = cpu_ticks();
        samples.push((wall, user - cpu.0, sys - cpu.1));
    }
    samples.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (wall, user, sys) = samples[(samples.len() - 1) / 2];
    println!(
        "{} files, {:.0} MB: median {wall:.2}s wall of {runs}, {:.2}s user, {:.2}s system",
        pages.len(),
        bytes as f64 / 1e6,
        user as f64 / 100.0,
        sys as f64 / 100.0
    );
    ExitCode::SUCCESS
}

/// Every file of a built site but its marker, by path relative to the site's top.
fn read_site(site: &Path) -> std::io::Result<Vec<Page>> {
    let mut pages = Vec::new();
    for entry in walkdir::WalkDir::new(site).sort_by_file_name() {
        let entry = entry?;
        if !entry.file_type().is_file() || entry.file_name() == portalgen::write::MARKER {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(site) else {
            continue;
        };
        pages.push(Page {
            path: rel.to_string_lossy().replace('\\', "/"),
            content: std::fs::read(entry.path())?,
        });
    }
    Ok(pages)
}

/// User and system CPU time of this process so far, in clock ticks (1/100 s on Linux),
/// from /proc/self/stat; zeros elsewhere.
fn cpu_ticks() -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0, 0);
    };
    // After the command's name (in parentheses, and it may hold either): utime and stime
    // are the 14th and 15th fields.
    let Some(rest) = stat.rfind(')').and_then(|i| stat.get(i + 2..)) else {
        return (0, 0);
    };
    let mut f = rest.split(' ').skip(11);
    let mut next = || f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    (next(), next())
}
