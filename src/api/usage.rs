//! Counts how each call made with a working key ended, against that key (in memory; written
//! in batches by `domain::key_usage`).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use super::auth::UsedKey;
use crate::AppState;
use crate::domain::key_usage::Outcome;

pub async fn count(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let res = next.call(req).await?;
    let used = res.request().extensions().get::<UsedKey>().copied();
    if let (Some(UsedKey(key)), Some(outcome)) = (used, Outcome::of_status(res.status().as_u16()))
        && let Some(state) = res.request().app_data::<web::Data<AppState>>()
    {
        state.key_usage.count(key, outcome, crate::db::now());
    }
    Ok(res)
}
