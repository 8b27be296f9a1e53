//! The SMS figures as text, the part of `mgov report` after the dialogues.

use super::{SmsFigures, SmsReport};
use std::collections::BTreeMap;
use std::fmt::{self, Write};

impl fmt::Display for SmsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gateway = self.gateway.as_ref().filter(|g| !g.is_empty());
        if self.agencies.is_empty() && gateway.is_none() {
            return writeln!(f, "\nNo SMS in this period.");
        }
        writeln!(f, "\nSMS")?;
        for agency in &self.agencies {
            writeln!(f, "  Agency {}", agency.agency)?;
            write_figures(f, &agency.figures)?;
        }
        if let Some(gateway) = gateway {
            writeln!(
                f,
                "  The gateway's own (messages no service took, and its replies)"
            )?;
            write_figures(f, gateway)?;
        }
        Ok(())
    }
}

fn write_figures(f: &mut fmt::Formatter<'_>, figures: &SmsFigures) -> fmt::Result {
    let received = &figures.received;
    writeln!(
        f,
        "    Received {}{}",
        received.total,
        counts(&received.by_outcome)
    )?;
    for k in &received.by_keyword {
        let keyword = k.keyword.as_deref().unwrap_or("(no keyword)");
        writeln!(
            f,
            "      {keyword:<24} {:>6}{}",
            k.count,
            counts(&k.by_outcome)
        )?;
    }
    let sent = &figures.sent;
    writeln!(
        f,
        "    Sent {} (parts {}){}",
        sent.total,
        sent.parts,
        counts(&sent.by_status)
    )?;
    if sent.total == 0 {
        return Ok(());
    }
    let mut delivery = match sent.delivery_rate {
        Some(rate) => format!(
            "Delivered {:.1}% of the {} in a final status",
            rate * 100.0,
            sent.finished()
        ),
        None => "None in a final status yet".to_string(),
    };
    if let Some(ms) = sent.median_delivery_ms {
        write!(delivery, "; median time to delivery {ms:.1} ms")?;
    }
    writeln!(f, "    {delivery}")
}

/// `: a 2, b 1`, or nothing when there are none.
fn counts(by: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = by.iter().map(|(name, n)| format!("{name} {n}")).collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AgencySms, Received, Sent, SmsFigures, SmsReport};
    use std::collections::BTreeMap;

    fn map(items: &[(&str, u64)]) -> BTreeMap<String, u64> {
        items.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    }

    #[test]
    fn agencies_then_the_gateways_own() {
        let mut received = Received::default();
        received.add(Some("KODI".into()), "forwarded".into(), 2);
        received.add(Some("MAJI".into()), "answered".into(), 1);
        let mut dawasa = SmsFigures {
            received,
            sent: Sent {
                total: 5,
                by_status: map(&[("delivered", 3), ("failed", 1), ("queued", 1)]),
                parts: 7,
                median_delivery_ms: Some(812.5),
                ..Default::default()
            },
        };
        dawasa.finish();
        let mut gateway = SmsFigures::default();
        gateway.received.add(None, "ignored".into(), 1);
        gateway.finish();
        let report = SmsReport {
            agencies: vec![AgencySms {
                agency: "dawasa".into(),
                figures: dawasa,
            }],
            gateway: Some(gateway),
        };
        assert_eq!(
            report.to_string(),
            "\nSMS\n\
             \x20 Agency dawasa\n\
             \x20   Received 3: answered 1, forwarded 2\n\
             \x20     KODI                          2: forwarded 2\n\
             \x20     MAJI                          1: answered 1\n\
             \x20   Sent 5 (parts 7): delivered 3, failed 1, queued 1\n\
             \x20   Delivered 75.0% of the 4 in a final status; median time to delivery 812.5 ms\n\
             \x20 The gateway's own (messages no service took, and its replies)\n\
             \x20   Received 1: ignored 1\n\
             \x20     (no keyword)                  1: ignored 1\n\
             \x20   Sent 0 (parts 0)\n"
        );
        let quiet = SmsReport {
            agencies: vec![],
            gateway: Some(SmsFigures::default()),
        };
        assert_eq!(quiet.to_string(), "\nNo SMS in this period.\n");
    }
}
