//! Where `lint` holds its memory: the bytes live after each step of a run (loading the
//! facts, building the lint context, running the rules) and the most live at once
//! during it, counted by a global allocator that wraps the one `lint` uses. Each is
//! counted twice: as the bytes requested, and as the allocator's blocks that hold them
//! (rounded up to a size class, and a block shrunk in place counted whole). Neither
//! counts free pages not yet given back, so both sit below the peak RSS that
//! `scripts/bench-lint` reports; the RSS columns show it.
//!
//!     cargo run --release --example lint-memory -- target/bench-shared-corpus
//!
//! With `LINT_MEMORY_RULES=1` it also runs each rule alone, one after the other, and
//! prints what each keeps and the most it holds while it runs; `LINT_MEMORY_THREADS=N`
//! loads with N threads. It prints the sizes of the records the facts and the context
//! are made of first.

use nats_doctor::lint::context::{Context, LintOptions};
use nats_doctor::manifest;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// The same in the allocator's blocks: a request rounded up to its size class, and a
/// block shrunk in place by `realloc` (mimalloc keeps a block that is shrunk to no less
/// than half its size) counted whole.
static BLOCKS: AtomicUsize = AtomicUsize::new(0);
static BLOCKS_PEAK: AtomicUsize = AtomicUsize::new(0);
static INNER: nats_doctor::memory::Allocator = nats_doctor::memory::Allocator;

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn block(pointer: *mut u8) -> usize {
    // SAFETY: `pointer` is a live block of mimalloc (or null, for which it returns 0).
    unsafe { libmimalloc_sys::mi_usable_size(pointer.cast()) }
}

fn blocks_grew(bytes: usize) {
    let live = BLOCKS.fetch_add(bytes, Ordering::Relaxed) + bytes;
    BLOCKS_PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is passed to mimalloc unchanged; only the counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        let pointer = unsafe { INNER.alloc(layout) };
        blocks_grew(block(pointer));
        pointer
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        let pointer = unsafe { INNER.alloc_zeroed(layout) };
        blocks_grew(block(pointer));
        pointer
    }
    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        BLOCKS.fetch_sub(block(pointer), Ordering::Relaxed);
        unsafe { INNER.dealloc(pointer, layout) }
    }
    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        if size > layout.size() {
            grew(size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - size, Ordering::Relaxed);
        }
        let before = block(pointer);
        let moved = unsafe { INNER.realloc(pointer, layout, size) };
        if moved.is_null() {
            return moved;
        }
        BLOCKS.fetch_sub(before, Ordering::Relaxed);
        blocks_grew(block(moved));
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn megabytes(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// Prints what is live now and the most that was live since the last step.
fn step(name: &str, before: usize) -> usize {
    let live = LIVE.load(Ordering::Relaxed);
    let peak = PEAK.swap(live, Ordering::Relaxed);
    let blocks = BLOCKS.load(Ordering::Relaxed);
    let blocks_peak = BLOCKS_PEAK.swap(blocks, Ordering::Relaxed);
    let status = |field: &str| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|line| line.starts_with(field))?;
                line.split_whitespace().nth(1)?.parse::<f64>().ok()
            })
            .unwrap_or(0.0)
    };
    let (resident, now) = (status("VmHWM:"), status("VmRSS:"));
    println!(
        "{name:<28} live {:>7.1} MB ({:>+7.1} MB), peak during it {:>7.1} MB; in blocks {:>7.1} MB, peak {:>7.1} MB; RSS {:>6.1} MB, peak RSS so far {:>6.1} MB",
        megabytes(live),
        megabytes(live) - megabytes(before),
        megabytes(peak),
        megabytes(blocks),
        megabytes(blocks_peak),
        now / 1000.0,
        resident / 1000.0
    );
    live
}

fn main() {
    // As `nats-doctor` sets it (`main.rs`): freed pages go back to the system after 2 ms.
    // SAFETY: sets a process-wide option of the allocator; no memory is touched.
    unsafe { libmimalloc_sys::mi_option_set(15, 2) };
    let root = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/bench-shared-corpus".into());
    let options = LintOptions::default();
    let load = manifest::LoadOptions {
        threads: std::env::var("LINT_MEMORY_THREADS")
            .ok()
            .and_then(|threads| threads.parse().ok())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
        ..manifest::LoadOptions::default()
    };
    sizes();
    let start = step("start", 0);
    let loaded = manifest::load(&[root.into()], &load);
    let facts = step("facts loaded", start);
    let context = Context::new(&loaded.inventory, &options);
    step("lint context built", facts);
    if std::env::var_os("LINT_MEMORY_RULES").is_some() {
        let mut found = Vec::new();
        let mut before = LIVE.load(Ordering::Relaxed);
        for rule in nats_doctor::rules::RULES {
            (rule.check)(&context, &mut found);
            before = step(&format!("  {} {}", rule.code, rule.name), before);
        }
    }
    drop(context);
    step("lint context dropped", facts);
    let (findings, _) = nats_doctor::rules::analyse(
        &loaded.inventory,
        &options,
        &nats_doctor::rules::Selection::all(),
    );
    step("context built, rules run", facts);
    println!(
        "{} objects, {} workloads, {} findings",
        loaded.inventory.objects,
        loaded.inventory.workloads.len(),
        findings.len()
    );
}

/// The sizes of the records the facts and the lint context are made of.
fn sizes() {
    use nats_doctor::lint::context::*;
    use nats_doctor::lint::resolve::*;
    use nats_doctor::manifest::model::*;
    macro_rules! size { ($($t:ty),*) => { $(println!("{:<20} {}", stringify!($t), std::mem::size_of::<$t>());)* } }
    size!(
        Value,
        KeyRef,
        EnvSource,
        EnvVar,
        EnvFrom,
        Container,
        Workload,
        Object,
        ConfigData,
        DataEntry,
        Service,
        ServicePort,
        NetworkPolicy,
        PolicyRule,
        PolicyPort,
        PolicyPeer,
        LabelSelector,
        Direction,
        ResolvedVar<'static>,
        Resolved<'static>,
        Origin<'static>,
        ContainerEnv<'static>,
        Site<'static>,
        UrlSite<'static>,
        nats_doctor::natsurl::Entry
    );
}
