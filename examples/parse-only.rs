//! The bare YAML parse of a directory, with the same parser, the same allocator and the
//! same two threads as `lint`, but no analysis: every document is built as a tree and
//! dropped. The baseline that shows what reading the facts and the analysis cost.
//!
//!     cargo run --release --example parse-only -- target/bench-corpus

use nats_doctor::manifest::yaml;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

#[global_allocator]
static ALLOCATOR: nats_doctor::memory::Allocator = nats_doctor::memory::Allocator;

fn files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/bench-corpus".into()),
    );
    let mut paths = Vec::new();
    files(&root, &mut paths)?;
    let next = AtomicUsize::new(0);
    let documents = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(path) = paths.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let Ok(text) = std::fs::read_to_string(path) else {
                        continue;
                    };
                    let count = yaml::documents(&text).take_while(Result::is_ok).count();
                    documents.fetch_add(count, Ordering::Relaxed);
                }
            });
        }
    });
    eprintln!(
        "parsed {} files ({} documents) in {:.3} s",
        paths.len(),
        documents.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
