use rust_decimal::Decimal;
use serde_json::json;

use super::*;

#[test]
fn numbers_are_international_digits() {
    let cases = [
        ("+255754123456", Some("255754123456")),
        ("255754123456", Some("255754123456")),
        ("+2557541", None),
        ("0754123456", None),
        ("+255 754 123456", None),
        ("hello", None),
        ("++255754123456", None),
        ("+1234567890123456", None),
    ];
    for (raw, digits) in cases {
        assert_eq!(international_digits(raw).as_deref(), digits, "{raw}");
    }
}

#[test]
fn the_answer_has_the_shape_africastalking_gives() {
    let recipients = [
        Recipient {
            number: "+255754123456".into(),
            status: SENT,
            cost: Some(Decimal::from(20)),
            message_id: Some("ATXid_0001".into()),
        },
        Recipient {
            number: "+255754000000".into(),
            status: SENT,
            cost: Some(Decimal::from(40)),
            message_id: Some("ATXid_0002".into()),
        },
        Recipient {
            number: "hello".into(),
            status: INVALID_PHONE_NUMBER,
            cost: None,
            message_id: None,
        },
    ];
    let expected = json!({"SMSMessageData": {
        "Message": "Sent to 2/3 Total Cost: TZS 60.0000",
        "Recipients": [
            {"statusCode": 101, "number": "+255754123456", "status": "Success",
             "cost": "TZS 20.0000", "messageId": "ATXid_0001"},
            {"statusCode": 101, "number": "+255754000000", "status": "Success",
             "cost": "TZS 40.0000", "messageId": "ATXid_0002"},
            {"statusCode": 403, "number": "hello", "status": "InvalidPhoneNumber",
             "cost": "0", "messageId": "None"},
        ],
    }});
    assert_eq!(answer(&recipients, "TZS"), expected);
}

#[test]
fn nothing_sent_costs_nothing() {
    let refused = Recipient {
        number: "+255754123456".into(),
        status: INVALID_SENDER_ID,
        cost: None,
        message_id: None,
    };
    let body = answer(&[refused], "TZS");
    assert_eq!(
        body["SMSMessageData"]["Message"],
        "Sent to 0/1 Total Cost: 0"
    );
    assert_eq!(body["SMSMessageData"]["Recipients"][0]["statusCode"], 402);
    assert_eq!(
        body["SMSMessageData"]["Recipients"][0]["status"],
        "InvalidSenderId"
    );
}

#[test]
fn each_outcome_reports_its_statuses_in_order() {
    let cases: [(Outcome, bool, &[&str]); 8] = [
        (Outcome::Delivered, false, &["Success"]),
        (Outcome::Delivered, true, &["Sent", "Success"]),
        (Outcome::Failed, false, &["Failed"]),
        (Outcome::Failed, true, &["Sent", "Failed"]),
        (Outcome::Expired, false, &["Expired"]),
        (Outcome::Expired, true, &["Sent", "Buffered", "Expired"]),
        (Outcome::Rejected, false, &["Rejected"]),
        (Outcome::Rejected, true, &["Sent", "Rejected"]),
    ];
    for (outcome, interim, statuses) in cases {
        assert_eq!(report_statuses(outcome, interim), statuses, "{outcome:?}");
    }
}

#[test]
fn only_failures_and_rejections_carry_a_reason() {
    let cases: [(&str, Option<&[&str]>); 5] = [
        ("Success", None),
        ("Sent", None),
        ("Expired", None),
        ("Failed", Some(&["AbsentSubscriber", "DeliveryFailure"])),
        ("Rejected", Some(&["UserInBlackList", "UserDoesNotExist"])),
    ];
    for (status, reasons) in cases {
        assert_eq!(failure_reasons(status), reasons, "{status}");
    }
}

#[test]
fn a_report_form_names_every_field() {
    let settings = Settings::default();
    let form = report_form(
        "ATXid_1",
        "Failed",
        "255754123456",
        &settings,
        Some("AbsentSubscriber"),
    );
    let expected = [
        ("id", "ATXid_1"),
        ("status", "Failed"),
        ("phoneNumber", "+255754123456"),
        ("networkCode", "64002"),
        ("failureReason", "AbsentSubscriber"),
        ("retryCount", "0"),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(form, expected);
    let delivered = report_form("ATXid_1", "Success", "255754123456", &settings, None);
    assert!(delivered.iter().all(|(name, _)| *name != "failureReason"));
}

#[test]
fn sender_ids_are_checked_only_when_registered() {
    let open = Settings::default();
    let registered = Settings {
        at_sender_ids: vec!["MGOV".into()],
        ..Settings::default()
    };
    let cases = [
        (&open, Some("ANYTHING"), true),
        (&registered, Some("MGOV"), true),
        (&registered, Some("OTHER"), false),
        (&registered, None, true),
    ];
    for (settings, from, allowed) in cases {
        assert_eq!(sender_allowed(settings, from), allowed, "{from:?}");
    }
}
