//! `portalgen serve`: the real binary on a copy of the example portal, over raw HTTP on
//! the loopback address. Every wait is bounded; the server is killed at the end.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Portal;

const WAIT: Duration = Duration::from_secs(60);

/// The running server; killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// Lines the server printed on stdout and stderr, as they come.
    output: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// The child is killed and waited for by `Server`'s Drop, or before each panic here.
#[allow(clippy::zombie_processes)]
fn start(portal: &Portal, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portalgen"))
        .arg("serve")
        .arg("--root")
        .arg(portal.root())
        .args(["--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start portalgen serve");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    for stream in [
        Box::new(stdout) as Box<dyn Read + Send>,
        Box::new(stderr) as Box<dyn Read + Send>,
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!(
                "no `serving` line within {WAIT:?}; output:\n{}",
                seen.join("\n")
            )
        });
        if let Some(rest) = line.strip_prefix("serving http://") {
            let addr = rest.split('/').next().unwrap_or_default();
            let addr: SocketAddr = addr.parse().expect("address in the serving line");
            assert!(addr.ip().is_loopback(), "serves on loopback: {line}");
            return Server {
                child,
                addr,
                output: rx,
            };
        }
        seen.push(line);
    }
}

/// A raw request; returns the status code and the body.
fn get(addr: SocketAddr, target: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    (status, body.to_owned())
}

/// The reload stream: each `event:` name, as it arrives.
fn events(addr: SocketAddr) -> mpsc::Receiver<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
    write!(
        s,
        "GET /__portalgen/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .expect("send request");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(s).lines().map_while(Result::ok) {
            if let Some(name) = line.strip_prefix("event: ")
                && tx.send(name.to_owned()).is_err()
            {
                break;
            }
        }
    });
    rx
}

/// Waits for a `reload` event (skipping `hello`).
fn wait_reload(rx: &mpsc::Receiver<String>, server: &Server) {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(name) if name == "reload" => return,
            Ok(_) => {}
            Err(_) => {
                let printed: Vec<String> = server.output.try_iter().collect();
                panic!(
                    "no reload event within {WAIT:?}; server said:\n{}",
                    printed.join("\n")
                );
            }
        }
    }
}

/// Fetches `target` until `ok` holds for its body (a save may come as two file events,
/// e.g. truncate then write, each followed by a rebuild); bounded by WAIT.
fn get_until(addr: SocketAddr, target: &str, ok: impl Fn(&str) -> bool) -> (u16, String) {
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, body) = get(addr, target);
        if ok(&body) || Instant::now() > deadline {
            return (status, body);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

const REPORT: &str = "content/2023/fenyang-edu.md";
const PAGE: &str = "/reports/2023/fenyang-edu/index.html";

#[test]
fn edit_reloads_with_the_new_number() {
    let portal = Portal::example();
    let server = start(&portal, &[]);
    let (status, before) = get(server.addr, PAGE);
    assert_eq!(status, 200);
    assert!(before.contains(">455<"), "the page shows the number");
    assert!(!before.contains(">4567<"));
    assert!(
        before.contains("/__portalgen/events"),
        "reload script injected"
    );
    assert!(
        !before.contains("portalgen-overlay"),
        "no overlay while clean"
    );

    let stream = events(server.addr);
    assert_eq!(
        stream.recv_timeout(WAIT).as_deref(),
        Ok("hello"),
        "stream opens"
    );
    // A leaf with no sums over it: the report stays valid.
    portal.replace_once(REPORT, "{decisions: 455}", "{decisions: 4567}");
    wait_reload(&stream, &server);
    let (status, after) = get_until(server.addr, PAGE, |h| h.contains(">4567<"));
    assert_eq!(status, 200);
    assert!(after.contains(">4567<"), "the page shows the new number");
    assert!(!after.contains(">455<"));
    // The open data follows.
    let (status, json) = get(server.addr, "/reports/2023/fenyang-edu/data.json");
    assert_eq!(status, 200);
    assert!(json.contains("4567"), "data.json follows");
    // Other pages still there, and nothing was written into the portal.
    assert_eq!(get(server.addr, "/").0, 200);
    assert_eq!(
        get(server.addr, "/reports/2022/fenyang-gov-office/index.html").0,
        200
    );
    assert!(
        !portal.path("public").exists(),
        "serve never writes public/"
    );
}

#[test]
fn broken_yaml_shows_the_overlay_until_fixed() {
    let portal = Portal::example();
    let server = start(&portal, &[]);
    let stream = events(server.addr);
    assert_eq!(stream.recv_timeout(WAIT).as_deref(), Ok("hello"));
    let good = portal.read(REPORT);

    let broken = portal.replace_once(REPORT, "{decisions: 2}", "{decisions: 2");
    // The parser notices on the next line of the mapping.
    let line = common::line_of(&broken, "coercion:");
    wait_reload(&stream, &server);
    let at = format!("{REPORT}:{line}:");
    for page in [PAGE, "/"] {
        let (status, html) = get_until(server.addr, page, |h| h.contains(&at));
        assert_eq!(status, 200, "{page}: the last good render stays");
        assert!(html.contains("portalgen-overlay"), "{page}: overlay shown");
        assert!(html.contains(&at), "{page}: overlay names {at}");
        assert!(
            html.contains(">455<") || page == "/",
            "{page}: last good render below"
        );
    }
    // Another report's page does not carry this report's problem.
    let (_, other) = get(server.addr, "/reports/2022/fenyang-gov-office/index.html");
    assert!(!other.contains("portalgen-overlay"));

    portal.write(REPORT, &good);
    wait_reload(&stream, &server);
    for page in [PAGE, "/"] {
        let (status, html) = get_until(server.addr, page, |h| !h.contains("portalgen-overlay"));
        assert_eq!(status, 200);
        assert!(!html.contains("portalgen-overlay"), "{page}: overlay gone");
    }

    // A deleted report never stops the server: its page goes, the rest stays.
    std::fs::remove_file(portal.path(REPORT)).expect("delete");
    wait_reload(&stream, &server);
    assert_eq!(get(server.addr, PAGE).0, 404);
    assert_eq!(get(server.addr, "/").0, 200);
}

#[test]
fn serves_only_the_site() {
    let portal = Portal::example();
    let server = start(&portal, &[]);
    for target in [
        "/../",
        "/%2e%2e/",
        "/%2e%2e%2f",
        "/%2E%2E%2Fportal.yaml",
        "/..%2fportal.yaml",
        "/../portal.yaml",
        "/static/../../portal.yaml",
        "/..\\portal.yaml",
        "/%5c..%5cportal.yaml",
        "//etc/passwd",
        "/%2fetc/passwd",
        "/portal.yaml",
        "/content/2023/fenyang-edu.md",
    ] {
        let (status, body) = get(server.addr, target);
        assert!(status == 404 || status == 400, "{target}: status {status}");
        assert!(!body.contains("root:x:0:0"), "{target}: /etc/passwd leaked");
        assert!(
            !body.contains("agency_id:"),
            "{target}: a portal file leaked"
        );
    }
    // The 404 page is the theme's.
    let (status, body) = get(server.addr, "/no/such/page.html");
    assert_eq!(status, 404);
    assert!(body.contains("<html"), "the theme's 404 page");

    // Content types.
    let head = |target: &str| -> String {
        let mut s =
            TcpStream::connect_timeout(&server.addr, Duration::from_secs(10)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        write!(
            s,
            "HEAD {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("read");
        raw.lines()
            .find_map(|l| l.strip_prefix("Content-Type: "))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(head("/").starts_with("text/html"));
    assert_eq!(
        head("/reports/2023/fenyang-edu/data.json"),
        "application/json"
    );
    assert!(head("/robots.txt").starts_with("text/plain"));
    // A folder without its slash is redirected, so relative links work.
    let (status, _) = get(server.addr, "/years");
    assert_eq!(status, 301);

    // An open reload stream does not hold up other requests.
    let _open = events(server.addr);
    let _open2 = events(server.addr);
    let started = Instant::now();
    assert_eq!(get(server.addr, "/").0, 200);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn port_in_use_moves_to_the_next_one() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let portal = Portal::example();
    let mut child = Command::new(env!("CARGO_BIN_EXE_portalgen"))
        .arg("serve")
        .arg("--root")
        .arg(portal.root())
        .args(["--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let line = loop {
        match rx.recv_timeout(WAIT) {
            Ok(l) if l.starts_with("serving ") => break l,
            Ok(_) => {}
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no serving line");
            }
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert!(!line.contains(&format!(":{port}/")), "{line}");
    assert!(err.contains(&format!("port {port} is in use")), "{err}");
}
