//! Process-wide setup for the binary: the allocator's tuning and the logs.

/// glibc gives threads that allocate their own heap arenas (up to eight per core), and the
/// blocking threads that hash passwords and talk to the database are many: resident memory
/// then climbs for minutes under load (82 MB to 145 MB in 3 minutes of bench/load). Two arenas
/// keep it flat. And glibc raises its mmap threshold to the size of the largest block freed,
/// so after the first password hash (Argon2 takes 19 MiB) every later one comes from the heap
/// and stays resident: a fixed threshold of 4 MiB gives each back when it is done (idle RSS
/// 23–25 MB instead of 40–62 MB after the demo accounts' hashes). An operator's own
/// MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_ wins.
pub fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only tunes the allocator, and runs before any other thread exists.
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 4 * 1024 * 1024);
            }
        }
    }
}

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEYPORT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("KEYPORT_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
