//! `cargo xtask schema ...`: check, diff and import TL schemas.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tl_codegen::{check, Severity};

/// `schema check FILE...`: one summary line per valid file; every error as `FILE:LINE:COL: error: ...`.
pub fn check_files(files: &[PathBuf]) -> Result<ExitCode, String> {
    let mut failed = false;
    for path in files {
        let file = path.display().to_string();
        let source = read(path)?;
        let report = check(&source);
        if report.has_errors() {
            failed = true;
            for d in report.errors() {
                eprintln!("{}", d.render(&file));
            }
            continue;
        }
        let s = &report.stats;
        let layer = report
            .schema
            .layer
            .map_or_else(|| "unknown".to_string(), |l| l.to_string());
        let mut line = format!(
            "{file}: layer {layer}, {} constructors, {} functions, ids verified {}/{}",
            s.constructors, s.functions, s.verified_ids, s.declared_ids
        );
        if !s.exceptions.is_empty() {
            line.push_str(&format!(" (known exceptions: {})", s.exceptions.join(", ")));
        }
        if s.inferred_ids > 0 {
            line.push_str(&format!(", {} ids inferred", s.inferred_ids));
        }
        println!("{line}");
        for d in report
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Note)
        {
            if std::env::var_os("VERBOSE").is_some() {
                println!("{}", d.render(&file));
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `schema diff OLD NEW`: one line per changed definition and a summary line.
pub fn diff_files(old: &Path, new: &Path) -> Result<ExitCode, String> {
    let load = |p: &Path| tl_codegen::load(p).map_err(|e| e.to_string());
    let (old, new) = (load(old)?, load(new)?);
    println!("{}", tl_codegen::diff::diff(&old, &new));
    Ok(ExitCode::SUCCESS)
}

/// `schema import-json FILE.json`: TL text on stdout, checked before it is printed.
pub fn import_json(path: &Path, layer: Option<u32>) -> Result<ExitCode, String> {
    let json = read(path)?;
    let tl = tl_codegen::json::json_to_tl(&json, layer)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let report = check(&tl);
    if report.has_errors() {
        for d in report.errors() {
            eprintln!("{}", d.render(&format!("{} (converted)", path.display())));
        }
        return Ok(ExitCode::FAILURE);
    }
    print!("{tl}");
    Ok(ExitCode::SUCCESS)
}
