//! Temporary: times load / model / check separately (issue 8 work; to be removed).
use rayon::prelude::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::Path;
use std::time::Instant;

fn main() {
    let root = std::env::args().nth(1).expect("root");
    let root = Path::new(&root);
    let t = Instant::now();
    let registry = portalgen::schema::Registry::load(&root.join("schemas")).expect("reg");
    let t_reg = t.elapsed();
    let t = Instant::now();
    let files = portalgen::load::find_reports(root, &root.join("content")).expect("find");
    let t_find = t.elapsed();
    let t = Instant::now();
    let loaded: Vec<_> = files
        .par_iter()
        .map(|p| portalgen::load::read_report(root, p))
        .collect();
    let sources: Vec<_> = loaded.into_iter().filter_map(Result::ok).collect();
    let t_load = t.elapsed();
    let t = Instant::now();
    let agencies = portalgen::agencies::load(root).expect("agencies");
    let lib = portalgen::model::build_library_with(sources, &registry, agencies).expect("lib");
    let t_model = t.elapsed();
    let t = Instant::now();
    let checks = portalgen::check::check_library(&lib, &registry);
    let t_check = t.elapsed();
    let n: usize = checks.iter().map(|c| c.diagnostics.len()).sum();
    println!(
        "reg {:?} find {:?} load {:?} model {:?} check {:?} ({} reports, {n} diagnostics)",
        t_reg, t_find, t_load, t_model, t_check, lib.reports.len()
    );
}
