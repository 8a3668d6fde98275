//! Every address under /admin/api-management, named once: the routes are registered with
//! these patterns and the pages link to them (`web::route::fill`).

pub const LIST: &str = "/admin/api-management";
pub const USER: &str = "/admin/api-management/users/{user}";
pub const CLEAR: &str = "/admin/api-management/users/{user}/clear";
pub const CLEAR_KEY: &str = "/admin/api-management/users/{user}/keys/{key}/clear";
pub const ALLOW: &str = "/admin/api-management/users/{user}/allow";
pub const DISALLOW: &str = "/admin/api-management/users/{user}/disallow";
pub const POLICY: &str = "/admin/api-management/policy";
pub const WEBHOOK: &str = "/admin/api-management/users/{user}/webhooks/{id}";
pub const WEBHOOK_STATUS: &str = "/admin/api-management/users/{user}/webhooks/{id}/status";
pub const REDELIVER: &str =
    "/admin/api-management/users/{user}/webhooks/{id}/deliveries/{delivery}/redeliver";
