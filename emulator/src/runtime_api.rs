//! The Runtime API and the Extensions API, as a function sees them.

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use tokio::sync::oneshot;

use crate::answer::FunctionError;
use crate::core::{late_answer, Core, RuntimeMsg};
use crate::server::BoxBody;
use crate::util::{api_error, full, json_response, read_limited, ReadError};

const RUNTIME: &str = "/2018-06-01/runtime/";
/// Sent on `/next`, unique to each attempt; echoed by the function on its answer.
const INVOCATION_ID: &str = "lambda-runtime-invocation-id";
const EXTENSION: &str = "/2020-01-01/extension/";

/// Routes one Runtime API or Extensions API call.
pub(crate) async fn handle(core: Arc<Core>, req: Request<Incoming>) -> Response<BoxBody> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    if let Some(rest) = path.strip_prefix(RUNTIME) {
        let parts: Vec<&str> = rest.split('/').collect();
        return match (method, parts.as_slice()) {
            (Method::GET, ["invocation", "next"]) => next(&core).await,
            (Method::POST, ["invocation", id, "response"]) => {
                let id = (*id).to_owned();
                response(&core, &id, req).await
            }
            (Method::POST, ["invocation", id, "error"]) => {
                let id = (*id).to_owned();
                error(&core, &id, req).await
            }
            (Method::POST, ["init", "error"]) => init_error(&core, req).await,
            (Method::GET, ["restore", "next"]) => json_response(StatusCode::OK, ""),
            (Method::POST, ["restore", "error"]) => init_error(&core, req).await,
            (_, ["invocation", "next"])
            | (_, ["invocation", _, "response" | "error"])
            | (_, ["init", "error"]) => method_not_allowed(),
            _ => not_found(&path),
        };
    }
    if let Some(rest) = path.strip_prefix(EXTENSION) {
        return match (method, rest) {
            (Method::POST, "register") => register(&core, req).await,
            (Method::GET, "event/next") => extension_next(&core, req).await,
            (Method::POST, "init/error") => extension_error(&core, req, true).await,
            (Method::POST, "exit/error") => extension_error(&core, req, false).await,
            (_, "register" | "event/next" | "init/error" | "exit/error") => method_not_allowed(),
            _ => not_found(&path),
        };
    }
    // The Logs and Telemetry APIs: accepted and ignored.
    if path.starts_with("/2020-08-15/logs") || path.starts_with("/2022-07-01/telemetry") {
        return json_response(StatusCode::OK, "\"OK\"");
    }
    not_found(&path)
}

fn not_found(path: &str) -> Response<BoxBody> {
    api_error(
        StatusCode::NOT_FOUND,
        "InvalidRequest",
        &format!("Unknown Runtime API path: {path}"),
    )
}

fn method_not_allowed() -> Response<BoxBody> {
    api_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "InvalidRequest",
        "Method not allowed",
    )
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

async fn next(core: &Core) -> Response<BoxBody> {
    let Some(d) = core.next_invocation().await else {
        return api_error(
            StatusCode::GONE,
            "Sandbox.Reset",
            "this sandbox has been replaced",
        );
    };
    let mut resp = Response::new(full(d.queued.event));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    set(h, "lambda-runtime-aws-request-id", &d.queued.id);
    set(h, INVOCATION_ID, &d.queued.invocation_id);
    set(h, "lambda-runtime-deadline-ms", &d.deadline_ms.to_string());
    set(
        h,
        "lambda-runtime-invoked-function-arn",
        &core.cfg.function_arn(),
    );
    set(h, "lambda-runtime-trace-id", &d.queued.trace_id);
    if let Some(cc) = &d.queued.opts.client_context {
        set(h, "lambda-runtime-client-context", cc);
    }
    if let Some(ci) = &d.queued.opts.cognito_identity {
        set(h, "lambda-runtime-cognito-identity", ci);
    }
    if let Some(t) = &d.queued.opts.tenant_id {
        set(h, "lambda-runtime-aws-tenant-id", t);
    }
    resp
}

/// The invocation id an answer echoes, if it does.
fn echoed(headers: &HeaderMap) -> Option<String> {
    headers
        .get(INVOCATION_ID)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
}

/// The invocation is over before its answer could be taken: too late (410) if it timed out.
fn ended(core: &Core, id: &str, message: &str) -> Response<BoxBody> {
    if core.timed_out_request(id) {
        late_answer(id)
    } else {
        api_error(StatusCode::BAD_REQUEST, "InvalidRequestID", message)
    }
}

async fn response(core: &Core, id: &str, req: Request<Incoming>) -> Response<BoxBody> {
    let echoed = echoed(req.headers());
    let tx = match core.claim(id, true, echoed.as_deref()) {
        Ok(tx) => tx,
        Err(e) => return e.response(id),
    };
    let (parts, body) = req.into_parts();
    let (verdict, verdict_rx) = oneshot::channel();
    let msg = RuntimeMsg::Response {
        headers: parts.headers,
        body,
        verdict,
    };
    if tx.send(msg).is_err() {
        return ended(core, id, &format!("Invalid request ID: {id}"));
    }
    verdict_rx
        .await
        .unwrap_or_else(|_| ended(core, id, "the invocation ended"))
}

/// Reads an error body: JSON with `errorType`/`errorMessage`.
async fn read_error(
    core: &Core,
    req: Request<Incoming>,
) -> Result<FunctionError, Response<BoxBody>> {
    let (parts, body) = req.into_parts();
    let header_type =
        header_str(&parts.headers, "lambda-runtime-function-error-type").map(str::to_owned);
    let bytes = match read_limited(body, core.cfg.response_limit).await {
        Ok(b) => b,
        Err(ReadError::TooLarge) => {
            return Err(api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!(
                    "Exceeded maximum allowed payload size ({} bytes).",
                    core.cfg.response_limit
                ),
            ))
        }
        Err(ReadError::Io(e)) => {
            return Err(api_error(StatusCode::BAD_REQUEST, "InvalidRequest", &e))
        }
    };
    FunctionError::from_json(bytes, header_type.as_deref()).map_err(|e| {
        api_error(
            StatusCode::BAD_REQUEST,
            "InvalidErrorShape",
            &format!("The error body must be JSON with errorType and errorMessage: {e}"),
        )
    })
}

async fn error(core: &Core, id: &str, req: Request<Incoming>) -> Response<BoxBody> {
    let echoed = echoed(req.headers());
    if let Err(e) = core.claim(id, false, echoed.as_deref()) {
        return e.response(id);
    }
    let headers = req.headers().clone();
    let error = match read_error(core, req).await {
        Ok(e) => e,
        Err(resp) => return resp,
    };
    let tx = match core.claim(id, true, echoed.as_deref()) {
        Ok(tx) => tx,
        Err(e) => return e.response(id),
    };
    tracing::info!(request_id = %id, "function error: {error}");
    if tx.send(RuntimeMsg::Error { headers, error }).is_err() {
        return ended(core, id, &format!("Invalid request ID: {id}"));
    }
    accepted()
}

async fn init_error(core: &Core, req: Request<Incoming>) -> Response<BoxBody> {
    let error = match read_error(core, req).await {
        Ok(e) => e,
        Err(resp) => return resp,
    };
    tracing::warn!("init error: {error}");
    core.init_error(error);
    accepted()
}

fn accepted() -> Response<BoxBody> {
    json_response(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

async fn register(core: &Core, req: Request<Incoming>) -> Response<BoxBody> {
    let (parts, body) = req.into_parts();
    let Some(name) = header_str(&parts.headers, "lambda-extension-name").map(str::to_owned) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "missing Lambda-Extension-Name header",
        );
    };
    let bytes = match read_limited(body, 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return api_error(StatusCode::BAD_REQUEST, "InvalidRequest", "invalid body"),
    };
    let events: Vec<String> = if bytes.iter().all(u8::is_ascii_whitespace) {
        Vec::new()
    } else {
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(v) => match v.get("events") {
                None | Some(serde_json::Value::Null) => Vec::new(),
                Some(serde_json::Value::Array(a)) => {
                    let mut out = Vec::new();
                    for e in a {
                        match e.as_str() {
                            Some(s @ ("INVOKE" | "SHUTDOWN")) => out.push(s.to_owned()),
                            _ => {
                                return api_error(
                                    StatusCode::BAD_REQUEST,
                                    "Extension.InvalidEventType",
                                    &format!("invalid event type {e}; expected INVOKE or SHUTDOWN"),
                                )
                            }
                        }
                    }
                    out
                }
                Some(_) => {
                    return api_error(
                        StatusCode::BAD_REQUEST,
                        "InvalidRequest",
                        "`events` must be an array",
                    )
                }
            },
            Err(e) => {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequest",
                    &format!("invalid JSON: {e}"),
                )
            }
        }
    };
    let invoke = events.iter().any(|e| e == "INVOKE");
    let shutdown = events.iter().any(|e| e == "SHUTDOWN");
    let ext = core.register_extension(name.clone(), invoke, shutdown);
    tracing::info!(extension = %name, ?events, "extension registered");
    let handler = core
        .cfg
        .handler
        .clone()
        .or_else(|| core.cfg.command.as_ref().map(|c| c.file_name()))
        .unwrap_or_else(|| "bootstrap".into());
    let body = serde_json::json!({
        "functionName": core.cfg.function_name,
        "functionVersion": "$LATEST",
        "handler": handler,
        "accountId": core.cfg.account_id,
    });
    let mut resp = json_response(StatusCode::OK, body.to_string());
    set(resp.headers_mut(), "lambda-extension-identifier", &ext.id);
    resp
}

fn unknown_extension() -> Response<BoxBody> {
    api_error(
        StatusCode::FORBIDDEN,
        "Extension.UnknownExtensionIdentifier",
        "missing or unknown Lambda-Extension-Identifier header",
    )
}

async fn extension_next(core: &Core, req: Request<Incoming>) -> Response<BoxBody> {
    let Some(ext) =
        header_str(req.headers(), "lambda-extension-identifier").and_then(|id| core.extension(id))
    else {
        return unknown_extension();
    };
    match ext.next_event().await {
        Some(event) => {
            let mut resp = json_response(StatusCode::OK, event);
            set(
                resp.headers_mut(),
                "lambda-extension-event-identifier",
                &crate::util::uuid(),
            );
            resp
        }
        None => unknown_extension(),
    }
}

async fn extension_error(core: &Core, req: Request<Incoming>, init: bool) -> Response<BoxBody> {
    let Some(ext) =
        header_str(req.headers(), "lambda-extension-identifier").and_then(|id| core.extension(id))
    else {
        return unknown_extension();
    };
    let error_type = header_str(req.headers(), "lambda-extension-function-error-type")
        .unwrap_or("Extension.Unknown")
        .to_owned();
    let body = read_limited(req.into_body(), 1 << 20)
        .await
        .unwrap_or_else(|_| Bytes::new());
    let error = FunctionError::from_json(body.clone(), Some(&error_type))
        .unwrap_or_else(|_| FunctionError::new(error_type, String::from_utf8_lossy(&body)));
    tracing::warn!(extension = %ext.name, "extension {} error: {error}", if init { "init" } else { "exit" });
    if init {
        core.init_error(error);
    }
    accepted()
}
