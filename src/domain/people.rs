//! People managed by admins: invitations, roles, turning accounts off and on, and password
//! resets — by an admin, or asked for on the sign-in page. Every change is one write
//! transaction with its audit event and its mail. The command line uses the same functions.

use chrono::{Duration, NaiveDateTime};

use super::accounts::{self, NewPassword};
use super::audit::{self, Actor, By};
use super::keys::{random_token, token_hash};
use super::mail::notices;
use super::{Error, Result};
use crate::db::{DbConnection, is_unique_violation, now, write_transaction};
use crate::models::account_link::{AccountLink, LinkPurpose};
use crate::models::session::Session;
use crate::models::user::normalize;
use crate::models::{
    AccountState, ApiKeyRow, AuditAction, AuditEvent, NewUser, Role, User, UserId,
};

/// How long an invitation's link works.
pub const INVITATION_DAYS: i64 = 7;
/// How long a password reset link works.
pub const RESET_MINUTES: i64 = 60;
/// The invitations People lists at most (newest first).
pub const INVITATIONS_SHOWN: i64 = 100;

/// The page an invitation's link opens.
pub fn invitation_path(token: &str) -> String {
    format!("/invitations/{token}")
}

/// The page a password reset link opens.
pub fn reset_path(token: &str) -> String {
    format!("/password-reset/{token}")
}

/// Who an admin invites.
#[derive(Debug)]
pub struct Invitation<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
}

/// Invites a person: their account (invited, without a password, so it cannot sign in), a
/// one-time link valid `INVITATION_DAYS`, and the mail that carries it. An email that already
/// has an account is refused, and nothing is made.
pub fn invite(conn: &mut DbConnection, admin: &Actor, invitation: &Invitation<'_>) -> Result<User> {
    let email = invitation.email.trim();
    let name = invitation.name.trim();
    accounts::validate_email(email)?;
    accounts::validate_name(name)?;
    let at = now();
    let taken = || {
        Error::Conflict(format!(
            "Email: {email} already has an account. Find them under People instead."
        ))
    };
    write_transaction(conn, |conn| {
        if User::find_by_email(conn, email)?.is_some() {
            return Err(taken());
        }
        let person = NewUser {
            email,
            email_normalized: &normalize(email),
            name,
            password_hash: "",
            role: invitation.role,
            created_at: at,
            invited_at: Some(at),
        }
        .insert(conn)?;
        mail_invitation(conn, admin, &person, at)?;
        audit::record(
            conn,
            admin,
            person.id,
            AuditAction::UserInvited,
            Some(&format!("as {}", invitation.role.label())),
        )?;
        Ok(person)
    })
    .map_err(|e| match e {
        // Two admins inviting one email at once: the database keeps one.
        Error::Database(db) if is_unique_violation(&db) => taken(),
        other => other,
    })
}

fn mail_invitation(
    conn: &mut DbConnection,
    admin: &Actor,
    person: &User,
    at: NaiveDateTime,
) -> Result<()> {
    let (token, hash) = random_token();
    let expires_at = at + Duration::days(INVITATION_DAYS);
    AccountLink::replace(
        conn,
        person.id,
        LinkPurpose::Invitation,
        &hash,
        at,
        expires_at,
    )?;
    notices::invitation(conn, person, admin, &invitation_path(&token), expires_at)?;
    Ok(())
}

/// The invited person, locked for the change; anyone else is not an invitation.
fn invited(conn: &mut DbConnection, id: UserId) -> Result<User> {
    User::lock(conn, id)?;
    let person = User::find(conn, id)?.ok_or(Error::NotFound)?;
    if person.invited_at.is_none() {
        return Err(Error::Conflict(format!(
            "{} has already accepted their invitation.",
            person.name
        )));
    }
    Ok(person)
}

/// A new link (the old one stops working), valid `INVITATION_DAYS` again, in a new mail.
pub fn resend_invitation(conn: &mut DbConnection, admin: &Actor, id: UserId) -> Result<User> {
    write_transaction(conn, |conn| {
        let person = invited(conn, id)?;
        mail_invitation(conn, admin, &person, now())?;
        audit::record(conn, admin, id, AuditAction::InvitationResent, None)?;
        Ok(person)
    })
}

/// Takes the invitation back: the link stops working and the unused account goes, so the
/// email can be invited again. The audit trail keeps who it was.
pub fn revoke_invitation(conn: &mut DbConnection, admin: &Actor, id: UserId) -> Result<User> {
    write_transaction(conn, |conn| {
        let person = invited(conn, id)?;
        let who = format!("{} <{}>", person.name, person.email);
        audit::record(conn, admin, id, AuditAction::InvitationRevoked, Some(&who))?;
        User::delete_invited(conn, id)?;
        Ok(person)
    })
}

/// Why a link does not work, as the page says it.
fn link_refused(purpose: LinkPurpose, expired_at: Option<NaiveDateTime>) -> Error {
    let ask = match purpose {
        LinkPurpose::Invitation => "Ask the admin who invited you to send a new invitation.",
        LinkPurpose::PasswordReset => "Ask for a new link on the sign-in page (Forgot password).",
    };
    match expired_at {
        Some(at) => Error::Gone(format!(
            "This link expired on {}. {ask}",
            super::mail::utc(at)
        )),
        None => Error::Gone(format!(
            "This link has already been used, was replaced by a newer one, or is not valid. {ask}"
        )),
    }
}

/// The person a link is for, while it works: not used, not past its time, their account
/// neither disabled nor (for a reset) still invited.
pub fn link_holder(conn: &mut DbConnection, token: &str, purpose: LinkPurpose) -> Result<User> {
    let Some((link, person)) = AccountLink::find(conn, &token_hash(token), purpose)? else {
        return Err(link_refused(purpose, None));
    };
    if link.expires_at <= now() {
        return Err(link_refused(purpose, Some(link.expires_at)));
    }
    let usable = match purpose {
        LinkPurpose::Invitation => person.state() == AccountState::Invited,
        LinkPurpose::PasswordReset => person.state() == AccountState::Active,
    };
    if !usable {
        return Err(link_refused(purpose, None));
    }
    Ok(person)
}

/// Uses the link: the person it was for, checked again inside the change; a second use
/// (another tab, a replay) finds it gone.
fn redeem(conn: &mut DbConnection, token: &str, purpose: LinkPurpose) -> Result<User> {
    let person = link_holder(conn, token, purpose)?;
    if !AccountLink::take(conn, &token_hash(token))? {
        return Err(link_refused(purpose, None));
    }
    Ok(person)
}

/// The invited person chooses a password with their link: they are signed up with the role
/// they were invited with (the caller signs them in).
pub fn accept_invitation(
    conn: &mut DbConnection,
    token: &str,
    password: &NewPassword,
    ip: Option<String>,
) -> Result<User> {
    write_transaction(conn, |conn| {
        let person = redeem(conn, token, LinkPurpose::Invitation)?;
        User::accept_invitation(conn, person.id, password.hash())?;
        let actor = Actor { id: person.id, ip };
        audit::record(
            conn,
            &actor,
            person.id,
            AuditAction::InvitationAccepted,
            None,
        )?;
        User::find(conn, person.id)?.ok_or(Error::NotFound)
    })
}

/// Refuses a change that would leave keyport without an active admin. Runs under
/// `User::lock_admins`, so two admins demoting each other at once cannot both pass.
fn keep_an_admin(conn: &mut DbConnection, person: &User, by: By<'_>) -> Result<()> {
    if person.is_active_admin() && User::active_admins(conn)? <= 1 {
        let whom = match by {
            By::Person(actor) if actor.id == person.id => "you are".to_owned(),
            _ => format!("{} is", person.name),
        };
        return Err(Error::Conflict(format!(
            "keyport needs an admin, and {whom} the last active one. Make someone else an admin first."
        )));
    }
    Ok(())
}

/// Changes what someone may do. Takes effect on their next request, on every instance: every
/// request reads the role afresh.
pub fn change_role(conn: &mut DbConnection, by: By<'_>, id: UserId, role: Role) -> Result<User> {
    write_transaction(conn, |conn| {
        User::lock_admins(conn)?;
        let person = User::find(conn, id)?.ok_or(Error::NotFound)?;
        if person.role == role {
            return Ok(person);
        }
        if role != Role::Admin {
            keep_an_admin(conn, &person, by)?;
        }
        User::set_role(conn, id, role)?;
        let change = format!("{} → {}", person.role.label(), role.label());
        audit::record_by(conn, by, id, AuditAction::RoleChanged, Some(&change))?;
        User::find(conn, id)?.ok_or(Error::NotFound)
    })
}

/// Turns an account off — it cannot sign in, its sessions end everywhere, its keys and
/// webhooks stop while it is off — or on again.
pub fn set_disabled(
    conn: &mut DbConnection,
    by: By<'_>,
    id: UserId,
    disabled: bool,
) -> Result<User> {
    write_transaction(conn, |conn| {
        User::lock_admins(conn)?;
        let person = User::find(conn, id)?.ok_or(Error::NotFound)?;
        if person.disabled_at.is_some() == disabled {
            return Ok(person);
        }
        let action = if disabled {
            keep_an_admin(conn, &person, by)?;
            Session::delete_for_user(conn, id)?;
            AuditAction::AccountDisabled
        } else {
            AuditAction::AccountEnabled
        };
        User::set_disabled(conn, id, disabled.then(now))?;
        audit::record_by(conn, by, id, action, None)?;
        User::find(conn, id)?.ok_or(Error::NotFound)
    })
}

/// The user with this email, for the command line.
pub fn by_email(conn: &mut DbConnection, email: &str) -> Result<User> {
    User::find_by_email(conn, email)?.ok_or(Error::NotFound)
}

fn mail_reset_link(
    conn: &mut DbConnection,
    person: &User,
    admin: Option<&Actor>,
    requested_from: Option<&str>,
) -> Result<()> {
    let (token, hash) = random_token();
    let at = now();
    let expires_at = at + Duration::minutes(RESET_MINUTES);
    AccountLink::replace(
        conn,
        person.id,
        LinkPurpose::PasswordReset,
        &hash,
        at,
        expires_at,
    )?;
    notices::password_reset(
        conn,
        person,
        admin,
        requested_from,
        &reset_path(&token),
        expires_at,
    )?;
    Ok(())
}

/// An admin's Send password reset: a one-time link valid `RESET_MINUTES`, by mail. The
/// password stays as it is until the person uses the link.
pub fn send_password_reset(conn: &mut DbConnection, admin: &Actor, id: UserId) -> Result<User> {
    write_transaction(conn, |conn| {
        let person = User::find(conn, id)?.ok_or(Error::NotFound)?;
        match person.state() {
            AccountState::Active => {}
            AccountState::Invited => {
                return Err(Error::Conflict(format!(
                    "{} has not accepted their invitation yet: resend the invitation instead.",
                    person.name
                )));
            }
            AccountState::Disabled => {
                return Err(Error::Conflict(format!(
                    "{}’s account is disabled: enable it first.",
                    person.name
                )));
            }
        }
        mail_reset_link(conn, &person, Some(admin), None)?;
        audit::record(conn, admin, id, AuditAction::PasswordResetSent, None)?;
        Ok(person)
    })
}

/// Forgot password: a link for the active account with this email, if there is one; nothing
/// (and no trace) otherwise. The caller answers the same either way.
pub fn request_password_reset(
    conn: &mut DbConnection,
    email: &str,
    ip: Option<String>,
) -> Result<()> {
    write_transaction(conn, |conn| {
        let Some(person) = User::find_by_email(conn, email)? else {
            return Ok(());
        };
        if person.state() != AccountState::Active {
            return Ok(());
        }
        mail_reset_link(conn, &person, None, ip.as_deref())?;
        let actor = Actor { id: person.id, ip };
        audit::record(
            conn,
            &actor,
            person.id,
            AuditAction::PasswordResetRequested,
            None,
        )?;
        Ok(())
    })
}

/// Sets a new password with a reset link: the link is used up, every session of the person
/// ends, and they get the "password changed" mail (the caller signs this browser in).
pub fn reset_password(
    conn: &mut DbConnection,
    token: &str,
    password: &NewPassword,
    ip: Option<String>,
) -> Result<User> {
    write_transaction(conn, |conn| {
        let person = redeem(conn, token, LinkPurpose::PasswordReset)?;
        let actor = Actor { id: person.id, ip };
        accounts::change_password(conn, &actor, person.id, password)?;
        audit::record(conn, &actor, person.id, AuditAction::PasswordReset, None)?;
        Ok(person)
    })
}

/// What a person's page shows.
pub struct Person {
    pub user: User,
    /// Keys that work now (or will, within a grace time).
    pub live_keys: usize,
    /// While invited: when their link stops working.
    pub invitation_expires: Option<NaiveDateTime>,
    /// Their account's and keys' history, newest first.
    pub audit: Vec<(AuditEvent, Option<String>)>,
}

/// How much of a person's history their page shows.
const HISTORY_ROWS: i64 = 30;

pub fn person(conn: &mut DbConnection, id: UserId) -> Result<Person> {
    let user = User::find(conn, id)?.ok_or(Error::NotFound)?;
    Ok(Person {
        live_keys: ApiKeyRow::live_for_user(conn, id, now())?.len(),
        invitation_expires: AccountLink::of(conn, id, LinkPurpose::Invitation)?
            .map(|link| link.expires_at),
        audit: AuditEvent::for_subject(conn, id, HISTORY_ROWS)?,
        user,
    })
}

/// The invitations waiting to be accepted, newest first, with when each link stops working.
pub fn invitations(conn: &mut DbConnection) -> Result<Vec<(User, Option<NaiveDateTime>)>> {
    Ok(AccountLink::invitations(conn, INVITATIONS_SHOWN)?
        .into_iter()
        .map(|(person, link)| (person, link.map(|l| l.expires_at)))
        .collect())
}
