use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::user::UserId;
use crate::db::DbConnection;
use crate::db::schema::audit_events;

super::text_enum! {
    /// What happened, in the product's words.
    AuditAction {
        ApiAccessEnabled = "api_access.enabled",
        KeyRegenerated = "api_access.regenerated",
        ApiAccessTurnedOff = "api_access.turned_off",
        ApiKeyCleared = "api_access.cleared",
        KeyCreated = "key.created",
        KeyRetired = "key.retired",
        KeyDeleted = "key.deleted",
        KeyCleared = "key.cleared",
        KeyAddressesChanged = "key.addresses_changed",
        KeyPolicyChanged = "key_policy.changed",
        ApiAccessAllowed = "api_access.allowed",
        ApiAccessDisallowed = "api_access.disallowed",
        UserCreated = "user.created",
        UserInvited = "user.invited",
        InvitationResent = "user.invitation_resent",
        InvitationRevoked = "user.invitation_revoked",
        InvitationAccepted = "user.invitation_accepted",
        RoleChanged = "user.role_changed",
        AccountDisabled = "user.disabled",
        AccountEnabled = "user.enabled",
        PasswordResetSent = "user.password_reset_sent",
        PasswordResetRequested = "user.password_reset_requested",
        PasswordReset = "user.password_reset",
        WebhookTurnedOn = "webhook.turned_on",
        WebhookTurnedOff = "webhook.turned_off",
        WebhookAdded = "webhook.added",
        WebhookDeleted = "webhook.deleted",
        WebhookTurnedOffByKeyport = "webhook.turned_off_by_keyport",
        DeliveryRedelivered = "webhook.redelivered",
    }
}

impl AuditAction {
    /// How the audit trail reads to a person.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::ApiAccessEnabled => "Enabled API Access",
            AuditAction::KeyRegenerated => "Regenerated New Key",
            AuditAction::ApiAccessTurnedOff => "Turned Off API Access",
            AuditAction::ApiKeyCleared => "Cleared API Key",
            AuditAction::KeyCreated => "Created a key",
            AuditAction::KeyRetired => "Retired a key",
            AuditAction::KeyDeleted => "Deleted a key",
            AuditAction::KeyCleared => "Cleared a key",
            AuditAction::KeyAddressesChanged => "Changed where a key may be used from",
            AuditAction::KeyPolicyChanged => "Changed the key policy",
            AuditAction::ApiAccessAllowed => "Allowed API Access",
            AuditAction::ApiAccessDisallowed => "Disallowed API Access",
            AuditAction::UserCreated => "Created user",
            AuditAction::UserInvited => "Invited",
            AuditAction::InvitationResent => "Resent the invitation",
            AuditAction::InvitationRevoked => "Revoked the invitation",
            AuditAction::InvitationAccepted => "Accepted the invitation",
            AuditAction::RoleChanged => "Changed the role",
            AuditAction::AccountDisabled => "Disabled the account",
            AuditAction::AccountEnabled => "Enabled the account",
            AuditAction::PasswordResetSent => "Sent a password reset link",
            AuditAction::PasswordResetRequested => "Asked for a password reset link",
            AuditAction::PasswordReset => "Reset the password with a link",
            AuditAction::WebhookTurnedOn => "Turned a webhook on",
            AuditAction::WebhookTurnedOff => "Turned a webhook off",
            AuditAction::WebhookAdded => "Added a webhook",
            AuditAction::WebhookDeleted => "Deleted a webhook",
            AuditAction::WebhookTurnedOffByKeyport => "Turned a webhook off (keyport)",
            AuditAction::DeliveryRedelivered => "Redelivered a webhook delivery",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct AuditEvent {
    pub id: i64,
    pub actor_id: Option<UserId>,
    pub subject_id: Option<UserId>,
    pub action: AuditAction,
    pub ip: Option<String>,
    pub detail: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub actor_id: Option<UserId>,
    pub subject_id: Option<UserId>,
    pub action: AuditAction,
    pub ip: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub created_at: NaiveDateTime,
}

impl NewAuditEvent<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<usize> {
        diesel::insert_into(audit_events::table)
            .values(self)
            .execute(conn)
    }
}

impl AuditEvent {
    /// The newest events about a user, with the acting user's name.
    pub fn for_subject(
        conn: &mut DbConnection,
        subject: UserId,
        limit: i64,
    ) -> QueryResult<Vec<(AuditEvent, Option<String>)>> {
        use crate::db::schema::users;
        audit_events::table
            .left_join(users::table.on(audit_events::actor_id.eq(users::id.nullable())))
            .filter(audit_events::subject_id.eq(subject))
            .order(audit_events::id.desc())
            .limit(limit)
            .select((AuditEvent::as_select(), users::name.nullable()))
            .load(conn)
    }
}
