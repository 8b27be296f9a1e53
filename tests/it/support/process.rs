//! The gateway as its own process (`mgov serve`), for what only a real process shows: a
//! SIGTERM that must lose nothing, a `kill -9` that leaves work for the reconciler.

use super::gateway::ProductionWorld;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct GatewayProcess {
    child: Child,
    pub base_url: String,
}

impl GatewayProcess {
    /// Starts `mgov serve` in `world` with extra `MGOV_*` settings, and waits until it
    /// listens (its log says where).
    pub fn start(world: &ProductionWorld, settings: &[(&str, &str)]) -> Self {
        let menus = super::gateway::menus_dir();
        let mut command = Command::new(env!("CARGO_BIN_EXE_mgov"));
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("MGOV_LISTEN", "127.0.0.1:0")
            .env("MGOV_DATABASE_URL", &world.database_url)
            .env("MGOV_REDIS_URL", &world.redis.url)
            .env("MGOV_REDIS_PREFIX", &world.redis.prefix)
            .env("MGOV_MENUS_DIR", menus)
            .env("MGOV_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in settings {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("mgov serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("mgov serve exited before listening")
                .expect("readable log");
            let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if event["fields"]["message"] == "gateway listening" {
                break event["fields"]["addr"].as_str().unwrap().to_string();
            }
        };
        // Keep draining the log so the process never blocks on a full pipe; its warnings and
        // errors go to the test's output, where a failing test shows them.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if line.contains("\"level\":\"WARN\"") || line.contains("\"level\":\"ERROR\"") {
                    eprintln!("mgov serve: {line}");
                }
            }
        });
        Self {
            child,
            base_url: format!("http://{addr}"),
        }
    }

    /// SIGTERM, then waits for the process to exit; true when it exited successfully.
    pub fn terminate(mut self) -> bool {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        self.child.wait().expect("the process exits").success()
    }

    /// SIGKILL: the process stops where it stands.
    pub fn kill_hard(mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        self.child.wait().expect("the process is reaped");
    }
}
