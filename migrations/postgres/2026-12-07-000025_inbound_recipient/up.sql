-- The helpdesk's address a message was delivered to: the IMAP mailbox's address, or the
-- envelope recipient the mail server pipes with the message. A reply to the ticket the
-- message opened names it as `Reply-To`, so answers come back to the mailbox the requester
-- wrote to (SPEC §8, "Out"). Unknown for messages received before: those replies keep
-- `mail_from`.
ALTER TABLE inbound_messages ADD COLUMN recipient TEXT;
