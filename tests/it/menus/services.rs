//! Every demo service's journeys end to end on the embedded default, through both wire
//! formats, against the in-process back-office simulator: what a citizen sees, screen by
//! screen, each within the smallest screen any telco shows.

use crate::support::gateway::{embedded, msisdn, TestGateway};
use mgov::cli::phone::Screen;
use mgov::menus::DEFAULT_MIN_SCREEN_LIMIT;
use mgov::telcos::WireFormat;

const FORMATS: [WireFormat; 2] = [WireFormat::AfricasTalking, WireFormat::Hubtel];

/// Dials `*152*00#` from a fresh number and presses `keys`: every screen, the root first.
async fn walk(gw: &TestGateway, format: WireFormat, keys: &[&str]) -> Vec<Screen> {
    let mut phone = gw.phone(format, &msisdn());
    let mut screens = vec![phone.dial("*152*00#").await.unwrap()];
    for key in keys {
        assert!(
            !screens.last().unwrap().ends,
            "{format:?} {keys:?}: ended early: {screens:?}"
        );
        screens.push(phone.press(key).await.unwrap());
    }
    for screen in &screens {
        let length = screen.text.chars().count();
        assert!(
            length <= DEFAULT_MIN_SCREEN_LIMIT,
            "{format:?}: {length} chars: {screen:?}"
        );
    }
    screens
}

/// The last screen of a walk, which must end the dialogue.
async fn ending(gw: &TestGateway, format: WireFormat, keys: &[&str]) -> String {
    let last = walk(gw, format, keys).await.pop().unwrap();
    assert!(last.ends, "{format:?} {keys:?}: {last:?}");
    last.text
}

/// The last screen of a walk, which must wait for more input.
async fn waiting(gw: &TestGateway, format: WireFormat, keys: &[&str]) -> String {
    let last = walk(gw, format, keys).await.pop().unwrap();
    assert!(!last.ends, "{format:?} {keys:?}: {last:?}");
    last.text
}

fn found(pattern: &str, text: &str) -> String {
    let re = regex::Regex::new(pattern).unwrap();
    let captures = re
        .captures(text)
        .unwrap_or_else(|| panic!("{pattern} in {text:?}"));
    captures[1].to_string()
}

#[tokio::test]
async fn the_root_menu_names_each_agency_and_ends_with_9_for_the_other_language() {
    let gw = embedded().await;
    for format in FORMATS {
        let root = walk(&gw, format, &[]).await.remove(0).text;
        assert_eq!(
            root,
            "Huduma za Serikali\n1. Maji (DAWASA)\n2. Vyeti (RITA)\n3. Miadi (NIDA)\n4. Kodi ya majengo (Ilala)\n5. Maoni (Kinondoni)\n6. Tahadhari\n9. English"
        );
        let english = waiting(&gw, format, &["9"]).await;
        assert!(english.ends_with("\n9. Kiswahili"), "{english}");
        assert!(english.contains("4. Property tax (Ilala)"), "{english}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn maji_one_unpaid_bill_has_one_control_number_however_it_is_asked_for() {
    let gw = embedded().await;
    for format in FORMATS {
        let screens = walk(&gw, format, &["1", "1", "12345678"]).await;
        let bill = &screens[3].text;
        assert!(
            bill.starts_with("Salim Abdallah\nBili: TZS 53,000.00\nMwisho: ")
                && bill.ends_with("\n1. Pata namba ya malipo\n0 Rudi  00 Mwanzo"),
            "{bill}"
        );
        let checked = ending(&gw, format, &["1", "1", "12345678", "1"]).await;
        let number = found(r"Namba ya malipo: (99\d{10})\n", &checked);
        assert!(checked.contains("Kiasi: TZS 53,000.00"), "{checked}");

        // "Lipa bili" by account: another dialogue, another request id, the same number.
        let paid_by_account = ending(&gw, format, &["1", "2", "1", "12345678"]).await;
        assert_eq!(
            found(r"Namba ya malipo: (99\d{10})\n", &paid_by_account),
            number
        );

        // "Lipa bili" by control number: what it pays, to whom, how.
        let details = ending(&gw, format, &["1", "2", "2", &number]).await;
        assert!(
            details.starts_with(&format!("Namba {number}: Bili ya maji\nMlipwaji: DAWASA\nKiasi: TZS 53,000.00\nLipa kwa M-Pesa")),
            "{details}"
        );
    }
    gw.stop().await;
}

#[tokio::test]
async fn maji_asks_again_for_a_wrong_number_and_says_when_a_bill_is_paid() {
    let gw = embedded().await;
    for format in FORMATS {
        let again = waiting(&gw, format, &["1", "1", "01234567"]).await;
        assert_eq!(
            again,
            "Hatukupata akaunti 01234567. Hakikisha namba kwenye bili yako.\nIngiza namba ya akaunti (tarakimu 8):\n0 Rudi  00 Mwanzo"
        );
        let number = ending(&gw, format, &["1", "2", "1", "01234567", "12345679"]).await;
        assert!(number.contains("Kiasi: TZS 30,500.00"), "{number}");

        // One wrong digit fails the check digit: not found, asked again.
        let typo = waiting(&gw, format, &["1", "2", "2", "991282742833"]).await;
        assert!(
            typo.starts_with("Hatukupata namba ya malipo 991282742833.")
                && typo.contains("Ingiza namba ya malipo"),
            "{typo}"
        );
        // Last month's bill of 12345678 (see the simulator's payments docs) is paid.
        let paid = ending(&gw, format, &["1", "2", "2", "996282742831"]).await;
        assert_eq!(
            paid,
            "Namba ya malipo 996282742831 imeshalipwa. Huna cha kulipa kwa namba hii."
        );
        let english = ending(&gw, format, &["9", "1", "2", "2", "996282742831"]).await;
        assert!(english.contains("has already been paid"), "{english}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn kesi_issues_a_receipt_and_follows_the_application_by_its_number() {
    let gw = embedded().await;
    for format in FORMATS {
        let home = waiting(&gw, format, &["2"]).await;
        assert!(
            home.starts_with(
                "RITA - Vyeti vya kuzaliwa na vifo\n1. Omba nakala ya cheti\n2. Hali ya ombi"
            ),
            "{home}"
        );
        let receipt = ending(&gw, format, &["2", "1", "1", "4512378"]).await;
        assert!(
            receipt.starts_with("RITA imepokea ombi lako.\nRisiti: RC"),
            "{receipt}"
        );
        let case = found(r"Namba ya ombi: (\d{9})\n", &receipt);

        let status = ending(&gw, format, &["2", "2", &case]).await;
        assert!(
            status.starts_with(&format!(
                "RITA, ombi {case}:\nLimepokelewa, linasubiri kukaguliwa.\nLimesasishwa "
            )),
            "{status}"
        );
    }
    gw.stop().await;
}

#[tokio::test]
async fn kesi_shows_the_decision_and_asks_again_for_an_unknown_number() {
    let gw = embedded().await;
    for format in FORMATS {
        // The same format in the prompt, the retry, the pattern and the answer: 9 digits.
        let retry = waiting(&gw, format, &["2", "2", "CS123"]).await;
        assert!(
            retry.starts_with("Namba si sahihi. Namba ya ombi ina tarakimu 9, mfano 250417615.\nIngiza namba ya ombi (tarakimu 9"),
            "{retry}"
        );
        let unknown = waiting(&gw, format, &["2", "2", "250417610"]).await;
        assert!(
            unknown.starts_with("Hatukupata ombi 250417610. Hakikisha namba kwenye risiti yako.\nIngiza namba ya ombi"),
            "{unknown}"
        );
        let rejected = ending(&gw, format, &["2", "2", "250417610", "250417656"]).await;
        assert!(
            rejected
                .starts_with("RITA, ombi 250417656:\nLimekataliwa: majina hayalingani na rejista."),
            "{rejected}"
        );
        let approved = ending(&gw, format, &["9", "2", "2", "250417649"]).await;
        assert!(
            approved.starts_with("RITA, application 250417649:\nApproved."),
            "{approved}"
        );
        let documents = ending(&gw, format, &["2", "2", "250417631"]).await;
        assert!(
            documents.contains("leta nakala ya kitambulisho cha mzazi"),
            "{documents}"
        );
    }
    gw.stop().await;
}

#[tokio::test]
async fn kodi_dues_by_parcel_and_a_control_number_to_pay_one() {
    let gw = embedded().await;
    for format in FORMATS {
        let prompt = waiting(&gw, format, &["4"]).await;
        assert_eq!(
            prompt,
            "Kodi ya majengo - Jiji la Ilala\nIngiza namba ya kiwanja (tarakimu 8):\n0 Rudi  00 Mwanzo"
        );
        let dues = waiting(&gw, format, &["4", "20250417"]).await;
        assert!(
            dues.starts_with(
                "Kiwanja 20250417, Mchikichini (Zawadi Mrema). Chagua deni la kulipa:\n1. Kodi "
            ) && dues.contains(": TZS 113,000.00\n2. Malimbikizo ")
                && dues.contains(": TZS 373,000.00"),
            "{dues}"
        );
        let arrears = ending(&gw, format, &["4", "20250417", "2"]).await;
        let number = found(r"Namba ya malipo: (99\d{10})\n", &arrears);
        assert!(arrears.starts_with("Malimbikizo "), "{arrears}");
        assert!(arrears.contains("Kiasi: TZS 373,000.00"), "{arrears}");

        // The number leads back to the tax, payable to the council.
        let details = ending(&gw, format, &["1", "2", "2", &number]).await;
        assert!(
            details.contains("Mlipwaji: Jiji la Ilala\nKiasi: TZS 373,000.00"),
            "{details}"
        );
        let english = ending(&gw, format, &["9", "4", "20250415", "1"]).await;
        assert!(
            english.contains("parcel 20250415.\nControl number: 99")
                && english.contains("Amount: TZS 152,000.00"),
            "{english}"
        );
    }
    gw.stop().await;
}

#[tokio::test]
async fn kodi_an_unknown_parcel_is_asked_again_and_a_paid_up_one_owes_nothing() {
    let gw = embedded().await;
    for format in FORMATS {
        let unknown = waiting(&gw, format, &["4", "01234567"]).await;
        assert!(
            unknown.starts_with("Hatukupata kiwanja 01234567. Hakikisha namba kwenye hati ya madai.\nKodi ya majengo"),
            "{unknown}"
        );
        let nothing = ending(&gw, format, &["4", "01234567", "20250410"]).await;
        assert_eq!(
            nothing,
            "Kiwanja 20250410 (Upendo Lyimo) hakina deni la kodi ya majengo. Asante kwa kulipa kwa wakati."
        );
    }
    gw.stop().await;
}
