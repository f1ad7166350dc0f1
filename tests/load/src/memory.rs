//! Resident memory from `/proc` (Linux): the current (`VmRSS`) and peak (`VmHWM`) sets.

/// A `KiB` field of a `/proc/.../status` file.
pub fn status_kib(path: &str, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// This process's resident set, in KiB.
pub fn rss_kib() -> Option<f64> {
    status_kib("/proc/self/status", "VmRSS:")
}

/// This process's peak resident set, in KiB.
pub fn peak_rss_kib() -> Option<f64> {
    status_kib("/proc/self/status", "VmHWM:")
}
