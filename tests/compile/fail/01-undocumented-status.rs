//! `createEvent` documents 201, not 200: there is no `Ok` variant to answer with.
use tmf688_api::operations::CreateEventResponse;
use tmf688_api::server::ApiError;

fn answer(event: tmf688_api::models::Event) -> Result<CreateEventResponse, ApiError> {
    Ok(CreateEventResponse::Ok(event))
}

fn main() {}
