//! `Topic_Create` requires `name`: its constructor cannot be called without it.
use tmf688_api::models::TopicCreate;

fn main() {
    let _ = TopicCreate::new();
}
