-- The mail domains of each agency (SPEC §8): a message from an address at one of them opens
-- a ticket of that agency. A domain belongs to one agency at most (the key), so that a sender
-- names one agency or none.
CREATE TABLE agency_mail_domains (
    domain TEXT PRIMARY KEY NOT NULL, -- lowercase, e.g. comune.fi.it
    agency_id TEXT NOT NULL REFERENCES agencies (id)
);
CREATE INDEX agency_mail_domains_of_agency ON agency_mail_domains (agency_id);
