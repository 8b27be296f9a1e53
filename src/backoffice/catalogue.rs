//! The standard back-office actions of the contract (`docs/backoffice.md`), so that a menu can be
//! checked before any agency is called.

/// Actions every agency back office may implement, with the parameters each requires.
pub const STANDARD_ACTIONS: &[(&str, &[&str])] = &[
    ("bills.fetch", &["account"]),
    ("payments.control_number", &["bill_id", "amount"]),
    ("cases.status", &["case_id"]),
    ("appointments.slots", &["office"]),
    ("appointments.book", &["slot_id"]),
    ("applications.submit", &[]),
    ("payments.lookup", &["control_number"]),
    ("property_tax.fetch", &["parcel"]),
    ("polls.answer", &["poll_id"]),
    ("polls.my_answer", &["poll_id"]),
];

/// The parameters `action` requires, or `None` when it is not a standard action.
pub fn required_params(action: &str) -> Option<&'static [&'static str]> {
    STANDARD_ACTIONS
        .iter()
        .find(|(name, _)| *name == action)
        .map(|(_, params)| *params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_contract_actions() {
        assert_eq!(required_params("bills.fetch"), Some(&["account"][..]));
        assert_eq!(required_params("bills.pay"), None);
    }
}
