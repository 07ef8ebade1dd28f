// mimalloc (see `memory::Allocator`).
#[global_allocator]
static ALLOCATOR: nats_doctor::memory::Allocator = nats_doctor::memory::Allocator;

/// `mi_option_purge_delay` in mimalloc.h (options keep their numbers across versions).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// Milliseconds before freed pages go back to the system.
const PURGE_DELAY_MS: std::ffi::c_long = 2;

fn main() -> std::process::ExitCode {
    // mimalloc gives freed pages back to the system after a delay, 1 s by default: a
    // large input would keep the pages of its parse trees and of the facts' temporary
    // lists resident while the analysis allocates its own. 2 ms keeps peak memory where
    // giving them back at once does, on the shared benchmark corpus (99.3 MB against
    // 99.2 MB, 119 MB with the default), without paying for it: at 0 every emptied page
    // is returned while the parse on the other thread is still using the process's page
    // tables, and each return interrupts that thread to flush them (TLB shootdowns,
    // 12% of lint's processor samples; 0.63 s against 0.57 s at 2 ms).
    // SAFETY: sets a process-wide option of the allocator, which mimalloc allows at any
    // time; no memory is read or written.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    let arguments: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = nats_doctor::parse(&arguments);
    std::process::ExitCode::from(nats_doctor::run(cli))
}
