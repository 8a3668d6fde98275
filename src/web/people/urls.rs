//! Every address under /admin/people, named once: the routes are registered with these
//! patterns and the pages link to them (`web::route::fill`).

pub const LIST: &str = "/admin/people";
pub const INVITATIONS: &str = "/admin/people/invitations";
pub const RESEND: &str = "/admin/people/invitations/{user}/resend";
pub const REVOKE: &str = "/admin/people/invitations/{user}/revoke";
pub const PERSON: &str = "/admin/people/{user}";
/// `role` (with the field `role`), `disable`, `enable`, `password-reset`: confirmed by GET,
/// made by POST.
pub const CHANGE: &str = "/admin/people/{user}/{action}";
