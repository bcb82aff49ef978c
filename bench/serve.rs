//! Benchmark of `portalgen serve` (not a test): time from saving one report to the
//! reload event on the preview's event stream, on a portal given on the command line.
//!
//!   cargo run --release --example serve_bench -- BIN PORTAL [RUNS]
//!
//! BIN is the portalgen binary (target/release/portalgen), PORTAL a portal folder (e.g.
//! one made by `gen_portal DIR 1000`); one report's body gets a line appended per run
//! (the report stays valid), and the file is restored at the end. `bench/serve` runs it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: serve_bench BIN PORTAL [RUNS]");
        std::process::exit(2);
    }
    let bin = PathBuf::from(&args[1]);
    let root = PathBuf::from(&args[2]);
    let runs: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(30);
    let report = first_report(&root.join("content")).expect("a report under content/");
    let original = std::fs::read_to_string(&report).expect("read the report");

    let started = Instant::now();
    let mut child = Command::new(&bin)
        .args(["serve", "--port", "0", "--root"])
        .arg(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start portalgen serve");
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut addr: Option<SocketAddr> = None;
    while addr.is_none() {
        let l = lines
            .recv_timeout(Duration::from_secs(300))
            .expect("server started");
        println!("server: {l}");
        addr = l
            .strip_prefix("serving http://")
            .and_then(|r| r.split('/').next())
            .and_then(|a| a.parse().ok());
    }
    let addr = addr.expect("address");
    println!(
        "first build and start: {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let mut s = TcpStream::connect(addr).expect("connect");
    write!(s, "GET /__portalgen/events HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
    let (etx, events) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(s).lines().map_while(Result::ok) {
            if l == "event: reload" && etx.send(Instant::now()).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));

    let page = report_page(&original);
    let mut times = Vec::new();
    let mut shown = Vec::new();
    let mut rebuilds = Vec::new();
    let mut early = 0usize;
    for i in 0..runs {
        let text = format!("{original}\n第 {i} 次修改。\n");
        let saved = Instant::now();
        std::fs::write(&report, &text).expect("write the report");
        // A save seen half-written (the watcher saw the truncation, the rest came after the
        // debounce) gives a reload of the half, then another of the whole: the time that
        // counts is the reload after which the page shows the edit.
        let edit = format!("第 {i} 次修改");
        let mut shows = false;
        for _ in 0..5 {
            let reloaded = events
                .recv_timeout(Duration::from_secs(30))
                .expect("reload event");
            // What the browser does next: fetch the page, which must show the edit.
            if get(addr, &page).contains(&edit) {
                times.push(reloaded.duration_since(saved).as_secs_f64() * 1000.0);
                shows = true;
                break;
            }
            early += 1;
        }
        assert!(shows, "the page shows the edit after at most 5 reloads");
        shown.push(saved.elapsed().as_secs_f64() * 1000.0);
        if let Ok(l) = lines.recv_timeout(Duration::from_secs(5)) {
            rebuilds.push(l);
        }
        // Let the editor "think" between saves.
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::write(&report, &original).expect("restore the report");
    // The last change is in the page.
    let _ = events.recv_timeout(Duration::from_secs(30));
    let body = get(addr, &page);
    assert!(body.contains("200 OK"), "report page served: {page}");

    let _ = child.kill();
    let _ = child.wait();

    println!("last rebuild lines:");
    for l in rebuilds.iter().rev().take(3) {
        println!("  {l}");
    }
    if early > 0 {
        println!("reloads before the page showed the edit (a save seen half-written): {early}");
    }
    for (what, mut times) in [
        ("save → reload event (the edited page)", times),
        ("save → page with the edit received", shown),
    ] {
        times.sort_by(f64::total_cmp);
        let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
        println!(
            "{what}, {} saves: median {:.1} ms, p90 {:.1} ms, min {:.1} ms, max {:.1} ms",
            times.len(),
            pct(0.5),
            pct(0.9),
            times[0],
            times[times.len() - 1]
        );
    }
}

fn first_report(dir: &Path) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in &entries {
        if p.extension().is_some_and(|e| e == "md") {
            return Some(p.clone());
        }
    }
    entries
        .iter()
        .filter(|p| p.is_dir())
        .find_map(|d| first_report(d))
}

/// The page of a report: `reports/YEAR/AGENCY/index.html`, from its front matter.
fn report_page(text: &str) -> String {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| {
                v.split('#')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .trim_matches('"')
                    .to_owned()
            })
            .unwrap_or_default()
    };
    format!("/reports/{}/{}/", field("year:"), field("agency_id:"))
}

fn get(addr: SocketAddr, target: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}
