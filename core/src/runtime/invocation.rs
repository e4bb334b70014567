//! Serving one invocation: pick the adapter, serve the request(s), answer.

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt as _};
use http::Request;

use super::client::{NextInvocation, RuntimeClient};
use crate::adapter::{
    Batch, BatchItem, BatchOrder, Decoded, HttpExchange, ItemOutcome, ItemResult,
};
use crate::body::Body;
use crate::builder::Shared;
use crate::context::LambdaContext;
use crate::deadline::AnswerDeadline;
use crate::error::Error;
use crate::framework::{serve_bounded, Framework};
use crate::handler::{collect_limited, Answer, Handler, BUFFERED_ANSWER_LIMIT};
use crate::probe::EventProbe;
use crate::resolver::{Resolution, Resolver};

/// Serves one invocation to the end. Returns an error only when the Runtime API could not be
/// told the outcome; every failure of the event or the app is reported to Lambda.
pub(crate) async fn serve_invocation<F, H, R>(
    shared: &Shared<F, H, R>,
    client: &mut RuntimeClient,
    context: LambdaContext,
    next: NextInvocation,
) -> Result<(), Error>
where
    F: Framework,
    H: Handler,
    R: Resolver,
{
    let decoded = match decode(shared, next.event, &context) {
        Ok(decoded) => decoded,
        Err(error) => {
            tracing::warn!(
                error_type = error.error_type(),
                error = error.message(),
                "the event cannot be served"
            );
            return client.post_error(&context, &error).await;
        }
    };
    match decoded {
        Decoded::Http(exchange) => serve_http(shared, client, context, exchange).await,
        Decoded::Batch(batch) => {
            let settled = serve_batch(shared, &context, batch).await;
            match settled {
                Ok(answer) if answer.len() > BUFFERED_ANSWER_LIMIT => {
                    client
                        .post_error(&context, &Error::response_too_large(BUFFERED_ANSWER_LIMIT))
                        .await
                }
                Ok(answer) => client.post_response(&context, answer).await,
                Err(error) => {
                    tracing::warn!(
                        error_type = error.error_type(),
                        error = error.message(),
                        "batch failed"
                    );
                    client.post_error(&context, &error).await
                }
            }
        }
    }
}

fn decode<F, H, R>(
    shared: &Shared<F, H, R>,
    event: Bytes,
    context: &LambdaContext,
) -> Result<Decoded, Error> {
    let probe = EventProbe::new(&event)?;
    let adapter = shared
        .adapters
        .iter()
        .find(|adapter| adapter.can_handle(&probe))
        .ok_or_else(|| Error::no_adapter(shared.adapters.iter().map(|a| a.name())))?;
    tracing::debug!(adapter = adapter.name(), "adapter selected");
    drop(probe);
    adapter.decode(event, context)
}

/// Serves one request of the invocation: the app's whole answer — its head, and its body
/// however it is then read (collected for a buffered answer or a batch record, or streamed) —
/// is bounded by `deadline`, so a slow app becomes an `App.Timeout` the invocation can still
/// report instead of running into Lambda's own timeout.
async fn serve_request<F: Framework>(
    framework: &F,
    mut request: Request<Body>,
    context: &LambdaContext,
    deadline: Option<AnswerDeadline>,
) -> Result<http::Response<Body>, Error> {
    request.extensions_mut().insert(context.clone());
    serve_bounded(framework, request, deadline).await
}

async fn serve_http<F, H, R>(
    shared: &Shared<F, H, R>,
    client: &mut RuntimeClient,
    context: LambdaContext,
    exchange: HttpExchange,
) -> Result<(), Error>
where
    F: Framework,
    H: Handler,
    R: Resolver,
{
    let HttpExchange {
        request,
        encoder,
        can_stream,
    } = exchange;
    let deadline = AnswerDeadline::for_invocation(&context, shared.deadline_margin);
    let outcome = serve_request(&shared.framework, request, &context, deadline).await;
    match shared.resolver.resolve(outcome, &context).await {
        Resolution::Fail(error) => {
            tracing::warn!(
                error_type = error.error_type(),
                error = error.message(),
                "invocation failed"
            );
            client.post_error(&context, &error).await
        }
        Resolution::Respond(response) => {
            let answer = Answer::new(client, &context, encoder, can_stream, &shared.resolver);
            shared.handler.answer(response, answer).await
        }
    }
}

/// A message group of a batch: its key and its items with their positions.
type Group = (Option<String>, Vec<(usize, BatchItem)>);

async fn serve_batch<F, H, R>(
    shared: &Shared<F, H, R>,
    context: &LambdaContext,
    batch: Batch,
) -> Result<Bytes, Error>
where
    F: Framework,
{
    let Batch {
        items,
        order,
        settle,
    } = batch;
    let count = items.len();
    let mut results: Vec<Option<ItemResult>> = (0..count).map(|_| None).collect();
    let ids: Vec<String> = items.iter().map(|item| item.id.clone()).collect();
    // One deadline for the whole batch: every record's answer, head and body, ends before it,
    // and a record still running then fails with `App.Timeout` (reported like any failure).
    let deadline = AnswerDeadline::for_invocation(context, shared.deadline_margin);
    let run_one = |item: BatchItem| async move {
        let response = serve_request(&shared.framework, item.request, context, deadline).await;
        match response {
            Ok(response) => {
                let (head, body) = response.into_parts();
                match collect_limited(body, BUFFERED_ANSWER_LIMIT).await {
                    Ok(body) => ItemResult::Answered { head, body },
                    Err(error) => ItemResult::Failed(error),
                }
            }
            Err(error) => ItemResult::Failed(error),
        }
    };
    match order {
        BatchOrder::Concurrent { limit } => {
            let mut pending = items.into_iter().enumerate();
            let mut running = FuturesUnordered::new();
            loop {
                while running.len() < limit.max(1) {
                    let Some((index, item)) = pending.next() else {
                        break;
                    };
                    let run = run_one(item);
                    running.push(async move { (index, run.await) });
                }
                let Some((index, result)) = running.next().await else {
                    break;
                };
                results[index] = Some(result);
            }
        }
        BatchOrder::InOrder => {
            let mut failed = false;
            for (index, item) in items.into_iter().enumerate() {
                let result = if failed {
                    ItemResult::Skipped
                } else {
                    run_one(item).await
                };
                failed |= !result.is_success();
                results[index] = Some(result);
            }
        }
        BatchOrder::Grouped { limit } => {
            let mut groups: Vec<Group> = Vec::new();
            for (index, item) in items.into_iter().enumerate() {
                match groups
                    .iter_mut()
                    .find(|(group, _)| item.group.is_some() && *group == item.group)
                {
                    Some((_, members)) => members.push((index, item)),
                    None => groups.push((item.group.clone(), vec![(index, item)])),
                }
            }
            let run_group = |members: Vec<(usize, BatchItem)>| async move {
                let mut done = Vec::with_capacity(members.len());
                let mut failed = false;
                for (index, item) in members {
                    let result = if failed {
                        ItemResult::Skipped
                    } else {
                        run_one(item).await
                    };
                    failed |= !result.is_success();
                    done.push((index, result));
                }
                done
            };
            let mut pending = groups.into_iter();
            let mut running = FuturesUnordered::new();
            loop {
                while running.len() < limit.max(1) {
                    let Some((_, members)) = pending.next() else {
                        break;
                    };
                    running.push(run_group(members));
                }
                let Some(done) = running.next().await else {
                    break;
                };
                for (index, result) in done {
                    results[index] = Some(result);
                }
            }
        }
    }
    let outcomes = ids
        .into_iter()
        .zip(results)
        .map(|(id, result)| ItemOutcome {
            id,
            result: result.unwrap_or(ItemResult::Skipped),
        })
        .collect();
    settle.settle(outcomes)
}
