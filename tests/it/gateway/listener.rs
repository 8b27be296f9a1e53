//! The listener: clients too slow to send a request lose their connection, and stopping
//! lets a request in flight finish. Raw TCP, since an HTTP client cannot be made to stall.
//! Time-outs run on tokio's paused clock, paused once the gateway has started.

use crate::support::gateway::{embedded, msisdn};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A dial on the embedded demo's Africa's Talking telco, as a form body.
fn dial_form() -> String {
    format!(
        "sessionId=listener-{}&serviceCode=%2A152%2A00%23&phoneNumber={}&text=",
        msisdn(),
        msisdn()
    )
}

/// Everything the gateway sends until it closes the connection (a reset counts as closed).
/// On the paused clock, `within` is virtual time: it fails a gateway that never closes.
async fn read_until_closed_within(within: Duration, stream: &mut TcpStream) -> String {
    tokio::time::timeout(within, read_until_closed(stream))
        .await
        .unwrap_or_else(|_| panic!("the connection was still open after {within:?}"))
}

async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer).await {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("reading the answer failed: {e}"),
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_client_that_stalls_in_its_headers_is_disconnected() {
    let gw = embedded().await;
    let timeout = Duration::from_millis(gw.running.gateway.config.header_read_timeout_ms);
    let mut stream = TcpStream::connect(gw.running.addr).await.unwrap();
    stream
        .write_all(b"POST /ussd/africastalking HTTP/1.1\r\nHost: gateway\r\nContent-Ty")
        .await
        .unwrap();

    tokio::time::pause();
    let started = tokio::time::Instant::now();
    tokio::time::advance(timeout - Duration::from_secs(1)).await;
    let mut byte = [0u8; 1];
    let still_open = stream.try_read(&mut byte);
    assert!(
        matches!(&still_open, Err(e) if e.kind() == ErrorKind::WouldBlock),
        "closed or answered before the time-out: {still_open:?}"
    );
    // Nothing more will arrive; the clock runs on to the time-out, which closes it.
    let answer = read_until_closed_within(timeout * 2, &mut stream).await;
    let waited = started.elapsed();
    tokio::time::resume();

    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer:?}"
    );
    assert!(waited >= timeout - Duration::from_secs(1), "{waited:?}");
    gw.stop().await;
}

#[tokio::test]
async fn a_client_that_stalls_in_its_body_is_answered_408_and_disconnected() {
    let gw = embedded().await;
    let timeout = Duration::from_millis(gw.running.gateway.config.request_timeout_ms);
    let mut stream = TcpStream::connect(gw.running.addr).await.unwrap();
    let head = "POST /ussd/africastalking HTTP/1.1\r\nHost: gateway\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(b"sessionId=half").await.unwrap();

    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let answer = read_until_closed_within(timeout * 2, &mut stream).await;
    let waited = started.elapsed();
    tokio::time::resume();

    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        answer.contains(r#"{"error":"request_timeout","message":"#),
        "{answer:?}"
    );
    assert!(waited >= timeout - Duration::from_secs(1), "{waited:?}");
    assert_eq!(
        gw.running.gateway.dialogues.sessions.count().await.unwrap(),
        0
    );
    gw.stop().await;
}

/// Connects until the gateway refuses: its listener is closed (a connection still queued on
/// it when it closed is reset).
async fn wait_until_refused(addr: SocketAddr) {
    loop {
        match TcpStream::connect(addr).await {
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset
                ) =>
            {
                return
            }
            Err(e) => panic!("connecting failed otherwise: {e}"),
            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

#[tokio::test]
async fn stopping_refuses_new_connections_and_finishes_a_request_in_flight() {
    let gw = embedded().await;
    let addr = gw.running.addr;
    let body = dial_form();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /ussd/africastalking HTTP/1.1\r\nHost: gateway\r\nExpect: 100-continue\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // `100 Continue` comes when the handler starts reading the body: the request is in flight.
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).await.unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");

    let stopping = tokio::spawn(gw.stop());
    wait_until_refused(addr).await;
    stream.write_all(body.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:?}");
    assert!(answer.contains("\r\n\r\nCON "), "{answer:?}");
    stopping.await.expect("the gateway stops cleanly");
}
