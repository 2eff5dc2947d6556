//! The tables, written by hand in types both backends share (see `migrations/`).

diesel::table! {
    agencies (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        contacts -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        calendar -> Nullable<Text>,
    }
}

diesel::table! {
    agency_mail_domains (domain) {
        domain -> Text,
        agency_id -> Text,
    }
}

diesel::table! {
    inbound_messages (id) {
        id -> Text,
        dedupe_key -> Text,
        message_id -> Nullable<Text>,
        source -> Text,
        received_at -> Timestamp,
        stored_by -> Nullable<Text>,
        size -> BigInt,
        status -> Text,
        reason -> Nullable<Text>,
        ticket_id -> Nullable<Text>,
        event_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        recipient -> Nullable<Text>,
    }
}

diesel::table! {
    inbound_raw (inbound_id) {
        inbound_id -> Text,
        raw -> Binary,
    }
}

diesel::table! {
    ticket_attachments (id) {
        id -> Text,
        ticket_id -> Text,
        inbound_id -> Text,
        part -> Integer,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        body -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    imap_mailboxes (mailbox) {
        mailbox -> Text,
        uid_validity -> BigInt,
        last_uid -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        level -> Nullable<Integer>,
        agency_id -> Nullable<Text>,
        active -> Bool,
        oidc_subject -> Nullable<Text>,
        role_from_groups -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        token_hash -> Text,
        prefix -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    access_audit (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        via -> Text,
        action -> Text,
        user_id -> Text,
        token_id -> Nullable<Text>,
        changes -> Text,
    }
}

diesel::table! {
    ticket_counters (year) {
        year -> Integer,
        last_number -> BigInt,
    }
}

diesel::table! {
    tickets (id) {
        id -> Text,
        number -> Text,
        subject -> Text,
        description -> Text,
        channel -> Text,
        status -> Text,
        level -> Integer,
        assignee_id -> Nullable<Text>,
        agency_id -> Nullable<Text>,
        requester_name -> Nullable<Text>,
        requester_email -> Nullable<Text>,
        requester_phone -> Nullable<Text>,
        malfunction -> Bool,
        interruption_open -> Bool,
        reported_at -> Timestamp,
        last_event_at -> Timestamp,
        next_deadline -> Timestamp,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        affected_services -> Text,
        affected_agencies -> Text,
        cause -> Nullable<Text>,
        actions_taken -> Nullable<Text>,
        interruption_started_at -> Nullable<Timestamp>,
        last_sequence -> BigInt,
        public_notice_id -> Nullable<Text>,
    }
}

diesel::table! {
    ticket_affected_agencies (ticket_id, agency_id) {
        ticket_id -> Text,
        agency_id -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        message_id -> Text,
        kind -> Text,
        ticket_id -> Nullable<Text>,
        event_id -> Nullable<Text>,
        agency_id -> Nullable<Text>,
        sender -> Text,
        recipients -> Text,
        subject -> Text,
        message -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ticket_events (id) {
        id -> Text,
        ticket_id -> Text,
        sequence -> BigInt,
        #[sql_name = "type"]
        event_type -> Text,
        at -> Timestamp,
        recorded_at -> Timestamp,
        actor_id -> Nullable<Text>,
        status_after -> Text,
        level_after -> Integer,
        assignee_after -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        request_hash -> Text,
        ticket_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    clock_recompute_queue (ticket_id) {
        ticket_id -> Text,
    }
}

diesel::table! {
    ticket_clocks (ticket_id, code, interruption) {
        ticket_id -> Text,
        code -> Text,
        interruption -> BigInt,
        interruption_started_at -> Nullable<Timestamp>,
        target_seconds -> BigInt,
        calendar -> Text,
        started_at -> Timestamp,
        applies_from -> Timestamp,
        deadline -> Nullable<Timestamp>,
        at_risk_at -> Nullable<Timestamp>,
        stopped_at -> Nullable<Timestamp>,
        segment_started_at -> Timestamp,
        consumed_seconds -> BigInt,
        paused -> Bool,
        risk_recorded -> Bool,
        breach_recorded -> Bool,
        reported_at -> Timestamp,
        agency_id -> Nullable<Text>,
        outcome -> Nullable<Text>,
        elapsed_seconds -> Nullable<BigInt>,
        calendar_version -> BigInt,
        span_end -> Timestamp,
    }
}

diesel::table! {
    ticket_interruptions (ticket_id, started_at) {
        ticket_id -> Text,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    report_deliveries (id) {
        id -> Text,
        agency_id -> Text,
        period -> Text,
        period_from -> Timestamp,
        period_to -> Timestamp,
        edition -> Integer,
        trigger -> Text,
        requested_by -> Nullable<Text>,
        interruptions -> Integer,
        outbox_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    calendar_closures (id) {
        id -> Text,
        calendar -> Text,
        first_day -> Text,
        last_day -> Text,
        reason -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    calendars (name) {
        name -> Text,
        definition -> Nullable<Text>,
        fingerprint -> Text,
        version -> BigInt,
        updated_at -> Timestamp,
        updated_by -> Nullable<Text>,
    }
}

diesel::table! {
    calendar_changes (calendar, version) {
        calendar -> Text,
        version -> BigInt,
        kind -> Text,
        affects_from -> Timestamp,
        affects_to -> Timestamp,
        recorded_at -> Timestamp,
        recorded_by -> Nullable<Text>,
    }
}

diesel::table! {
    agency_calendar_changes (agency_id) {
        agency_id -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    job_leases (name) {
        name -> Text,
        holder -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    public_notices (id) {
        id -> Text,
        ticket_id -> Text,
        ticket_number -> Text,
        services -> Text,
        text -> Text,
        interruption_started_at -> Nullable<Timestamp>,
        interruption_ended_at -> Nullable<Timestamp>,
        published_at -> Timestamp,
        updated_at -> Timestamp,
        withdrawn_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    public_notice_updates (notice_id, sequence) {
        notice_id -> Text,
        sequence -> Integer,
        event_id -> Text,
        at -> Timestamp,
        text -> Text,
        services -> Text,
    }
}

diesel::joinable!(ticket_events -> tickets (ticket_id));
diesel::joinable!(ticket_clocks -> tickets (ticket_id));
diesel::joinable!(users -> agencies (agency_id));
diesel::joinable!(agency_mail_domains -> agencies (agency_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::table! {
    systems (code) {
        code -> Text,
        name -> Text,
        services -> Text,
        agency_ids -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    monitor_states (system, at, state, hard) {
        system -> Text,
        at -> Timestamp,
        state -> Text,
        hard -> Bool,
        source -> Text,
        problem_id -> Nullable<Text>,
        output -> Nullable<Text>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    monitor_state_changes (system, at) {
        system -> Text,
        at -> Timestamp,
        state -> Text,
    }
}

diesel::table! {
    monitor_alerts (fingerprint, starts_at) {
        fingerprint -> Text,
        starts_at -> Timestamp,
        system -> Text,
        ends_at -> Nullable<Timestamp>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    check_results (system, at) {
        system -> Text,
        at -> Timestamp,
        response_ms -> Double,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    monitor_outages (system, started_at) {
        system -> Text,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        ticket_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    monitor_downtimes (id) {
        id -> Text,
        system -> Text,
        start_at -> Timestamp,
        end_at -> Timestamp,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(ticket_affected_agencies -> tickets (ticket_id));
diesel::joinable!(ticket_affected_agencies -> agencies (agency_id));
diesel::joinable!(ticket_interruptions -> tickets (ticket_id));
diesel::joinable!(report_deliveries -> agencies (agency_id));
diesel::joinable!(report_deliveries -> outbox (outbox_id));
diesel::joinable!(public_notices -> tickets (ticket_id));
diesel::joinable!(public_notice_updates -> public_notices (notice_id));

diesel::allow_tables_to_appear_in_same_query!(
    clock_recompute_queue,
    agencies,
    agency_mail_domains,
    inbound_messages,
    inbound_raw,
    imap_mailboxes,
    ticket_attachments,
    users,
    api_tokens,
    access_audit,
    ticket_counters,
    tickets,
    ticket_events,
    idempotency_keys,
    ticket_clocks,
    calendar_closures,
    ticket_affected_agencies,
    outbox,
    ticket_interruptions,
    report_deliveries,
    calendars,
    calendar_changes,
    job_leases,
    agency_calendar_changes,
    public_notices,
    public_notice_updates,
    systems,
    monitor_states,
    monitor_alerts,
    check_results,
    monitor_downtimes,
    monitor_outages,
    monitor_state_changes,
);
