//! People, invitations and password resets: tokens, roles, and what a form may hold.

use reqwest::Method as M;

use super::Who::*;
use super::{CSRF, Case, Csrf, FORBIDDEN, Fixtures, NOTHING, case};

const ROLE: &str = "Role: choose user, support or admin.";
const GONE: &str = "This link has already been used, was replaced by a newer one, or is not valid.";

pub fn people(f: &Fixtures) -> Vec<Case> {
    let person = format!("/admin/people/{}", f.world.other.id);
    let invite = "/admin/people/invitations";
    let reset = "/password-reset";
    let made_up = "/invitations/made-up-token";
    let new_password = [
        ("new_password", "a long new password"),
        ("confirm_password", "a long new password"),
    ];
    #[rustfmt::skip]
    let cases = vec![
        // CSRF on every form, signed in or not.
        case("invite without a token", Admin, M::POST, invite)
            .form(&[("name", "Csrf"), ("email", "csrf@example.com"), ("role", "admin")]).csrf(Csrf::Missing).expect(403, CSRF),
        case("change a role with a forged token", Admin, M::POST, format!("{person}/role"))
            .form(&[("role", "admin")]).csrf(Csrf::Forged).expect(403, CSRF),
        case("disable with an admin's token from another session", Support, M::POST, format!("{person}/disable")).csrf(Csrf::OtherSession).expect(403, CSRF),
        case("Forgot password without a token", Anonymous, M::POST, reset).form(&[("email", "someone@example.com")]).csrf(Csrf::Missing).expect(403, CSRF),
        case("accept an invitation without a token", Anonymous, M::POST, made_up).form(&new_password).csrf(Csrf::Missing).expect(403, CSRF),
        // Roles, on the server.
        case("a user opens People", User, M::GET, "/admin/people").expect(403, FORBIDDEN),
        case("a user opens a person", User, M::GET, person.clone()).expect(403, FORBIDDEN),
        case("a user opens the invitations", User, M::GET, invite).expect(403, FORBIDDEN),
        case("a user makes themself admin", User, M::POST, format!("{person}/role")).form(&[("role", "admin")]).expect(403, FORBIDDEN),
        case("support invites", Support, M::POST, invite)
            .form(&[("name", "Sly"), ("email", "sly@example.com"), ("role", "admin")]).expect(403, FORBIDDEN),
        case("support disables a person", Support, M::POST, format!("{person}/disable")).expect(403, FORBIDDEN),
        case("support opens a role change", Support, M::GET, format!("{person}/role?role=admin")).expect(403, FORBIDDEN),
        case("support sends a password reset", Support, M::POST, format!("{person}/password-reset")).expect(403, FORBIDDEN),
        case("support resends an invitation", Support, M::POST, format!("{invite}/{}/resend", f.world.other.id)).expect(403, FORBIDDEN),
        case("anonymous opens People", Anonymous, M::GET, "/admin/people").expect(303, "/login?next=%2Fadmin%2Fpeople"),
        // What a form may hold.
        case("a role that does not exist", Admin, M::POST, format!("{person}/role")).form(&[("role", "root")]).expect(422, ROLE),
        case("a role change without a role", Admin, M::POST, format!("{person}/role")).expect(422, ROLE),
        case("a role confirmation for no role", Admin, M::GET, format!("{person}/role?role=")).expect(422, ROLE),
        case("a change that does not exist", Admin, M::POST, format!("{person}/promote")).expect(404, NOTHING),
        case("a person who does not exist", Admin, M::POST, "/admin/people/987654/disable").expect(404, NOTHING),
        case("a person's id that is not a number", Admin, M::GET, "/admin/people/x1").expect(404, NOTHING),
        case("an extra field on a role change", Admin, M::POST, format!("{person}/role"))
            .form(&[("role", "admin"), ("user_id", "1")]).expect(400, "unknown field `user_id`"),
        case("an invitation without an email", Admin, M::POST, invite).form(&[("name", "No Email"), ("role", "user")]).expect(400, "missing field `email`"),
        case("an invitation to a bad email", Admin, M::POST, invite)
            .form(&[("name", "Bad Email"), ("email", "nobody"), ("role", "user")]).expect(422, "Email: enter an address like name@example.com."),
        case("an invitation with a control character in the name", Admin, M::POST, invite)
            .form(&[("name", "Bad\u{7}Name"), ("email", "bell@example.com"), ("role", "user")]).expect(422, "Name: enter 1 to 100 characters."),
        case("an invitation as owner", Admin, M::POST, invite)
            .form(&[("name", "Owner"), ("email", "owner@example.com"), ("role", "owner")]).expect(422, ROLE),
        case("resend to someone never invited", Admin, M::POST, format!("{invite}/{}/resend", f.world.other.id)).expect(409, "has already accepted their invitation"),
        case("revoke someone never invited", Admin, M::POST, format!("{invite}/{}/revoke", f.world.other.id)).expect(409, "has already accepted their invitation"),
        case("Forgot password with an empty email", Anonymous, M::POST, reset).form(&[("email", "  ")]).expect(422, "Email: enter the address you sign in with."),
        case("Forgot password with a 300-byte email", Anonymous, M::POST, reset).form(&[("email", &"x".repeat(300))]).expect(422, "Email: enter the address you sign in with."),
        case("Forgot password with an extra field", Anonymous, M::POST, reset)
            .form(&[("email", "a@example.com"), ("role", "admin")]).expect(400, "unknown field `role`"),
        case("a made-up invitation link", Anonymous, M::GET, made_up).expect(410, GONE),
        case("a made-up invitation link, posted", Anonymous, M::POST, made_up).form(&new_password).expect(410, GONE),
        case("a made-up reset link, posted", Anonymous, M::POST, "/password-reset/made-up").form(&new_password).expect(410, GONE),
        case("a reset link posted without the second entry", Anonymous, M::POST, "/password-reset/made-up")
            .form(&[("new_password", "a long new password")]).expect(400, "missing field `confirm_password`"),
    ];
    cases
}
