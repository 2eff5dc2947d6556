-- Back to three delivery states: a bounced or delivered message was sent, and stays `sent`.
UPDATE outbox SET status = 'sent' WHERE status IN ('bounced', 'delivered');
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent', 'failed'));
