//! `cargo xtask netem [--clients N] [--seconds S]`: our tokio client against the test DC
//! across a real, faulty network link. The clients run in a network namespace of their own;
//! the DC runs in the main one; the only link between them is a pair of TUN devices joined by
//! `impair` (tests/load), which drops 5 % of the IP packets, duplicates 1 %, delays each by
//! 100 ms ± 50 (so packets overtake each other) and cuts the link for 10 s in the middle of
//! the request phase. (This is what `tc qdisc ... netem` would do; `impair` does it in user
//! space because not every kernel has the netem qdisc.)
//!
//! Passes when every login succeeds and every request ends with an outcome (its answer or a
//! clear error): none is lost. Needs root and `ip` (iproute2); without them it says why and
//! exits successfully without running.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};

/// Addresses of the link: the DC's side (main namespace) and the clients' side.
const DC_IP: &str = "10.77.0.1";
const CLIENT_IP: &str = "10.77.0.2";
const DC_PORT: u16 = 44_301;

/// What to tear down, whatever happens.
struct Setup {
    namespace: String,
    children: Vec<Child>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        for child in &mut self.children {
            // Each child leads its own process group (the DC's server is a grandchild).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.namespace])
            .stderr(Stdio::null())
            .status();
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Why the test cannot run here, if it cannot.
fn unavailable() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not root: network namespaces and TUN devices need root".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun is missing".into());
    }
    let probe = format!("tgprobe{}", std::process::id());
    if let Err(e) = ip(&["netns", "add", &probe]) {
        return Some(format!("network namespaces are not permitted here ({e})"));
    }
    let _ = ip(&["netns", "del", &probe]);
    None
}

/// Starts `cmd` and waits for a stdout line starting with `ready`.
fn start_ready(mut cmd: Command, what: &str) -> Result<Child, String> {
    use std::os::unix::process::CommandExt;
    let mut child = cmd
        .process_group(0)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    if line.starts_with("ready") {
        Ok(child)
    } else {
        let _ = child.kill();
        Err(format!("{what} did not start (printed {line:?})"))
    }
}

/// Builds, sets the link up, runs the clients across it, tears everything down.
pub fn run(root: &Path, clients: usize, seconds: u64) -> Result<ExitCode, String> {
    if let Some(why) = unavailable() {
        println!("netem: skipped: {why}");
        return Ok(ExitCode::SUCCESS);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(&cargo)
        .current_dir(root)
        .args(["build", "--release", "-p", "mtproto-load", "-p", "test-dc"])
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !built.success() {
        return Err("building mtproto-load, impair and test-dc failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bin = target.join("release");
    let out = target.join("netem");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;

    let id = std::process::id() % 100_000;
    let (tun_client, tun_dc) = (format!("tgc{id}"), format!("tgd{id}"));
    let mut setup = Setup {
        namespace: format!("tgnet{id}"),
        children: Vec::new(),
    };
    let ns = setup.namespace.clone();
    ip(&["netns", "add", &ns])?;

    // The faulty link; the partition starts well into the request phase (logins over a
    // lossy 100 ms link take a few seconds).
    let partition_at = 15 + seconds / 4;
    let mut impair = Command::new(bin.join("impair"));
    impair
        .args(["--a", &tun_client, "--b", &tun_dc])
        .args([
            "--loss",
            "0.05",
            "--dup",
            "0.01",
            "--delay-ms",
            "100",
            "--jitter-ms",
            "50",
        ])
        .args([
            "--partition-at",
            &partition_at.to_string(),
            "--partition-for",
            "10",
        ])
        .stderr(Stdio::from(
            std::fs::File::create(out.join("impair.log")).map_err(|e| e.to_string())?,
        ));
    setup.children.push(start_ready(impair, "impair")?);
    ip(&["link", "set", &tun_client, "netns", &ns])?;
    ip(&["-n", &ns, "link", "set", "lo", "up"])?;
    ip(&[
        "-n",
        &ns,
        "addr",
        "add",
        &format!("{CLIENT_IP}/24"),
        "dev",
        &tun_client,
    ])?;
    ip(&["-n", &ns, "link", "set", &tun_client, "up"])?;
    ip(&["addr", "add", &format!("{DC_IP}/24"), "dev", &tun_dc])?;
    ip(&["link", "set", &tun_dc, "up"])?;

    let mut dc = Command::new(bin.join("mtproto-load"));
    dc.args(["--clients", &clients.to_string()])
        .arg("--serve-dc")
        .arg(format!("{DC_IP}:{DC_PORT}"))
        .arg("--out")
        .arg(&out);
    setup.children.push(start_ready(dc, "the test DC")?);

    println!(
        "netem: {clients} clients in namespace {ns} ({CLIENT_IP}) -> DC {DC_IP}:{DC_PORT}; \
         loss 5 %, duplication 1 %, delay 100 ms ± 50, a 10 s partition at {partition_at} s"
    );
    let status = Command::new("ip")
        .args(["netns", "exec", &ns])
        .arg(bin.join("mtproto-load"))
        .args([
            "--clients",
            &clients.to_string(),
            "--seconds",
            &seconds.to_string(),
        ])
        .arg("--connect")
        .arg(format!("{DC_IP}:{DC_PORT}"))
        .arg("--pem")
        .arg(out.join("load-dc-public.pem"))
        .arg("--out")
        .arg(out.join("clients"))
        .arg("--faulty-link")
        .status()
        .map_err(|e| format!("cannot run the clients: {e}"))?;
    drop(setup);
    let log = std::fs::read_to_string(out.join("impair.log")).unwrap_or_default();
    if let Some(last) = log.lines().last() {
        println!("netem: {}", last.trim_start_matches("impair: "));
    }
    Ok(if status.success() {
        println!("netem: passed: every login succeeded and no request was lost");
        ExitCode::SUCCESS
    } else {
        println!("netem: FAILED (see the lines above)");
        ExitCode::FAILURE
    })
}
