//! Throttling of password guesses: sign-in, and the password asked again before Regenerate
//! New Key, are limited per account, client and address in the database, so every instance
//! counts the same guesses (`domain::sign_in_limits`).

use crate::AppState;
use crate::domain::sign_in_limits::{self, SignInClient};
use crate::http::error::Error;

pub const SIGN_IN_GUESSING: &str = "Too many sign-in attempts.";
pub const PASSWORD_GUESSING: &str = "Too many password attempts.";

/// Counts one password attempt on `email`'s account from this request's client (its device
/// cookie, or its address). The client, to renew the device cookie after a success; or the 429
/// that says, with `refused`, when to try again.
pub async fn password_attempt(
    req: &actix_web::HttpRequest,
    state: &AppState,
    email: &str,
    refused: &str,
) -> Result<(String, SignInClient), Error> {
    let account = crate::models::user::normalize(email);
    let client = super::device_cookie::sign_in_client(req, state, &account);
    let (counted_account, counted_client) = (account.clone(), client.clone());
    let counted = state
        .db
        .write(move |c| {
            sign_in_limits::attempt(
                c,
                &counted_account,
                &counted_client,
                sign_in_limits::now_micros(),
            )
            .map_err(Error::internal)
        })
        .await?;
    match counted {
        Ok(()) => Ok((account, client)),
        Err(wait) => Err(Error::too_many(refused, wait)),
    }
}
