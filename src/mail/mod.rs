//! E-mail: what the helpdesk sends (`notices`), how a message is put together (`compose`), and
//! how it leaves (`transport`: SMTP, or `.eml` files when no server is configured). Messages
//! are composed when they are decided and stored in the outbox (`db::outbox`); the outbox
//! worker (`jobs::outbox_worker`) hands them to the transport.

pub mod acknowledgements;
pub mod compose;
pub mod imap_session;
pub mod imap_url;
pub mod inbound;
pub mod notices;
pub mod replies;
pub mod reports;
pub mod transport;

pub use compose::{Attachment, OutgoingMail, compose};
pub use transport::{Mailer, SendError};

use crate::config::Settings;
use crate::domain::ticket::api_enum;
use lettre::message::Mailbox;

api_enum! {
    /// Where a message in the outbox stands.
    OutboxStatus {
        /// Waiting for its (next) attempt.
        Pending => "pending",
        Sent => "sent",
        /// Undeliverable: refused for good, or out of attempts. An admin may retry it.
        Failed => "failed",
        /// Sent, then returned by the receiving side (a delivery-status report, a PEC
        /// `errore-consegna`); `last_error` says why. Never sent again.
        Bounced => "bounced",
        /// Sent as certified mail and confirmed delivered by the PEC provider
        /// (`avvenuta-consegna`).
        Delivered => "delivered",
    }
}

/// What composing messages needs from the configuration.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub from: Mailbox,
    /// The domain that ends every `Message-ID` (the sender's).
    pub message_id_domain: String,
    pub centre_name: String,
    pub public_notice_addresses: Vec<String>,
    /// Times in messages are local to this zone.
    pub time_zone: chrono_tz::Tz,
}

impl MailSettings {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<MailSettings> {
        let from: Mailbox = settings.mail_from.parse().map_err(|e| {
            anyhow::anyhow!(
                "mail_from `{}` is not an e-mail address: {e}",
                settings.mail_from
            )
        })?;
        let mut public_notice_addresses = Vec::new();
        for address in settings
            .public_notice_addresses
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            address.parse::<Mailbox>().map_err(|e| {
                anyhow::anyhow!(
                    "public_notice_addresses: `{address}` is not an e-mail address: {e}"
                )
            })?;
            public_notice_addresses.push(address.to_owned());
        }
        Ok(MailSettings {
            message_id_domain: from.email.domain().to_owned(),
            from,
            centre_name: settings.centre_name.clone(),
            public_notice_addresses,
            time_zone: chrono_tz::Europe::Rome,
        })
    }
}
