//! The water-bill journey through the phone page in a real headless Chromium, once per wire
//! format: dial, 1 (Maji), 1 (check the bill), the account number, 1 (payment number),
//! until a control number is on the phone's screen. Keys are clicked on the keypad and
//! typed on the keyboard. Each wait is on the page's own state, watched by a
//! MutationObserver inside the browser, bounded generously.

use super::preview::{DRAFT, DRAFT_SCREEN};
use crate::support::browser::{Browser, PATIENCE};
use crate::support::gateway::{embedded, msisdn, TestGateway};
use fantoccini::{Client, Locator};
use mgov::ussd::store::{recent_session_records, EndReason};
use serde_json::Value;

/// What the phone shows: its state, how many hops it has answered, and its screen.
#[derive(Debug)]
struct Shown {
    state: String,
    screen: String,
    count: String,
}

/// Waits until `settled` (a JavaScript expression) holds on the page, watching the DOM
/// with a MutationObserver, and returns what the phone shows then.
async fn until(client: &Client, settled: &str) -> Shown {
    let watch = format!(
        r#"
        const done = arguments[arguments.length - 1];
        const display = document.getElementById("display");
        const settled = () => {settled};
        const shown = () => ({{
            state: display.dataset.state,
            screen: document.getElementById("screen").textContent,
            count: document.getElementById("status-count").textContent,
        }});
        if (settled()) {{ done(shown()); return; }}
        new MutationObserver((_, observer) => {{
            if (settled()) {{ observer.disconnect(); done(shown()); }}
        }}).observe(document.body, {{ attributes: true, childList: true, subtree: true, characterData: true }});
        "#
    );
    let watched = client.execute_async(&watch, Vec::new());
    let shown: Value = tokio::time::timeout(PATIENCE, watched)
        .await
        .unwrap_or_else(|_| panic!("the page never reached `{settled}`"))
        .expect("the page answers");
    Shown {
        state: shown["state"].as_str().unwrap().to_string(),
        screen: shown["screen"].as_str().unwrap().to_string(),
        count: shown["count"].as_str().unwrap().to_string(),
    }
}

/// Waits until the phone has had `hops` answers and is not waiting for another.
async fn after_hops(client: &Client, hops: u64) -> Shown {
    let settled = format!(
        r#"Number(display.dataset.hops) >= {hops} && !["waiting", "loading"].includes(display.dataset.state)"#
    );
    until(client, &settled).await
}

async fn click(client: &Client, id: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Types on the keyboard, with the phone's display focused; `\u{E007}` is Enter.
async fn type_keys(client: &Client, keys: &str) {
    let display = client.find(Locator::Id("display")).await.unwrap();
    display.send_keys(keys).await.unwrap();
}

/// The phone page of `gw` in a fresh browser, once it is ready to dial.
async fn open_phone(gw: &TestGateway) -> Browser {
    let browser = Browser::start().await;
    browser.client.goto(&gw.url("/phone")).await.unwrap();
    browser
}

async fn water_bill_in_the_browser(format: &str) {
    let gw = embedded().await;
    let browser = open_phone(&gw).await;
    let client = &browser.client;
    let idle = after_hops(client, 0).await;
    assert_eq!(idle.state, "idle", "{idle:?}");
    let entry = client.find(Locator::Id("entry")).await.unwrap();
    assert_eq!(
        entry.text().await.unwrap(),
        "*152*00#",
        "the root code is prefilled"
    );

    let format_select = client.find(Locator::Id("format")).await.unwrap();
    format_select.select_by_value(format).await.unwrap();
    let number = msisdn();
    let field = client.find(Locator::Id("msisdn")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(&number).await.unwrap();

    click(client, "key-send").await;
    let root = after_hops(client, 1).await;
    assert_eq!(root.state, "live", "{root:?}");
    assert!(root.screen.contains("Maji"), "{root:?}");

    click(client, "key-1").await;
    click(client, "key-send").await;
    let maji = after_hops(client, 2).await;
    assert_eq!(maji.state, "live", "{maji:?}");

    type_keys(client, "1\u{E007}").await;
    let prompt = after_hops(client, 3).await;
    assert_eq!(prompt.state, "live", "{prompt:?}");

    type_keys(client, "12345678\u{E007}").await;
    let bill = after_hops(client, 4).await;
    assert_eq!(bill.state, "live", "{bill:?}");
    assert!(
        bill.screen.contains("12345678") || bill.screen.contains("TZS"),
        "{bill:?}"
    );

    click(client, "key-1").await;
    click(client, "key-send").await;
    let done = after_hops(client, 5).await;
    assert_eq!(done.state, "ended", "{done:?}");
    let control_number = regex::Regex::new(r"Namba ya malipo|\b\d{12}\b").unwrap();
    assert!(control_number.is_match(&done.screen), "{done:?}");
    let chars = done.screen.chars().count();
    assert!(chars <= 182, "{chars} characters on one screen");
    assert_eq!(done.count, format!("{chars}/182"));

    // The gateway took the page for a telco of that format: the dialogue is recorded
    // under the demo telco, completed, in five hops.
    let records = recent_session_records(&gw.running.gateway.db, 10)
        .await
        .unwrap();
    let record = records
        .iter()
        .find(|r| r.session_key.starts_with(&format!("{format}:phone-")))
        .unwrap_or_else(|| panic!("a dialogue of telco {format} from the page: {records:?}"));
    assert_eq!(record.end_reason, EndReason::Completed);
    assert_eq!(record.hops, 5);
    assert_eq!(record.service.as_ref().map(|s| s.as_str()), Some("maji"));

    browser.close().await;
    gw.stop().await;
}

#[tokio::test]
async fn the_water_bill_in_a_browser_over_africastalking() {
    water_bill_in_the_browser("africastalking").await;
}

#[tokio::test]
async fn the_water_bill_in_a_browser_over_hubtel() {
    water_bill_in_the_browser("hubtel").await;
}

#[tokio::test]
async fn a_pasted_draft_shows_its_problems_or_is_dialled_in_the_browser() {
    let gw = embedded().await;
    let browser = open_phone(&gw).await;
    let client = &browser.client;
    after_hops(client, 0).await;
    click(client, "draft-details").await;
    let draft = client.find(Locator::Id("draft")).await.unwrap();

    // A draft that would be refused: its problems beside the phone, as the check words them.
    draft
        .send_keys(&DRAFT.replace("start = \"home\"", "start = \"nyumbani\""))
        .await
        .unwrap();
    click(client, "draft-check").await;
    until(client, r#"!document.getElementById("problems-box").hidden"#).await;
    let problems = client
        .find(Locator::Id("problems"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        problems.contains("draft.toml") && problems.contains("nyumbani"),
        "{problems}"
    );

    // A sound one: chosen for the next dialogue, which a direct dial takes straight to it.
    draft.clear().await.unwrap();
    draft.send_keys(DRAFT).await.unwrap();
    click(client, "draft-check").await;
    let ready = until(
        client,
        r#"document.getElementById("version").value.startsWith("jaribio@")"#,
    )
    .await;
    assert!(ready.screen.contains("ready"), "{ready:?}");
    let entry = client.find(Locator::Id("entry")).await.unwrap();
    assert_eq!(entry.text().await.unwrap(), "*152*00#");
    // Clear the `#`, then type the rest of `*152*00*8#`.
    type_keys(client, "\u{E003}*8#\u{E007}").await;
    let done = after_hops(client, 1).await;
    assert_eq!(done.state, "ended", "{done:?}");
    assert_eq!(done.screen, DRAFT_SCREEN);

    // Back to the published menus: the draft is nowhere in the root menu.
    let version = client.find(Locator::Id("version")).await.unwrap();
    version.select_by_value("").await.unwrap();
    click(client, "key-send").await;
    let root = after_hops(client, 2).await;
    assert_eq!(root.state, "live", "{root:?}");
    assert!(
        root.screen.contains("Maji") && !root.screen.contains("Jaribio"),
        "{root:?}"
    );

    browser.close().await;
    gw.stop().await;
}
