// One schema for both backends: only types in the SQLite/PostgreSQL common subset.

diesel::table! {
    mails (id) {
        id -> BigInt,
        kind -> Text,
        user_id -> Nullable<BigInt>,
        to_email -> Text,
        to_name -> Text,
        subject -> Text,
        content -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        once_key -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_attempts (id) {
        id -> BigInt,
        mail_id -> BigInt,
        attempted_at -> Timestamp,
        ok -> Bool,
        reply -> Text,
    }
}

diesel::table! {
    key_policy (id) {
        id -> Integer,
        max_lifetime_days -> Nullable<Integer>,
        require_expiry -> Bool,
        max_keys_per_user -> Integer,
        allow_query_keys -> Bool,
        who_may_enable -> Text,
        updated_at -> Timestamp,
        updated_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        email_normalized -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        api_access_at -> Nullable<Timestamp>,
        api_access_allowed -> Bool,
        notify_webhook_alerts -> Bool,
        notify_expiry -> Bool,
        notify_stale_keys -> Bool,
        last_sign_in_at -> Nullable<Timestamp>,
        invited_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_search_terms (term, user_id) {
        term -> Text,
        user_id -> BigInt,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        prefix -> Text,
        key_hash -> Binary,
        access -> Text,
        scopes -> Text,
        expires_at -> Nullable<Timestamp>,
        retires_at -> Nullable<Timestamp>,
        replaces -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        last_used_ip -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<BigInt>,
        revoked_reason -> Nullable<Text>,
        revoked_note -> Nullable<Text>,
        allowed_ips -> Text,
    }
}

diesel::table! {
    key_usage (key_id, day) {
        key_id -> BigInt,
        day -> Date,
        succeeded -> BigInt,
        refused -> BigInt,
        client_errors -> BigInt,
        throttled -> BigInt,
    }
}

diesel::table! {
    stale_key_uses (key_id) {
        key_id -> BigInt,
        uses -> BigInt,
        first_at -> Timestamp,
        last_at -> Timestamp,
        last_ip -> Nullable<Text>,
        sent_as -> Text,
        method -> Text,
        path -> Text,
        user_agent -> Nullable<Text>,
        dismissed_at -> Nullable<Timestamp>,
        mailed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        user_id -> BigInt,
        url -> Text,
        entity -> Text,
        operation_type -> Text,
        status -> Text,
        secret -> Text,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
        paused -> Bool,
        trouble -> SmallInt,
        last_error -> Nullable<Text>,
        last_delivered_at -> Nullable<Timestamp>,
        address -> Text,
    }
}

diesel::table! {
    webhook_hours (webhook_id, hour) {
        webhook_id -> BigInt,
        hour -> Timestamp,
        delivered -> BigInt,
        failed -> BigInt,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        subject_id -> Nullable<BigInt>,
        action -> Text,
        ip -> Nullable<Text>,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        key_hash -> Binary,
        user_id -> Nullable<BigInt>,
        state -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    account_links (token_hash) {
        token_hash -> Binary,
        user_id -> BigInt,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    setup_tokens (id) {
        id -> BigInt,
        token_hash -> Binary,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    companies (id) {
        id -> BigInt,
        name -> Text,
        website -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        updated_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contacts (id) {
        id -> BigInt,
        first_name -> Text,
        last_name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        company_id -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        updated_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        title -> Text,
        company_id -> Nullable<BigInt>,
        status -> Text,
        created_by -> Nullable<BigInt>,
        updated_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> BigInt,
        event_type -> Text,
        entity -> Text,
        operation_type -> Text,
        record_id -> BigInt,
        data -> Text,
        actor_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> BigInt,
        event_id -> BigInt,
        webhook_id -> BigInt,
        message_id -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    delivery_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        attempted_at -> Timestamp,
        response_status -> Nullable<Integer>,
        duration_ms -> BigInt,
        error -> Nullable<Text>,
        response_body -> Nullable<Text>,
        succeeded -> Bool,
    }
}

diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(mail_attempts -> mails (mail_id));
diesel::joinable!(key_usage -> api_keys (key_id));
diesel::joinable!(stale_key_uses -> api_keys (key_id));
diesel::joinable!(deliveries -> webhook_events (event_id));
diesel::joinable!(deliveries -> webhooks (webhook_id));
diesel::joinable!(delivery_attempts -> deliveries (delivery_id));
diesel::joinable!(webhooks -> users (user_id));
diesel::joinable!(webhook_hours -> webhooks (webhook_id));
diesel::joinable!(user_search_terms -> users (user_id));
diesel::joinable!(account_links -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    user_search_terms,
    api_keys,
    webhooks,
    webhook_hours,
    audit_events,
    sessions,
    setup_tokens,
    account_links,
    instance_secrets,
    companies,
    contacts,
    jobs,
    webhook_events,
    deliveries,
    delivery_attempts,
    sign_in_limits,
    mails,
    mail_attempts,
    key_usage,
    stale_key_uses
);

diesel::table! {
    instance_secrets (name) {
        name -> Text,
        value -> Binary,
    }
}

diesel::table! {
    sign_in_limits (key) {
        key -> Text,
        tat -> BigInt,
    }
}
