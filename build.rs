//! Embeds the bundled themes (themes/*) in the binary, so a portal without a themes/
//! folder builds, and `portalgen init` / `theme eject` can write them out.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let themes = manifest.join("themes");
    println!("cargo:rerun-if-changed=themes");
    let mut code = String::from(
        "/// (theme, path inside the theme, content) of every bundled theme file.\npub static BUILTIN_THEMES: &[(&str, &str, &[u8])] = &[\n",
    );
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&themes)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    for dir in dirs {
        let theme = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut list = Vec::new();
        files(&dir, &mut list);
        for file in list {
            println!("cargo:rerun-if-changed={}", file.display());
            let rel = file
                .strip_prefix(&dir)
                .unwrap_or(&file)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let _ = writeln!(
                code,
                "    ({theme:?}, {rel:?}, include_bytes!({:?})),",
                file.display().to_string()
            );
        }
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("builtin_themes.rs");
    std::fs::write(out, code).expect("write builtin_themes.rs");
}
