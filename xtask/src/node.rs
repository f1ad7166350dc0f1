//! The npm packages that hold the Node.js test oracles (mtcute), in `tests/js/node_modules`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The oldest Node.js major version the oracles run on (mtcute 0.30 needs 20).
const MIN_NODE_MAJOR: u32 = 20;

/// Installs `tests/js/package-lock.json` into `tests/js/node_modules` with `npm ci` when the
/// lockfile changed since the last install (a stamp in `node_modules` holds its content), so a
/// second run costs one file comparison. Returns the Node.js interpreter: `$ORACLE_NODE`, else
/// `node` on the `PATH`.
///
/// Install scripts are skipped (`--ignore-scripts`, also in `tests/js/.npmrc`): the only
/// package with one is `better-sqlite3`, which would download a prebuilt binary or compile
/// SQLite; the oracles never load it.
pub fn setup(root: &Path) -> Result<PathBuf, String> {
    let node = std::env::var_os("ORACLE_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
    check_node(&node)?;
    let js = root.join("tests/js");
    let lockfile = js.join("package-lock.json");
    let wanted = std::fs::read_to_string(&lockfile)
        .map_err(|e| format!("cannot read {}: {e}", lockfile.display()))?;
    let stamp = js.join("node_modules/.xtask-installed-lock");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        eprintln!(
            "xtask: installing the npm oracles from {}",
            lockfile.display()
        );
        let status = Command::new("npm")
            .current_dir(&js)
            .args([
                "ci",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ])
            .status()
            .map_err(|e| format!("cannot run npm (is Node.js' npm installed?): {e}"))?;
        if !status.success() {
            return Err(format!("npm ci in {} failed with {status}", js.display()));
        }
        std::fs::write(&stamp, &wanted)
            .map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    }
    Ok(node)
}

/// Fails unless `node --version` runs and reports at least [`MIN_NODE_MAJOR`].
fn check_node(node: &Path) -> Result<(), String> {
    let out = Command::new(node).arg("--version").output().map_err(|e| {
        format!(
            "cannot run {} (install Node.js {MIN_NODE_MAJOR} or later): {e}",
            node.display()
        )
    })?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let major = version
        .strip_prefix('v')
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(major) if out.status.success() && major >= MIN_NODE_MAJOR => Ok(()),
        _ => Err(format!(
            "{} --version printed {version:?}: the npm oracles need Node.js {MIN_NODE_MAJOR} or later",
            node.display()
        )),
    }
}
