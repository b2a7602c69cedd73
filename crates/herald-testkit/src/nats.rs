//! A private nats-server with JetStream for one test: its own port and store directory,
//! killed and removed on drop. It can be killed and restarted on the same port and store to
//! test that work in flight survives a broker restart.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// A running nats-server.
#[derive(Debug)]
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

pub use herald_runtime::nats_server_binary;

impl NatsServer {
    /// Starts a server on a port the OS picks.
    pub fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let (child, port) = spawn(dir.path(), None)?;
        Ok(Self {
            child: Some(child),
            port,
            dir,
        })
    }

    /// The server's process id (while it runs).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port with the same store.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        let (child, _) = spawn(self.dir.path(), Some(self.port))?;
        self.child = Some(child);
        Ok(())
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(dir: &Path, port: Option<u16>) -> anyhow::Result<(Child, u16)> {
    let ports_dir = dir.join("ports");
    std::fs::create_dir_all(&ports_dir)?;
    for entry in std::fs::read_dir(&ports_dir)? {
        std::fs::remove_file(entry?.path())?;
    }
    let binary = nats_server_binary();
    let port_arg = port.map_or("-1".to_owned(), |p| p.to_string());
    let child = Command::new(&binary)
        .args(["-a", "127.0.0.1", "-p", &port_arg, "-js", "-sd"])
        .arg(dir.join("jetstream"))
        .arg("--ports_file_dir")
        .arg(&ports_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {} (install nats-server)", binary.display()))?;
    let started = Instant::now();
    loop {
        if let Some(port) = read_port(&ports_dir)? {
            // The ports file is written once the listener is up; JetStream may need a moment more.
            wait_for_listener(port)?;
            return Ok((child, port));
        }
        if started.elapsed() > Duration::from_secs(10) {
            bail!("nats-server did not start within 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_port(ports_dir: &Path) -> anyhow::Result<Option<u16>> {
    for entry in std::fs::read_dir(ports_dir)? {
        let text = std::fs::read_to_string(entry?.path())?;
        let Ok(ports) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let url = ports["nats"][0].as_str().unwrap_or_default();
        if let Some(port) = url.rsplit(':').next().and_then(|p| p.parse().ok()) {
            return Ok(Some(port));
        }
    }
    Ok(None)
}

fn wait_for_listener(port: u16) -> anyhow::Result<()> {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            bail!("nats-server is not listening on {port}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
