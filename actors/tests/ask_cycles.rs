//! Two actors asking each other from their handlers: each request waits in the mailbox of an
//! actor that waits for the other. A deadline on one of the asks is a way out (the book's
//! "Two actors asking each other"): that ask times out, its actor goes on with the other's
//! request, and the other's ask gets its answer.

mod support;

use std::time::Duration;

use actor12::prelude::*;
use actor12::{Call, HandlerMessage, MessageError, oneshot};
use support::*;

struct Alice;
struct Bob;

actor!(Alice, spec = (), cancel = (), init = |_ctx| Alice);
actor!(Bob, spec = (), cancel = (), init = |_ctx| Bob);

/// To Alice: once `ready` fires (Bob's question is in her mailbox, and he waits for its answer),
/// ask Bob a `Ping` with a deadline; her answer is that ask's outcome.
struct Go {
    bob: Link<Bob>,
    ready: oneshot::Receiver<()>,
}

/// To Alice, from Bob.
struct Question;

/// To Bob: ask Alice a `Question`, fire `ready` once it is in her mailbox, then wait for her
/// answer and give it as his.
struct Start {
    alice: Link<Alice>,
    ready: oneshot::Sender<()>,
}

/// To Bob, from Alice.
struct Ping;

const DEADLINE: Duration = Duration::from_millis(20);

impl Handler<Go> for Alice {
    type Reply = anyhow::Result<Result<u32, MessageError>>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, go: Go) -> Self::Reply {
        go.ready.await?;
        let ping = go.bob.send_message(HandlerMessage::new(Ping)).await;
        Ok(match ping.timeout(DEADLINE).reply().await {
            Ok(answer) => Ok(answer?),
            Err(e) => Err(e),
        })
    }
}

impl Handler<Question> for Alice {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Question) -> Self::Reply {
        Ok(42)
    }
}

impl Handler<Start> for Bob {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, start: Start) -> Self::Reply {
        let question = start.alice.send_message(HandlerMessage::new(Question)).await;
        let _ = start.ready.send(());
        question.reply().await?
    }
}

impl Handler<Ping> for Bob {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Ping) -> Self::Reply {
        Ok(7)
    }
}

#[test]
fn a_deadline_on_one_of_two_asks_waiting_for_each_other_lets_both_actors_go_on() {
    let outcome = resolves_within(async {
        let (alice, bob) = (actor12::spawn::<Alice>(()), actor12::spawn::<Bob>(()));
        let (ready, ready_rx) = oneshot::channel();
        // Alice's `Go` is in her mailbox before Bob is asked to start, so his question comes
        // after it; her `Ping` then comes while his `Start` waits for her.
        let go = alice.send_message(HandlerMessage::new(Go { bob: bob.clone(), ready: ready_rx }));
        let go = go.await;
        let start =
            bob.send_message(HandlerMessage::new(Start { alice: alice.clone(), ready })).await;
        let bobs = start.reply().await.expect("Bob's reply").expect("Bob's answer");
        let alices = go.reply().await.expect("Alice's reply").expect("Alice's answer");
        // The stale `Ping` was handled after `Start`, its answer dropped: Bob still answers.
        let after = bob.ask_dyn(Ping).await.expect("Bob answers after the cycle");
        (bobs, alices, after)
    })
    .expect("the asks waiting for each other hung");
    assert_eq!(outcome.0, 42, "Bob got Alice's answer once her ask timed out");
    assert_eq!(outcome.1, Err(MessageError::Timeout { timeout: DEADLINE }));
    assert_eq!(outcome.2, 7);
}
