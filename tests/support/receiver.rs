//! A webhook receiver on loopback that records what it is sent and answers as told.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};

/// What the receiver was sent: the three Standard Webhooks headers and the body.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Received>,
    /// Statuses to answer with, in order; 200 once they run out.
    answers: Vec<u16>,
    /// How long each answer takes.
    delay: Duration,
    /// Requests that have arrived, answered or not yet.
    arrived: usize,
}

pub struct Receiver {
    state: Arc<Mutex<ReceiverState>>,
    pub server: actix_test::TestServer,
}

impl Receiver {
    pub fn start(answers: &[u16]) -> Self {
        Self::start_slow(answers, Duration::ZERO)
    }

    /// A receiver that takes `delay` over each answer, so deliveries are in flight for a while.
    pub fn start_slow(answers: &[u16], delay: Duration) -> Self {
        let state = Arc::new(Mutex::new(ReceiverState {
            received: Vec::new(),
            answers: answers.to_vec(),
            delay,
            arrived: 0,
        }));
        let shared = state.clone();
        let server = actix_test::start(move || {
            actix_web::App::new()
                .app_data(web::Data::from(shared.clone()))
                .default_service(web::to(receive))
        });
        Self { state, server }
    }

    pub fn url(&self) -> String {
        self.server.url("/hooks")
    }

    pub fn arrived(&self) -> usize {
        self.state.lock().expect("receiver").arrived
    }

    /// From now on, take `delay` over each answer (those already waiting keep theirs).
    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().expect("receiver").delay = delay;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("receiver").received.clone()
    }
}

async fn receive(
    state: web::Data<Mutex<ReceiverState>>,
    req: HttpRequest,
    body: String,
) -> HttpResponse {
    let delay = {
        let mut state = state.lock().expect("receiver");
        state.arrived += 1;
        state.delay
    };
    actix_web::rt::time::sleep(delay).await;
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut state = state.lock().expect("receiver");
    state.received.push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    let status = if state.answers.is_empty() {
        200
    } else {
        state.answers.remove(0)
    };
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status"))
        .body(format!("answered {status}"))
}
