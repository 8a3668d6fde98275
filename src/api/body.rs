//! What the API takes besides the key: a JSON object as the body, and only the query
//! parameters its OpenAPI document names.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::http::error::Error;
use crate::http::openapi::ApiDocument;

/// A JSON body that must be an object. serde would otherwise take an array for a struct
/// (`[]` as "no fields"), which the document does not allow.
pub struct Object<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Object<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            if !value.is_object() {
                return Err(Error::unprocessable("The JSON body must be an object.").into());
            }
            serde_json::from_value(value).map(Object).map_err(|e| {
                Error::unprocessable(format!("The JSON body is not valid: {e}.")).into()
            })
        })
    }
}

/// Refuses query parameters the document does not name for the operation (`api_key` is always
/// allowed), so a misspelt parameter is an error rather than silently ignored.
pub async fn known_query_parameters(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(error) = unknown_query_parameter(&req) {
        // Attached to the response, so the API's error shaping answers it as JSON.
        let (request, _) = req.into_parts();
        return Ok(ServiceResponse::from_err(error, request).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn unknown_query_parameter(req: &ServiceRequest) -> Option<Error> {
    if req.query_string().is_empty() {
        return None;
    }
    let doc = req.app_data::<web::Data<ApiDocument>>()?;
    let known = doc.query_parameters(req.method().as_str(), req.path())?;
    let pairs: Vec<(String, String)> = match serde_urlencoded::from_str(req.query_string()) {
        Ok(pairs) => pairs,
        Err(e) => {
            return Some(Error::bad_request(format!(
                "The address is not valid: {e}."
            )));
        }
    };
    let (name, _) = pairs
        .iter()
        .find(|(name, _)| name != "api_key" && !known.contains(name))?;
    Some(Error::bad_request(format!(
        "Unknown query parameter `{name}`; see /docs/api for what this endpoint takes."
    )))
}
