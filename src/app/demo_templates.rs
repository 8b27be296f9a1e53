//! The embedded default's notification templates, registered exactly as an agency registers
//! its own through `/v1/templates`: DAWASA's GePG-style `payment_receipt`, RITA's
//! `case_approved` and NIDA's `appointment_reminder`.

use crate::db::{Db, DbError};
use crate::ids::AgencyId;
use crate::sms::notifications::store::{create_template, replace_template};
use crate::sms::notifications::templates::{check, TemplateSpec};
use serde_json::json;

fn demo_templates() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        (
            "dawasa",
            json!({
                "id": "payment_receipt",
                "description": "Sent when GePG reports a bill paid",
                "variables": {"amount": "money", "control_number": "text", "receipt": "text"},
                "text": {
                    "sw": "DAWASA: Malipo yamepokelewa: TZS {amount} kwa namba ya udhibiti {control_number}, risiti {receipt}. Asante.",
                    "en": "DAWASA: Payment received: TZS {amount} for control number {control_number}, receipt {receipt}. Thank you."
                }
            }),
        ),
        (
            "rita",
            json!({
                "id": "case_approved",
                "description": "Sent when an application is approved",
                "variables": {"case_id": "text", "office": "text", "ready_on": "date"},
                "text": {
                    "sw": "RITA: Ombi lako {case_id}: limekubaliwa. Chukua cheti ofisi ya {office} kuanzia {ready_on|date}.",
                    "en": "RITA: Your application {case_id}: approved. Collect the certificate at the {office} office from {ready_on|date}."
                }
            }),
        ),
        (
            "nida",
            json!({
                "id": "appointment_reminder",
                "description": "Sent the day before a booked appointment",
                "variables": {"booking": "text", "office": "text", "starts_at": "date"},
                "text": {
                    "sw": "NIDA: Kumbusho: miadi yako {booking} ni {starts_at|day}, ofisi ya {office}. Njoo na kitambulisho.",
                    "en": "NIDA: Reminder: your appointment {booking} is on {starts_at|day} at the {office} office. Bring an ID."
                }
            }),
        ),
    ]
}

/// Registers (or refreshes) the demo templates.
pub async fn seed_templates(db: &Db) -> Result<(), DbError> {
    for (agency, spec) in demo_templates() {
        let spec: TemplateSpec =
            serde_json::from_value(spec).expect("the demo templates are templates");
        check(&spec).unwrap_or_else(|e| panic!("demo template {} is refused: {e}", spec.id));
        let agency = AgencyId::parse(agency).expect("static id");
        if !replace_template(db, &agency, &spec).await? {
            create_template(db, &agency, &spec).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_templates_pass_the_checks_agencies_face() {
        for (agency, spec) in demo_templates() {
            let spec: TemplateSpec = serde_json::from_value(spec).unwrap();
            assert!(check(&spec).is_ok(), "{agency} {}", spec.id);
        }
    }
}
