//! A veth pair with one end in a network namespace of the test's own (`ip netns`, root only):
//! packets sent into the outer end arrive on the inner one, where a sensor captures them. Both
//! are removed when the value is dropped.

use std::process::Command;

/// The pair: `outer` in the test's namespace, `inner` in namespace `ns`.
pub struct Veth {
    /// Namespace name.
    pub ns: String,
    /// The end packets are sent into.
    pub outer: String,
    /// The end the sensor captures on (in `ns`).
    pub inner: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
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

/// Whether the tests run as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Whether this test can build veth pairs and replay onto them: root, `ip`, `tcpreplay` and
/// libpcap; says why not.
pub fn can_replay_onto_veth() -> bool {
    if !is_root() {
        eprintln!("skipped: veth pairs and network namespaces need root (CI runs as root)");
        return false;
    }
    for tool in ["ip", "tcpreplay"] {
        if Command::new(tool).arg("-V").output().is_err() {
            eprintln!("skipped: {tool} is not installed (.ci/run installs it)");
            return false;
        }
    }
    if let Err(e) = siptriage::live::library() {
        eprintln!("skipped: {e}");
        return false;
    }
    true
}

impl Veth {
    /// A new pair named after `tag` and this process.
    pub fn new(tag: &str) -> Result<Veth, String> {
        let id = std::process::id() % 100_000;
        let v = Veth {
            ns: format!("st-{tag}-{id}"),
            outer: format!("st{tag}o{id}"),
            inner: format!("st{tag}i{id}"),
        };
        let _ = ip(&["netns", "del", &v.ns]);
        let _ = ip(&["link", "del", &v.outer]);
        ip(&["netns", "add", &v.ns])?;
        ip(&[
            "link", "add", &v.outer, "type", "veth", "peer", "name", &v.inner,
        ])?;
        ip(&["link", "set", &v.inner, "netns", &v.ns])?;
        ip(&["link", "set", &v.outer, "up"])?;
        ip(&["-n", &v.ns, "link", "set", &v.inner, "up"])?;
        ip(&["-n", &v.ns, "link", "set", "lo", "up"])?;
        Ok(v)
    }

    /// A command run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns, program]);
        c
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = ip(&["link", "del", &self.outer]);
        let _ = ip(&["netns", "del", &self.ns]);
    }
}
