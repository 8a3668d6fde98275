//! The copy-pasteable examples of the API Developer Guide. They live here, not in the template,
//! so a test can run them against real signatures (tests/docs.rs).

/// Verifying a delivery in Python 3 (standard library only).
pub const PYTHON_VERIFY: &str = r#"import base64, hashlib, hmac, time

def verify_keyport_webhook(secret: str, headers: dict, body: bytes) -> bool:
    """True when the delivery was signed with your webhook's secret and is recent."""
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > 5 * 60:
        return False  # too old or from the future: possibly a replay
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body  # body: the raw bytes, unparsed
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, signature.split(",", 1)[1])
        for signature in headers["webhook-signature"].split()
        if signature.startswith("v1,")
    )
"#;

/// Verifying a delivery in JavaScript (Node.js 18 or later).
pub const JAVASCRIPT_VERIFY: &str = r#"const { createHmac, timingSafeEqual } = require("node:crypto");

// body: the raw request body (a Buffer or string), before any JSON parsing.
function verifyKeyportWebhook(secret, headers, body) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 5 * 60) {
    return false; // too old or from the future: possibly a replay
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key)
    .update(`${id}.${timestamp}.`)
    .update(body)
    .digest();
  return headers["webhook-signature"].split(" ").some((signature) => {
    const [version, value] = signature.split(",");
    const given = Buffer.from(value || "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}
"#;

/// Signing a test delivery with openssl and sending it with curl, to try a receiver.
pub const SHELL_SEND: &str = r#"SECRET='whsec_your_webhook_secret'   # from POST /api/v1/webhooks
URL='https://example.com/keyport-hooks'
ID="msg_test_$(date +%s)"
TS=$(date +%s)
BODY='{"type":"contact.created","timestamp":"2026-11-26T09:00:00.000Z","data":{"id":1,"first_name":"Ada","last_name":"Lovelace"}}'
KEY_HEX=$(printf '%s' "${SECRET#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
SIG=$(printf '%s.%s.%s' "$ID" "$TS" "$BODY" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY_HEX" -binary | base64)
curl -sS -X POST "$URL" -H 'content-type: application/json' \
  -H "webhook-id: $ID" -H "webhook-timestamp: $TS" -H "webhook-signature: v1,$SIG" \
  --data-raw "$BODY"
"#;

/// A sample delivery, signed when the guide is rendered, so readers can test their verifier.
pub const SAMPLE_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const SAMPLE_ID: &str = "msg_2mLqBhJ4x7s9Yw3ZtKc8Qe";
pub const SAMPLE_TIMESTAMP: i64 = 1_795_683_600;
pub const SAMPLE_BODY: &str = r#"{"type":"contact.created","timestamp":"2026-11-26T09:00:00.000Z","data":{"id":1,"first_name":"Ada","last_name":"Lovelace","email":null,"phone":null,"company_id":null,"created_by":3,"updated_by":3,"created_at":"2026-11-26T09:00:00.000Z","updated_at":"2026-11-26T09:00:00.000Z"}}"#;
