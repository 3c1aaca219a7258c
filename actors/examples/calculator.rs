//! The calculator of the article "an actor framework from scratch": a `User` actor asks a
//! `Calculator` for `Sum { a: 1, b: 2 }` while it starts, and prints the answer when it arrives
//! as a message.
//!
//! ```text
//! cargo run -p actor12 --example calculator
//! ```

// ANCHOR: imports
use actor12::MessageError;
use actor12::prelude::*;
// ANCHOR_END: imports

// ANCHOR: calculator
/// Adds two numbers.
struct Calculator;

/// The request.
struct Sum {
    a: i64,
    b: i64,
}

impl Actor for Calculator {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Calculator))
    }
}

impl Handler<Sum> for Calculator {
    type Reply = anyhow::Result<i64>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, request: Sum) -> Self::Reply {
        Ok(request.a + request.b)
    }
}
// ANCHOR_END: calculator

// ANCHOR: user
/// Asks the calculator while it starts; the answer comes back as a message.
struct User {
    _calculator: Link<Calculator>,
}

/// What `forward_to` delivers: the outcome of the `Sum` request.
type SumOutcome = Result<anyhow::Result<i64>, MessageError>;

impl Actor for User {
    type Message = Multi<Self>;
    type Spec = Link<Calculator>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Link<Calculator>) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let calculator = ctx.spec;
        let me = ctx.link; // a link to the User being built
        async move {
            // Step one: deliver the request. Step two: have the reply delivered to us as a
            // message, instead of waiting for it here.
            let handle = calculator.send_message(HandlerMessage::new(Sum { a: 1, b: 2 })).await;
            handle.forward_to(&me);
            Ok(User { _calculator: calculator })
        }
    }
}

impl Handler<SumOutcome> for User {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        ctx: Call<'_, Self, Self::Reply>,
        outcome: SumOutcome,
    ) -> Self::Reply {
        let sum = outcome??;
        println!("Sum: {sum}");
        ctx.token.cancel(()); // done: stop after this message
        Ok(())
    }
}
// ANCHOR_END: user

fn main() -> anyhow::Result<()> {
    // ANCHOR: main
    let runtime = actor12::rt::Runtime::new()?;
    runtime.block_on(async {
        let calculator = actor12::spawn::<Calculator>(());
        let user = actor12::spawn::<User>(calculator.clone());
        user.wait().await; // the User stops itself once it has its answer
        calculator.cancel_and_wait(()).await;
        println!("both stopped");
    });
    // ANCHOR_END: main
    Ok(())
}
