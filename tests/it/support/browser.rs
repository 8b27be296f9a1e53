//! A real headless Chromium, driven over WebDriver by the test itself: chromedriver is
//! started on a free port for each browser and stopped with it. Both come from Debian's
//! `chromium` and `chromium-driver` (`bash .ci/run` installs them); a machine without them
//! fails the test with a message saying so, it never skips it.

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long chromedriver and Chromium may take to start, and the page to reach a state:
/// generous, since two cores are shared by everything; a wait ends as soon as it is met.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub struct Browser {
    pub client: Client,
    driver: Child,
}

/// `name` on `PATH`, else at `/usr/bin/name`, where Debian's packages put it.
fn program(name: &str, package: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join(name))
        .chain([PathBuf::from("/usr/bin").join(name)])
        .find(|candidate| candidate.is_file());
    on_path.unwrap_or_else(|| {
        panic!(
            "{name} is not installed (not on PATH, not in /usr/bin): the browser tests need \
             Debian's `chromium` and `chromium-driver` packages; `bash .ci/run` installs \
             them, or run `apt-get install -y {package}`"
        )
    })
}

impl Browser {
    pub async fn start() -> Browser {
        let chromium = program("chromium", "chromium");
        let chromedriver = program("chromedriver", "chromium-driver");
        let mut driver = Command::new(&chromedriver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{} cannot start: {e}", chromedriver.display()));
        let port = tokio::time::timeout(PATIENCE, started_on(&mut driver))
            .await
            .expect("chromedriver says it started within the patience bound");
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            // A script that waits on the page may wait as long as the test would.
            "timeouts": { "script": PATIENCE.as_millis() as u64 },
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1100,900"],
            },
        });
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("chromedriver cannot start {}: {e}", chromium.display()));
        Browser { client, driver }
    }

    /// Closes the browser, then stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill().await;
    }
}

/// Reads chromedriver's output until it says which port it listens on.
async fn started_on(driver: &mut Child) -> u16 {
    let stdout = driver.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await.expect("readable output") {
        if let Some(rest) = line.split("started successfully on port ").nth(1) {
            let port = rest.trim_end_matches('.').trim().parse().expect("a port");
            // Keep draining its output so it never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return port;
        }
    }
    panic!("chromedriver exited before it listened");
}
