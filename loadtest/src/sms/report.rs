//! An SMS run's results as JSON (`--json`) and as the table on stdout, the table written from
//! the JSON so that both always agree.

use super::figures::round;
use super::Outcome;
use serde_json::{json, Value};

/// The run's results; `settings` describes the run.
pub fn to_json(outcome: &Outcome, settings: Value) -> Value {
    let s = &outcome.submitted;
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    let accepted = s.ids.len() as u64;
    let ms = |micros: u64| round(micros as f64 / 1000.0, 3);
    let errors: serde_json::Map<String, Value> = s
        .errors
        .iter()
        .map(|(kind, n)| (kind.name(), json!(n)))
        .collect();
    let d = &outcome.dispatch;
    let mut failures = outcome.audit.failures();
    if let Some(telco) = &outcome.telco {
        failures.extend(
            telco
                .failures(accepted)
                .into_iter()
                .map(|f| format!("telco {f}")),
        );
    }
    json!({
        "settings": settings,
        "submit": {
            "elapsed_s": round(secs, 3),
            "requests": s.requests,
            "accepted": accepted,
            "accepted_per_s": round(accepted as f64 / secs, 1),
            "requests_per_s": round(s.requests as f64 / secs, 1),
            "rejected_recipients": s.rejected,
            "not_accepted": s.not_accepted,
            "parts": s.parts,
            "late": s.late,
            "dropped": s.dropped,
            "errors": errors,
            "error_samples": s.error_samples,
            "latency_ms": {
                "count": s.latency.len(),
                "p50": ms(s.latency.value_at_quantile(0.5)),
                "p90": ms(s.latency.value_at_quantile(0.9)),
                "p99": ms(s.latency.value_at_quantile(0.99)),
                "max": ms(s.latency.max()),
            },
        },
        "dispatch": {
            "source": d.source,
            "statuses": d.statuses,
            "sent": span(&d.sent),
            "delivered": span(&d.delivered),
            "accepted_to_delivered_ms": {
                "count": d.latency.count,
                "p50": round(d.latency.p50, 1),
                "p90": round(d.latency.p90, 1),
                "p99": round(d.latency.p99, 1),
                "max": round(d.latency.max, 1),
            },
            "drained": d.drained,
            "drain_s": round(d.drain_s, 1),
        },
        "audit": outcome.audit,
        "telco": outcome.telco,
        "failures": failures,
        "ok": failures.is_empty(),
    })
}

fn span(s: &super::figures::Span) -> Value {
    json!({
        "count": s.count,
        "per_s": round(s.per_s(), 1),
        "first_s": round(s.first_s, 3),
        "last_s": round(s.last_s, 3),
    })
}

/// The table printed at the end of a run.
pub fn table(report: &Value) -> String {
    let (s, d, a) = (&report["submit"], &report["dispatch"], &report["audit"]);
    let mut out = Vec::new();
    let int = |v: &Value| v.as_u64().unwrap_or_default();
    out.push(format!(
        "submit       {} requests in {:.1} s: {} messages accepted ({} accepted/s, {} requests/s), {} recipients rejected, {} not accepted",
        s["requests"], s["elapsed_s"].as_f64().unwrap_or_default(), s["accepted"], s["accepted_per_s"],
        s["requests_per_s"], s["rejected_recipients"], s["not_accepted"]
    ));
    let l = &s["latency_ms"];
    out.push(format!(
        "request ms   p50 {}  p90 {}  p99 {}  max {}   ({} parts a message, {} late, {} dropped)",
        l["p50"], l["p90"], l["p99"], l["max"], s["parts"], s["late"], s["dropped"]
    ));
    if s["errors"].as_object().is_some_and(|e| !e.is_empty()) {
        out.push(format!("errors       {}", s["errors"]));
    }
    for (name, key) in [("sent", "sent"), ("delivered", "delivered")] {
        let span = &d[key];
        out.push(format!(
            "{name:<12} {} messages, {}/s (first at {} s, last at {} s){}",
            span["count"],
            span["per_s"],
            span["first_s"],
            span["last_s"],
            if key == "sent" && d["source"] == "api" {
                ", polled"
            } else {
                ""
            }
        ));
    }
    let l = &d["accepted_to_delivered_ms"];
    out.push(format!(
        "to report ms p50 {}  p90 {}  p99 {}  max {}   (acceptance to delivery report, {} delivered)",
        l["p50"], l["p90"], l["p99"], l["max"], l["count"]
    ));
    out.push(format!(
        "statuses     {}   ({} after {} s of drain, from the {})",
        d["statuses"],
        if d["drained"] == true {
            "all final"
        } else {
            "NOT all final"
        },
        d["drain_s"],
        d["source"]
    ));
    let checked = |v: &Value| {
        v.as_u64()
            .map_or("not checked".to_string(), |n| n.to_string())
    };
    out.push(format!(
        "audit        {} accepted: {} missing, {} not final, {} final without event, {} with several finals, {} disagreeing, {} stored unanswered",
        int(&a["accepted"]), int(&a["missing"]), int(&a["non_final"]), checked(&a["no_final_event"]),
        checked(&a["several_final_events"]), checked(&a["status_disagrees"]), checked(&a["stored_unanswered"])
    ));
    let t = &report["telco"];
    if !t.is_null() {
        out.push(format!(
            "telco-sim    {} recipients, {} unique, {} duplicates, {} refused, {} throttled; reports {} sent, {} failed attempts, {} abandoned, {} pending",
            t["recipients"], t["unique_messages"], t["duplicates"], t["refused_recipients"], t["throttled"],
            t["reports_sent"], t["report_attempts_failed"], t["reports_abandoned"], t["reports_pending"]
        ));
    }
    let failures: Vec<&str> = report["failures"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push(if failures.is_empty() && a["no_final_event"].is_null() {
        "verdict      OK: every accepted message reached a final status, listed once (events are checked only with --database-url)".into()
    } else if failures.is_empty() {
        "verdict      OK: every accepted message reached one final status exactly once".into()
    } else {
        format!("verdict      FAIL: {}", failures.join(", "))
    });
    out.join("\n") + "\n"
}
