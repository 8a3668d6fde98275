//! Every address under /settings, named once: the routes are registered with these patterns
//! and the pages link to them (`web::route::fill`).

pub const INDEX: &str = "/settings";
pub const API_ACCESS: &str = "/settings/api-access";
pub const ENABLE: &str = "/settings/api-access/enable";
pub const REGENERATE: &str = "/settings/api-access/regenerate";
pub const TURN_OFF: &str = "/settings/api-access/disable";
pub const KEYS: &str = "/settings/api-access/keys";
pub const NEW_KEY: &str = "/settings/api-access/keys/new";
pub const KEY: &str = "/settings/api-access/keys/{id}";
pub const KEY_REGENERATE: &str = "/settings/api-access/keys/{id}/regenerate";
pub const KEY_RETIRE: &str = "/settings/api-access/keys/{id}/retire";
pub const KEY_DELETE: &str = "/settings/api-access/keys/{id}/delete";
pub const KEY_ADDRESSES: &str = "/settings/api-access/keys/{id}/addresses";
pub const KEY_STILL_USED_DISMISS: &str = "/settings/api-access/keys/{id}/still-used/dismiss";
pub const WEBHOOKS: &str = "/settings/api-access/webhooks";
pub const WEBHOOK: &str = "/settings/api-access/webhooks/{id}";
pub const WEBHOOK_STATUS: &str = "/settings/api-access/webhooks/{id}/status";
pub const WEBHOOK_DELETE: &str = "/settings/api-access/webhooks/{id}/delete";
pub const WEBHOOK_SECRET: &str = "/settings/api-access/webhooks/{id}/secret";
pub const REDELIVER: &str = "/settings/api-access/webhooks/{id}/deliveries/{delivery}/redeliver";
pub const PASSWORD: &str = "/settings/password";
pub const NOTIFICATIONS: &str = "/settings/notifications";
pub const SIGN_OUT_EVERYWHERE: &str = "/settings/sign-out-everywhere";
