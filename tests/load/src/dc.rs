//! The test DC in a child process (the `test-dc` binary built beside this one), so that the
//! clients' memory is measured apart from the server's.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use mtproto_crypto::RsaPublicKey;

/// The login code of every load account.
pub const CODE: &str = "24680";

/// The `n`-th load account (homed on DC 1).
pub fn phone(n: usize) -> String {
    format!("+9996619{n:04}")
}

/// A running `test-dc` with one DC.
pub struct DcProcess {
    child: Child,
    /// DC 1's address.
    pub addr: SocketAddr,
    /// The DC's public key.
    pub key: RsaPublicKey,
}

impl DcProcess {
    /// Starts `test-dc` with `users` accounts on `listen`; waits for `ready`.
    pub fn start(users: usize, listen: SocketAddr, scratch: &Path) -> Result<Self, String> {
        let binary = sibling("test-dc")?;
        std::fs::create_dir_all(scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        let pem = public_key_path(scratch);
        let mut cmd = Command::new(&binary);
        cmd.arg("--listen")
            .arg(listen.to_string())
            .args(["--dcs", "1", "--code", CODE, "--public-key-out"])
            .arg(&pem);
        for i in 0..users {
            cmd.arg("--user").arg(format!("{}@1", phone(i)));
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut addr = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| e.to_string())?;
            if let Some(a) = line.strip_prefix("dc 1 ") {
                addr = a.trim().parse().ok();
            }
            if line == "ready" {
                break;
            }
        }
        let addr = addr.ok_or("test-dc did not print DC 1's address")?;
        let text = std::fs::read_to_string(&pem).map_err(|e| format!("{}: {e}", pem.display()))?;
        let key = RsaPublicKey::from_pem(&text).map_err(|e| e.to_string())?;
        Ok(Self { child, addr, key })
    }

    /// The child's peak resident set (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<f64> {
        crate::memory::status_kib(&format!("/proc/{}/status", self.child.id()), "VmHWM:")
    }
}

/// The public key file a [`DcProcess`] writes into `scratch`.
pub fn public_key_path(scratch: &Path) -> PathBuf {
    scratch.join("load-dc-public.pem")
}

impl Drop for DcProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A binary built beside this one.
fn sibling(name: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = exe.with_file_name(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: build it first (`cargo xtask load` does)",
            path.display()
        ))
    }
}
