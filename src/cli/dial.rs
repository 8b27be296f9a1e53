//! `mgov dial`: a phone in the terminal, walking menus by hand or playing a list of keys.

use super::phone::{Phone, PhoneSettings, Screen};
use crate::telcos::WireFormat;
use std::io::{BufRead, Write};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct DialArgs {
    /// What the citizen dials, e.g. '*152*00#' or a shortcut such as '*152*00*1#'.
    pub code: String,
    /// Keys to press one after another (`1,1,12345678,1`); without it, type at the prompt.
    #[arg(long, value_delimiter = ',')]
    pub keys: Option<Vec<String>>,
    /// The gateway's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The telco id registered at the gateway (the callback is `/ussd/{telco}`); by default
    /// the demo telco named after `--format`.
    #[arg(long)]
    pub telco: Option<String>,
    /// Wire format to speak: `africastalking` or `hubtel`.
    #[arg(long, default_value = "africastalking", value_parser = ["africastalking", "hubtel"])]
    pub format: String,
    #[arg(long, default_value = "255754000001")]
    pub msisdn: String,
    #[arg(long, default_value = "*152*00#")]
    pub root_code: String,
    /// HTTP Basic credentials of the telco, when it has them.
    #[arg(long, env = "MGOV_DIAL_USERNAME")]
    pub username: Option<String>,
    #[arg(long, env = "MGOV_DIAL_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
}

pub async fn run(args: DialArgs) -> anyhow::Result<ExitCode> {
    let format = WireFormat::parse(&args.format).unwrap_or(WireFormat::AfricasTalking);
    let settings = PhoneSettings {
        url: args.url,
        telco: args.telco.unwrap_or_else(|| format.as_str().to_string()),
        format,
        msisdn: args.msisdn,
        root_code: args.root_code,
        credentials: args.username.zip(args.secret),
    };
    let mut phone = Phone::new(settings, reqwest::Client::new());
    let mut screen = phone.dial(&args.code).await?;
    show(&screen);
    match args.keys {
        Some(keys) => {
            for (i, key) in keys.iter().enumerate() {
                if screen.ends {
                    eprintln!(
                        "the dialogue ended with {} key(s) left unpressed",
                        keys.len() - i
                    );
                    return Ok(ExitCode::FAILURE);
                }
                println!("> {key}");
                screen = phone.press(key).await?;
                show(&screen);
            }
        }
        None => {
            if !screen.ends {
                eprintln!("(type a choice and Enter; q or Ctrl-D hangs up)");
            }
            let stdin = std::io::stdin();
            while !screen.ends {
                print!("> ");
                std::io::stdout().flush()?;
                let mut line = String::new();
                let read = stdin.lock().read_line(&mut line)?;
                let key = line.trim();
                if read == 0 || key.eq_ignore_ascii_case("q") || key.eq_ignore_ascii_case("quit") {
                    println!();
                    eprintln!(
                        "hung up; the gateway records the dialogue as abandoned once it is idle"
                    );
                    break;
                }
                screen = phone.press(key).await?;
                show(&screen);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(screen: &Screen) {
    let bar = "─".repeat(24);
    println!(
        "{bar}\n{}\n{bar}{}",
        screen.text,
        if screen.ends { " (end)" } else { "" }
    );
}
