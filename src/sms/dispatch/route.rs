//! Which telco carries a message: the one an earlier attempt went to, else the one that last
//! carried the number's USSD, else the telco whose prefix claims the most digits of the
//! number, else the default route. Numbers move between operators, so prefixes only guess.

use crate::ids::TelcoId;
use crate::telcos::Telco;
use std::collections::HashMap;
use std::sync::Arc;

pub fn choose(
    telcos: &HashMap<TelcoId, Arc<Telco>>,
    msisdn: &str,
    previous: Option<&str>,
    last_carrier: Option<&str>,
) -> Option<Arc<Telco>> {
    let carriers = || {
        telcos
            .values()
            .filter(|t| t.wire_format.carries_sms() && t.sms.is_some())
    };
    for known in [previous, last_carrier].into_iter().flatten() {
        if let Some(telco) = carriers().find(|t| t.id.as_str() == known) {
            return Some(telco.clone());
        }
    }
    let by_prefix = carriers()
        .map(|t| (t.sms.as_ref().map_or(0, |l| l.claims(msisdn)), t))
        .filter(|(claimed, _)| *claimed > 0)
        // Ties go to the smaller id, so every node picks the same telco.
        .max_by(|(a, ta), (b, tb)| a.cmp(b).then_with(|| tb.id.cmp(&ta.id)));
    if let Some((_, telco)) = by_prefix {
        return Some(telco.clone());
    }
    carriers()
        .filter(|t| t.sms.as_ref().is_some_and(|l| l.default_route))
        .min_by(|a, b| a.id.cmp(&b.id))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telcos::{
        SmsLink, WireFormat, DEFAULT_MAX_HOPS_PER_SECOND, DEFAULT_SMS_PARTS_PER_SECOND,
    };

    fn telco(
        id: &str,
        format: WireFormat,
        prefixes: &[&str],
        default_route: bool,
    ) -> (TelcoId, Arc<Telco>) {
        let id = TelcoId::parse(id).unwrap();
        let telco = Telco {
            id: id.clone(),
            wire_format: format,
            credentials: None,
            allowed_networks: vec![],
            screen_limit: 182,
            max_hops_per_second: DEFAULT_MAX_HOPS_PER_SECOND,
            sms: Some(SmsLink {
                url: "http://127.0.0.1:9/send".into(),
                username: "u".into(),
                secret: "s".into(),
                parts_per_second: DEFAULT_SMS_PARTS_PER_SECOND,
                prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
                default_route,
            }),
        };
        (id, Arc::new(telco))
    }

    #[test]
    fn routes() {
        let telcos: HashMap<_, _> = [
            telco(
                "vodacom",
                WireFormat::Kannel,
                &["25574", "25575", "25576"],
                false,
            ),
            telco("zantel", WireFormat::Kannel, &["255772"], false),
            telco(
                "tigo",
                WireFormat::AfricasTalking,
                &["25571", "25565", "25567"],
                false,
            ),
            telco("aggregator", WireFormat::AfricasTalking, &[], true),
            telco("hubtel", WireFormat::Hubtel, &["25577"], true),
        ]
        .into_iter()
        .collect();
        let cases = [
            ("255754123456", None, None, Some("vodacom")),
            ("255713123456", None, None, Some("tigo")),
            ("255772123456", None, None, Some("zantel")),
            // 25577 is claimed only by a telco that carries no SMS.
            ("255779123456", None, None, Some("aggregator")),
            ("255688123456", None, None, Some("aggregator")),
            // A retry stays with the telco of the earlier attempt while it carries SMS.
            ("255754123456", Some("tigo"), None, Some("tigo")),
            ("255754123456", Some("gone"), None, Some("vodacom")),
            // A number ported away from its prefix: its dialogues came through tigo.
            ("255754123456", None, Some("tigo"), Some("tigo")),
            (
                "255754123456",
                Some("aggregator"),
                Some("tigo"),
                Some("aggregator"),
            ),
            // Its dialogues came through a telco that sends no SMS: prefixes decide.
            ("255754123456", None, Some("hubtel"), Some("vodacom")),
        ];
        for (msisdn, previous, carrier, want) in cases {
            let got = choose(&telcos, msisdn, previous, carrier).map(|t| t.id.to_string());
            assert_eq!(
                got.as_deref(),
                want,
                "{msisdn} after {previous:?}, carried by {carrier:?}"
            );
        }
        let no_default: HashMap<_, _> = [telco("vodacom", WireFormat::Kannel, &["25574"], false)]
            .into_iter()
            .collect();
        assert!(choose(&no_default, "255688123456", None, None).is_none());
    }
}
